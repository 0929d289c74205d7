package consent

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"tillit/internal/policy"
	"tillit/internal/security"
	"tillit/internal/store"
	"tillit/internal/store/storetest"
	"tillit/internal/web"
)

type harness struct {
	st  *store.Store
	vs  *policy.Versions
	h   *HTTP
	mux *http.ServeMux
	now time.Time
}

func newHarness(t *testing.T, st *store.Store, opt Options) *harness {
	x := &harness{st: st, now: time.Now().UTC()}
	clock := func() time.Time { return x.now }
	opt.Now = clock
	x.vs = policy.NewVersions(st, nil, clock)
	x.h = NewHTTP(NewLedger(st, clock), x.vs, opt)
	x.mux = http.NewServeMux()
	x.h.Routes(x.mux, func(perm security.Permission, h web.HandlerFunc) http.Handler {
		if perm != security.PermCustomersRead {
			t.Errorf("staff route wrapped with %s", perm)
		}
		return h
	})
	return x
}

func (x *harness) do(method, path, origin, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	w := httptest.NewRecorder()
	x.mux.ServeHTTP(w, r)
	return w
}

var assetRE = regexp.MustCompile(`banner\.([0-9a-f]{16})\.js`)

// C1: the loader is short-cached and names hashed, immutable assets; a new policy
// version gives new names at once, and the old names keep working.
func TestC1_LoaderAndHashedAssets(t *testing.T) {
	x := newHarness(t, storetest.SQLite(t), Options{})
	if w := x.do("GET", "/cookies/banner.js", "", ""); w.Code != 200 || !strings.Contains(w.Body.String(), "no policy") {
		t.Fatalf("loader without a policy: %d %s", w.Code, w.Body)
	}
	publish(t, x.vs, testPolicy(t, ""), x.now.Add(-time.Hour))
	loader := func() string {
		w := x.do("GET", "/cookies/banner.js", "", "")
		if w.Code != 200 || w.Header().Get("Cache-Control") != "max-age=300" || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/javascript") {
			t.Fatalf("loader: %d %v", w.Code, w.Header())
		}
		m := assetRE.FindStringSubmatch(w.Body.String())
		if m == nil || !strings.Contains(w.Body.String(), "banner."+m[1]+".css") {
			t.Fatalf("loader names no hashed assets:\n%s", w.Body)
		}
		return m[1]
	}
	h1 := loader()
	for _, ext := range []string{".js", ".css"} {
		w := x.do("GET", "/cookies/v/banner."+h1+ext, "", "")
		if w.Code != 200 || w.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" ||
			w.Header().Get("Cross-Origin-Resource-Policy") != "cross-origin" {
			t.Fatalf("%s: %d %v", ext, w.Code, w.Header())
		}
	}
	js := x.do("GET", "/cookies/v/banner."+h1+".js", "", "").Body.String()
	for _, want := range []string{`"v":1`, `"n":"_ad"`, `"Measures campaigns"`, `"13 months"`, `"13 månader"`, `"Reject all"`, `"Avvis alle"`} {
		if !strings.Contains(js, want) {
			t.Errorf("banner lacks %s", want)
		}
	}
	if strings.Contains(js, configMark) {
		t.Error("configuration not baked in")
	}
	if h2 := loader(); h2 != h1 {
		t.Fatalf("same version, new hash %s != %s", h2, h1)
	}
	publish(t, x.vs, testPolicy(t, " (v2)"), x.now.Add(-time.Minute))
	h2 := loader()
	if h2 == h1 {
		t.Fatal("a new policy version kept the asset hash")
	}
	if w := x.do("GET", "/cookies/v/banner."+h2+".js", "", ""); w.Code != 200 || !strings.Contains(w.Body.String(), `"v":2`) {
		t.Fatalf("new asset: %d", w.Code)
	}
	if w := x.do("GET", "/cookies/v/banner."+h1+".js", "", ""); w.Code != 200 {
		t.Fatalf("old asset gone: %d", w.Code)
	}
	if w := x.do("GET", "/cookies/banner.0000000000000000.js", "", ""); w.Code != 404 {
		t.Fatalf("unknown asset: %d", w.Code)
	}
	// A fresh process (restart) still serves the files a cached loader names.
	y := newHarness(t, x.st, Options{})
	if w := y.do("GET", "/cookies/v/banner."+h1+".css", "", ""); w.Code != 200 {
		t.Fatalf("previous version's asset after a restart: %d", w.Code)
	}
}

