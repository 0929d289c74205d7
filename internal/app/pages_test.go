package app

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tillit/internal/store/storetest"
	"tillit/internal/web/browsertest"
)

// The published policy at /{lang}/privacy and /{lang}/terms, older versions at
// /v/{n}, language from the browser, a switcher, and a CSP that allows exactly the
// document's own stylesheet (issue 6 items 3-4; P3).
func TestPublicPolicyPages(t *testing.T) {
	st := storetest.SQLite(t)
	h := newAPIHarness(t, st)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path, acceptLang string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", h.srv.URL+path, nil)
		if acceptLang != "" {
			req.Header.Set("Accept-Language", acceptLang)
		}
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b strings.Builder
		buf := make([]byte, 1<<16)
		for {
			n, err := res.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return res, b.String()
	}
	if res, body := get("/en/privacy", ""); res.StatusCode != 404 || !strings.Contains(body, "No privacy policy") {
		t.Fatalf("before publishing: %d %q", res.StatusCode, body)
	}
	src, _ := os.ReadFile("../../examples/policies/webhost.yaml")
	if _, _, err := h.server.versions.Publish(context.Background(), "webhost.yaml", src, time.Time{}); err != nil {
		t.Fatal(err)
	}
	res, body := get("/sv/privacy", "")
	if res.StatusCode != 200 || !strings.Contains(body, `<html lang="sv">`) || !strings.Contains(body, `hreflang="nb"`) {
		t.Fatalf("/sv/privacy: %d\n%.500s", res.StatusCode, body)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'sha256-") || strings.Contains(csp, "unsafe") {
		t.Fatalf("CSP %q", csp)
	}
	if res, _ := get("/privacy", "da-DK,da;q=0.9"); res.StatusCode != 303 || res.Header.Get("Location") != "/da/privacy" {
		t.Fatalf("negotiation: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ := get("/en/terms/v/1", ""); res.StatusCode != 200 || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("versioned terms: %d %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
	for _, p := range []string{"/fi/privacy", "/en/privacy/v/9", "/en/privacy/v/x"} {
		if res, _ := get(p, ""); res.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", p, res.StatusCode)
		}
	}

	// In a real browser the hashed stylesheet applies (CSP would block a wrong hash).
	b := browsertest.New(t)
	if err := chromedp.Do(b, chromedp.Navigate(h.srv.URL+"/nb/privacy")); err != nil {
		t.Fatal(err)
	}
	collapse, err := chromedp.Run(b, chromedp.Evaluate[string]("getComputedStyle(document.querySelector('table')).borderCollapse"))
	if err != nil || collapse != "collapse" {
		t.Fatalf("the page's stylesheet did not apply in Chromium: %q %v", collapse, err)
	}
}

// C1: the banner is served by the whole server, and its receipt, posted from the
// company's own website (a cross-site request), passes the CSRF protection that
// guards every other form, while a site outside --cookie-origins is refused.
func TestCookieBannerThroughTheServer(t *testing.T) {
	st := storetest.SQLite(t)
	h := newAPIHarnessWith(t, st, func(c *Config) { c.CookieOrigins = "https://www.example.se" })
	srv := h.srv
	src, _ := os.ReadFile("../../examples/policies/saas.yaml")
	if _, _, err := h.server.versions.Publish(context.Background(), "saas.yaml", src, time.Time{}); err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(srv.URL + "/cookies/banner.js")
	if err != nil || res.StatusCode != 200 || !strings.Contains(res.Header.Get("Cache-Control"), "max-age=300") {
		t.Fatalf("loader: %v %v", err, res)
	}
	res.Body.Close()
	post := func(origin string) int {
		req, _ := http.NewRequest("POST", srv.URL+"/cookies/consent",
			strings.NewReader(`{"visitor_id":"v-0123456789abcdef","policy_version":1,"choices":{"preferences":false,"statistics":false,"marketing":false},"gpc":false,"lang":"sv"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", origin)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := post("https://www.example.se"); got != 201 {
		t.Fatalf("receipt from the company's site: %d, want 201", got)
	}
	if got := post("https://evil.example"); got != 403 {
		t.Fatalf("receipt from another site: %d, want 403", got)
	}
}
