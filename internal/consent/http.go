package consent

import (
	_ "embed"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"tillit/internal/policy"
	"tillit/internal/security"
	"tillit/internal/web"
)

// OpenAPI describes the staff route of this room (paths and schemas); the public
// /cookies routes serve websites, not API clients, and are documented in the
// package comment instead.
//
//go:embed openapi.json
var OpenAPI []byte

// ReceiptPattern is the receipt route. The banner posts to it from the company's
// website, another origin, so the server's http.CrossOriginProtection must let it
// through (AddInsecureBypassPattern); the handler checks the origin itself (CORS).
const ReceiptPattern = "POST /cookies/consent"

// MaxReceiptBody caps the body of POST /cookies/consent.
const MaxReceiptBody = 2 << 10

// Options configure the banner routes.
type Options struct {
	// AllowedOrigins are the company's website origins ("https://www.example.se")
	// allowed to post receipts (CORS). Empty allows any origin. Trade-off: CORS is
	// no authentication, as any client outside a browser can post anyway, so
	// allowing any origin only lets other websites' visitors' browsers add
	// receipts under made-up visitor ids; it never exposes or changes a receipt.
	// Listing the origins keeps the ledger to the company's own sites. The Tillit
	// server's own origin is always allowed.
	AllowedOrigins []string
	// RateBurst receipts per client IP, then one per RateEvery (defaults 20, 3s).
	RateBurst int
	RateEvery time.Duration
	// Now is the clock (nil for time.Now).
	Now func() time.Time
}

// HTTP serves the banner, takes receipts and lists them for staff.
type HTTP struct {
	ledger   *Ledger
	versions *policy.Versions
	origins  map[string]bool
	limiter  *security.RateLimiter
	now      func() time.Time

	mu      sync.Mutex
	bundles map[int]*Bundle
	assets  map[string]asset // by file name, every version built so far
}

type asset struct {
	body  []byte
	ctype string
}

// NewHTTP returns the routes over the ledger and the published policy versions.
func NewHTTP(ledger *Ledger, versions *policy.Versions, opt Options) *HTTP {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.RateBurst <= 0 {
		opt.RateBurst = 20
	}
	if opt.RateEvery <= 0 {
		opt.RateEvery = 3 * time.Second
	}
	h := &HTTP{ledger: ledger, versions: versions, now: opt.Now,
		limiter: security.NewRateLimiter(opt.RateBurst, opt.RateEvery, 10000, opt.Now),
		bundles: map[int]*Bundle{}, assets: map[string]asset{}}
	if len(opt.AllowedOrigins) > 0 {
		h.origins = map[string]bool{}
		for _, o := range opt.AllowedOrigins {
			h.origins[normOrigin(o)] = true
		}
	}
	return h
}

// Routes mounts the public banner routes as they are (no authentication) and the
// staff listing through wrap.
func (h *HTTP) Routes(mux *http.ServeMux, wrap func(perm security.Permission, h web.HandlerFunc) http.Handler) {
	mux.Handle("GET /cookies/banner.js", web.HandlerFunc(h.loader))
	mux.Handle("GET /cookies/v/{asset}", web.HandlerFunc(h.asset))  // three segments: no clash with /{lang}/privacy
	mux.Handle("POST /cookies/consent", web.HandlerFunc(h.consent)) // = ReceiptPattern
	mux.Handle("OPTIONS /cookies/consent", http.HandlerFunc(h.preflight))
	mux.Handle("GET /api/v1/consent/receipts", wrap(security.PermCustomersRead, h.list))
}

// Bundle returns the banner of policy version n, built once per process.
func (h *HTTP) Bundle(r *http.Request, n int) (*Bundle, error) {
	h.mu.Lock()
	b := h.bundles[n]
	h.mu.Unlock()
	if b != nil {
		return b, nil
	}
	p, err := h.versions.Policy(r.Context(), n)
	if err != nil {
		return nil, err
	}
	b = Build(p, n)
	h.mu.Lock()
	h.bundles[n] = b
	h.assets[b.JSName()] = asset{b.JS, "text/javascript; charset=utf-8"}
	h.assets[b.CSSName()] = asset{b.CSS, "text/css; charset=utf-8"}
	h.mu.Unlock()
	return b, nil
}

