// Package consent is the cookie banner a company puts on its own website and the
// ledger of what visitors chose in it (REQUIREMENTS C1, C2, C4).
//
// Public routes, outside the JSON API document (they serve the company's website,
// not API clients):
//
//	GET     /cookies/banner.js        the loader (Cache-Control: max-age=300)
//	GET     /cookies/v/banner.{hash}.js the banner, long-cached and immutable
//	GET     /cookies/v/banner.{hash}.css its style sheet, likewise
//	POST    /cookies/consent          a receipt from the banner (CORS, rate-limited)
//	OPTIONS /cookies/consent          the CORS preflight
//
// The staff route GET /api/v1/consent/receipts is described in openapi.json.
//
// Visitors are anonymous: a receipt carries a random visitor id the banner keeps in
// the visitor's localStorage, never a customer id, an IP address or a cookie that
// identifies a person (C4). Receipts are therefore not audited (there is no data
// subject to tie them to), but they are immutable: the database refuses UPDATE and
// DELETE on consent_receipts.
package consent

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"tillit/internal/store"
)

// Choices is what the visitor agreed to; necessary cookies need no consent.
type Choices struct {
	Preferences bool `json:"preferences"`
	Statistics  bool `json:"statistics"`
	Marketing   bool `json:"marketing"`
}

// Receipt is one consent or withdrawal as the banner reported it (C2).
type Receipt struct {
	ID            string    `json:"id"`
	VisitorID     string    `json:"visitor_id"`
	PolicyVersion int       `json:"policy_version"`
	Choices       Choices   `json:"choices"`
	GPC           bool      `json:"gpc"`
	Lang          string    `json:"lang"`
	CreatedAt     time.Time `json:"created_at"`
	// UserAgentHash is SHA-256 of the User-Agent header (hex); set by Record
	// from UserAgent.
	UserAgentHash string `json:"user_agent_hash"`
	UserAgent     string `json:"-"`
}

// ValidationError names the receipt field that is wrong.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string { return "consent: " + e.Field + ": " + e.Message }

var visitorIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

var langs = map[string]bool{"sv": true, "da": true, "nb": true, "en": true}

// Ledger stores receipts.
type Ledger struct {
	st  *store.Store
	now func() time.Time
}

// NewLedger returns the ledger over st; now may be nil for time.Now.
func NewLedger(st *store.Store, now func() time.Time) *Ledger {
	if now == nil {
		now = time.Now
	}
	return &Ledger{st: st, now: now}
}

// Record validates and stores a receipt, giving it an id, the time and the hash
// of its user agent. The policy version must be published. An invalid receipt is
// a *ValidationError.
func (l *Ledger) Record(ctx context.Context, r Receipt) (Receipt, error) {
	switch {
	case !visitorIDPattern.MatchString(r.VisitorID):
		return Receipt{}, &ValidationError{"visitor_id", "16 to 64 letters, digits, - or _"}
	case r.PolicyVersion < 1:
		return Receipt{}, &ValidationError{"policy_version", "a published policy version"}
	case !langs[r.Lang]:
		return Receipt{}, &ValidationError{"lang", "one of sv, da, nb, en"}
	}
	r.ID = store.NewID()
	r.CreatedAt = l.now().UTC().Truncate(time.Microsecond)
	sum := sha256.Sum256([]byte(r.UserAgent))
	r.UserAgentHash = fmt.Sprintf("%x", sum)
	choices, _ := json.Marshal(r.Choices)
	err := l.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		var n int
		err := tx.QueryRowContext(ctx, `SELECT n FROM policy_versions WHERE n = $1`, r.PolicyVersion).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			return &ValidationError{"policy_version", fmt.Sprintf("version %d is not published", r.PolicyVersion)}
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO consent_receipts
			(id, visitor_id, policy_version, choices, gpc, lang, created_at, user_agent_hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			r.ID, r.VisitorID, r.PolicyVersion, string(choices), r.GPC, r.Lang, store.Micros(r.CreatedAt), sum[:])
		return err
	})
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			return Receipt{}, ve
		}
		return Receipt{}, store.Classify(err)
	}
	return r, nil
}

// List returns up to limit receipts, newest first, after the cursor id (exclusive;
// "" for the first page), of one visitor or of all when visitorID is "".
func (l *Ledger) List(ctx context.Context, visitorID, after string, limit int) ([]Receipt, error) {
	q := `SELECT id, visitor_id, policy_version, choices, gpc, lang, created_at, user_agent_hash
		FROM consent_receipts WHERE ($1 = '' OR visitor_id = $1) AND ($2 = '' OR id < $2)
		ORDER BY id DESC LIMIT $3`
	rows, err := l.st.DB().QueryContext(ctx, q, visitorID, after, limit)
	if err != nil {
		return nil, store.Classify(err)
	}
	defer rows.Close()
	var out []Receipt
	for rows.Next() {
		var r Receipt
		var choices string
		var at int64
		var ua []byte
		if err := rows.Scan(&r.ID, &r.VisitorID, &r.PolicyVersion, &choices, &r.GPC, &r.Lang, &at, &ua); err != nil {
			return nil, store.Classify(err)
		}
		if err := json.Unmarshal([]byte(choices), &r.Choices); err != nil {
			return nil, fmt.Errorf("consent: receipt %s: %w", r.ID, err)
		}
		r.CreatedAt = store.Time(at)
		r.UserAgentHash = fmt.Sprintf("%x", ua)
		out = append(out, r)
	}
	return out, store.Classify(rows.Err())
}
