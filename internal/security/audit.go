package security

// The tamper-evident audit log (REQUIREMENTS S4).
//
// Every read and change of personal data appends an AuditEntry in the transaction of
// the work (Append), so the row commits with the work or not at all. Rows are appended
// unchained: writers never wait for the previous row's hash. A single sequencer
// (Chain, run every Interval by Run) takes the committed unchained rows in id order,
// numbers them seq = head+1, head+2, … and sets
//
//	hash = SHA-256(previous hash || canonical encoding of the row, seq included)
//
// with 32 zero bytes before seq 1. On PostgreSQL several tillit processes may run the
// sequencer: it takes a transaction-scoped advisory lock, so one chains at a time and
// the others find nothing left; a unique index on seq makes a fork impossible anyway.
// On SQLite the store's single writer serialises it.
//
// Signed checkpoints (Ed25519, key derived from the master key) cover the chained
// prefix; exported, they let another party hold Tillit to its history. Verify streams
// the chain, recomputes it, checks every checkpoint, and names the first bad entry.
//
// Triggers (migration 00002_audit) refuse every UPDATE except the sequencer's, every
// DELETE and TRUNCATE, so ordinary statements cannot rewrite history; someone who can
// drop the triggers can, and that is what the chain and the checkpoints reveal.
//
// Retention: old audit data will leave only as whole segments (a table or partition
// per period), through a path that first checks that a signed checkpoint covers the
// segment and then records the segment's first seq and hash so that Verify can start
// there. Not built yet; see the comment above Verify's kinds for where it goes.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"tillit/internal/store"
)

// Actor kinds of an AuditEntry.
const (
	ActorStaff    = "staff"
	ActorCustomer = "customer"
	ActorToken    = "token"
	ActorSystem   = "system"
)

// AuditEntry is one audited event. It holds ids, never personal data: SubjectID is a
// customer's id, not their name, and Detail is small JSON of ids and codes.
type AuditEntry struct {
	Time        time.Time // zero: now
	ActorKind   string    // ActorStaff, ActorCustomer, ActorToken or ActorSystem
	ActorID     string
	Action      string // e.g. "customer.read", "staff.login.failed", "token.create"
	SubjectKind string // e.g. "customer"
	SubjectID   string
	Reason      string // why the actor needed the data, as they gave it
	IP          string
	RequestID   string
	Detail      string // JSON object, or empty
}

// By fills the actor fields from a principal.
func (e AuditEntry) By(p Principal) AuditEntry {
	e.ActorKind, e.ActorID = p.Kind, p.ID
	return e
}

// ErrAuditInput means an entry was refused before it was written.
var ErrAuditInput = errors.New("invalid audit entry")

const (
	auditMaxField  = 200  // characters of any field but Detail
	auditMaxDetail = 2048 // bytes of Detail
	// auditLockKey is the PostgreSQL advisory lock that makes the sequencer single.
	auditLockKey = 7431004
	// auditChainBatch caps the rows one Write chains, keeping the shared transaction short.
	auditChainBatch = 2000
	auditPage       = 5000 // rows per page when verifying
	auditLookahead  = 5000 // rows searched after a bad entry to tell its kind
)

// AuditOptions tune an Audit. The zero value is sensible.
type AuditOptions struct {
	Interval          time.Duration // between chaining rounds of Run; default 200ms
	CheckpointEvery   time.Duration // Run writes a checkpoint this often; default 1h
	CheckpointEntries int           // …or after this many new chained entries; default 100000
	Now               func() time.Time
	Logger            *slog.Logger
}

// Audit appends, chains, checkpoints and verifies the audit log.
type Audit struct {
	st  *store.Store
	key ed25519.PrivateKey // nil: no checkpoints can be signed
	pub ed25519.PublicKey
	opt AuditOptions
}

