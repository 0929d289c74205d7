package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"tillit/internal/jobs"
	"tillit/internal/security"
	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

// apiHarness serves the real handler over a real database.
type apiHarness struct {
	t      *testing.T
	st     *store.Store
	srv    *httptest.Server
	server *server
	owner  string
	ro     string
}

func newAPIHarness(t *testing.T, st *store.Store) *apiHarness {
	t.Helper()
	return newAPIHarnessWith(t, st, nil)
}

// newAPIHarnessWith lets a test change the configuration before the server is built.
func newAPIHarnessWith(t *testing.T, st *store.Store, configure func(*Config)) *apiHarness {
	t.Helper()
	key, _, err := security.LoadOrCreateMasterKey(filepath.Join(t.TempDir(), "master.key"), true)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &Config{Data: t.TempDir(), LogLevel: "info", LogFormat: "text"}
	if configure != nil {
		configure(cfg)
	}
	ks, err := security.OpenKeystore(context.Background(), st, cfg.Data, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ks.Close() })
	e := &env{cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil)), st: st, key: key, ks: ks,
		audit: security.NewAudit(st, ks.SigningKey(), security.AuditOptions{})}
	tokens := security.NewTokens(st, nil)
	owner, _, err := tokens.Create(context.Background(), "owner", security.RoleOwner, 0)
	if err != nil {
		t.Fatal(err)
	}
	ro, _, err := tokens.Create(context.Background(), "ro", security.RoleReadOnly, 0)
	if err != nil {
		t.Fatal(err)
	}
	s, err := newServer(e, tokens)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.handler(false))
	t.Cleanup(srv.Close)
	return &apiHarness{t: t, st: st, srv: srv, server: s, owner: owner, ro: ro}
}

