package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"tillit/internal/security"
	"tillit/internal/store"
)

// Authenticator turns a raw bearer token into a principal.
type Authenticator func(ctx context.Context, raw string) (security.Principal, error)

// PrincipalFrom returns who is acting on this request.
func PrincipalFrom(ctx context.Context) (security.Principal, bool) {
	p, ok := ctx.Value(principalKey).(security.Principal)
	return p, ok
}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p security.Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// Bearer requires a valid "Authorization: Bearer" token on every request to next.
// Failed attempts spend the client address's tokens in failures (when not nil); once
// they run out the answer is 429 with Retry-After, so guessing is slow and cheap.
func Bearer(auth Authenticator, failures *security.RateLimiter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || raw == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tillit"`)
			WriteProblem(w, r, Errorf(http.StatusUnauthorized, "unauthorized", "Send an API token as Authorization: Bearer <token>."))
			return
		}
		p, err := auth(r.Context(), strings.TrimSpace(raw))
		if err != nil {
			if errors.Is(err, security.ErrBadToken) && failures != nil {
				if ok, wait := failures.Allow(ClientIP(r)); !ok {
					w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
					WriteProblem(w, r, Errorf(http.StatusTooManyRequests, "too-many-requests", "Too many failed attempts from this address; wait and try again."))
					return
				}
			}
			if errors.Is(err, security.ErrBadToken) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="tillit", error="invalid_token"`)
				err = Errorf(http.StatusUnauthorized, "unauthorized", "The API token is not valid (unknown, expired or revoked).")
			}
			WriteProblem(w, r, err)
			return
		}
		ctx := WithPrincipal(r.Context(), p)
		ctx = security.WithActor(ctx, security.Actor{Kind: p.Kind, ID: p.ID, IP: ClientIP(r), RequestID: RequestID(ctx)})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Require lets h run only for principals whose role grants perm.
func Require(perm security.Permission, h HandlerFunc) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, ok := PrincipalFrom(r.Context())
		if !ok {
			return Errorf(http.StatusUnauthorized, "unauthorized", "Authentication required.")
		}
		if !p.Role.Can(perm) {
			return Errorf(http.StatusForbidden, "forbidden", "Role %q may not %s.", p.Role, perm)
		}
		return h(w, r)
	}
}

// Page is one page of a listing; Next is empty on the last page.
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next_cursor,omitempty"`
}

// PageParams reads ?limit= (1 to 200, default 50) and ?cursor= (opaque).
func PageParams(r *http.Request) (after string, limit int, err error) {
	limit = 50
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200 {
			return "", 0, &Error{Status: 400, Type: "bad-parameter", Title: "Bad Request",
				Detail: "limit must be a whole number from 1 to 200.", Errors: []FieldError{{Pointer: "?limit", Message: "1 to 200"}}}
		}
		limit = n
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil {
			return "", 0, &Error{Status: 400, Type: "bad-parameter", Title: "Bad Request",
				Detail: "cursor is not one this server gave out.", Errors: []FieldError{{Pointer: "?cursor", Message: "malformed"}}}
		}
		after = string(b)
	}
	return after, limit, nil
}

// NewPage builds a page from up to limit+1 items fetched in order, using key to
// make the cursor of the last item shown.
func NewPage[T any](items []T, limit int, key func(T) string) Page[T] {
	p := Page[T]{Items: items}
	if p.Items == nil {
		p.Items = []T{}
	}
	if len(items) > limit {
		p.Items = items[:limit]
		p.Next = base64.RawURLEncoding.EncodeToString([]byte(key(items[limit-1])))
	}
	return p
}

// Idempotency makes POST requests carrying an Idempotency-Key safe to retry: the
// first answer is stored in the same transaction as the work (see Commit) and
// replayed for the same key and body; the same key with a different body is a 422.
// Keys are scoped to the principal and kept for Retention.
type Idempotency struct {
	st        *store.Store
	seal      Sealer
	now       func() time.Time
	Retention time.Duration
}

// Sealer encrypts stored answers: an answer may carry a secret shown once (a new API
// token) or other data that must not rest in plaintext.
type Sealer interface {
	Seal(plaintext, aad []byte) ([]byte, error)
	Open(ciphertext, aad []byte) ([]byte, error)
}

// NewIdempotency returns the middleware's state; stored answers are sealed with seal,
// bound to their principal and key. now may be nil.
func NewIdempotency(st *store.Store, seal Sealer, now func() time.Time) *Idempotency {
	if now == nil {
		now = time.Now
	}
	return &Idempotency{st: st, seal: seal, now: now, Retention: 24 * time.Hour}
}

type idemKey struct {
	ix    *Idempotency
	owner string
	key   string
	hash  string
}