// NewAudit returns the audit log of st. signer signs checkpoints and is the key Verify
// expects them to be signed with (Keystore.SigningKey, which survives master key
// rotations); it may be nil for appending only.
func NewAudit(st *store.Store, signer ed25519.PrivateKey, opt AuditOptions) *Audit {
	if opt.Interval <= 0 {
		opt.Interval = 200 * time.Millisecond
	}
	if opt.CheckpointEvery <= 0 {
		opt.CheckpointEvery = time.Hour
	}
	if opt.CheckpointEntries <= 0 {
		opt.CheckpointEntries = 100000
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	a := &Audit{st: st, opt: opt}
	if signer != nil {
		a.key = signer
		a.pub = signer.Public().(ed25519.PublicKey)
	}
	return a
}

// PublicKey is the key checkpoints are signed with, nil without a master key.
func (a *Audit) PublicKey() ed25519.PublicKey { return a.pub }

func (e AuditEntry) validate() error {
	switch e.ActorKind {
	case ActorStaff, ActorCustomer, ActorToken, ActorSystem:
	default:
		return fmt.Errorf("%w: actor kind %q", ErrAuditInput, e.ActorKind)
	}
	if e.Action == "" {
		return fmt.Errorf("%w: no action", ErrAuditInput)
	}
	for _, f := range []string{e.ActorID, e.Action, e.SubjectKind, e.SubjectID, e.Reason, e.IP, e.RequestID} {
		if !utf8.ValidString(f) || utf8.RuneCountInString(f) > auditMaxField {
			return fmt.Errorf("%w: a field is not UTF-8 or longer than %d characters", ErrAuditInput, auditMaxField)
		}
	}
	if e.Detail != "" {
		if len(e.Detail) > auditMaxDetail || !json.Valid([]byte(e.Detail)) || !strings.HasPrefix(strings.TrimSpace(e.Detail), "{") {
			return fmt.Errorf("%w: detail must be a JSON object of at most %d bytes", ErrAuditInput, auditMaxDetail)
		}
	}
	return nil
}

// AuditDetail encodes d as the Detail of an entry, leaving out empty values; no
// values at all give "".
func AuditDetail(d map[string]any) (string, error) {
	for k, v := range d {
		if v == "" || v == nil {
			delete(d, k)
		}
	}
	if len(d) == 0 {
		return "", nil
	}
	b, err := json.Marshal(d)
	return string(b), err
}

// Record appends e with its actor, IP and request ID taken from ctx (see WithActor),
// for the fields e leaves empty. A nil *Audit records nothing, so services can be
// used without an audit log in their own unit tests.
func (a *Audit) Record(ctx context.Context, tx store.Tx, e AuditEntry) error {
	if a == nil {
		return nil
	}
	act := ActorFrom(ctx)
	if e.ActorKind == "" {
		e.ActorKind, e.ActorID = act.Kind, act.ID
	}
	if e.IP == "" {
		e.IP = act.IP
	}
	if e.RequestID == "" {
		e.RequestID = act.RequestID
	}
	return a.Append(ctx, tx, e)
}

// Append records e in tx, the caller's transaction, so that the entry commits with the
// work it describes or not at all. The row is unchained until the sequencer runs.
func (a *Audit) Append(ctx context.Context, tx store.Tx, e AuditEntry) error {
	if err := e.validate(); err != nil {
		return err
	}
	if e.Time.IsZero() {
		e.Time = a.opt.Now()
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_log
		(id, at, actor_kind, actor_id, action, subject_kind, subject_id, reason, ip, request_id, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		store.NewID(), store.Micros(e.Time), e.ActorKind, e.ActorID, e.Action, e.SubjectKind,
		e.SubjectID, e.Reason, e.IP, e.RequestID, e.Detail)
	if err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	return nil
}

// auditRow is a stored row as the chain sees it.
type auditRow struct {
	id   string
	seq  int64 // 0 when unchained
	hash []byte
	at   int64
	f    [9]string // actor_kind, actor_id, action, subject_kind, subject_id, reason, ip, request_id, detail
}

const auditCols = `id, seq, hash, at, actor_kind, actor_id, action, subject_kind, subject_id, reason, ip, request_id, detail`

func scanAuditRow(rows *sql.Rows) (auditRow, error) {
	var r auditRow
	var seq sql.NullInt64
	err := rows.Scan(&r.id, &seq, &r.hash, &r.at, &r.f[0], &r.f[1], &r.f[2], &r.f[3], &r.f[4],
		&r.f[5], &r.f[6], &r.f[7], &r.f[8])
	r.seq = seq.Int64
	return r, err
}

// auditHash is the chain link of row r placed at seq after prev. The canonical
// encoding is unambiguous: a version tag, then seq and the time as 8-byte big-endian
// integers, then id and the nine text fields in the column order of auditCols, each
// as a 4-byte big-endian length followed by its UTF-8 bytes:
//
//	SHA-256(prev[32] || "tillit-audit v1" || seq || at || len(id) id || len(actor_kind) actor_kind || … || len(detail) detail)
func auditHash(buf []byte, prev []byte, seq int64, r *auditRow) ([32]byte, []byte) {
	buf = append(buf[:0], prev...)
	buf = append(buf, "tillit-audit v1"...)
	buf = binary.BigEndian.AppendUint64(buf, uint64(seq))
	buf = binary.BigEndian.AppendUint64(buf, uint64(r.at))
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(r.id)))
	buf = append(buf, r.id...)
	for _, f := range r.f {
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(f)))
		buf = append(buf, f...)
	}
	return sha256.Sum256(buf), buf
}