type call struct {
	method, path, token, contentType, body string
	header                                 map[string]string
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (h *apiHarness) do(c call) answer {
	h.t.Helper()
	req, err := http.NewRequest(c.method, h.srv.URL+c.path, strings.NewReader(c.body))
	if err != nil {
		h.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, res.Header, b}
}

func (h *apiHarness) tokenCount() int {
	var n int
	if err := h.st.DB().QueryRow(`SELECT COUNT(*) FROM api_tokens`).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

// Every malformed request gets a problem+json answer with the right status and
// writes nothing (issue 3, Bad input).
func TestAPIBadInputWritesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newAPIHarness(t, st)
		const js = "application/json"
		big := `{"name":"` + strings.Repeat("a", 2<<20) + `","role":"readonly"}`
		cases := []struct {
			name    string
			c       call
			status  int
			typ     string
			pointer string
		}{
			{"bad json", call{method: "POST", path: "/api/v1/tokens", token: h.owner, contentType: js, body: `{"name":`}, 400, "bad-json", ""},
			{"syntax error", call{method: "POST", path: "/api/v1/tokens", token: h.owner, contentType: js, body: `{"name" "x"}`}, 400, "bad-json", ""},
			{"empty body", call{method: "POST", path: "/api/v1/tokens", token: h.owner, contentType: js}, 400, "bad-json", ""},
			{"trailing data", call{method: "POST", path: "/api/v1/tokens", token: h.owner, contentType: js, body: `{"name":"x","role":"readonly"} {}`}, 400, "bad-json", ""},
			{"wrong content type", call{method: "POST", path: "/api/v1/tokens", token: h.owner, contentType: "text/plain", body: `{"name":"x","role":"readonly"}`}, 415, "unsupported-media-type", ""},
			{"unknown field", call{method: "POST", path: "/api/v1/tokens", token: h.owner, contentType: js, body: `{"name":"x","role":"readonly","admin":true}`}, 422, "validation", "/admin"},
			{"wrong type", call{method: "POST", path: "/api/v1/tokens", token: h.owner, contentType: js, body: `{"name":7,"role":"readonly"}`}, 422, "validation", "/name"},
			{"blank name", call{method: "POST", path: "/api/v1/tokens", token: h.owner, contentType: js, body: `{"name":"   ","role":"readonly"}`}, 422, "validation", "/name"},
			{"lifetime overflows", call{method: "POST", path: "/api/v1/tokens", token: h.owner, contentType: js, body: `{"name":"x","role":"readonly","ttl_seconds":9223372037}`}, 422, "validation", "/ttl_seconds"},
			{"invalid value", call{method: "POST", path: "/api/v1/tokens", token: h.owner, contentType: js, body: `{"name":"x","role":"king"}`}, 422, "validation", "/role"},
			{"oversized body", call{method: "POST", path: "/api/v1/tokens", token: h.owner, contentType: js, body: big}, 413, "too-large", ""},
			{"no token", call{method: "POST", path: "/api/v1/tokens", contentType: js, body: `{"name":"x","role":"readonly"}`}, 401, "unauthorized", ""},
			{"bad token", call{method: "POST", path: "/api/v1/tokens", token: "tillit_nope", contentType: js, body: `{"name":"x","role":"readonly"}`}, 401, "unauthorized", ""},
			{"well-formed unknown token", call{method: "GET", path: "/api/v1/tokens", token: "tillit_" + strings.Repeat("A", 43)}, 401, "unauthorized", ""},
			{"role lacks permission", call{method: "POST", path: "/api/v1/tokens", token: h.ro, contentType: js, body: `{"name":"x","role":"readonly"}`}, 403, "forbidden", ""},
			{"unknown route", call{method: "GET", path: "/api/v1/nothing-here", token: h.owner}, 404, "not-found", ""},
			{"unknown api version", call{method: "GET", path: "/api/v9/tokens", token: h.owner}, 404, "not-found", ""},
			{"wrong method", call{method: "PUT", path: "/api/v1/tokens", token: h.owner, contentType: js, body: `{}`}, 405, "method-not-allowed", ""},
			{"bad limit", call{method: "GET", path: "/api/v1/tokens?limit=0", token: h.owner}, 400, "bad-parameter", ""},
			{"bad cursor", call{method: "GET", path: "/api/v1/tokens?cursor=@@@", token: h.owner}, 400, "bad-parameter", ""},
			{"revoke unknown", call{method: "DELETE", path: "/api/v1/tokens/nope", token: h.owner}, 404, "not-found", ""},
		}
		before := h.tokenCount()
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				a := h.do(tc.c)
				if a.status != tc.status {
					t.Fatalf("status %d, want %d: %s", a.status, tc.status, a.body)
				}
				if ct := a.header.Get("Content-Type"); ct != "application/problem+json" {
					t.Fatalf("content type %q, want application/problem+json", ct)
				}
				var p struct {
					Type      string `json:"type"`
					Status    int    `json:"status"`
					RequestID string `json:"request_id"`
					Errors    []struct{ Pointer string }
				}
				if err := json.Unmarshal(a.body, &p); err != nil {
					t.Fatalf("problem is not JSON: %v: %s", err, a.body)
				}
				if p.Type != "https://tillit.dev/problems/"+tc.typ || p.Status != tc.status || p.RequestID == "" {
					t.Fatalf("problem %+v, want type %s", p, tc.typ)
				}
				if tc.pointer != "" && (len(p.Errors) == 0 || p.Errors[0].Pointer != tc.pointer) {
					t.Fatalf("errors %+v, want pointer %s", p.Errors, tc.pointer)
				}
				if tc.status == 405 && a.header.Get("Allow") == "" {
					t.Fatal("405 without Allow")
				}
			})
		}
		if after := h.tokenCount(); after != before {
			t.Fatalf("bad requests wrote %d tokens", after-before)
		}
	})
}

// Same Idempotency-Key and body: the first answer again, nothing written twice;
// same key, different body: 422 (issue 3, API conventions).
func TestAPIIdempotencyKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newAPIHarness(t, st)
		c := call{method: "POST", path: "/api/v1/tokens", token: h.owner, contentType: "application/json",
			body: `{"name":"ci","role":"readonly"}`, header: map[string]string{"Idempotency-Key": "abc-1"}}
		before := h.tokenCount()
		first := h.do(c)
		if first.status != 201 {
			t.Fatalf("first: %d %s", first.status, first.body)
		}
		again := h.do(c)
		if again.status != 201 || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay: %d %s (replayed=%q)", again.status, again.body, again.header.Get("Idempotent-Replayed"))
		}
		if n := h.tokenCount() - before; n != 1 {
			t.Fatalf("%d tokens created, want 1", n)
		}
		// The stored answer holds the new token's secret: it must not rest in plaintext.
		var created struct{ Token string }
		json.Unmarshal(first.body, &created)
		var stored []byte
		if err := st.DB().QueryRow(`SELECT body FROM idempotency_keys WHERE key = 'abc-1'`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if created.Token == "" || bytes.Contains(stored, []byte(created.Token)) || bytes.Contains(stored, []byte(`"name"`)) {
			t.Fatal("the stored idempotent answer is plaintext")
		}
		c.body = `{"name":"other","role":"readonly"}`
		if a := h.do(c); a.status != 422 {
			t.Fatalf("same key, other body: %d %s", a.status, a.body)
		}
		// Keys belong to the principal: another token may use the same key freely.
		c.token = h.owner
		c.header = map[string]string{"Idempotency-Key": "abc-2"}
		if a := h.do(c); a.status != 201 {
			t.Fatalf("new key: %d %s", a.status, a.body)
		}
	})
}

