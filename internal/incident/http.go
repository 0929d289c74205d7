package incident

import (
	"context"
	_ "embed"
	"errors"
	"net/http"
	"slices"
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

// HTTP is the incident register's JSON API.
type HTTP struct {
	svc *Service
}

// NewHTTP returns the API over svc.
func NewHTTP(svc *Service) *HTTP { return &HTTP{svc: svc} }

// Routes mounts the API; wrap adds body limit, authentication, idempotency and the
// permission check. Breach handling is staff work: reading needs customers.read,
// every change customers.write.
func (h *HTTP) Routes(mux *http.ServeMux, wrap func(perm security.Permission, h web.HandlerFunc) http.Handler) {
	mux.Handle("POST /api/v1/incidents", wrap(security.PermCustomersWrite, h.record))
	mux.Handle("GET /api/v1/incidents", wrap(security.PermCustomersRead, h.list))
	mux.Handle("GET /api/v1/incidents/{id}", wrap(security.PermCustomersRead, h.get))
	mux.Handle("PATCH /api/v1/incidents/{id}", wrap(security.PermCustomersWrite, h.update))
	mux.Handle("POST /api/v1/incidents/{id}/report", wrap(security.PermCustomersWrite, h.report))
	mux.Handle("POST /api/v1/incidents/{id}/no-report", wrap(security.PermCustomersWrite, h.noReport))
	mux.Handle("POST /api/v1/incidents/{id}/affected", wrap(security.PermCustomersWrite, h.affected))
	mux.Handle("POST /api/v1/incidents/{id}/close", wrap(security.PermCustomersWrite, h.close))
	mux.Handle("GET /api/v1/incidents/{id}/draft", wrap(security.PermCustomersRead, h.draft))
}

func (h *HTTP) record(w http.ResponseWriter, r *http.Request) error {
	var n NewIncident
	if err := web.DecodeJSON(r, &n); err != nil {
		return err
	}
	i, err := h.svc.prepare(n)
	if err != nil {
		return httpError(err)
	}
	w.Header().Set("Location", "/api/v1/incidents/"+i.ID)
	err = web.Commit(w, r, h.svc.st, http.StatusCreated, func(ctx context.Context, tx store.Tx) (any, error) {
		return i, h.svc.insert(ctx, tx, &i)
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
	f := Filter{Kind: Kind(q.Get("kind")), After: after, Limit: limit}
	if f.Kind != "" && !slices.Contains(Kinds, f.Kind) {
		return queryError("?kind", "must be one of breach, customer_incident")
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"open", &f.Open}, {"overdue", &f.Overdue}} {
		switch q.Get(b.name) {
		case "", "false":
		case "true":
			*b.dst = true
		default:
			return queryError("?"+b.name, "must be true or false")
		}
	}
	is, err := h.svc.List(r.Context(), f)
	if err != nil {
		return httpError(err)
	}
	return web.WriteJSON(w, http.StatusOK, web.NewPage(is, limit, func(x Incident) string { return x.ID }))
}

func (h *HTTP) get(w http.ResponseWriter, r *http.Request) error {
	i, err := h.svc.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return httpError(err)
	}
	return web.WriteJSON(w, http.StatusOK, i)
}

// The step handlers answer without Commit: each step re-reads the incident in its
// write and refuses a repeated step (already reported, closed), so a retry is safe.
func (h *HTTP) update(w http.ResponseWriter, r *http.Request) error {
	var p Patch
	if err := web.DecodeJSON(r, &p); err != nil {
		return err
	}
	return h.answer(w, func() (Incident, error) { return h.svc.Update(r.Context(), r.PathValue("id"), p) })
}

type reportRequest struct {
	Reference  string     `json:"reference"`
	ReportedAt *time.Time `json:"reported_at,omitempty"`
}

func (h *HTTP) report(w http.ResponseWriter, r *http.Request) error {
	var b reportRequest
	if err := web.DecodeJSON(r, &b); err != nil {
		return err
	}
	var at time.Time
	if b.ReportedAt != nil {
		at = *b.ReportedAt
	}
	return h.answer(w, func() (Incident, error) { return h.svc.MarkReported(r.Context(), r.PathValue("id"), b.Reference, at) })
}

type reasonRequest struct {
	Reason string `json:"reason"`
}

func (h *HTTP) noReport(w http.ResponseWriter, r *http.Request) error {
	var b reasonRequest
	if err := web.DecodeJSON(r, &b); err != nil {
		return err
	}
	return h.answer(w, func() (Incident, error) { return h.svc.DecideNotToReport(r.Context(), r.PathValue("id"), b.Reason) })
}

type affectedRequest struct {
	CustomerIDs []string `json:"customer_ids"`
}

func (h *HTTP) affected(w http.ResponseWriter, r *http.Request) error {
	var b affectedRequest
	if err := web.DecodeJSON(r, &b); err != nil {
		return err
	}
	return h.answer(w, func() (Incident, error) { return h.svc.AddAffected(r.Context(), r.PathValue("id"), b.CustomerIDs) })
}

func (h *HTTP) close(w http.ResponseWriter, r *http.Request) error {
	return h.answer(w, func() (Incident, error) { return h.svc.Close(r.Context(), r.PathValue("id")) })
}

func (h *HTTP) answer(w http.ResponseWriter, step func() (Incident, error)) error {
	i, err := step()
	if err != nil {
		return httpError(err)
	}
	return web.WriteJSON(w, http.StatusOK, i)
}

func (h *HTTP) draft(w http.ResponseWriter, r *http.Request) error {
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "text" {
		return queryError("?format", "must be json or text")
	}
	d, err := h.svc.Draft(r.Context(), r.PathValue("id"))
	if err != nil {
		return httpError(err)
	}
	if format == "text" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, err := w.Write([]byte(d.Text))
		return err
	}
	return web.WriteJSON(w, http.StatusOK, d)
}

func queryError(param, msg string) error {
	return &web.Error{Status: http.StatusBadRequest, Type: "bad-parameter", Title: "Bad Request",
		Detail: "Invalid query parameter; see errors.", Errors: []web.FieldError{{Pointer: param, Message: msg}}}
}

// httpError maps the register's errors onto problems; others pass to web's mapping.
func httpError(err error) error {
	var ve *ValidationError
	conflict := func(typ, detail string) error {
		return &web.Error{Status: http.StatusConflict, Type: typ, Title: "Conflict", Detail: detail, Err: err}
	}
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
		return &web.Error{Status: http.StatusNotFound, Type: "not-found", Title: "Not Found", Detail: "No such incident.", Err: err}
	case errors.Is(err, ErrNotBreach):
		return conflict("not-a-breach", "A customer-side incident is outside the breach duty: it has no 72-hour deadline, no draft and is never reported to the authority.")
	case errors.Is(err, ErrUndocumented):
		return conflict("breach-undocumented", "A breach can be closed only once it is reported (/report) or its non-reporting is documented with the reason (/no-report).")
	case errors.Is(err, ErrAlreadyReported):
		return conflict("already-reported", "The breach is already reported to the authority.")
	case errors.Is(err, ErrClosed):
		return conflict("closed", "The incident is closed and cannot change.")
	}
	return err
}