var auditGenesis = make([]byte, sha256.Size)

// errAuditBusy: another process holds the sequencer lock.
var errAuditBusy = errors.New("audit sequencer busy")

// Chain chains every row committed before the call, returning how many this call
// chained (rows another process chained meanwhile are not counted).
func (a *Audit) Chain(ctx context.Context) (int, error) {
	total := 0
	for {
		var n int
		err := a.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
			var err error
			n, err = a.chainTx(ctx, tx)
			return err
		})
		switch {
		case errors.Is(err, errAuditBusy):
			// Another sequencer is in its transaction. Wait for it rather than queue on
			// the lock inside a shared group-commit transaction.
			select {
			case <-ctx.Done():
				return total, ctx.Err()
			case <-time.After(time.Duration(5+rand.IntN(20)) * time.Millisecond):
			}
			continue
		case err != nil:
			return total, fmt.Errorf("chain audit log: %w", err)
		}
		total += n
		if n < auditChainBatch {
			return total, nil
		}
	}
}

// lockSequencer makes this transaction the only sequencer (PostgreSQL), or reports
// errAuditBusy. SQLite has one writer, so nothing to do.
func (a *Audit) lockSequencer(ctx context.Context, tx store.Tx) error {
	if a.st.Dialect() != store.Postgres {
		return nil
	}
	var ok bool
	if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock($1)`, auditLockKey).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return errAuditBusy
	}
	return nil
}

func auditHead(ctx context.Context, q store.Querier) (seq int64, hash []byte, err error) {
	err = q.QueryRowContext(ctx, `SELECT seq, hash FROM audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, auditGenesis, nil
	}
	return seq, hash, err
}