func (h *HTTP) loader(w http.ResponseWriter, r *http.Request) error {
	body := noPolicyLoader
	n, err := h.versions.Current(r.Context(), h.now())
	switch {
	case errors.Is(err, policy.ErrNoVersion):
	case err != nil:
		return err
	default:
		b, err := h.Bundle(r, n)
		if err != nil {
			return err
		}
		body = b.Loader
	}
	w.Header().Set("Cache-Control", "max-age=300")
	serve(w, body, "text/javascript; charset=utf-8")
	return nil
}

func (h *HTTP) asset(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("asset")
	h.mu.Lock()
	a, ok := h.assets[name]
	h.mu.Unlock()
	if !ok && strings.HasPrefix(name, "banner.") {
		// After a restart a loader cached for up to five minutes may still name the
		// current or the previous version's files: build those and look again.
		if n, err := h.versions.Current(r.Context(), h.now()); err == nil {
			for _, v := range []int{n, n - 1} {
				if v >= 1 {
					h.Bundle(r, v)
				}
			}
			h.mu.Lock()
			a, ok = h.assets[name]
			h.mu.Unlock()
		}
	}
	if !ok {
		return web.Errorf(http.StatusNotFound, "not-found", "No such banner file.")
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	serve(w, a.body, a.ctype)
	return nil
}

func serve(w http.ResponseWriter, body []byte, ctype string) {
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// The files are included from the company's website, another origin.
	w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

func normOrigin(o string) string {
	u, err := url.Parse(strings.TrimSpace(o))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return strings.ToLower(strings.TrimRight(strings.TrimSpace(o), "/"))
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// allowed reports whether a browser on origin may post receipts.
func (h *HTTP) allowed(r *http.Request, origin string) bool {
	o := normOrigin(origin)
	if h.origins == nil || h.origins[o] {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && strings.EqualFold(u.Host, r.Host) // same origin
}

func (h *HTTP) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	w.Header().Add("Vary", "Origin")
	if origin == "" {
		return true // not a cross-origin browser request
	}
	if !h.allowed(r, origin) {
		return false
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	return true
}

func (h *HTTP) preflight(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Origin") == "" || !h.cors(w, r) {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusForbidden)
		return
	}
	w.Header().Set("Access-Control-Allow-Methods", "POST")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
	w.Header().Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

type receiptRequest struct {
	VisitorID     string  `json:"visitor_id"`
	PolicyVersion int     `json:"policy_version"`
	Choices       Choices `json:"choices"`
	GPC           bool    `json:"gpc"`
	Lang          string  `json:"lang"`
}

type receiptCreated struct {
	ReceiptID string `json:"receipt_id"`
}

func (h *HTTP) consent(w http.ResponseWriter, r *http.Request) error {
	if !h.cors(w, r) {
		return web.Errorf(http.StatusForbidden, "origin-not-allowed", "This website may not record cookie consent here.")
	}
	if ok, wait := h.limiter.Allow(web.ClientIP(r)); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		return web.Errorf(http.StatusTooManyRequests, "rate-limited", "Too many receipts from this address; try again later.")
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxReceiptBody)
	var req receiptRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	rc, err := h.ledger.Record(r.Context(), Receipt{VisitorID: req.VisitorID, PolicyVersion: req.PolicyVersion,
		Choices: req.Choices, GPC: req.GPC, Lang: req.Lang, UserAgent: r.UserAgent()})
	var ve *ValidationError
	if errors.As(err, &ve) {
		return web.Invalid(web.FieldError{Pointer: "/" + ve.Field, Message: ve.Message})
	}
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return web.WriteJSON(w, http.StatusCreated, receiptCreated{ReceiptID: rc.ID})
}

func (h *HTTP) list(w http.ResponseWriter, r *http.Request) error {
	visitor := r.URL.Query().Get("visitor_id")
	if visitor != "" && !visitorIDPattern.MatchString(visitor) {
		return &web.Error{Status: http.StatusBadRequest, Type: "bad-parameter", Title: "Bad Request",
			Detail: "visitor_id is 16 to 64 letters, digits, - or _.", Errors: []web.FieldError{{Pointer: "?visitor_id", Message: "malformed"}}}
	}
	after, limit, err := web.PageParams(r)
	if err != nil {
		return err
	}
	rs, err := h.ledger.List(r.Context(), visitor, after, limit+1)
	if err != nil {
		return fmt.Errorf("consent: list receipts: %w", err)
	}
	return web.WriteJSON(w, http.StatusOK, web.NewPage(rs, limit, func(r Receipt) string { return r.ID }))
}
