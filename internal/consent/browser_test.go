package consent

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"tillit/internal/store/storetest"
	"tillit/internal/web/browsertest"
)

const demoPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Demo shop</title>
<script src="/cookies/banner.js"></script></head>
<body><h1>Demo shop</h1><p>A company's own page with one script tag.</p></body></html>`

// C1 in real Chromium: a page on loopback includes the banner with one script tag;
// nothing is ticked, "Reject all" and "Accept all" look alike, rejecting and
// accepting set the state the site's API reports and send the right receipts, the
// choice holds across reloads, the settings button reopens the dialog, a new policy
// version asks again, Global Privacy Control is honoured, the visitor's language
// is used, and the page makes no request to any other origin.
func TestC1_BannerInRealBrowser(t *testing.T) {
	x := newHarness(t, storetest.SQLite(t), Options{})
	publish(t, x.vs, testPolicy(t, ""), x.now.Add(-time.Hour))
	x.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(demoPage))
	})
	srv := httptest.NewServer(x.mux)
	t.Cleanup(srv.Close)
	ledger := NewLedger(x.st, nil)

	b := browsertest.New(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	check := func(what, js string) {
		t.Helper()
		ok, err := chromedp.Run(b, chromedp.Evaluate[bool](js))
		if err != nil || !ok {
			t.Fatalf("%s: %v (%s)", what, err, js)
		}
	}
	receipts := func(n int) []Receipt {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			rs, err := ledger.List(context.Background(), "", "", 50)
			must(err)
			if len(rs) >= n || time.Now().After(deadline) {
				if len(rs) != n {
					t.Fatalf("%d receipts, want %d: %+v", len(rs), n, rs)
				}
				return rs
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// First visit: the dialog asks; nothing is ticked; equal buttons; focus in it.
	must(chromedp.Do(b, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible("#tillit-consent")))
	check("dialog semantics", `(() => { const d = document.getElementById('tillit-consent');
		return d.getAttribute('role') === 'dialog' && document.getElementById(d.getAttribute('aria-labelledby')).textContent === 'Cookies on this website'
			&& document.activeElement === d })()`)
	check("three optional boxes, none ticked", `document.querySelectorAll('#tillit-consent input[type=checkbox]').length === 3 &&
		document.querySelectorAll('#tillit-consent input:checked').length === 0`)
	check("reject as prominent as accept", `(() => { const r = document.querySelector('[data-action=reject]').getBoundingClientRect(),
		a = document.querySelector('[data-action=accept]').getBoundingClientRect(),
		rs = getComputedStyle(document.querySelector('[data-action=reject]')), as = getComputedStyle(document.querySelector('[data-action=accept]'));
		return Math.abs(r.width - a.width) < 1 && Math.abs(r.height - a.height) < 1 && rs.backgroundColor === as.backgroundColor &&
			rs.color === as.color && rs.fontSize === as.fontSize && rs.fontWeight === as.fontWeight })()`)
	check("cookie table from the policy", `document.querySelector('#tillit-consent').textContent.includes('_ad') &&
		document.querySelector('#tillit-consent').textContent.includes('13 months')`)
	check("not yet consented", `tillitConsent.get('marketing') === false && tillitConsent.get('necessary') === true`)

	must(chromedp.Do(b, chromedp.Click(`#tillit-consent [data-action=reject]`), chromedp.WaitVisible(".tcb-open")))
	check("rejected", `tillitConsent.get('marketing') === false && tillitConsent.get('statistics') === false &&
		tillitConsent.get('preferences') === false && JSON.parse(localStorage.getItem('tillit-consent')).v === 1`)
	rs := receipts(1)
	if r := rs[0]; r.Choices != (Choices{}) || r.GPC || r.Lang != "en" || r.PolicyVersion != 1 {
		t.Fatalf("reject receipt: %+v", r)
	}
	visitor := rs[0].VisitorID

	// Reload: no question; the settings button reopens with the stored choice.
	must(chromedp.Do(b, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(".tcb-open")))
	check("no dialog after a choice", `document.getElementById('tillit-consent').hidden`)
	check("listener", `(window.seen = [], tillitConsent.onChange(c => seen.push(c.marketing)), seen.length === 1 && seen[0] === false)`)
	must(chromedp.Do(b, chromedp.Click(".tcb-open"), chromedp.WaitVisible("#tillit-consent")))
	check("reopened unticked", `document.querySelectorAll('#tillit-consent input:checked').length === 0`)
	must(chromedp.Do(b, chromedp.Click(`#tillit-consent [data-action=accept]`), chromedp.WaitVisible(".tcb-open")))
	check("accepted", `tillitConsent.get('marketing') === true && tillitConsent.get('statistics') === true && seen.join() === 'false,true'`)
	rs = receipts(2)
	if r := rs[0]; r.Choices != (Choices{true, true, true}) || r.VisitorID != visitor || r.GPC {
		t.Fatalf("accept receipt: %+v (visitor %s)", r, visitor)
	}
	check("no third-party requests", `performance.getEntriesByType('resource').length >= 3 &&
		performance.getEntriesByType('resource').every(e => e.name.startsWith(location.origin + '/cookies/'))`)

	// A new policy version: once the browser's copy of the loader is stale (at most
	// five minutes; here the cache is cleared), the next page asks again.
	publish(t, x.vs, testPolicy(t, " (v2)"), x.now.Add(-time.Minute))
	_, err := chromedp.Run(b, chromedp.Action[cdp.Empty](func(ctx context.Context, tg *chromedp.Target) (cdp.Empty, error) {
		return cdp.Call(ctx, tg, network.ClearBrowserCache, cdp.Empty{})
	}))
	must(err)
	must(chromedp.Do(b, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible("#tillit-consent")))
	check("asked again under version 2", `tillitConsent.version === 2 && tillitConsent.get('marketing') === false &&
		document.querySelector('#tillit-consent').textContent.includes('Measures campaigns (v2)')`)

	// Global Privacy Control and a Norwegian (nynorsk) browser, from the first script on.
	_, err = chromedp.Run(b, chromedp.Action[page.AddScriptToEvaluateOnNewDocumentResult](
		func(ctx context.Context, tg *chromedp.Target) (page.AddScriptToEvaluateOnNewDocumentResult, error) {
			return cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
				Source: `Object.defineProperty(navigator, 'globalPrivacyControl', {value: true, configurable: true});
					Object.defineProperty(navigator, 'languages', {value: ['nn-NO', 'en'], configurable: true});`})
		}))
	must(err)
	must(chromedp.Do(b, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible("#tillit-consent .tcb-gpc")))
	check("GPC seen, banner in bokmål", `navigator.globalPrivacyControl === true &&
		document.querySelector('[data-action=reject]').textContent === 'Avvis alle' && document.querySelectorAll('#tillit-consent input:checked').length === 0`)
	must(chromedp.Do(b, chromedp.Click(`#tillit-consent [data-action=accept]`), chromedp.WaitVisible(".tcb-open")))
	check("GPC keeps statistics and marketing off", `tillitConsent.get('preferences') === true &&
		tillitConsent.get('statistics') === false && tillitConsent.get('marketing') === false`)
	rs = receipts(3)
	if r := rs[0]; r.Choices != (Choices{Preferences: true}) || !r.GPC || r.Lang != "nb" || r.PolicyVersion != 2 {
		t.Fatalf("GPC receipt: %+v", r)
	}
	// Ticking marketing by hand is an explicit choice GPC does not override.
	must(chromedp.Do(b, chromedp.Click(".tcb-open"), chromedp.WaitVisible("#tillit-consent"),
		chromedp.Click("#tcb-marketing"), chromedp.Click(`#tillit-consent [data-action=save]`), chromedp.WaitVisible(".tcb-open")))
	check("explicit marketing under GPC", `tillitConsent.get('marketing') === true && tillitConsent.get('statistics') === false`)
	if r := receipts(4)[0]; r.Choices != (Choices{Preferences: true, Marketing: true}) || !r.GPC {
		t.Fatalf("saved receipt: %+v", r)
	}
}