func (a *Audit) chainTx(ctx context.Context, tx store.Tx) (int, error) {
	if err := a.lockSequencer(ctx, tx); err != nil {
		return 0, err
	}
	seq, prev, err := auditHead(ctx, tx)
	if err != nil {
		return 0, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+auditCols+` FROM audit_log WHERE seq IS NULL ORDER BY id LIMIT $1`, auditChainBatch)
	if err != nil {
		return 0, err
	}
	var pending []auditRow
	for rows.Next() {
		r, err := scanAuditRow(rows)
		if err != nil {
			rows.Close()
			return 0, err
		}
		pending = append(pending, r)
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	ids := make([]string, len(pending))
	seqs := make([]int64, len(pending))
	hashes := make([][]byte, len(pending))
	var buf []byte
	for i := range pending {
		seq++
		var h [32]byte
		h, buf = auditHash(buf, prev, seq, &pending[i])
		ids[i], seqs[i], hashes[i] = pending[i].id, seq, h[:]
		prev = hashes[i]
	}
	if err := a.setLinks(ctx, tx, ids, seqs, hashes); err != nil {
		return 0, err
	}
	return len(pending), nil
}

// setLinks writes the seq and hash of many rows in a few statements: one round trip
// per row made the sequencer slower than PostgreSQL's group commit (130µs a row).
// The SQL differs by dialect because only PostgreSQL has arrays.
func (a *Audit) setLinks(ctx context.Context, tx store.Tx, ids []string, seqs []int64, hashes [][]byte) error {
	check := func(res sql.Result, want int) error {
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n != int64(want) {
			return fmt.Errorf("audit rows changed under the sequencer: updated %d of %d", n, want)
		}
		return nil
	}
	if a.st.Dialect() == store.Postgres {
		res, err := tx.ExecContext(ctx, `UPDATE audit_log AS a SET seq = v.seq, hash = v.hash
			FROM unnest($1::text[], $2::bigint[], $3::bytea[]) AS v(id, seq, hash)
			WHERE a.id = v.id AND a.seq IS NULL`, ids, seqs, hashes)
		if err != nil {
			return err
		}
		return check(res, len(ids))
	}
	const chunk = 300 // 900 parameters, well under SQLite's limit
	for lo := 0; lo < len(ids); lo += chunk {
		hi := min(lo+chunk, len(ids))
		var q strings.Builder
		q.WriteString(`UPDATE audit_log SET seq = v.column2, hash = v.column3 FROM (VALUES `)
		args := make([]any, 0, 3*(hi-lo))
		for i := lo; i < hi; i++ {
			if i > lo {
				q.WriteString(", ")
			}
			n := len(args)
			fmt.Fprintf(&q, "($%d, $%d, $%d)", n+1, n+2, n+3)
			args = append(args, ids[i], seqs[i], hashes[i])
		}
		// The unary + keeps SQLite from driving the join by the seq index (all the
		// unchained rows) instead of looking each id up by primary key.
		q.WriteString(`) AS v WHERE audit_log.id = v.column1 AND +audit_log.seq IS NULL`)
		res, err := tx.ExecContext(ctx, q.String(), args...)
		if err != nil {
			return err
		}
		if err := check(res, hi-lo); err != nil {
			return err
		}
	}
	return nil
}

// AuditCheckpoint is a signed statement that the chain's first Seq entries end in Hash.
type AuditCheckpoint struct {
	Seq       int64
	Hash      []byte
	Count     int64
	CreatedAt time.Time
	Signature []byte
	PublicKey ed25519.PublicKey
}

const auditCheckpointTag = "tillit-audit-checkpoint v1"

// signedText is exactly what the signature covers.
func (c AuditCheckpoint) signedText() []byte {
	return fmt.Appendf(nil, "%s\nseq=%d\nhash=%s\n", auditCheckpointTag, c.Seq, hex.EncodeToString(c.Hash))
}

// Export is the checkpoint as text another party can keep: the signed text followed
// by the public key and the signature (base64). VerifyCheckpoint checks it.
func (c AuditCheckpoint) Export() []byte {
	b := c.signedText()
	b = fmt.Appendf(b, "public_key=%s\nsignature=%s\n",
		base64.StdEncoding.EncodeToString(c.PublicKey), base64.StdEncoding.EncodeToString(c.Signature))
	return b
}

// ErrBadCheckpoint means an exported checkpoint is malformed, altered, or signed by
// another key.
var ErrBadCheckpoint = errors.New("audit checkpoint does not verify")

// VerifyCheckpoint checks an exported checkpoint against pub, the key the holder
// trusts (Audit.PublicKey at the time of export). The text must be exactly what Export
// wrote: any altered byte fails.
func VerifyCheckpoint(pub ed25519.PublicKey, exported []byte) (AuditCheckpoint, error) {
	var c AuditCheckpoint
	lines := strings.Split(string(exported), "\n")
	if len(lines) != 6 || lines[5] != "" || lines[0] != auditCheckpointTag {
		return c, fmt.Errorf("%w: not a %s text", ErrBadCheckpoint, auditCheckpointTag)
	}
	field := func(line, name string) (string, error) {
		v, ok := strings.CutPrefix(line, name+"=")
		if !ok {
			return "", fmt.Errorf("%w: want %s= on line %q", ErrBadCheckpoint, name, line)
		}
		return v, nil
	}
	var err error
	var s string
	if s, err = field(lines[1], "seq"); err != nil {
		return c, err
	}
	if c.Seq, err = strconv.ParseInt(s, 10, 64); err != nil || c.Seq < 0 {
		return c, fmt.Errorf("%w: seq %q", ErrBadCheckpoint, s)
	}
	if s, err = field(lines[2], "hash"); err != nil {
		return c, err
	}
	if c.Hash, err = hex.DecodeString(s); err != nil || len(c.Hash) != sha256.Size {
		return c, fmt.Errorf("%w: hash %q", ErrBadCheckpoint, s)
	}
	if s, err = field(lines[3], "public_key"); err != nil {
		return c, err
	}
	k, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(k) != ed25519.PublicKeySize {
		return c, fmt.Errorf("%w: public key", ErrBadCheckpoint)
	}
	c.PublicKey = k
	if s, err = field(lines[4], "signature"); err != nil {
		return c, err
	}
	if c.Signature, err = base64.StdEncoding.DecodeString(s); err != nil {
		return c, fmt.Errorf("%w: signature", ErrBadCheckpoint)
	}
	c.Count = c.Seq
	// Re-rendering must give back the very bytes: no second spelling of a number,
	// hash or key passes.
	if !bytes.Equal(c.Export(), exported) {
		return c, fmt.Errorf("%w: not in canonical form", ErrBadCheckpoint)
	}
	if !bytes.Equal(c.PublicKey, pub) {
		return c, fmt.Errorf("%w: signed by another key", ErrBadCheckpoint)
	}
	if !ed25519.Verify(pub, c.signedText(), c.Signature) {
		return c, fmt.Errorf("%w: bad signature", ErrBadCheckpoint)
	}
	return c, nil
}

// Checkpoint chains what is committed and signs a checkpoint of the head, in one
// transaction, and returns it. If a checkpoint at the head exists it is returned.
func (a *Audit) Checkpoint(ctx context.Context) (AuditCheckpoint, error) {
	if a.key == nil {
		return AuditCheckpoint{}, errors.New("audit checkpoint: no master key to sign with")
	}
	for {
		var c AuditCheckpoint
		var more bool
		err := a.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
			n, err := a.chainTx(ctx, tx)
			if err != nil {
				return err
			}
			if more = n == auditChainBatch; more {
				return nil
			}
			c, err = a.checkpointTx(ctx, tx)
			return err
		})
		switch {
		case errors.Is(err, errAuditBusy):
			select {
			case <-ctx.Done():
				return c, ctx.Err()
			case <-time.After(time.Duration(5+rand.IntN(20)) * time.Millisecond):
			}
		case err != nil:
			return c, fmt.Errorf("audit checkpoint: %w", err)
		case !more:
			return c, nil
		}
	}
}

