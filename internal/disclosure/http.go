package disclosure

import (
	"context"
	_ "embed"
	"errors"
	"net/http"

	"tillit/internal/security"
	"tillit/internal/store"
	"tillit/internal/web"
)

// OpenAPI describes the routes of this room (paths and schemas); the server merges it
// into the document at /api/openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte

// HTTP is the recipient register's and disclosure log's JSON API. Disclose itself has
// no route: it is called by the rooms that send data.
type HTTP struct {
	svc *Service
}

// NewHTTP returns the API over svc.
func NewHTTP(svc *Service) *HTTP { return &HTTP{svc: svc} }

// Routes mounts the API; wrap adds body limit, authentication, idempotency and the
// permission check. Reading needs customers.read, every change customers.write.
func (h *HTTP) Routes(mux *http.ServeMux, wrap func(perm security.Permission, h web.HandlerFunc) http.Handler) {
	mux.Handle("POST /api/v1/recipients", wrap(security.PermCustomersWrite, h.register))
	mux.Handle("GET /api/v1/recipients", wrap(security.PermCustomersRead, h.list))
	mux.Handle("GET /api/v1/recipients/{id}", wrap(security.PermCustomersRead, h.get))
	mux.Handle("PATCH /api/v1/recipients/{id}", wrap(security.PermCustomersWrite, h.update))
	mux.Handle("GET /api/v1/customers/{id}/disclosures", wrap(security.PermCustomersRead, h.forCustomer))
}

func (h *HTTP) register(w http.ResponseWriter, r *http.Request) error {
	var n NewRecipient
	if err := web.DecodeJSON(r, &n); err != nil {
		return err
	}
	rc, err := h.svc.prepare(n)
	if err != nil {
		return httpError(err)
	}
	w.Header().Set("Location", "/api/v1/recipients/"+rc.ID)
	err = web.Commit(w, r, h.svc.st, http.StatusCreated, func(ctx context.Context, tx store.Tx) (any, error) {
		return rc, h.svc.insert(ctx, tx, &rc)
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
	rs, err := h.svc.List(r.Context(), after, limit)
	if err != nil {
		return httpError(err)
	}
	return web.WriteJSON(w, http.StatusOK, web.NewPage(rs, limit, func(x Recipient) string { return x.ID }))
}

func (h *HTTP) get(w http.ResponseWriter, r *http.Request) error {
	rc, err := h.svc.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return httpError(err)
	}
	return web.WriteJSON(w, http.StatusOK, rc)
}

// update answers without Commit: a merge patch applied twice gives the same recipient.
func (h *HTTP) update(w http.ResponseWriter, r *http.Request) error {
	var p Patch
	if err := web.DecodeJSON(r, &p); err != nil {
		return err
	}
	rc, err := h.svc.Update(r.Context(), r.PathValue("id"), p)
	if err != nil {
		return httpError(err)
	}
	return web.WriteJSON(w, http.StatusOK, rc)
}

type disclosureList struct {
	Items []Record `json:"items"`
}

func (h *HTTP) forCustomer(w http.ResponseWriter, r *http.Request) error {
	ds, err := h.svc.ForCustomer(r.Context(), r.PathValue("id"))
	if err != nil {
		return httpError(err)
	}
	return web.WriteJSON(w, http.StatusOK, disclosureList{Items: ds})
}

// httpError maps the room's errors onto problems; others pass to web's mapping.
func httpError(err error) error {
	var ve *ValidationError
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
		return &web.Error{Status: http.StatusNotFound, Type: "not-found", Title: "Not Found", Detail: "No such recipient.", Err: err}
	case errors.Is(err, ErrUnknownCustomer):
		return &web.Error{Status: http.StatusNotFound, Type: "not-found", Title: "Not Found", Detail: "No such customer.", Err: err}
	}
	return err
}
