package customer

import (
	"context"
	"encoding/json"

	"tillit/internal/security"
	"tillit/internal/store"
)

// Extract is the register's part of an access extract (REQUIREMENTS R1): everything
// the register holds about one customer. Customer carries every current value with
// its source (K5) in Sources; History has every earlier value of each field, newest
// first, with the source it had; Notes are the notes from mail, calls and meetings
// (K6), newest first.
type Extract struct {
	Customer Customer                  `json:"customer"`
	History  map[string][]HistoryEntry `json:"history"`
	Notes    []Note                    `json:"notes"`
}

// Extract gathers everything the register holds about customer id for the reason
// given (for a data-subject request, Reason{ReasonRequest, requestID}). One
// customer.extract audit entry with the reason commits before anything is returned;
// an unknown id is ErrNotFound and an erased customer ErrErased, and neither writes.
func (s *Service) Extract(ctx context.Context, id string, why Reason) (Extract, error) {
	if err := why.valid(); err != nil {
		return Extract{}, err
	}
	dec := func(f string, ct []byte) ([]byte, error) { return s.ks.Decrypt(ctx, id, f, ct) }
	c, _, err := s.load(ctx, s.st.DB(), id, dec)
	if err != nil {
		return Extract{}, err
	}
	x := Extract{Customer: c, History: map[string][]HistoryEntry{}, Notes: []Note{}}
	rows, err := s.st.DB().QueryContext(ctx, `SELECT field, value, source, actor_kind, actor_id, set_at, replaced_at
		FROM customer_field_history WHERE customer_id = $1 ORDER BY field, replaced_at DESC, id DESC`, id)
	if err != nil {
		return Extract{}, store.Classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		var field string
		var ct []byte
		var h HistoryEntry
		var set, repl int64
		if err := rows.Scan(&field, &ct, &h.Source.Source, &h.Source.ActorKind, &h.Source.ActorID, &set, &repl); err != nil {
			return Extract{}, err
		}
		b, err := dec(field, ct)
		if err != nil {
			return Extract{}, unreadable(id, err)
		}
		h.Value, h.Source.At, h.ReplacedAt = json.RawMessage(b), store.Time(set), store.Time(repl)
		x.History[field] = append(x.History[field], h)
	}
	if err := rows.Err(); err != nil {
		return Extract{}, store.Classify(err)
	}
	rows.Close()
	nrows, err := s.st.DB().QueryContext(ctx, `SELECT id, channel, body, source, created_at FROM customer_notes
		WHERE customer_id = $1 ORDER BY created_at DESC, id DESC`, id)
	if err != nil {
		return Extract{}, store.Classify(err)
	}
	defer nrows.Close()
	for nrows.Next() {
		var n Note
		var ct []byte
		var at int64
		if err := nrows.Scan(&n.ID, &n.Channel, &ct, &n.Source, &at); err != nil {
			return Extract{}, err
		}
		b, err := dec("notes/"+n.ID, ct)
		if err != nil {
			return Extract{}, unreadable(id, err)
		}
		n.CustomerID, n.Text, n.CreatedAt = id, string(b), store.Time(at)
		x.Notes = append(x.Notes, n)
	}
	if err := nrows.Err(); err != nil {
		return Extract{}, store.Classify(err)
	}
	err = s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		return s.audit.Record(ctx, tx, security.AuditEntry{Action: "customer.extract", SubjectKind: subject,
			SubjectID: id, Reason: why.String(), Detail: detail(map[string]any{
				"fields": len(c.Sources), "history": countHistory(x.History), "notes": len(x.Notes)})})
	})
	if err != nil {
		return Extract{}, err
	}
	return x, nil
}

func countHistory(h map[string][]HistoryEntry) int {
	n := 0
	for _, l := range h {
		n += len(l)
	}
	return n
}
