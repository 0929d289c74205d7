package customer

import (
	"context"
	_ "embed"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"tillit/internal/security"
	"tillit/internal/store"
	"tillit/internal/web"
)

// ReasonHeader carries why personal data is read: "ticket:T-123", "request:R-1",
// "contract:C-9" or "free:some text".
const ReasonHeader = "Tillit-Reason"

// SourceHeader optionally names where written values come from (default staff).
const SourceHeader = "Tillit-Source"

// OpenAPI describes the routes of this room (paths and schemas); the server merges it
// into the document at /api/openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte

// HTTP is the register's JSON API.
type HTTP struct {
	svc *Service
}

// NewHTTP returns the API over svc.
func NewHTTP(svc *Service) *HTTP { return &HTTP{svc: svc} }

// Routes mounts the API; wrap adds body limit, authentication, idempotency and the
// permission check.
func (h *HTTP) Routes(mux *http.ServeMux, wrap func(perm security.Permission, h web.HandlerFunc) http.Handler) {
	mux.Handle("POST /api/v1/customers", wrap(security.PermCustomersWrite, h.create))
	mux.Handle("GET /api/v1/customers", wrap(security.PermCustomersRead, h.find))
	mux.Handle("GET /api/v1/customers/{id}", wrap(security.PermCustomersRead, h.get))
	mux.Handle("PATCH /api/v1/customers/{id}", wrap(security.PermCustomersWrite, h.update))
	mux.Handle("GET /api/v1/customers/{id}/history/{field...}", wrap(security.PermCustomersRead, h.history))
	mux.Handle("POST /api/v1/customers/{id}/notes", wrap(security.PermCustomersWrite, h.addNote))
	mux.Handle("GET /api/v1/customers/{id}/notes", wrap(security.PermCustomersRead, h.notes))
}

type createRequest struct {
	NewCustomer
}

func (h *HTTP) create(w http.ResponseWriter, r *http.Request) error {
	var req createRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	src, err := sourceOf(r)
	if err != nil {
		return err
	}
	req.Source = src
	p, err := h.svc.prepare(r.Context(), req.NewCustomer)
	if err != nil {
		return httpError(err)
	}
	w.Header().Set("Location", "/api/v1/customers/"+p.ref.ID)
	err = web.Commit(w, r, h.svc.st, http.StatusCreated, func(ctx context.Context, tx store.Tx) (any, error) {
		return h.svc.insert(ctx, tx, p)
	})
	if err != nil {
		w.Header().Del("Location")
		return httpError(err)
	}
	return nil
}

func (h *HTTP) get(w http.ResponseWriter, r *http.Request) error {
	why, err := reasonOfRequest(r)
	if err != nil {
		return err
	}
	c, err := h.svc.Get(r.Context(), r.PathValue("id"), why)
	if err != nil {
		return httpError(err)
	}
	return web.WriteJSON(w, http.StatusOK, c)
}

func (h *HTTP) update(w http.ResponseWriter, r *http.Request) error {
	why, err := reasonOfRequest(r)
	if err != nil {
		return err
	}
	src, err := sourceOf(r)
	if err != nil {
		return err
	}
	var p Patch
	if err := web.DecodeJSON(r, &p); err != nil {
		return err
	}
	c, err := h.svc.Update(r.Context(), r.PathValue("id"), p, src, why)
	if err != nil {
		return httpError(err)
	}
	return web.WriteJSON(w, http.StatusOK, c)
}

func (h *HTTP) find(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var name string
	for _, k := range []string{"email", "phone", "identity_number", "org_number", "number"} {
		if q.Has(k) {
			if name != "" {
				return queryError("?"+k, "use exactly one of email, phone, identity_number, org_number, number")
			}
			name = k
		}
	}
	v := q.Get(name)
	var ms []Match
	var err error
	switch name {
	case "":
		return queryError("?email", "use exactly one of email, phone, identity_number, org_number, number")
	case "email":
		ms, err = h.svc.FindByEmail(r.Context(), v)
	case "phone":
		ms, err = h.svc.FindByPhone(r.Context(), v)
	case "identity_number":
		ms, err = h.svc.FindByIdentityNumber(r.Context(), v)
	case "org_number":
		ms, err = h.svc.FindByOrgNumber(r.Context(), v)
	case "number":
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil || n < 1 {
			return queryError("?number", "a customer number is a positive whole number")
		}
		ms, err = h.svc.FindByNumber(r.Context(), n)
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		return queryError("?"+ve.Fields[0].Field, ve.Fields[0].Message)
	}
	if err != nil {
		return httpError(err)
	}
	return web.WriteJSON(w, http.StatusOK, matchList{Items: ms})
}

