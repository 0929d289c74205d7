package privacy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"tillit/internal/store"
)

// Extractor is one room's part of an access extract (R1): everything the room holds
// about a customer, as a JSON-marshalable value. reason is what the room's own read
// audit records ("request:<request id>"). Name is the part's key in the extract
// ("customer", "billing", "consent"…), unique among extractors.
type Extractor interface {
	Extract(ctx context.Context, customerID string, reason string) (any, error)
	Name() string
}

// NewExtractor adapts a func to an Extractor, so that the composition root can plug a
// room in without the room importing privacy.
func NewExtractor(name string, fn func(ctx context.Context, customerID, reason string) (any, error)) Extractor {
	return funcExtractor{name: name, fn: fn}
}

type funcExtractor struct {
	name string
	fn   func(ctx context.Context, customerID, reason string) (any, error)
}

func (f funcExtractor) Extract(ctx context.Context, customerID, reason string) (any, error) {
	return f.fn(ctx, customerID, reason)
}

func (f funcExtractor) Name() string { return f.name }

// AddExtractor registers e. Call it while wiring, before serving.
func (s *Service) AddExtractor(e Extractor) error {
	name := e.Name()
	if name == "" || strings.TrimSpace(name) != name {
		return fmt.Errorf("privacy: extractor name %q", name)
	}
	if slices.ContainsFunc(s.extractors, func(x Extractor) bool { return x.Name() == name }) {
		return fmt.Errorf("privacy: extractor %q registered twice", name)
	}
	s.extractors = append(s.extractors, e)
	slices.SortFunc(s.extractors, func(a, b Extractor) int { return strings.Compare(a.Name(), b.Name()) })
	return nil
}

// ExtractFormat names the extract's layout; it changes when the layout does.
const ExtractFormat = "tillit.access-extract/v1"

// Extract is the machine-readable answer to an access or portability request: every
// room's part, by name.
type Extract struct {
	Format      string         `json:"format"`
	RequestID   string         `json:"request_id"`
	Kind        Kind           `json:"kind"`
	CustomerID  string         `json:"customer_id"`
	ProducedAt  time.Time      `json:"produced_at"`
	Parts       map[string]any `json:"parts"`
	Controller  string         `json:"controller_country"`
	RequestedOn Date           `json:"received_on"`
}

// Extract produces the extract for request id (R1, R7): refused with
// ErrIdentityNotVerified while the requester's identity is unverified (R2), and with
// ErrNoExtract for kinds other than access and portability. Each extractor audits its
// own read with the reason "request:<id>"; the extract itself is recorded in the
// request's history and audited as privacy.request.extract before it is returned.
func (s *Service) Extract(ctx context.Context, id string) (Extract, error) {
	r, _, err := s.load(ctx, s.st.DB(), id)
	if err != nil {
		return Extract{}, err
	}
	switch {
	case !r.Kind.releasesData():
		return Extract{}, ErrNoExtract
	case r.State == StateReceived || r.Verification == nil || r.CustomerID == "":
		return Extract{}, &TransitionError{r.State, "produce an extract for", ErrIdentityNotVerified}
	case r.State == StateRefused:
		return Extract{}, &TransitionError{r.State, "produce an extract for", ErrWrongState}
	}
	x := Extract{Format: ExtractFormat, RequestID: id, Kind: r.Kind, CustomerID: r.CustomerID,
		ProducedAt: s.now().UTC().Truncate(time.Microsecond), Parts: map[string]any{}, Controller: string(s.country),
		RequestedOn: r.ReceivedOn}
	names := make([]string, 0, len(s.extractors))
	for _, e := range s.extractors {
		part, err := e.Extract(ctx, r.CustomerID, "request:"+id)
		if err != nil {
			return Extract{}, fmt.Errorf("privacy request %s: extract part %s: %w", id, e.Name(), err)
		}
		x.Parts[e.Name()] = part
		names = append(names, e.Name())
	}
	err = s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		// Re-checked in the write: a refusal may have landed since the read.
		var state State
		if err := tx.QueryRowContext(ctx, `SELECT state FROM privacy_requests WHERE id = $1`, id).Scan(&state); err != nil {
			return store.Classify(err)
		}
		if state == StateRefused {
			return &TransitionError{state, "produce an extract for", ErrWrongState}
		}
		return s.record(ctx, tx, id, "extract", map[string]any{"customer_id": r.CustomerID, "parts": names})
	})
	if err != nil {
		return Extract{}, err
	}
	return x, nil
}
