package app

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"tillit/internal/consent"
	"tillit/internal/customer"
	"tillit/internal/disclosure"
	"tillit/internal/incident"
	"tillit/internal/jobs"
	"tillit/internal/mail"
	"tillit/internal/policy"
	"tillit/internal/privacy"
	"tillit/internal/security"
	"tillit/internal/store"
	"tillit/internal/web"
)

// server holds what the HTTP side needs; each room's routes are mounted in routes.
type server struct {
	env       *env
	tokens    *security.Tokens
	idem      *web.Idempotency
	jobs      *jobs.Queue
	staff     *security.Staff
	customers *customer.Service
	versions  *policy.Versions
	outbox    *mail.Outbox
	privacy   *privacy.Service
	incidents *incident.Service
	// disclosures is the one way data leaves for a third party (D2).
	disclosures *disclosure.Service
	reg         *prometheus.Registry
	// authFailures slows down token guessing per client address.
	authFailures *security.RateLimiter
	// loginLimits slows console sign-in attempts per address and per e-mail.
	loginLimits *security.RateLimiter
}

func newServer(e *env, tokens *security.Tokens) (*server, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newQueueCollector(e.st))
	idemSeal, err := e.ks.AEAD("idempotency")
	if err != nil {
		return nil, err
	}
	idem := web.NewIdempotency(e.st, idemSeal, nil)
	staff, err := newStaff(e)
	if err != nil {
		return nil, err
	}
	tokens.Audit = e.audit
	outbox, err := newOutbox(e)
	if err != nil {
		return nil, err
	}
	s := &server{outbox: outbox, env: e, tokens: tokens, idem: idem, jobs: newQueue(e, idem), staff: staff, reg: reg,
		customers:    customer.NewService(e.st, e.ks, e.audit, customer.Options{}),
		versions:     policy.NewVersions(e.st, e.audit, nil),
		authFailures: security.NewRateLimiter(20, 3*time.Second, 100000, nil),
		loginLimits:  security.NewRateLimiter(10, 30*time.Second, 100000, nil)}
	s.disclosures = disclosure.NewService(e.st, e.audit, disclosure.Options{})
	if s.privacy, err = s.newPrivacy(context.Background()); err != nil {
		return nil, err
	}
	if s.incidents, err = s.newIncidents(context.Background()); err != nil {
		return nil, err
	}
	s.registerRetention()
	return s, nil
}

// handler is the whole HTTP surface.
func (s *server) handler(tls bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /readyz", web.HandlerFunc(s.readyz))
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /api/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Write(openAPI)
	})

	s.apiRoutes(mux)
	s.consoleRoutes(mux)
	s.publicRoutes(mux)
	// Everything no route matches: problem+json under /api/, plain text elsewhere.
	// (A "/api/" catch-all would conflict with the pages' "/{lang}/privacy".)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		err := notFoundOrMethod(mux, r)
		if strings.HasPrefix(r.URL.Path, "/api/") {
			web.WriteProblem(w, r, err)
			return
		}
		var we *web.Error
		if errors.As(err, &we) && len(we.Allow) > 0 {
			w.Header().Set("Allow", strings.Join(we.Allow, ", "))
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		http.NotFound(w, r)
	})

	protect := http.NewCrossOriginProtection()
	// The cookie banner posts receipts from the company's own website: a cross-site
	// request by design, checked by the consent room's CORS origins instead.
	protect.AddInsecureBypassPattern(consent.ReceiptPattern)
	trusted, _ := web.ParsePrefixes(s.env.cfg.TrustedProxies) // validated with the configuration
	return web.Observe(s.env.log, web.NewMetrics(s.reg), tls, trusted, protect.Handler(mux))
}

// apiRoutes lists every /api/v1 route of the platform. Rooms add theirs beside it.
func (s *server) apiRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/system", s.api(security.PermSystemRead, s.getSystem))
	mux.Handle("GET /api/v1/tokens", s.api(security.PermTokensManage, s.listTokens))
	mux.Handle("POST /api/v1/tokens", s.api(security.PermTokensManage, s.createToken))
	mux.Handle("DELETE /api/v1/tokens/{id}", s.api(security.PermTokensManage, s.revokeToken))
	mux.Handle("GET /api/v1/staff", s.api(security.PermStaffManage, s.listStaff))
	mux.Handle("POST /api/v1/staff", s.api(security.PermStaffManage, s.addStaff))
	mux.Handle("POST /api/v1/staff/{id}/disable", s.api(security.PermStaffManage, s.disableStaff))
	mux.Handle("POST /api/v1/staff/{id}/reset-password", s.api(security.PermStaffManage, s.resetStaffPassword))
	customer.NewHTTP(s.customers).Routes(mux, s.api)
	privacy.NewHTTP(s.privacy).Routes(mux, s.api)
	incident.NewHTTP(s.incidents).Routes(mux, s.api)
	disclosure.NewHTTP(s.disclosures).Routes(mux, s.api)
	consent.NewHTTP(consent.NewLedger(s.env.st, nil), s.versions,
		consent.Options{AllowedOrigins: splitList(s.env.cfg.CookieOrigins)}).Routes(mux, s.api)
	policy.NewHTTP(s.versions, policy.NewAcceptances(s.env.st, s.env.audit, s.versions, nil)).Routes(mux, s.api)
	mux.Handle("GET /api/v1/jobs", s.api(security.PermJobsRead, s.listJobs))
	mux.Handle("POST /api/v1/jobs/{id}/retry", s.api(security.PermJobsManage, s.jobAction(s.jobs.Retry)))
	mux.Handle("POST /api/v1/jobs/{id}/cancel", s.api(security.PermJobsManage, s.jobAction(s.jobs.Cancel)))
}