// checkpointTx signs the head; the caller holds the sequencer lock.
func (a *Audit) checkpointTx(ctx context.Context, tx store.Tx) (AuditCheckpoint, error) {
	seq, hash, err := auditHead(ctx, tx)
	if err != nil {
		return AuditCheckpoint{}, err
	}
	var c AuditCheckpoint
	var at int64
	err = tx.QueryRowContext(ctx, `SELECT seq, head_hash, count, created_at, signature, public_key
		FROM audit_checkpoints WHERE seq = $1`, seq).Scan(&c.Seq, &c.Hash, &c.Count, &at, &c.Signature, &c.PublicKey)
	if err == nil {
		c.CreatedAt = store.Time(at)
		return c, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return c, err
	}
	c = AuditCheckpoint{Seq: seq, Hash: hash, Count: seq, CreatedAt: store.Time(store.Micros(a.opt.Now())), PublicKey: a.pub}
	c.Signature = ed25519.Sign(a.key, c.signedText())
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_checkpoints (seq, head_hash, count, created_at, signature, public_key)
		VALUES ($1, $2, $3, $4, $5, $6)`, c.Seq, c.Hash, c.Count, store.Micros(c.CreatedAt), c.Signature, []byte(c.PublicKey))
	return c, err
}

// checkpointDue reports whether Run should sign a checkpoint now: the head is past the
// last checkpoint, and that one is older than CheckpointEvery or CheckpointEntries
// behind. It reads the database, so several processes agree.
func (a *Audit) checkpointDue(ctx context.Context, tx store.Tx) (bool, error) {
	head, _, err := auditHead(ctx, tx)
	if err != nil || head == 0 {
		return false, err
	}
	var last, at int64
	err = tx.QueryRowContext(ctx, `SELECT seq, created_at FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`).Scan(&last, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return head > last && (head-last >= int64(a.opt.CheckpointEntries) ||
		a.opt.Now().Sub(store.Time(at)) >= a.opt.CheckpointEvery), nil
}

// Run chains new rows every Interval and signs a checkpoint when one is due, until
// ctx ends. Errors are logged and retried at the next tick. Several processes may run
// it against one PostgreSQL database.
func (a *Audit) Run(ctx context.Context) error {
	t := time.NewTicker(a.opt.Interval)
	defer t.Stop()
	for {
		if err := a.tick(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, errAuditBusy) {
			a.opt.Logger.Error("audit sequencer", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (a *Audit) tick(ctx context.Context) error {
	for {
		var n int
		err := a.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
			var err error
			if n, err = a.chainTx(ctx, tx); err != nil || n == auditChainBatch || a.key == nil {
				return err
			}
			due, err := a.checkpointDue(ctx, tx)
			if err != nil || !due {
				return err
			}
			_, err = a.checkpointTx(ctx, tx)
			return err
		})
		if err != nil || n < auditChainBatch {
			return err
		}
	}
}

// Retention goes here (not built): a PruneSegments(ctx, before) that drops a whole
// period's segment only after checking that a signed checkpoint covers its last seq,
// and records that checkpoint as the verified start, so that Verify begins at the
// first kept seq with the checkpoint's hash as prev instead of at seq 1 with zeros.
// Until then the audit log is kept whole.

// Kinds of tampering Verify reports.
const (
	TamperChanged       = "changed"
	TamperDeleted       = "deleted"
	TamperInserted      = "inserted"
	TamperReordered     = "reordered"
	TamperCheckpoint    = "checkpoint mismatch"
	TamperTruncated     = "truncated after checkpoint"
	auditProgressStride = 10000
)

// AuditProblem is the first bad entry Verify found.
type AuditProblem struct {
	Kind   string // one of the Tamper… constants
	Seq    int64  // the entry's seq, or for "deleted"/"truncated" the first missing seq
	ID     string // the entry's id, empty when the entry is missing
	Detail string
}

// AuditReport is what Verify found.
type AuditReport struct {
	OK          bool
	Count       int64         // chained entries verified (before Problem, if any)
	Head        []byte        // the hash at seq Count
	Checkpoints int           // signed checkpoints that matched the chain
	Unchained   int64         // rows committed but not yet chained: reported, not an error
	Problem     *AuditProblem // the first problem, nil when OK
}

func (r AuditReport) String() string {
	var b strings.Builder
	if r.OK {
		fmt.Fprintf(&b, "audit log OK: %d entries chained and verified", r.Count)
		if r.Count > 0 {
			fmt.Fprintf(&b, " (seq 1..%d, head %x)", r.Count, r.Head)
		}
		fmt.Fprintf(&b, ", %d signed checkpoints match", r.Checkpoints)
	} else if p := r.Problem; p != nil {
		fmt.Fprintf(&b, "audit log TAMPERED: %s at seq %d", p.Kind, p.Seq)
		if p.ID != "" {
			fmt.Fprintf(&b, " (id %s)", p.ID)
		}
		if p.Detail != "" {
			b.WriteString(": " + p.Detail)
		}
		fmt.Fprintf(&b, "; %d entries before it verified, %d checkpoints matched", r.Count, r.Checkpoints)
	}
	fmt.Fprintf(&b, "; %d entries not yet chained", r.Unchained)
	return b.String()
}

// Verify reads the chain in seq order through the read pool, a page at a time,
// recomputes every hash, checks seq continuity and every stored checkpoint (hash at
// its seq, signature, and that it is signed by this Audit's key when it has one), and
// reports the first problem. An error means the check could not run, not that the
// log is bad. progress, if not nil, is called every 10,000 entries and at the end.
func (a *Audit) Verify(ctx context.Context, progress func(done int)) (AuditReport, error) {
	var rep AuditReport
	db := a.st.DB()
	cps, err := a.loadCheckpoints(ctx)
	if err != nil {
		return rep, err
	}
	v := auditVerifier{a: a, prev: auditGenesis, expect: 1, cps: cps}
	// A checkpoint of the empty chain.
	if p := v.checkpointsAt(0, auditGenesis, ""); p != nil {
		return v.finish(ctx, p)
	}
	lastSeq, lastID := int64(0), ""
	for {
		page, err := a.page(ctx, db, lastSeq, lastID, auditPage)
		if err != nil {
			return rep, err
		}
		for i := range page {
			if p := v.step(ctx, &page[i]); p != nil {
				return v.finish(ctx, p)
			}
			if progress != nil && v.count%auditProgressStride == 0 {
				progress(int(v.count))
			}
		}
		if len(page) < auditPage {
			break
		}
		lastSeq, lastID = page[len(page)-1].seq, page[len(page)-1].id
	}
	if progress != nil {
		progress(int(v.count))
	}
	if v.cpi < len(v.cps) {
		c := v.cps[len(v.cps)-1]
		return v.finish(ctx, &AuditProblem{Kind: TamperTruncated, Seq: v.expect,
			Detail: fmt.Sprintf("the chain ends at seq %d but a signed checkpoint covers seq %d: entries %d..%d are missing", v.expect-1, c.Seq, v.expect, c.Seq)})
	}
	return v.finish(ctx, nil)
}

// page reads chained rows after (seq, id) in (seq, id) order. It asks for seq >= so
// that the seq index serves the query, and drops what it has already seen; rows
// sharing a seq (an insertion) stop Verify at the second one, so a page never needs
// to skip more than one.
func (a *Audit) page(ctx context.Context, q store.Querier, afterSeq int64, afterID string, limit int) ([]auditRow, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+auditCols+` FROM audit_log WHERE seq >= $1 ORDER BY seq, id LIMIT $2`, afterSeq, limit+1)
	if err != nil {
		return nil, store.Classify(err)
	}
	defer rows.Close()
	out := make([]auditRow, 0, limit)
	for rows.Next() {
		r, err := scanAuditRow(rows)
		if err != nil {
			return nil, err
		}
		if r.seq < afterSeq || (r.seq == afterSeq && r.id <= afterID) {
			continue
		}
		if len(out) < limit {
			out = append(out, r)
		}
	}
	return out, rows.Err()
}

func (a *Audit) loadCheckpoints(ctx context.Context) ([]AuditCheckpoint, error) {
	rows, err := a.st.DB().QueryContext(ctx, `SELECT seq, head_hash, count, created_at, signature, public_key
		FROM audit_checkpoints ORDER BY seq`)
	if err != nil {
		return nil, store.Classify(err)
	}
	defer rows.Close()
	var cps []AuditCheckpoint
	for rows.Next() {
		var c AuditCheckpoint
		var at int64
		var pub []byte
		if err := rows.Scan(&c.Seq, &c.Hash, &c.Count, &at, &c.Signature, &pub); err != nil {
			return nil, err
		}
		c.CreatedAt, c.PublicKey = store.Time(at), pub
		cps = append(cps, c)
	}
	return cps, rows.Err()
}

type auditVerifier struct {
	a      *Audit
	prev   []byte // the hash at expect-1
	head   [32]byte
	expect int64 // the next seq
	count  int64
	cps    []AuditCheckpoint
	cpi    int // next checkpoint to check
	cpOK   int
	buf    []byte
}

func (v *auditVerifier) finish(ctx context.Context, p *AuditProblem) (AuditReport, error) {
	rep := AuditReport{OK: p == nil, Count: v.count, Head: v.prev, Checkpoints: v.cpOK, Problem: p}
	if v.count == 0 {
		rep.Head = nil
	}
	err := v.a.st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE seq IS NULL`).Scan(&rep.Unchained)
	return rep, store.Classify(err)
}