type matchList struct {
	Items []Match `json:"items"`
}

type historyList struct {
	Items []HistoryEntry `json:"items"`
}

type noteList struct {
	Items []Note `json:"items"`
}

func (h *HTTP) history(w http.ResponseWriter, r *http.Request) error {
	why, err := reasonOfRequest(r)
	if err != nil {
		return err
	}
	hs, err := h.svc.History(r.Context(), r.PathValue("id"), r.PathValue("field"), why)
	var ve *ValidationError
	if errors.As(err, &ve) {
		return web.Errorf(http.StatusNotFound, "not-found", "No such field; fields are name, email, phone, identity_number, org_number, language, status, contacts and addresses/{role}.")
	}
	if err != nil {
		return httpError(err)
	}
	if hs == nil {
		hs = []HistoryEntry{}
	}
	return web.WriteJSON(w, http.StatusOK, historyList{Items: hs})
}

type noteRequest struct {
	Channel string `json:"channel"`
	Text    string `json:"text"`
}

func (h *HTTP) addNote(w http.ResponseWriter, r *http.Request) error {
	var req noteRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	src, err := sourceOf(r)
	if err != nil {
		return err
	}
	p, err := h.svc.prepareNote(r.Context(), r.PathValue("id"), Note{Channel: req.Channel, Text: req.Text, Source: src})
	if err != nil {
		return httpError(err)
	}
	err = web.Commit(w, r, h.svc.st, http.StatusCreated, func(ctx context.Context, tx store.Tx) (any, error) {
		return h.svc.insertNote(ctx, tx, p)
	})
	return httpError(err)
}

func (h *HTTP) notes(w http.ResponseWriter, r *http.Request) error {
	why, err := reasonOfRequest(r)
	if err != nil {
		return err
	}
	ns, err := h.svc.Notes(r.Context(), r.PathValue("id"), why)
	if err != nil {
		return httpError(err)
	}
	if ns == nil {
		ns = []Note{}
	}
	return web.WriteJSON(w, http.StatusOK, noteList{Items: ns})
}

func reasonOfRequest(r *http.Request) (Reason, error) {
	why, err := ParseReason(r.Header.Get(ReasonHeader))
	if err != nil {
		return Reason{}, reasonRequired()
	}
	return why, nil
}

func reasonRequired() error {
	return web.Errorf(http.StatusBadRequest, "reason-required",
		"Reading or changing personal data needs a reason: send the header %s as ticket:ID, request:ID, contract:ID or free:text (at most %d characters after the colon).",
		ReasonHeader, maxReasonRef)
}

func sourceOf(r *http.Request) (Source, error) {
	s := strings.TrimSpace(r.Header.Get(SourceHeader))
	if s == "" {
		return SourceStaff, nil
	}
	if !validSource(Source(s)) {
		return "", &web.Error{Status: http.StatusBadRequest, Type: "bad-parameter", Title: "Bad Request",
			Detail: SourceHeader + " must be customer_portal, staff, import, address_service, credit_check or processor.",
			Errors: []web.FieldError{{Pointer: SourceHeader, Message: "unknown source"}}}
	}
	return Source(s), nil
}

func queryError(param, msg string) error {
	return &web.Error{Status: http.StatusBadRequest, Type: "bad-parameter", Title: "Bad Request",
		Detail: "Invalid query parameter; see errors.", Errors: []web.FieldError{{Pointer: param, Message: msg}}}
}

// httpError maps the register's errors onto problems; others pass to web's mapping.
func httpError(err error) error {
	var ve *ValidationError
	var de *DuplicateError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ve):
		fes := make([]web.FieldError, len(ve.Fields))
		for i, f := range ve.Fields {
			fes[i] = web.FieldError{Pointer: f.Field, Message: f.Message}
		}
		return web.Invalid(fes...)
	case errors.As(err, &de):
		e := web.Errorf(http.StatusConflict, "conflict", "Another customer already has this %s.", strings.TrimPrefix(de.Field, "/"))
		e.Errors, e.Err = []web.FieldError{{Pointer: de.Field, Message: "already registered to another customer"}}, err
		return e
	case errors.Is(err, ErrReasonRequired):
		return reasonRequired()
	case errors.Is(err, ErrNotFound):
		return &web.Error{Status: http.StatusNotFound, Type: "not-found", Title: "Not Found", Detail: "No such customer.", Err: err}
	case errors.Is(err, ErrErased):
		return &web.Error{Status: http.StatusGone, Type: "erased", Title: "Gone",
			Detail: "This customer's personal data has been erased and can never be read again.", Err: err}
	}
	return err
}