// Listing pages with an opaque cursor; revoking a token ends it at once.
func TestAPITokensPagingAndRevoke(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newAPIHarness(t, st)
		for i := range 5 {
			a := h.do(call{method: "POST", path: "/api/v1/tokens", token: h.owner, contentType: "application/json",
				body: `{"name":"t` + string(rune('a'+i)) + `","role":"auditor"}`})
			if a.status != 201 {
				t.Fatalf("create: %d %s", a.status, a.body)
			}
		}
		seen := map[string]bool{}
		cursor := ""
		pages := 0
		for {
			a := h.do(call{method: "GET", path: "/api/v1/tokens?limit=3&cursor=" + cursor, token: h.owner})
			if a.status != 200 {
				t.Fatalf("list: %d %s", a.status, a.body)
			}
			var page struct {
				Items []map[string]any `json:"items"`
				Next  string           `json:"next_cursor"`
			}
			json.Unmarshal(a.body, &page)
			for _, it := range page.Items {
				if _, leaked := it["hash"]; leaked {
					t.Fatal("token hash in listing")
				}
				seen[it["id"].(string)] = true
			}
			pages++
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
		if len(seen) != 7 || pages != 3 {
			t.Fatalf("saw %d tokens in %d pages, want 7 in 3", len(seen), pages)
		}
		a := h.do(call{method: "POST", path: "/api/v1/tokens", token: h.owner, contentType: "application/json", body: `{"name":"gone","role":"admin"}`})
		var created struct{ ID, Token string }
		json.Unmarshal(a.body, &created)
		if a := h.do(call{method: "GET", path: "/api/v1/system", token: created.Token}); a.status != 200 {
			t.Fatalf("new token refused: %d", a.status)
		}
		if a := h.do(call{method: "DELETE", path: "/api/v1/tokens/" + created.ID, token: h.owner}); a.status != 204 {
			t.Fatalf("revoke: %d %s", a.status, a.body)
		}
		if a := h.do(call{method: "GET", path: "/api/v1/system", token: created.Token}); a.status != 401 {
			t.Fatalf("revoked token still works: %d", a.status)
		}
	})
}

func TestHealthAndReady(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newAPIHarness(t, st)
		if a := h.do(call{method: "GET", path: "/healthz"}); a.status != 200 {
			t.Fatalf("healthz %d", a.status)
		}
		a := h.do(call{method: "GET", path: "/readyz"})
		if a.status != 200 {
			t.Fatalf("readyz %d %s", a.status, a.body)
		}
		for _, hdr := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Request-Id"} {
			if a.header.Get(hdr) == "" {
				t.Errorf("missing %s", hdr)
			}
		}
		if !strings.Contains(a.header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Error("CSP lacks frame-ancestors")
		}
		if err := st.Write(context.Background(), func(ctx context.Context, tx store.Tx) error {
			_, err := jobs.New(st, jobs.Options{}).Enqueue(ctx, tx, "test.kind", nil, jobs.EnqueueOptions{})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		m := h.do(call{method: "GET", path: "/metrics"})
		for _, want := range []string{`tillit_http_requests_total{route="GET /readyz",status="200"}`, `tillit_jobs{state="available"} 1`, `tillit_queue_scrape_error 0`} {
			if m.status != 200 || !bytes.Contains(m.body, []byte(want)) {
				t.Fatalf("metrics lack %s: %d", want, m.status)
			}
		}
	})
}

// Guessing tokens from one address runs into 429 with Retry-After; a valid token from
// the same address still works (issue 4, item 5).
func TestTokenGuessingIsRateLimited(t *testing.T) {
	h := newAPIHarness(t, storetest.SQLite(t))
	var last answer
	for range 30 {
		last = h.do(call{method: "GET", path: "/api/v1/system", token: "tillit_" + strings.Repeat("B", 43)})
		if last.status == 429 {
			break
		}
	}
	if last.status != 429 || last.header.Get("Retry-After") == "" {
		t.Fatalf("30 bad tokens: last answer %d (Retry-After %q), want 429", last.status, last.header.Get("Retry-After"))
	}
	if a := h.do(call{method: "GET", path: "/api/v1/system", token: h.owner}); a.status != 200 {
		t.Fatalf("a valid token was refused after the flood: %d", a.status)
	}
}