// step checks one row, in (seq, id) order, against the chain so far.
func (v *auditVerifier) step(ctx context.Context, r *auditRow) *AuditProblem {
	switch {
	case r.seq < v.expect:
		return &AuditProblem{Kind: TamperInserted, Seq: r.seq, ID: r.id,
			Detail: fmt.Sprintf("a second entry with seq %d", r.seq)}
	case r.seq > v.expect:
		return &AuditProblem{Kind: TamperDeleted, Seq: v.expect,
			Detail: fmt.Sprintf("entries %d..%d are missing; the chain resumes at seq %d (id %s)", v.expect, r.seq-1, r.seq, r.id)}
	case len(r.hash) != sha256.Size:
		return &AuditProblem{Kind: TamperInserted, Seq: r.seq, ID: r.id,
			Detail: "the entry has a seq but no hash: the sequencer did not write it"}
	}
	var h [32]byte
	h, v.buf = auditHash(v.buf, v.prev, r.seq, r)
	if !bytes.Equal(h[:], r.hash) {
		return v.classify(ctx, r)
	}
	if p := v.checkpointsAt(r.seq, h[:], r.id); p != nil {
		return p
	}
	v.head = h
	v.prev = v.head[:]
	v.expect++
	v.count++
	return nil
}

// checkpointsAt checks the checkpoints at seq against the chain's hash there.
func (v *auditVerifier) checkpointsAt(seq int64, hash []byte, id string) *AuditProblem {
	for ; v.cpi < len(v.cps) && v.cps[v.cpi].Seq <= seq; v.cpi++ {
		c := v.cps[v.cpi]
		bad := ""
		switch {
		case c.Seq != seq: // only a checkpoint with a negative seq can get here
			bad = "the checkpoint's seq is not in the chain"
		case !bytes.Equal(c.Hash, hash):
			bad = fmt.Sprintf("the chain's hash at seq %d is %x, the signed checkpoint says %x: entries up to it were rewritten", seq, hash, c.Hash)
		case len(c.PublicKey) != ed25519.PublicKeySize || !ed25519.Verify(c.PublicKey, c.signedText(), c.Signature):
			bad = "the checkpoint's signature does not verify"
		case v.a.pub != nil && !bytes.Equal(c.PublicKey, v.a.pub):
			bad = "the checkpoint is signed by a key other than this installation's"
		}
		if bad != "" {
			return &AuditProblem{Kind: TamperCheckpoint, Seq: c.Seq, ID: id, Detail: bad}
		}
		v.cpOK++
	}
	return nil
}

