package privacy

import (
	"context"
	_ "embed"
	"errors"
	"net/http"
	"slices"
	"strings"

	"tillit/internal/security"
	"tillit/internal/store"
	"tillit/internal/web"
)

// OpenAPI describes the routes of this room (paths and schemas); the server merges it
// into the document at /api/openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte

// HTTP is the request desk's JSON API.
type HTTP struct {
	svc *Service
}

// NewHTTP returns the API over svc.
func NewHTTP(svc *Service) *HTTP { return &HTTP{svc: svc} }

// Routes mounts the API; wrap adds body limit, authentication, idempotency and the
// permission check.
func (h *HTTP) Routes(mux *http.ServeMux, wrap func(perm security.Permission, h web.HandlerFunc) http.Handler) {
	mux.Handle("POST /api/v1/privacy/requests", wrap(security.PermCustomersWrite, h.receive))
	mux.Handle("GET /api/v1/privacy/requests", wrap(security.PermCustomersRead, h.list))
	mux.Handle("GET /api/v1/privacy/requests/{id}", wrap(security.PermCustomersRead, h.get))
	mux.Handle("POST /api/v1/privacy/requests/{id}/verify", wrap(security.PermCustomersWrite, h.verify))
	mux.Handle("POST /api/v1/privacy/requests/{id}/start", wrap(security.PermCustomersWrite, h.start))
	mux.Handle("POST /api/v1/privacy/requests/{id}/extend", wrap(security.PermCustomersWrite, h.extend))
	mux.Handle("POST /api/v1/privacy/requests/{id}/complete", wrap(security.PermCustomersWrite, h.complete))
	mux.Handle("POST /api/v1/privacy/requests/{id}/refuse", wrap(security.PermCustomersWrite, h.refuse))
	mux.Handle("GET /api/v1/privacy/requests/{id}/extract", wrap(security.PermCustomersRead, h.extract))
}

func (h *HTTP) receive(w http.ResponseWriter, r *http.Request) error {
	var n NewRequest
	if err := web.DecodeJSON(r, &n); err != nil {
		return err
	}
	req, err := h.svc.prepare(r.Context(), n)
	if err != nil {
		return httpError(err)
	}
	w.Header().Set("Location", "/api/v1/privacy/requests/"+req.ID)
	err = web.Commit(w, r, h.svc.st, http.StatusCreated, func(ctx context.Context, tx store.Tx) (any, error) {
		return req, h.svc.insert(ctx, tx, &req)
	})
	if err != nil {
		w.Header().Del("Location")
	}
	return httpError(err)
}

func (h *HTTP) list(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := web.PageParams(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := Filter{State: State(q.Get("state")), Kind: Kind(q.Get("kind")), CustomerID: q.Get("customer_id"), After: after, Limit: limit}
	if f.State != "" && !slices.Contains(States, f.State) {
		return queryError("?state", "must be one of received, identity_verified, in_progress, completed, refused")
	}
	if f.Kind != "" && !slices.Contains(Kinds, f.Kind) {
		return queryError("?kind", "must be one of access, rectification, erasure, restriction, portability, objection, consent_withdrawal")
	}
	switch q.Get("overdue") {
	case "", "false":
	case "true":
		f.Overdue = true
	default:
		return queryError("?overdue", "must be true or false")
	}
	rs, err := h.svc.List(r.Context(), f)
	if err != nil {
		return httpError(err)
	}
	return web.WriteJSON(w, http.StatusOK, web.NewPage(rs, limit, func(x Request) string { return x.ID }))
}

func (h *HTTP) get(w http.ResponseWriter, r *http.Request) error {
	req, err := h.svc.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return httpError(err)
	}
	return web.WriteJSON(w, http.StatusOK, req)
}

type verifyRequest struct {
	Method     Method `json:"method"`
	Note       string `json:"note,omitempty"`
	CustomerID string `json:"customer_id,omitempty"`
}

