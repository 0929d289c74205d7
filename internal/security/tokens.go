package security

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"tillit/internal/store"
)

// TokenPrefix starts every API token so that secret scanners can recognise one.
const TokenPrefix = "tillit_"

// ErrBadToken covers unknown, malformed, expired and revoked tokens alike: the
// caller learns nothing about which.
var ErrBadToken = errors.New("invalid API token")

// Token is what is kept of an API token: never the token itself, only its SHA-256.
type Token struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      Role       `json:"role"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Tokens creates, lists, revokes and checks API tokens. A token is 256 random bits;
// the database holds its SHA-256, and checks go through an in-memory cache so that
// no request pays for a database round trip or a slow hash. Revoking clears the cache
// at once in this process; other processes notice within CacheTTL.
type Tokens struct {
	st       *store.Store
	now      func() time.Time
	CacheTTL time.Duration
	// Audit records every creation and revocation, in the same transaction.
	Audit *Audit

	mu    sync.RWMutex
	cache map[string]cachedToken // by hex hash
}

type cachedToken struct {
	p       Principal
	expires time.Time // of the token, zero if none
	fresh   time.Time // cache entry valid until
	ok      bool      // false: known bad (negative cache)
}

// NewTokens returns a token service; now may be nil for time.Now.
func NewTokens(st *store.Store, now func() time.Time) *Tokens {
	if now == nil {
		now = time.Now
	}
	return &Tokens{st: st, now: now, CacheTTL: 30 * time.Second, cache: map[string]cachedToken{}}
}

func hashToken(raw string) string {
	h := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(h[:])
}

// Create makes a token and returns it once, in the clear; only its hash is stored.
func (t *Tokens) Create(ctx context.Context, name string, role Role, ttl time.Duration) (raw string, tok Token, err error) {
	err = t.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		raw, tok, err = t.CreateTx(ctx, tx, name, role, ttl)
		return err
	})
	return raw, tok, err
}

// ErrTokenInput is wrapped by errors about a token's name or role.
var ErrTokenInput = errors.New("invalid token request")

// CreateTx is Create inside a caller's write, for API handlers that must commit the
// token together with their idempotency record.
func (t *Tokens) CreateTx(ctx context.Context, tx store.Tx, name string, role Role, ttl time.Duration) (string, Token, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return "", Token{}, fmt.Errorf("%w: name must be 1 to 100 characters", ErrTokenInput)
	}
	if !role.Valid() {
		return "", Token{}, fmt.Errorf("%w: unknown role %q (known: %v)", ErrTokenInput, role, Roles)
	}
	if ttl < 0 {
		return "", Token{}, fmt.Errorf("%w: lifetime must not be negative", ErrTokenInput)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", Token{}, err
	}
	raw := TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	now := t.now().UTC().Truncate(time.Microsecond)
	tok := Token{ID: store.NewID(), Name: name, Role: role, CreatedAt: now}
	var exp any
	if ttl > 0 {
		e := now.Add(ttl)
		tok.ExpiresAt = &e
		exp = store.Micros(e)
	}
	if err := t.insert(ctx, tx, tok, hashToken(raw), exp); err != nil {
		return "", Token{}, err
	}
	return raw, tok, t.Audit.Record(ctx, tx, AuditEntry{Action: "token.create", SubjectKind: "token", SubjectID: tok.ID,
		Detail: fmt.Sprintf(`{"role":%q}`, tok.Role)})
}

func (t *Tokens) insert(ctx context.Context, tx store.Tx, tok Token, hash string, exp any) error {
	_, err := tx.ExecContext(ctx,
		`INSERT INTO api_tokens (id, name, role, hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		tok.ID, tok.Name, string(tok.Role), hash, store.Micros(tok.CreatedAt), exp)
	return err
}

// List returns tokens ordered by id (creation order), after the cursor id.
func (t *Tokens) List(ctx context.Context, after string, limit int) ([]Token, error) {
	rows, err := t.st.DB().QueryContext(ctx,
		`SELECT id, name, role, created_at, expires_at, revoked_at FROM api_tokens WHERE id > $1 ORDER BY id LIMIT $2`,
		after, limit)
	if err != nil {
		return nil, store.Classify(err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var tok Token
		var created int64
		var exp, rev sql.NullInt64
		if err := rows.Scan(&tok.ID, &tok.Name, &tok.Role, &created, &exp, &rev); err != nil {
			return nil, err
		}
		tok.CreatedAt = store.Time(created)
		if exp.Valid {
			e := store.Time(exp.Int64)
			tok.ExpiresAt = &e
		}
		if rev.Valid {
			r := store.Time(rev.Int64)
			tok.RevokedAt = &r
		}
		out = append(out, tok)
	}
	return out, store.Classify(rows.Err())
}

// Revoke ends a token at once. Revoking an unknown or already revoked token is
// store.ErrNotFound.
func (t *Tokens) Revoke(ctx context.Context, id string) error {
	err := t.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`,
			store.Micros(t.now()), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return t.Audit.Record(ctx, tx, AuditEntry{Action: "token.revoke", SubjectKind: "token", SubjectID: id})
	})
	if err == nil {
		t.mu.Lock()
		clear(t.cache)
		t.mu.Unlock()
	}
	return err
}

// Authenticate returns the principal for a raw bearer token.
func (t *Tokens) Authenticate(ctx context.Context, raw string) (Principal, error) {
	if !strings.HasPrefix(raw, TokenPrefix) || len(raw) != len(TokenPrefix)+43 {
		return Principal{}, ErrBadToken
	}
	h := hashToken(raw)
	now := t.now()
	t.mu.RLock()
	c, hit := t.cache[h]
	t.mu.RUnlock()
	if !hit || now.After(c.fresh) {
		var err error
		c, err = t.load(ctx, h, now)
		if err != nil {
			return Principal{}, err
		}
		t.mu.Lock()
		if len(t.cache) > 10000 { // bound memory under a flood of random tokens
			clear(t.cache)
		}
		t.cache[h] = c
		t.mu.Unlock()
	}
	if !c.ok || (!c.expires.IsZero() && !now.Before(c.expires)) {
		return Principal{}, ErrBadToken
	}
	return c.p, nil
}

func (t *Tokens) load(ctx context.Context, hash string, now time.Time) (cachedToken, error) {
	var p Principal
	var exp, rev sql.NullInt64
	err := t.st.DB().QueryRowContext(ctx,
		`SELECT id, name, role, expires_at, revoked_at FROM api_tokens WHERE hash = $1`, hash).
		Scan(&p.ID, &p.Name, &p.Role, &exp, &rev)
	c := cachedToken{fresh: now.Add(t.CacheTTL)}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return c, nil
	case err != nil:
		return c, store.Classify(err)
	}
	p.Kind = "token"
	c.p, c.ok = p, !rev.Valid
	if exp.Valid {
		c.expires = store.Time(exp.Int64)
	}
	return c, nil
}
