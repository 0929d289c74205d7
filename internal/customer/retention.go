package customer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"tillit/internal/policy"
	"tillit/internal/security"
	"tillit/internal/store"
)

// Retention in the register (T1, T4): an ended customer is erased a set time after the
// relationship ended, and notes are deleted a set time after they were written. The
// rules come from the policy in effect (RetentionFromPolicy); privacy runs them through
// its retention engine, which app plugs this room's RetentionSource into. This room
// does not import privacy: RetentionItem has the same shape as privacy.RetentionItem,
// so the two convert into each other.

// Retention item kinds and actions of this room.
const (
	RetentionKindCustomer = "customer"
	RetentionKindNote     = "note"
	RetentionErase        = "erase"
	RetentionDelete       = "delete"
)

// RetentionItem is one thing that is due to go under a retention rule. Its fields
// (and tags) match privacy.RetentionItem field for field, so app converts with
// privacy.RetentionItem(item).
type RetentionItem struct {
	Room       string    `json:"room"`
	Kind       string    `json:"kind"`
	ID         string    `json:"id"`
	CustomerID string    `json:"customer_id"`
	Rule       string    `json:"rule"`
	DueSince   time.Time `json:"due_since"`
	Action     string    `json:"action"`
}

// CustomerRetention is the register's retention rules. A zero (unset) duration turns
// its rule off: nothing of that kind is ever due.
type CustomerRetention struct {
	// AfterEnd is how long an ended customer's data is kept after ended_at; then the
	// customer is erased (Erase: key destroyed, data deleted). From the policy
	// category of the register whose retention runs from contract_end.
	AfterEnd policy.Duration
	// EndCategory names the policy category AfterEnd comes from, for the rule text.
	EndCategory string
	// NotesAfter is how long a note is kept after it was written (created_at); then
	// it is deleted. From the notes category whose retention runs from collection.
	NotesAfter policy.Duration
	// NotesCategory names the policy category NotesAfter comes from.
	NotesCategory string
}

// ErrNotDue means a retention item is no longer due: the customer was reactivated or
// their end date moved since the item was found. Nothing was changed.
var ErrNotDue = errors.New("the item is no longer due for retention")

// RetentionSource is the register's part of the retention engine. Build it with
// (*Service).RetentionSource.
type RetentionSource struct {
	s     *Service
	rules CustomerRetention
}

// RetentionSource returns the register's retention source under rules.
func (s *Service) RetentionSource(rules CustomerRetention) *RetentionSource {
	return &RetentionSource{s: s, rules: rules}
}

// Name is the room's name in retention reports.
func (r *RetentionSource) Name() string { return subject }

func addDuration(t time.Time, d policy.Duration) time.Time {
	return t.AddDate(d.Years, d.Months, d.Days).Add(time.Duration(d.Hours)*time.Hour + time.Duration(d.Minutes)*time.Minute)
}

// cutoff is a time no earlier than the latest t with addDuration(t, d) <= now: month
// ends make AddDate differ by up to three days, so the query is loose and Due checks
// each row exactly.
func cutoff(now time.Time, d policy.Duration) time.Time {
	return now.AddDate(-d.Years, -d.Months, -d.Days+4)
}

func ruleText(category string, d policy.Duration, event string) string {
	if category == "" {
		category = subject
	}
	return fmt.Sprintf("%s: %s after %s", category, d, event)
}

func (r *RetentionSource) endRule() string {
	return ruleText(r.rules.EndCategory, r.rules.AfterEnd, "contract end")
}

func (r *RetentionSource) notesRule() string {
	return ruleText(r.rules.NotesCategory, r.rules.NotesAfter, "collection")
}

