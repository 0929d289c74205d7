package policy

import (
	"context"
	_ "embed"
	"errors"
	"net/http"
	"time"

	"tillit/internal/security"
	"tillit/internal/store"
	"tillit/internal/web"
)

// OpenAPI describes the routes of this room (paths and schemas); the server merges it
// into the document at /api/openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte

// HTTP is the policy room's JSON API: published versions, the Art. 30 record and
// customers' acceptances.
type HTTP struct {
	versions *Versions
	acc      *Acceptances
}

// NewHTTP returns the API over the version store and the acceptance register.
func NewHTTP(versions *Versions, acc *Acceptances) *HTTP { return &HTTP{versions: versions, acc: acc} }

// Routes mounts the API; wrap adds body limit, authentication, idempotency and the
// permission check.
func (h *HTTP) Routes(mux *http.ServeMux, wrap func(perm security.Permission, h web.HandlerFunc) http.Handler) {
	mux.Handle("GET /api/v1/policy/versions", wrap(security.PermSystemRead, h.listVersions))
	mux.Handle("GET /api/v1/policy/ropa", wrap(security.PermSystemRead, h.ropa))
	mux.Handle("POST /api/v1/customers/{id}/acceptances", wrap(security.PermCustomersWrite, h.accept))
	mux.Handle("GET /api/v1/customers/{id}/acceptances", wrap(security.PermCustomersRead, h.acceptances))
}

type versionList struct {
	Items []Version `json:"items"`
}

func (h *HTTP) listVersions(w http.ResponseWriter, r *http.Request) error {
	vs, err := h.versions.List(r.Context())
	if err != nil {
		return err
	}
	if vs == nil {
		vs = []Version{}
	}
	return web.WriteJSON(w, http.StatusOK, versionList{vs})
}

func noPolicy() error {
	return web.Errorf(http.StatusNotFound, "no-policy", "No policy version is published and in effect.")
}

func (h *HTTP) ropa(w http.ResponseWriter, r *http.Request) error {
	format := r.URL.Query().Get("format")
	switch format {
	case "", "json", "csv", "html":
	default:
		return &web.Error{Status: http.StatusBadRequest, Type: "bad-parameter", Title: "Bad Request",
			Detail: "format must be json, csv or html.", Errors: []web.FieldError{{Pointer: "?format", Message: "json, csv or html"}}}
	}
	rec, err := h.versions.CurrentROPA(r.Context())
	if errors.Is(err, ErrNoVersion) {
		return noPolicy()
	}
	if err != nil {
		return err
	}
	body, ctype, err := rec.Render(format)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-store")
	if format == "csv" {
		w.Header().Set("Content-Disposition", `attachment; filename="record-of-processing.csv"`)
	}
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(body)
	return err
}

// acceptRequest is the body of POST /api/v1/customers/{id}/acceptances.
type acceptRequest struct {
	Version     int        `json:"version"`
	Doc         DocKind    `json:"doc"`
	Method      Method     `json:"method"`
	EvidenceRef string     `json:"evidence_ref"`
	AcceptedAt  *time.Time `json:"accepted_at"`
}

func (h *HTTP) accept(w http.ResponseWriter, r *http.Request) error {
	var req acceptRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	a := Acceptance{CustomerID: r.PathValue("id"), Version: req.Version, Doc: req.Doc, Method: req.Method, EvidenceRef: req.EvidenceRef}
	if req.AcceptedAt != nil {
		a.AcceptedAt = *req.AcceptedAt
	}
	a, err := h.acc.prepare(r.Context(), a)
	if err != nil {
		return acceptError(err)
	}
	w.Header().Set("Location", "/api/v1/customers/"+a.CustomerID+"/acceptances")
	err = web.Commit(w, r, h.acc.st, http.StatusCreated, func(ctx context.Context, tx store.Tx) (any, error) {
		return h.acc.insert(ctx, tx, a)
	})
	if err != nil {
		w.Header().Del("Location")
		return acceptError(err)
	}
	return nil
}

// acceptanceList is the answer of GET /api/v1/customers/{id}/acceptances.
type acceptanceList struct {
	Items []Acceptance `json:"items"`
	// GoverningTerms is the terms version that governs the customer's contract now
	// (Acceptances.Governing); absent when none does.
	GoverningTerms *int `json:"governing_terms,omitempty"`
}

func (h *HTTP) acceptances(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	items, err := h.acc.ForCustomer(r.Context(), id)
	if err != nil {
		return err
	}
	out := acceptanceList{Items: items}
	n, err := h.acc.Governing(r.Context(), id, DocTerms, h.acc.now())
	switch {
	case err == nil:
		out.GoverningTerms = &n
	case errors.Is(err, ErrNoVersion), errors.Is(err, ErrNoAcceptance):
	default:
		return err
	}
	return web.WriteJSON(w, http.StatusOK, out)
}

func acceptError(err error) error {
	var ae *AcceptanceError
	if errors.As(err, &ae) {
		return web.Invalid(web.FieldError{Pointer: "/" + ae.Field, Message: ae.Message})
	}
	return err
}