// api wraps one API handler in the API conventions: body limit, bearer token,
// idempotency keys, and the permission the route needs.
func (s *server) api(perm security.Permission, h web.HandlerFunc) http.Handler {
	return web.LimitBody(web.MaxBody, web.Bearer(s.tokens.Authenticate, s.authFailures, s.idem.Middleware(web.Require(perm, h))))
}

// notFoundOrMethod tells an unknown route (404) from a known one asked with the
// wrong method (405 with Allow), both as problem+json.
func notFoundOrMethod(mux *http.ServeMux, r *http.Request) error {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(context.Background())
		probe.Method = m
		if _, pattern := mux.Handler(probe); strings.Contains(pattern, " ") { // a method-specific route
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		return web.Errorf(http.StatusNotFound, "not-found", "No such API route; see /api/openapi.json.")
	}
	if !strings.HasPrefix(r.URL.Path, "/api/") {
		return &web.Error{Status: http.StatusMethodNotAllowed, Allow: allow}
	}
	e := web.Errorf(http.StatusMethodNotAllowed, "method-not-allowed", "Use one of: %v.", allow)
	e.Allow = allow
	return e
}

func (s *server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.env.st.Ping(ctx); err != nil {
		return &web.Error{Status: 503, Type: "unavailable", Detail: "The database does not answer.", Err: err}
	}
	ok, err := s.env.st.Current(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return web.Errorf(http.StatusServiceUnavailable, "schema-mismatch", "The database schema is not the one this server expects.")
	}
	return web.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

type systemInfo struct {
	Version       string `json:"version"`
	Dialect       string `json:"dialect"`
	SchemaVersion int64  `json:"schema_version"`
}

func (s *server) getSystem(w http.ResponseWriter, r *http.Request) error {
	return web.WriteJSON(w, http.StatusOK, systemInfo{Version: Version, Dialect: string(s.env.st.Dialect()), SchemaVersion: s.env.st.SchemaVersion()})
}

type tokenRequest struct {
	Name string        `json:"name"`
	Role security.Role `json:"role"`
	// TTL in seconds; 0 or absent means no expiry.
	TTLSeconds int64 `json:"ttl_seconds"`
}

// maxTTLSeconds is the longest lifetime time.Duration can hold.
const maxTTLSeconds = int64(math.MaxInt64 / int64(time.Second))

type createdToken struct {
	security.Token
	Secret string `json:"token"`
}

func (s *server) createToken(w http.ResponseWriter, r *http.Request) error {
	var req tokenRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	var errs []web.FieldError
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || utf8.RuneCountInString(req.Name) > 100 {
		errs = append(errs, web.FieldError{Pointer: "/name", Message: "1 to 100 characters"})
	}
	if !req.Role.Valid() {
		errs = append(errs, web.FieldError{Pointer: "/role", Message: "one of owner, admin, support, billing, auditor, readonly"})
	}
	if req.TTLSeconds < 0 || req.TTLSeconds > maxTTLSeconds {
		errs = append(errs, web.FieldError{Pointer: "/ttl_seconds", Message: fmt.Sprintf("0 to %d", maxTTLSeconds)})
	}
	if len(errs) > 0 {
		return web.Invalid(errs...)
	}
	if p, _ := web.PrincipalFrom(r.Context()); p.Role != security.RoleOwner && req.Role == security.RoleOwner {
		return web.Errorf(http.StatusForbidden, "forbidden", "Only an owner may create owner tokens.")
	}
	return web.Commit(w, r, s.env.st, http.StatusCreated, func(ctx context.Context, tx store.Tx) (any, error) {
		raw, tok, err := s.tokens.CreateTx(ctx, tx, req.Name, req.Role, time.Duration(req.TTLSeconds)*time.Second)
		return createdToken{Token: tok, Secret: raw}, err
	})
}

func (s *server) listTokens(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := web.PageParams(r)
	if err != nil {
		return err
	}
	toks, err := s.tokens.List(r.Context(), after, limit+1)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, web.NewPage(toks, limit, func(t security.Token) string { return t.ID }))
}

func (s *server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	err := s.tokens.Revoke(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return web.Errorf(http.StatusNotFound, "not-found", "No active token with that id.")
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// background lists the workers that run beside the HTTP server until shutdown.
func (s *server) background() []func(context.Context) error {
	return []func(context.Context) error{s.jobs.Run, s.env.audit.Run}
}
