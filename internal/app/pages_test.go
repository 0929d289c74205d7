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
	b := browserCtx(t)
	if err := chromedp.Do(b, chromedp.Navigate(h.srv.URL+"/nb/privacy")); err != nil {
		t.Fatal(err)
	}
	collapse, err := chromedp.Run(b, chromedp.Evaluate[string]("getComputedStyle(document.querySelector('table')).borderCollapse"))
	if err != nil || collapse != "collapse" {
		t.Fatalf("the page's stylesheet did not apply in Chromium: %q %v", collapse, err)
	}
}