type idemCtxKey struct{}

// Middleware must run inside Bearer (keys are per principal) and LimitBody.
func (ix *Idempotency) Middleware(next http.Handler) http.Handler {
	return HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		key := r.Header.Get("Idempotency-Key")
		if r.Method != http.MethodPost || key == "" {
			next.ServeHTTP(w, r)
			return nil
		}
		if len(key) > 255 {
			return Errorf(http.StatusBadRequest, "bad-idempotency-key", "Idempotency-Key must be at most 255 characters.")
		}
		p, _ := PrincipalFrom(r.Context())
		body, err := readBody(r)
		if err != nil {
			return err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h := sha256.New()
		h.Write([]byte(r.Method + " " + r.URL.RequestURI() + "\n"))
		h.Write(body)
		k := idemKey{ix: ix, owner: p.Kind + ":" + p.ID, key: key, hash: hex.EncodeToString(h.Sum(nil))}
		if done, err := ix.replay(w, r, k); done || err != nil {
			return err
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), idemCtxKey{}, k)))
		return nil
	})
}

// replay answers from a stored response when there is one.
func (ix *Idempotency) replay(w http.ResponseWriter, r *http.Request, k idemKey) (bool, error) {
	var hash, ct string
	var status int
	var body []byte
	err := ix.st.DB().QueryRowContext(r.Context(),
		`SELECT request_hash, status, content_type, body FROM idempotency_keys WHERE token_id = $1 AND key = $2 AND created_at > $3`,
		k.owner, k.key, store.Micros(ix.now().Add(-ix.Retention))).Scan(&hash, &status, &ct, &body)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, store.Classify(err)
	case hash != k.hash:
		return true, Errorf(http.StatusUnprocessableEntity, "idempotency-key-reused",
			"This Idempotency-Key was used with a different request; use a new key for a new request.")
	}
	plain, err := ix.seal.Open(body, k.aad())
	if err != nil {
		return true, fmt.Errorf("stored answer for an idempotency key does not open: %w", err)
	}
	w.Header().Set("Idempotent-Replayed", "true")
	writeRaw(w, status, ct, plain)
	return true, nil
}

// Commit runs fn as one durable write and answers with status and fn's value as JSON.
// When the request carries an Idempotency-Key, the answer is stored in the same
// transaction, so a retry after a crash or a lost answer sees exactly what happened.
func Commit(w http.ResponseWriter, r *http.Request, st *store.Store, status int, fn func(ctx context.Context, tx store.Tx) (any, error)) error {
	k, idem := r.Context().Value(idemCtxKey{}).(idemKey)
	var body []byte
	err := st.Write(r.Context(), func(ctx context.Context, tx store.Tx) error {
		if idem {
			// Claimed first, so a concurrent twin fails here rather than doing the work twice.
			_, err := tx.ExecContext(ctx,
				`INSERT INTO idempotency_keys (token_id, key, request_hash, status, content_type, body, created_at) VALUES ($1, $2, $3, 0, '', $4, $5)`,
				k.owner, k.key, k.hash, []byte{}, store.Micros(k.ix.now()))
			if err != nil {
				if errors.Is(store.Classify(err), store.ErrConflict) {
					return errIdemRace
				}
				return err
			}
		}
		v, err := fn(ctx, tx)
		if err != nil {
			return err
		}
		if body, err = json.Marshal(v); err != nil {
			return err
		}
		body = append(body, '\n')
		if idem {
			sealed, err := k.ix.seal.Seal(body, k.aad())
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx,
				`UPDATE idempotency_keys SET status = $1, content_type = $2, body = $3 WHERE token_id = $4 AND key = $5`,
				status, "application/json", sealed, k.owner, k.key)
			return err
		}
		return err
	})
	if errors.Is(err, errIdemRace) {
		if done, rerr := k.ix.replay(w, r, k); done || rerr != nil {
			return rerr
		}
		return Errorf(http.StatusConflict, "idempotency-in-progress", "A request with this Idempotency-Key is still being processed.")
	}
	if err != nil {
		return err
	}
	writeRaw(w, status, "application/json", body)
	return nil
}

var errIdemRace = errors.New("idempotency key taken concurrently")

// aad binds a stored answer to its principal and key.
func (k idemKey) aad() []byte { return []byte("idempotency/" + k.owner + "/" + k.key) }

// Purge deletes stored answers older than the retention; run it as a job.
func (ix *Idempotency) Purge(ctx context.Context) (int64, error) {
	var n int64
	err := ix.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at <= $1`,
			store.Micros(ix.now().Add(-ix.Retention)))
		if err == nil {
			n, _ = res.RowsAffected()
		}
		return err
	})
	return n, err
}
