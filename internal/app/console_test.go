package app

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"tillit/internal/security"
	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

type browser struct {
	t      *testing.T
	client *http.Client
	base   string
	lang   string
}

func newBrowser(t *testing.T, base, lang string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, lang: lang, client: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

func (b *browser) do(method, path string, form url.Values) (int, string, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept-Language", b.lang)
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	page, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Request.URL.Path, string(page)
}

// The console sign-in: password, then two-factor setup for a role that sees personal
// data, recovery codes shown once, sign-in with the code, sign-out; failures say
// nothing more than "wrong e-mail, password or code", in the reader's language; a
// flood of attempts gets 429 (issue 4 items 1 and 5; S3, S5).
func TestConsoleSignInWithTwoFactor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newAPIHarness(t, st)
		srv := h.server
		if _, err := srv.staff.Add(context.Background(), "sara@example.com", "Sara", security.RoleSupport, "kanelbulle med kardemumma"); err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t, h.srv.URL, "sv-SE,sv;q=0.9")
		if _, path, _ := b.do("GET", "/console", nil); path != "/console/login" {
			t.Fatalf("unauthenticated /console went to %s", path)
		}
		status, _, page := b.do("POST", "/console/login", url.Values{"email": {"sara@example.com"}, "password": {"fel lösenord här"}})
		if status != 401 || !strings.Contains(page, "Fel e-post, lösenord eller kod.") || !strings.Contains(page, `lang="sv"`) {
			t.Fatalf("wrong password: %d\n%s", status, page)
		}
		status, path, page := b.do("POST", "/console/login", url.Values{"email": {"sara@example.com"}, "password": {"kanelbulle med kardemumma"}})
		if status != 200 || path != "/console/totp" || !strings.Contains(page, "otpauth://totp/") {
			t.Fatalf("first sign-in should lead to two-factor setup: %d %s\n%s", status, path, page)
		}
		var newDevice int
		st.DB().QueryRow(`SELECT COUNT(*) FROM mail_outbox WHERE template = 'new-device'`).Scan(&newDevice)
		if newDevice != 1 {
			t.Fatalf("%d new-device mails queued for a sign-in from an unknown device, want 1 (S5)", newDevice)
		}
		secret := regexp.MustCompile(`<code>([A-Z2-7]+)</code>`).FindStringSubmatch(page)
		if secret == nil {
			t.Fatalf("no secret on the setup page:\n%s", page)
		}
		if status, _, page := b.do("POST", "/console/totp", url.Values{"code": {"000000"}}); status != 422 || !strings.Contains(page, "Koden stämmer inte") {
			t.Fatalf("wrong setup code: %d\n%s", status, page)
		}
		code, _ := security.TOTPCode(secret[1], time.Now())
		status, _, codesPage := b.do("POST", "/console/totp", url.Values{"code": {code}})
		if status != 200 || strings.Count(codesPage, "<li><code>") != security.RecoveryCodeCount {
			t.Fatalf("setup confirmed should show %d recovery codes: %d\n%s", security.RecoveryCodeCount, status, codesPage)
		}
		if _, path, _ := b.do("GET", "/console", nil); path != "/console/login" {
			t.Fatalf("the limited session survived two-factor setup: %s", path)
		}
		status, _, page = b.do("POST", "/console/login", url.Values{"email": {"sara@example.com"}, "password": {"kanelbulle med kardemumma"}})
		if status != 401 || !strings.Contains(page, "Ange koden") {
			t.Fatalf("sign-in without code: %d\n%s", status, page)
		}
		// The setup code cannot be replayed within its step; a recovery code signs in.
		recovery := regexp.MustCompile(`<li><code>([^<]+)</code>`).FindStringSubmatch(codesPage)[1]
		status, path, page = b.do("POST", "/console/login", url.Values{"email": {"sara@example.com"}, "password": {"kanelbulle med kardemumma"}, "recovery": {recovery}})
		if status != 200 || path != "/console" || !strings.Contains(page, "Inloggad som Sara") {
			t.Fatalf("sign-in with code: %d %s\n%s", status, path, page)
		}
		if _, path, _ := b.do("POST", "/console/logout", url.Values{}); path != "/console/login" {
			t.Fatalf("logout went to %s", path)
		}
		if _, path, _ := b.do("GET", "/console", nil); path != "/console/login" {
			t.Fatal("still signed in after logout")
		}
		var logins int
		st.DB().QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action IN ('staff.login', 'staff.login.failed')`).Scan(&logins)
		if logins < 4 {
			t.Fatalf("%d login attempts audited, want every one", logins)
		}
		other := newBrowser(t, h.srv.URL, "en")
		var last int
		for range 12 {
			last, _, page = other.do("POST", "/console/login", url.Values{"email": {"flood@example.com"}, "password": {"nope"}})
		}
		if last != 429 || !strings.Contains(page, "Too many attempts") {
			t.Fatalf("12 failed sign-ins: last %d\n%s", last, page)
		}
	})
}
