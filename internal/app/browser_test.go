package app

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tillit/internal/security"
	"tillit/internal/store/storetest"
)

// chromium finds Debian's Chromium; CI installs it (.ci/run). Without it the test
// fails with instructions rather than skipping.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("TILLIT_TEST_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	t.Fatal("Chromium not found: install Debian's chromium package (apt-get install chromium) or set TILLIT_TEST_CHROMIUM to its path")
	return ""
}

// browserCtx starts headless Chromium with the flags this machine's closed network
// needs, and returns a context that drives one tab.
func browserCtx(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	return ctx
}

// In real Chromium: the sign-in page renders in the browser's language, the
// language switcher changes it, a staff member signs in with a recovery code and
// reaches the overview (issue 10; issue 4 item 1).
func TestConsoleInRealBrowser(t *testing.T) {
	st := storetest.SQLite(t)
	h := newAPIHarness(t, st)
	ctx := context.Background()
	m, err := h.server.staff.Add(ctx, "nils@example.com", "Nils", security.RoleSupport, "rabarberpaj med vaniljsås")
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := h.server.staff.EnrollTOTP(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := security.TOTPCode(secret, time.Now())
	codes, err := h.server.staff.ConfirmTOTP(ctx, m.ID, code)
	if err != nil {
		t.Fatal(err)
	}

	b := browserCtx(t)
	page := func() (heading, lang string) {
		t.Helper()
		heading, err := chromedp.Run(b, chromedp.Text("h1"))
		if err != nil {
			t.Fatal(err)
		}
		lang, err = chromedp.Run(b, chromedp.Evaluate[string]("document.documentElement.lang"))
		if err != nil {
			t.Fatal(err)
		}
		return heading, lang
	}
	if err := chromedp.Do(b, chromedp.Navigate(h.srv.URL+"/console/login")); err != nil {
		t.Fatal(err)
	}
	if heading, lang := page(); heading != "Sign in" || lang != "en" {
		t.Fatalf("default page: heading %q, lang %q", heading, lang)
	}
	if err := chromedp.Do(b, chromedp.Click(`a[hreflang="nb"]`), chromedp.WaitVisible(`html[lang="nb"]`)); err != nil {
		t.Fatalf("language switcher: %v", err)
	}
	if heading, _ := page(); heading != "Logg inn" {
		t.Fatalf("after switching to bokmål the heading is %q", heading)
	}
	err = chromedp.Do(b,
		chromedp.SendKeys("#email", "nils@example.com"),
		chromedp.SendKeys("#password", "rabarberpaj med vaniljsås"),
		chromedp.SendKeys("#recovery", codes[0]),
		chromedp.Click(`button[type="submit"]`),
		chromedp.WaitVisible(`form[action="/console/logout"]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	after, err := chromedp.Run(b, chromedp.Text("main"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(after, "Logget inn som Nils") {
		t.Fatalf("after sign-in the page says:\n%s", after)
	}
}
