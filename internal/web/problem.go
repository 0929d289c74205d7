// Package web holds the HTTP plumbing every room shares: middleware, the error type
// and its rendering (RFC 9457 problem+json for the API), strict JSON decoding,
// idempotent writes and pagination. It imports no domain room.
package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"tillit/internal/store"
)

// ProblemBase prefixes every problem type; the suffix is stable and documented.
const ProblemBase = "https://tillit.dev/problems/"

// FieldError points at one invalid part of a request body (RFC 6901 pointer).
type FieldError struct {
	Pointer string `json:"pointer"`
	Message string `json:"message"`
}

// Error is an error with what the client may see kept apart from the internal cause.
type Error struct {
	Status int
	Type   string // stable slug under ProblemBase, e.g. "validation"
	Title  string
	Detail string // safe for the client
	Errors []FieldError
	Allow  []string // methods, for a 405
	Err    error    // internal cause, logged, never sent
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Type, e.Detail, e.Err)
	}
	return e.Type + ": " + e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

// Problem is the body of an application/problem+json answer.
type Problem struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail,omitempty"`
	Instance  string       `json:"instance,omitempty"`
	RequestID string       `json:"request_id,omitempty"`
	Errors    []FieldError `json:"errors,omitempty"`
}

// Errorf builds an Error with a client-safe detail.
func Errorf(status int, typ, format string, args ...any) *Error {
	return &Error{Status: status, Type: typ, Title: http.StatusText(status), Detail: fmt.Sprintf(format, args...)}
}

// Invalid is a 422 listing what is wrong with the body.
func Invalid(errs ...FieldError) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Type: "validation", Title: "Validation failed",
		Detail: "The request body has invalid values; see errors.", Errors: errs}
}

// asError maps any error onto what the client may see. Storage sentinels get their
// status; everything else is a 500 whose cause stays in the log.
func asError(err error) *Error {
	var we *Error
	switch {
	case errors.As(err, &we):
		return we
	case errors.Is(err, store.ErrNotFound):
		return &Error{Status: 404, Type: "not-found", Title: "Not Found", Detail: "No such resource.", Err: err}
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: 409, Type: "conflict", Title: "Conflict", Detail: "That conflicts with existing data.", Err: err}
	case errors.Is(err, store.ErrUnavailable):
		return &Error{Status: 503, Type: "unavailable", Title: "Service Unavailable",
			Detail: "The database is unavailable; try again shortly.", Err: err}
	case errors.Is(err, context.Canceled):
		return &Error{Status: 499, Type: "canceled", Title: "Client Closed Request", Detail: "The request was canceled.", Err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Status: 503, Type: "timeout", Title: "Service Unavailable", Detail: "The request took too long.", Err: err}
	}
	return &Error{Status: 500, Type: "internal", Title: "Internal Server Error",
		Detail: "Something went wrong on our side; quote the request ID when reporting it.", Err: err}
}

// WriteProblem renders err as problem+json and logs it once, with the request ID.
func WriteProblem(w http.ResponseWriter, r *http.Request, err error) {
	e := asError(err)
	id := RequestID(r.Context())
	if e.Status >= 500 {
		slog.ErrorContext(r.Context(), "request failed", "request_id", id, "status", e.Status, "type", e.Type, "err", e.Err)
	} else if e.Err != nil {
		slog.DebugContext(r.Context(), "request refused", "request_id", id, "status", e.Status, "type", e.Type, "err", e.Err)
	}
	if len(e.Allow) > 0 {
		w.Header().Set("Allow", strings.Join(e.Allow, ", "))
	}
	if e.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "2")
	}
	p := Problem{Type: ProblemBase + e.Type, Title: e.Title, Status: e.Status, Detail: e.Detail,
		Instance: r.URL.Path, RequestID: id, Errors: e.Errors}
	if p.Title == "" {
		p.Title = http.StatusText(e.Status)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(e.Status)
	json.NewEncoder(w).Encode(p)
}

// HandlerFunc is a handler that returns its error for one wrapper to render.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

func (h HandlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h(w, r); err != nil {
		WriteProblem(w, r, err)
	}
}

// WriteJSON writes v with status.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	writeRaw(w, status, "application/json", append(b, '\n'))
	return nil
}

func writeRaw(w http.ResponseWriter, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
}
