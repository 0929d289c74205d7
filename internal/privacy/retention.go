package privacy

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"tillit/internal/jobs"
	"tillit/internal/security"
	"tillit/internal/store"
)

// Retention is the retention engine (T1-T5): each room that holds personal data under
// a retention rule is a RetentionSource; the engine asks every source what is due,
// shows it (Preview, T5) or applies it item by item (Run), skipping what a legal hold
// keeps, and leaves a report. Rooms do not import privacy: app adapts a room's source
// with NewRetentionSource or AdaptRetentionSource.

// RetentionJobKind is the periodic job whose handler is (*Retention).RetentionJob.
const RetentionJobKind = "privacy.retention-run"

// Retention actions.
const (
	ActionErase  = "erase"  // the data subject is erased in the room (key destroyed, data deleted)
	ActionDelete = "delete" // one record is deleted
)

// RetentionItem is one thing due to go under a retention rule. It holds no personal
// data: ids and the rule only.
type RetentionItem struct {
	Room       string    `json:"room"`
	Kind       string    `json:"kind"` // e.g. "customer", "note"
	ID         string    `json:"id"`
	CustomerID string    `json:"customer_id"`
	Rule       string    `json:"rule"`      // human text, e.g. "customer: 1y after contract end"
	DueSince   time.Time `json:"due_since"` // when the rule's period ran out
	Action     string    `json:"action"`    // ActionErase or ActionDelete
}

// RetentionSource is one room's part of retention. Due lists what is due at now and
// writes nothing; Apply carries out one item durably (its own transaction), audited
// by the room, and does nothing more when applied twice.
type RetentionSource interface {
	Name() string
	Due(ctx context.Context, now time.Time) ([]RetentionItem, error)
	Apply(ctx context.Context, item RetentionItem) error
}

// NewRetentionSource adapts two funcs to a RetentionSource.
func NewRetentionSource(name string, due func(ctx context.Context, now time.Time) ([]RetentionItem, error),
	apply func(ctx context.Context, item RetentionItem) error) RetentionSource {
	return funcSource{name: name, due: due, apply: apply}
}

type funcSource struct {
	name  string
	due   func(ctx context.Context, now time.Time) ([]RetentionItem, error)
	apply func(ctx context.Context, item RetentionItem) error
}

func (f funcSource) Name() string { return f.name }
func (f funcSource) Due(ctx context.Context, now time.Time) ([]RetentionItem, error) {
	return f.due(ctx, now)
}
func (f funcSource) Apply(ctx context.Context, it RetentionItem) error { return f.apply(ctx, it) }

// RetentionItemShape is any room's item type with RetentionItem's exact fields.
type RetentionItemShape interface {
	~struct {
		Room       string    `json:"room"`
		Kind       string    `json:"kind"`
		ID         string    `json:"id"`
		CustomerID string    `json:"customer_id"`
		Rule       string    `json:"rule"`
		DueSince   time.Time `json:"due_since"`
		Action     string    `json:"action"`
	}
}

// RoomRetentionSource is a room's source over its own item type.
type RoomRetentionSource[T RetentionItemShape] interface {
	Name() string
	Due(ctx context.Context, now time.Time) ([]T, error)
	Apply(ctx context.Context, item T) error
}

// AdaptRetentionSource adapts a room's source whose item type has RetentionItem's
// shape (e.g. *customer.RetentionSource), converting items both ways.
func AdaptRetentionSource[T RetentionItemShape](src RoomRetentionSource[T]) RetentionSource {
	return NewRetentionSource(src.Name(),
		func(ctx context.Context, now time.Time) ([]RetentionItem, error) {
			items, err := src.Due(ctx, now)
			out := make([]RetentionItem, len(items))
			for i, it := range items {
				out[i] = RetentionItem(it)
			}
			return out, err
		},
		func(ctx context.Context, it RetentionItem) error { return src.Apply(ctx, T(it)) })
}

// Hold is a legal hold check (R4: data a law or a dispute requires is kept): while
// held, nothing of the customer is removed by retention.
type Hold interface {
	Held(ctx context.Context, customerID string) (reason string, held bool, err error)
}

// HeldItem is an item a hold kept.
type HeldItem struct {
	Item   RetentionItem `json:"item"`
	Reason string        `json:"reason"`
}

// FailedItem is an item whose Apply failed.
type FailedItem struct {
	Item RetentionItem `json:"item"`
	Err  string        `json:"error"`
}

// SourceError is a source whose Due failed; its items were not considered.
type SourceError struct {
	Source string `json:"source"`
	Err    string `json:"error"`
}

// RetentionPlan is what a run at a time would do.
type RetentionPlan struct {
	At   time.Time       `json:"at"`
	Due  []RetentionItem `json:"due"`  // would go, sorted by due time, room, kind, id
	Held []HeldItem      `json:"held"` // due, but kept by a hold
}

// RunReport is what a run did (T5).
type RunReport struct {
	At      time.Time       `json:"at"`
	Applied []RetentionItem `json:"applied"`
	Failed  []FailedItem    `json:"failed"`
	Held    []HeldItem      `json:"held"`
	Sources []SourceError   `json:"source_errors"`
}

// RetentionOptions tune NewRetention.
type RetentionOptions struct {
	Now func() time.Time // the clock of RetentionJob; default time.Now
}

// Retention is the retention engine.
type Retention struct {
	st      *store.Store
	audit   *security.Audit
	now     func() time.Time
	sources []RetentionSource
	holds   []Hold
}

// NewRetention returns the engine. audit records one privacy.retention.run entry per
// run with its counts; each item is audited by its room.
func NewRetention(st *store.Store, audit *security.Audit, opt RetentionOptions) *Retention {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Retention{st: st, audit: audit, now: opt.Now}
}

