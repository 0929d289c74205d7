package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// A panic in a handler becomes a 500 problem carrying the request ID, is logged, and
// the server keeps serving (issue 3, Bad input).
func TestPanicBecomes500AndServerKeepsServing(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) { panic("kaboom 19811218-9876") })
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("fine")) })
	srv := httptest.NewServer(Observe(log, NewMetrics(prometheus.NewRegistry()), false, nil, mux))
	defer srv.Close()

	res, err := http.Get(srv.URL + "/boom")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var p Problem
	if err := json.Unmarshal(body, &p); err != nil || res.StatusCode != 500 || p.Status != 500 {
		t.Fatalf("got %d %s", res.StatusCode, body)
	}
	if p.RequestID == "" || p.RequestID != res.Header.Get("X-Request-Id") {
		t.Fatalf("problem request id %q, header %q", p.RequestID, res.Header.Get("X-Request-Id"))
	}
	if strings.Contains(string(body), "kaboom") {
		t.Fatal("panic text sent to the client")
	}
	if !strings.Contains(logs.String(), p.RequestID) || !strings.Contains(logs.String(), "panic in handler") {
		t.Fatalf("panic not logged with the request id:\n%s", logs.String())
	}
	res, err = http.Get(srv.URL + "/ok")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("server stopped serving after a panic: %v", err)
	}
	res.Body.Close()
}

// Logs carry the route pattern, never the path's values or the query string.
func TestLogsHoldNoRequestData(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /customers/{id}", func(w http.ResponseWriter, r *http.Request) {})
	srv := httptest.NewServer(Observe(log, nil, false, nil, mux))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/customers/19811218-9876?email=anna@example.se")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, secret := range []string{"19811218", "anna@example.se"} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("log holds %q:\n%s", secret, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "GET /customers/{id}") {
		t.Fatalf("log lacks the route pattern:\n%s", logs.String())
	}
}

func TestRequestIDFromCallerIsSanitised(t *testing.T) {
	for id, ok := range map[string]bool{"abc-123_X": true, "": false, "a b": false, "x\ny": false, strings.Repeat("a", 65): false} {
		if validRequestID(id) != ok {
			t.Errorf("validRequestID(%q) = %v", id, !ok)
		}
	}
}

type tokenBody struct {
	Name  string   `json:"name"`
	Count int      `json:"count"`
	Tags  []string `json:"tags"`
}

// FuzzDecodeStrict: any body either decodes or yields a client error (4xx); never a
// panic, never a 5xx.
func FuzzDecodeStrict(f *testing.F) {
	for _, s := range []string{`{"name":"x","count":1,"tags":["a"]}`, `{"name":`, `{} {}`, `[]`, `{"zz":1}`, `{"count":"x"}`, `null`, "\xff", `{"name":"\u0000"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v tokenBody
		err := decodeStrict(body, &v)
		if err == nil {
			return
		}
		var we *Error
		if !errors.As(err, &we) || we.Status < 400 || we.Status > 499 {
			t.Fatalf("body %q: error %v is not a client error", body, err)
		}
	})
}

// Behind a trusted proxy the client is the right-most untrusted X-Forwarded-For hop;
// from anyone else the header is ignored (issue 4, item 7).
func TestClientIPTrustsOnlyConfiguredProxies(t *testing.T) {
	trusted, err := ParsePrefixes("10.0.0.0/8, 192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParsePrefixes("10.0.0.0/99"); err == nil {
		t.Fatal("a bad prefix was accepted")
	}
	cases := []struct{ remote, xff, want string }{
		{"203.0.113.5:1234", "198.51.100.7", "203.0.113.5"},                        // untrusted sender: header ignored
		{"10.1.2.3:1234", "198.51.100.7", "198.51.100.7"},                          // trusted proxy
		{"10.1.2.3:1234", "198.51.100.66, 198.51.100.7, 10.9.9.9", "198.51.100.7"}, // chain of proxies
		{"192.0.2.1:1234", "", "192.0.2.1"},                                        // trusted, no header
		{"10.1.2.3:1234", "garbage", "10.1.2.3"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := realIP(trusted, r); got != c.want {
			t.Errorf("remote %s, X-Forwarded-For %q: got %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
}