// Due lists what is due at now: ended, not erased customers whose end plus AfterEnd
// has come (erase), and notes whose creation plus NotesAfter has come (delete). It
// writes nothing and reads no personal data.
func (r *RetentionSource) Due(ctx context.Context, now time.Time) ([]RetentionItem, error) {
	var out []RetentionItem
	if !r.rules.AfterEnd.IsZero() {
		rows, err := r.s.st.DB().QueryContext(ctx, `SELECT id, ended_at FROM customers
			WHERE status = 'ended' AND erased_at IS NULL AND ended_at IS NOT NULL AND ended_at <= $1
			ORDER BY ended_at, id`, store.Micros(cutoff(now, r.rules.AfterEnd)))
		if err != nil {
			return nil, store.Classify(err)
		}
		rule := r.endRule()
		for rows.Next() {
			var id string
			var ended int64
			if err := rows.Scan(&id, &ended); err != nil {
				rows.Close()
				return nil, err
			}
			if due := addDuration(store.Time(ended), r.rules.AfterEnd); !due.After(now) {
				out = append(out, RetentionItem{Room: subject, Kind: RetentionKindCustomer, ID: id, CustomerID: id,
					Rule: rule, DueSince: due, Action: RetentionErase})
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, store.Classify(err)
		}
	}
	if !r.rules.NotesAfter.IsZero() {
		rows, err := r.s.st.DB().QueryContext(ctx, `SELECT id, customer_id, created_at FROM customer_notes
			WHERE created_at <= $1 ORDER BY created_at, id`, store.Micros(cutoff(now, r.rules.NotesAfter)))
		if err != nil {
			return nil, store.Classify(err)
		}
		rule := r.notesRule()
		for rows.Next() {
			var id, cid string
			var at int64
			if err := rows.Scan(&id, &cid, &at); err != nil {
				rows.Close()
				return nil, err
			}
			if due := addDuration(store.Time(at), r.rules.NotesAfter); !due.After(now) {
				out = append(out, RetentionItem{Room: subject, Kind: RetentionKindNote, ID: id, CustomerID: cid,
					Rule: rule, DueSince: due, Action: RetentionDelete})
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, store.Classify(err)
		}
	}
	return out, nil
}

// Apply carries out one item Due returned, durably and audited: a customer is erased
// (Erase, audited customer.erase with reason "free:retention: <rule>"), a note is
// deleted (audited customer.note.delete). Applying an item twice does nothing more;
// a customer reactivated or re-ended since Due gives ErrNotDue and is left alone.
func (r *RetentionSource) Apply(ctx context.Context, it RetentionItem) error {
	why := Reason{Kind: ReasonFreeText, Ref: "retention: " + it.Rule}
	switch it.Kind {
	case RetentionKindCustomer:
		if r.rules.AfterEnd.IsZero() {
			return fmt.Errorf("%w: no rule for ended customers", ErrNotDue)
		}
		var status string
		var ended, erased *int64
		err := r.s.st.DB().QueryRowContext(ctx, `SELECT status, ended_at, erased_at FROM customers WHERE id = $1`, it.ID).
			Scan(&status, &ended, &erased)
		if err != nil {
			if err = store.Classify(err); errors.Is(err, store.ErrNotFound) {
				return ErrNotFound
			}
			return err
		}
		if erased != nil {
			return nil
		}
		if status != string(StatusEnded) || ended == nil || !addDuration(store.Time(*ended), r.rules.AfterEnd).Equal(it.DueSince) {
			return fmt.Errorf("%w: customer %s", ErrNotDue, it.ID)
		}
		return r.s.Erase(ctx, it.ID, why)
	case RetentionKindNote:
		if err := why.valid(); err != nil {
			return err
		}
		return r.s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM customer_notes WHERE id = $1 AND customer_id = $2`, it.ID, it.CustomerID)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				return err // already gone: nothing to record
			}
			return r.s.audit.Record(ctx, tx, security.AuditEntry{Action: "customer.note.delete", SubjectKind: subject,
				SubjectID: it.CustomerID, Reason: why.String(), Detail: detail(map[string]any{"note": it.ID})})
		})
	default:
		return fmt.Errorf("customer retention: unknown item kind %q", it.Kind)
	}
}

// registerCategoryIDs are the ids the example policies give the customer register.
var registerCategoryIDs = []string{"customer", "customers", "register", "customer_register", "account", "master_data"}

// RetentionFromPolicy derives the register's rules from policy p:
//
//   - AfterEnd: the register's category (id customer, register, account, master_data,
//     ...) if its retention runs from contract_end; failing such an id, the longest
//     contract_end period of a category that is not bookkeeping.
//   - NotesAfter: the category whose id or name speaks of notes, if its retention runs
//     from collection (004: mail_notes, 1y).
//
// The second result says, one line each, which rules are not enforced by this room
// (other rooms' categories, other events, bookkeeping_law), so the lead can show them.
func RetentionFromPolicy(p *policy.Policy) (CustomerRetention, []string) {
	var r CustomerRetention
	var notes []string
	if p == nil {
		return r, []string{"no policy: no retention rule is enforced"}
	}
	used := map[string]bool{}
	desc := func(c policy.Category) string {
		if c.Retention.BookkeepingLaw {
			return policy.RetentionBookkeepingLaw
		}
		return fmt.Sprintf("%s after %s", c.Retention.Period, c.Retention.After)
	}
	// The register.
	reg := -1
	for i, c := range p.Categories {
		if slices.Contains(registerCategoryIDs, c.ID) {
			reg = i
			break
		}
	}
	if reg < 0 {
		for i, c := range p.Categories {
			if !c.Bookkeeping && !c.Retention.BookkeepingLaw && c.Retention.After == policy.EventContractEnd &&
				(reg < 0 || c.Retention.Period.ApproxDays() > p.Categories[reg].Retention.Period.ApproxDays()) {
				reg = i
			}
		}
		if reg >= 0 {
			notes = append(notes, fmt.Sprintf("no category is named as the customer register; took %q, the longest kept after contract_end", p.Categories[reg].ID))
		}
	}
	switch {
	case reg < 0:
		notes = append(notes, "no category for the customer register runs from contract_end: ended customers are not erased by retention")
	case p.Categories[reg].Retention.After == policy.EventContractEnd && !p.Categories[reg].Retention.BookkeepingLaw:
		c := p.Categories[reg]
		r.AfterEnd, r.EndCategory = c.Retention.Period, c.ID
		used[c.ID] = true
	default:
		c := p.Categories[reg]
		used[c.ID] = true
		notes = append(notes, fmt.Sprintf("category %s (the customer register): %s is not enforced yet (the register has no such event); ended customers are not erased by retention", c.ID, desc(c)))
	}
	// Notes.
	for _, c := range p.Categories {
		if used[c.ID] || !(strings.Contains(strings.ToLower(c.ID), "note") || strings.Contains(strings.ToLower(c.Name.In("en")), "notes")) {
			continue
		}
		used[c.ID] = true
		if c.Retention.After == policy.EventCollection && !c.Retention.BookkeepingLaw {
			r.NotesAfter, r.NotesCategory = c.Retention.Period, c.ID
		} else {
			notes = append(notes, fmt.Sprintf("category %s (notes): %s is not enforced yet", c.ID, desc(c)))
		}
		break
	}
	if r.NotesAfter.IsZero() && r.NotesCategory == "" {
		notes = append(notes, "no category for notes: notes are kept until their customer is erased")
	}
	// Everything else belongs to other rooms, which have no retention source yet.
	for _, c := range p.Categories {
		if used[c.ID] {
			continue
		}
		line := fmt.Sprintf("category %s: %s is not enforced yet", c.ID, desc(c))
		if !r.AfterEnd.IsZero() && c.Retention.After == policy.EventContractEnd && !c.Retention.BookkeepingLaw &&
			c.Retention.Period.ApproxDays() > r.AfterEnd.ApproxDays() {
			line += fmt.Sprintf(" (longer than the register's %s: erasing the customer destroys their key, so its sealed data goes earlier)", r.AfterEnd)
		}
		notes = append(notes, line)
	}
	return r, notes
}
