package policy

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"tillit/internal/security"
	"tillit/internal/store"
)

// Version is one published, immutable policy version (P3).
type Version struct {
	N           int       `json:"n"`
	SHA256      string    `json:"sha256"`
	Filename    string    `json:"filename"`
	EffectiveAt time.Time `json:"effective_at"`
	PublishedAt time.Time `json:"published_at"`
}

// ErrInvalid wraps the diagnostics of a file that cannot be published.
var ErrInvalid = errors.New("policy has errors")

// ErrUnchanged means the file is the same as the latest published version.
var ErrUnchanged = errors.New("policy is unchanged since the latest version")

// ErrNoVersion means nothing is published (yet, or at that number).
var ErrNoVersion = errors.New("no published policy version")

// Versions stores published versions and serves their rendered pages, cached: a
// version never changes, so each page is rendered once per process.
type Versions struct {
	st    *store.Store
	audit *security.Audit
	now   func() time.Time

	mu     sync.Mutex
	pages  map[pageKey][]byte
	parsed map[int]*Policy
}

type pageKey struct {
	n    int
	doc  DocKind
	lang Lang
}

// NewVersions returns the version store; audit may be nil in tests, now nil for time.Now.
func NewVersions(st *store.Store, audit *security.Audit, now func() time.Time) *Versions {
	if now == nil {
		now = time.Now
	}
	return &Versions{st: st, audit: audit, now: now, pages: map[pageKey][]byte{}, parsed: map[int]*Policy{}}
}

// Publish checks the file and, when it has no errors and differs from the latest
// version, stores it as the next version, effective at effective (now when zero).
// A file with errors is never published: the error wraps ErrInvalid and the
// diagnostics are returned.
func (v *Versions) Publish(ctx context.Context, filename string, data []byte, effective time.Time) (Version, Diagnostics, error) {
	_, ds := Parse(filename, data)
	if ds.HasErrors() {
		return Version{}, ds, fmt.Errorf("%w: %d errors", ErrInvalid, ds.Count(SeverityError))
	}
	now := v.now().UTC().Truncate(time.Microsecond)
	if effective.IsZero() {
		effective = now
	}
	sum := sha256.Sum256(data)
	ver := Version{SHA256: hex.EncodeToString(sum[:]), Filename: filename, EffectiveAt: effective.UTC().Truncate(time.Microsecond), PublishedAt: now}
	err := v.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		var last sql.NullInt64
		var lastSum sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT n, sha256 FROM policy_versions ORDER BY n DESC LIMIT 1`).Scan(&last, &lastSum)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if lastSum.String == ver.SHA256 {
			return ErrUnchanged
		}
		ver.N = int(last.Int64) + 1
		if _, err := tx.ExecContext(ctx, `INSERT INTO policy_versions (n, sha256, source, filename, effective_at, published_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, ver.N, ver.SHA256, data, filename, store.Micros(ver.EffectiveAt), store.Micros(now)); err != nil {
			return err
		}
		return v.audit.Record(ctx, tx, security.AuditEntry{Action: "policy.publish", SubjectKind: "policy_version",
			SubjectID: fmt.Sprint(ver.N), Detail: fmt.Sprintf(`{"sha256":%q,"effective_at":%q}`, ver.SHA256, ver.EffectiveAt.Format(time.RFC3339))})
	})
	return ver, ds, err
}

// List returns every version, newest first.
func (v *Versions) List(ctx context.Context) ([]Version, error) {
	rows, err := v.st.DB().QueryContext(ctx, `SELECT n, sha256, filename, effective_at, published_at FROM policy_versions ORDER BY n DESC`)
	if err != nil {
		return nil, store.Classify(err)
	}
	defer rows.Close()
	var out []Version
	for rows.Next() {
		var ver Version
		var eff, pub int64
		if err := rows.Scan(&ver.N, &ver.SHA256, &ver.Filename, &eff, &pub); err != nil {
			return nil, err
		}
		ver.EffectiveAt, ver.PublishedAt = store.Time(eff), store.Time(pub)
		out = append(out, ver)
	}
	return out, rows.Err()
}

// Current is the number of the version in effect at t.
func (v *Versions) Current(ctx context.Context, t time.Time) (int, error) {
	var n int
	err := v.st.DB().QueryRowContext(ctx, `SELECT n FROM policy_versions WHERE effective_at <= $1 ORDER BY n DESC LIMIT 1`,
		store.Micros(t)).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNoVersion
	}
	return n, store.Classify(err)
}

// Page is the rendered HTML of document doc of version n in lang.
func (v *Versions) Page(ctx context.Context, n int, doc DocKind, lang Lang) ([]byte, error) {
	key := pageKey{n, doc, lang}
	v.mu.Lock()
	page, ok := v.pages[key]
	p := v.parsed[n]
	v.mu.Unlock()
	if ok {
		return page, nil
	}
	if p == nil {
		var src []byte
		var filename string
		err := v.st.DB().QueryRowContext(ctx, `SELECT source, filename FROM policy_versions WHERE n = $1`, n).Scan(&src, &filename)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNoVersion
		}
		if err != nil {
			return nil, store.Classify(err)
		}
		var ds Diagnostics
		if p, ds = Parse(filename, src); ds.HasErrors() {
			return nil, fmt.Errorf("published version %d no longer parses: %s", n, ds.String())
		}
	}
	page, err := Render(p, doc, lang, HTML)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	v.pages[key], v.parsed[n] = page, p
	v.mu.Unlock()
	return page, nil
}