// classify tells what kind of tampering makes r's hash wrong, by looking at the rows
// after it: a twin with the same seq that verifies (r was inserted); a later row that
// belongs at r's place (reordered, or inserted with the rest renumbered); or a
// successor that still chains from r's stored hash (r was changed in place).
func (v *auditVerifier) classify(ctx context.Context, r *auditRow) *AuditProblem {
	changed := &AuditProblem{Kind: TamperChanged, Seq: r.seq, ID: r.id,
		Detail: "the stored hash does not follow from the previous entry and this entry's content: this entry (or the one before it, with its hash recomputed) was changed"}
	ahead, err := v.a.page(ctx, v.a.st.DB(), r.seq, r.id, auditLookahead)
	if err != nil || len(ahead) == 0 {
		return changed
	}
	var buf []byte
	linkAt := func(prev []byte, seq int64, x *auditRow) []byte {
		var h [32]byte
		h, buf = auditHash(buf, prev, seq, x)
		return h[:]
	}
	if n := &ahead[0]; n.seq == r.seq && bytes.Equal(linkAt(v.prev, n.seq, n), n.hash) {
		return &AuditProblem{Kind: TamperInserted, Seq: r.seq, ID: r.id,
			Detail: fmt.Sprintf("a second entry with seq %d; the genuine one is id %s", r.seq, n.id)}
	}
	for j := range ahead {
		c := &ahead[j]
		if c.seq <= r.seq {
			continue
		}
		want := linkAt(v.prev, r.seq, c)
		if !bytes.Equal(want, r.hash) && !bytes.Equal(want, c.hash) {
			continue
		}
		// c belongs where r is. Does r belong where c is? Then they were swapped.
		prevs := [][]byte{r.hash, c.hash, want}
		if j > 0 {
			prevs = append(prevs, ahead[j-1].hash)
		}
		for _, p := range prevs {
			if h := linkAt(p, c.seq, r); bytes.Equal(h, r.hash) || bytes.Equal(h, c.hash) {
				return &AuditProblem{Kind: TamperReordered, Seq: r.seq, ID: r.id,
					Detail: fmt.Sprintf("this entry belongs at seq %d and the entry at seq %d (id %s) belongs here", c.seq, c.seq, c.id)}
			}
		}
		return &AuditProblem{Kind: TamperInserted, Seq: r.seq, ID: r.id,
			Detail: fmt.Sprintf("this entry is not part of the chain; the entry that belongs here sits at seq %d (id %s)", c.seq, c.id)}
	}
	if n := &ahead[0]; n.seq == r.seq+1 && bytes.Equal(linkAt(r.hash, n.seq, n), n.hash) {
		changed.Detail = "the entry's content no longer matches its stored hash (the next entry still chains from that hash): changed in place"
	}
	return changed
}
