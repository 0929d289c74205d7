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
	srv := httptest.NewServer(Observe(log, NewMetrics(prometheus.NewRegistry()), false, mux))
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
	srv := httptest.NewServer(Observe(log, nil, false, mux))
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
