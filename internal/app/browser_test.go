package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tillit/internal/security"
	"tillit/internal/store/storetest"
	"tillit/internal/web/browsertest"
)

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

	b := browsertest.New(t)
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