// C1: the banner, JavaScript and CSS together, is under 12 KB gzipped.
func TestC1_BannerSize(t *testing.T) {
	st := storetest.SQLite(t)
	x := newHarness(t, st, Options{})
	publish(t, x.vs, testPolicy(t, ""), x.now.Add(-time.Hour))
	p, err := x.vs.Policy(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	b := Build(p, 1)
	size := gz(t, b.JS) + gz(t, b.CSS)
	t.Logf("gzipped: JS %d + CSS %d = %d bytes (loader %d)", gz(t, b.JS), gz(t, b.CSS), size, gz(t, b.Loader))
	if size >= 12*1024 {
		t.Fatalf("banner is %d bytes gzipped, over 12 KB", size)
	}
}

func gz(t *testing.T, b []byte) int {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Len()
}

const goodReceipt = `{"visitor_id":"0123456789abcdef0123456789abcdef","policy_version":1,"choices":{"preferences":false,"statistics":true,"marketing":false},"gpc":false,"lang":"da"}`

// C2: the receipt endpoint decodes strictly, answers CORS for the allowed origins
// only, limits the body and the rate, and the staff listing shows the receipt.
func TestC2_ReceiptEndpoint(t *testing.T) {
	x := newHarness(t, storetest.SQLite(t), Options{AllowedOrigins: []string{"https://www.example.se/"}, RateBurst: 3, RateEvery: time.Hour})
	publish(t, x.vs, testPolicy(t, ""), x.now.Add(-time.Hour))
	const site = "https://www.example.se"

	w := x.do("OPTIONS", "/cookies/consent", site, "")
	if w.Code != 204 || w.Header().Get("Access-Control-Allow-Origin") != site ||
		!strings.Contains(w.Header().Get("Access-Control-Allow-Headers"), "Content-Type") ||
		w.Header().Get("Access-Control-Allow-Methods") != "POST" {
		t.Fatalf("preflight: %d %v", w.Code, w.Header())
	}
	if w := x.do("OPTIONS", "/cookies/consent", "https://evil.example", ""); w.Code != 403 || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from another origin: %d %v", w.Code, w.Header())
	}
	if w := x.do("POST", "/cookies/consent", "https://evil.example", goodReceipt); w.Code != 403 {
		t.Fatalf("post from another origin: %d", w.Code)
	}

	unknown := strings.Replace(goodReceipt, `"gpc"`, `"email":"a@b.se","gpc"`, 1)
	if w := x.do("POST", "/cookies/consent", site, unknown); w.Code != 422 || !strings.Contains(w.Body.String(), `"/email"`) {
		t.Fatalf("unknown field: %d %s", w.Code, w.Body)
	}
	big := strings.Replace(goodReceipt, `"da"`, `"`+strings.Repeat("x", 3000)+`"`, 1)
	if w := x.do("POST", "/cookies/consent", site, big); w.Code != 413 {
		t.Fatalf("large body: %d", w.Code)
	}

	w = x.do("POST", "/cookies/consent", site, goodReceipt)
	if w.Code != 201 || w.Header().Get("Access-Control-Allow-Origin") != site {
		t.Fatalf("receipt: %d %v %s", w.Code, w.Header(), w.Body)
	}
	var created struct {
		ReceiptID string `json:"receipt_id"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &created); err != nil || created.ReceiptID == "" {
		t.Fatalf("answer %s", w.Body)
	}
	if w := x.do("POST", "/cookies/consent", site, goodReceipt); w.Code != 429 || w.Header().Get("Retry-After") == "" {
		t.Fatalf("fourth request from one address: %d, want 429", w.Code)
	}

	w = x.do("GET", "/api/v1/consent/receipts?visitor_id=0123456789abcdef0123456789abcdef&limit=10", "", "")
	var page struct {
		Items []Receipt `json:"items"`
	}
	body, _ := io.ReadAll(w.Body)
	if err := json.Unmarshal(body, &page); err != nil || w.Code != 200 || len(page.Items) != 1 ||
		page.Items[0].ID != created.ReceiptID || !page.Items[0].Choices.Statistics || page.Items[0].Lang != "da" {
		t.Fatalf("listing: %d %s", w.Code, body)
	}
	if w := x.do("GET", "/api/v1/consent/receipts?visitor_id=x", "", ""); w.Code != 400 {
		t.Fatalf("bad visitor id: %d", w.Code)
	}
}

// With no AllowedOrigins any origin may post (documented trade-off).
func TestC2_AnyOriginWhenUnconfigured(t *testing.T) {
	x := newHarness(t, storetest.SQLite(t), Options{})
	if w := x.do("OPTIONS", "/cookies/consent", "https://anywhere.example", ""); w.Code != 204 ||
		w.Header().Get("Access-Control-Allow-Origin") != "https://anywhere.example" {
		t.Fatalf("preflight: %d %v", w.Code, w.Header())
	}
}

// The receipt route is the one the app must exempt from CrossOriginProtection.
func TestReceiptPatternPassesCrossOriginProtection(t *testing.T) {
	x := newHarness(t, storetest.SQLite(t), Options{})
	publish(t, x.vs, testPolicy(t, ""), x.now.Add(-time.Hour))
	p := http.NewCrossOriginProtection()
	p.AddInsecureBypassPattern(ReceiptPattern)
	r := httptest.NewRequest("POST", "/cookies/consent", strings.NewReader(goodReceipt))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Origin", "https://www.example.se")
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	w := httptest.NewRecorder()
	p.Handler(x.mux).ServeHTTP(w, r)
	if w.Code != 201 {
		t.Fatalf("cross-site receipt through CrossOriginProtection: %d %s", w.Code, w.Body)
	}
}