// AddSource registers a room's source. Call it while wiring.
func (r *Retention) AddSource(s RetentionSource) { r.sources = append(r.sources, s) }

// AddHold registers a legal hold check. Call it while wiring.
func (r *Retention) AddHold(h Hold) { r.holds = append(r.holds, h) }

// held asks every hold about customerID, once per customer per plan.
func (r *Retention) held(ctx context.Context, cache map[string]string, customerID string) (string, bool, error) {
	if customerID == "" {
		return "", false, nil
	}
	if why, ok := cache[customerID]; ok {
		return why, why != "", nil
	}
	for _, h := range r.holds {
		why, held, err := h.Held(ctx, customerID)
		if err != nil {
			return "", false, err
		}
		if held {
			if why == "" {
				why = "legal hold"
			}
			cache[customerID] = why
			return why, true, nil
		}
	}
	cache[customerID] = ""
	return "", false, nil
}

func sortItems(items []RetentionItem) {
	slices.SortFunc(items, func(a, b RetentionItem) int {
		return cmp.Or(a.DueSince.Compare(b.DueSince), cmp.Compare(a.Room, b.Room), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID))
	})
}

// plan asks every source; with tolerant, a failing source is reported, not fatal.
func (r *Retention) plan(ctx context.Context, now time.Time, tolerant bool) (RetentionPlan, []SourceError, error) {
	p := RetentionPlan{At: now}
	var srcErrs []SourceError
	var all []RetentionItem
	for _, s := range r.sources {
		items, err := s.Due(ctx, now)
		if err != nil {
			if !tolerant || ctx.Err() != nil {
				return p, nil, fmt.Errorf("retention in %s: %w", s.Name(), err)
			}
			srcErrs = append(srcErrs, SourceError{Source: s.Name(), Err: err.Error()})
			continue
		}
		all = append(all, items...)
	}
	sortItems(all)
	cache := map[string]string{}
	for _, it := range all {
		why, held, err := r.held(ctx, cache, it.CustomerID)
		if err != nil {
			// A hold that cannot be checked must not let data go.
			if !tolerant {
				return p, nil, fmt.Errorf("retention: legal hold check: %w", err)
			}
			p.Held = append(p.Held, HeldItem{Item: it, Reason: "hold check failed: " + err.Error()})
			continue
		}
		if held {
			p.Held = append(p.Held, HeldItem{Item: it, Reason: why})
			continue
		}
		p.Due = append(p.Due, it)
	}
	return p, srcErrs, nil
}

// Plan is what a run at now would do: the items that would go, sorted, and those a
// hold keeps. It writes nothing (T5).
func (r *Retention) Plan(ctx context.Context, now time.Time) (RetentionPlan, error) {
	p, _, err := r.plan(ctx, now, false)
	return p, err
}

// Preview lists the items a run at now would apply, sorted by due time, room, kind
// and id, each with its rule (what would go, and why). It writes nothing.
func (r *Retention) Preview(ctx context.Context, now time.Time) ([]RetentionItem, error) {
	p, err := r.Plan(ctx, now)
	return p.Due, err
}

// Run applies every item due at now, each in its own durable step by its room, which
// audits it. A failing item or source is reported and does not stop the others; held
// items are skipped and reported. progress, if not nil, is called after each item.
// The run itself is audited as privacy.retention.run with its counts. The error is
// only for a cancelled context or a run that could not be recorded.
func (r *Retention) Run(ctx context.Context, now time.Time, progress func(done, total int)) (RunReport, error) {
	rep := RunReport{At: now}
	p, srcErrs, err := r.plan(ctx, now, true)
	if err != nil {
		return rep, err
	}
	rep.Held, rep.Sources = p.Held, srcErrs
	bySource := map[string]RetentionSource{}
	for _, s := range r.sources {
		bySource[s.Name()] = s
	}
	for i, it := range p.Due {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		var aerr error
		if s, ok := bySource[it.Room]; ok {
			aerr = s.Apply(ctx, it)
		} else {
			aerr = fmt.Errorf("no retention source for room %q", it.Room)
		}
		if aerr != nil {
			rep.Failed = append(rep.Failed, FailedItem{Item: it, Err: aerr.Error()})
		} else {
			rep.Applied = append(rep.Applied, it)
		}
		if progress != nil {
			progress(i+1, len(p.Due))
		}
	}
	if r.st != nil && r.audit != nil {
		d, _ := json.Marshal(map[string]any{"at": now.UTC().Format(time.RFC3339), "applied": len(rep.Applied),
			"failed": len(rep.Failed), "held": len(rep.Held), "source_errors": len(rep.Sources)})
		err = r.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
			return r.audit.Record(ctx, tx, security.AuditEntry{Action: "privacy.retention.run", SubjectKind: "retention",
				SubjectID: store.NewID(), Detail: string(d)})
		})
	}
	return rep, err
}

// ErrRetentionIncomplete is returned by RetentionJob when an item or source failed,
// so the job is retried; applied items are gone and are not found due again.
var ErrRetentionIncomplete = errors.New("retention run left items not applied")

// RetentionJob is the handler of the periodic RetentionJobKind job: Run at the
// engine's clock.
func (r *Retention) RetentionJob(ctx context.Context, _ jobs.Job) error {
	rep, err := r.Run(ctx, r.now(), nil)
	if err != nil {
		return err
	}
	if n := len(rep.Failed) + len(rep.Sources); n > 0 {
		return fmt.Errorf("%w: %d failed items, %d failed sources", ErrRetentionIncomplete, len(rep.Failed), len(rep.Sources))
	}
	return nil
}