// The step handlers answer without Commit: each step re-reads the request in its
// write and refuses a repeated step by state, so a retry is safe without a stored
// answer; the answer is the request without its note (no personal data).
func (h *HTTP) verify(w http.ResponseWriter, r *http.Request) error {
	var b verifyRequest
	if err := web.DecodeJSON(r, &b); err != nil {
		return err
	}
	return h.answer(w, func() (Request, error) {
		return h.svc.VerifyIdentity(r.Context(), r.PathValue("id"), b.Method, b.Note, b.CustomerID)
	})
}

type reasonRequest struct {
	Reason string `json:"reason"`
}

func (h *HTTP) start(w http.ResponseWriter, r *http.Request) error {
	return h.answer(w, func() (Request, error) { return h.svc.Start(r.Context(), r.PathValue("id")) })
}

func (h *HTTP) complete(w http.ResponseWriter, r *http.Request) error {
	return h.answer(w, func() (Request, error) { return h.svc.Complete(r.Context(), r.PathValue("id")) })
}

func (h *HTTP) extend(w http.ResponseWriter, r *http.Request) error {
	var b reasonRequest
	if err := web.DecodeJSON(r, &b); err != nil {
		return err
	}
	return h.answer(w, func() (Request, error) { return h.svc.Extend(r.Context(), r.PathValue("id"), b.Reason) })
}

func (h *HTTP) refuse(w http.ResponseWriter, r *http.Request) error {
	var b reasonRequest
	if err := web.DecodeJSON(r, &b); err != nil {
		return err
	}
	return h.answer(w, func() (Request, error) { return h.svc.Refuse(r.Context(), r.PathValue("id"), b.Reason) })
}

func (h *HTTP) answer(w http.ResponseWriter, step func() (Request, error)) error {
	req, err := step()
	if err != nil {
		return httpError(err)
	}
	return web.WriteJSON(w, http.StatusOK, req)
}

func (h *HTTP) extract(w http.ResponseWriter, r *http.Request) error {
	x, err := h.svc.Extract(r.Context(), r.PathValue("id"))
	if err != nil {
		return httpError(err)
	}
	w.Header().Set("Content-Disposition", `attachment; filename="extract-`+r.PathValue("id")+`.json"`)
	return web.WriteJSON(w, http.StatusOK, x)
}

func queryError(param, msg string) error {
	return &web.Error{Status: http.StatusBadRequest, Type: "bad-parameter", Title: "Bad Request",
		Detail: "Invalid query parameter; see errors.", Errors: []web.FieldError{{Pointer: param, Message: msg}}}
}

// httpError maps the desk's errors onto problems; others pass to web's mapping.
func httpError(err error) error {
	var ve *ValidationError
	var te *TransitionError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ve):
		fes := make([]web.FieldError, len(ve.Fields))
		for i, f := range ve.Fields {
			fes[i] = web.FieldError{Pointer: f.Field, Message: f.Message}
		}
		return web.Invalid(fes...)
	case errors.Is(err, ErrNotFound):
		return &web.Error{Status: http.StatusNotFound, Type: "not-found", Title: "Not Found", Detail: "No such privacy request.", Err: err}
	case errors.Is(err, ErrIdentityNotVerified):
		e := web.Errorf(http.StatusConflict, "identity-not-verified",
			"The requester's identity is not verified yet; verify it (POST /api/v1/privacy/requests/{id}/verify) before anything is sent or changed.")
		e.Err = err
		return e
	case errors.Is(err, ErrExtensionTooLate):
		return &web.Error{Status: http.StatusConflict, Type: "extension-too-late", Title: "Conflict",
			Detail: "The deadline can be extended only within the first month after receipt.", Err: err}
	case errors.Is(err, ErrAlreadyExtended):
		return &web.Error{Status: http.StatusConflict, Type: "already-extended", Title: "Conflict",
			Detail: "The deadline is already extended; Art. 12(3) allows one extension of two months.", Err: err}
	case errors.Is(err, ErrNoExtract):
		return &web.Error{Status: http.StatusConflict, Type: "no-extract", Title: "Conflict",
			Detail: "Only access and portability requests are answered with an extract.", Err: err}
	case errors.As(err, &te):
		return &web.Error{Status: http.StatusConflict, Type: "wrong-state", Title: "Conflict",
			Detail: "The request is " + strings.ReplaceAll(string(te.From), "_", " ") + "; that step is not allowed in this state.", Err: err}
	}
	return err
}
