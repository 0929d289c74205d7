package privacy

import (
	"context"
	"fmt"
)

// Eraser is one room's part of carrying out an erasure (R4): it deletes or destroys
// what it holds about the customer, keeping only what a law requires it to keep (a
// legal hold, e.g. bookkeeping), and says nothing when there is nothing to erase.
// reason is "request:<id>" for the audit log.
type Eraser interface {
	Erase(ctx context.Context, customerID, reason string) error
	Name() string
}

// NewEraser adapts a func to an Eraser, so the composition root can plug a room in
// without the room importing privacy.
func NewEraser(name string, fn func(ctx context.Context, customerID, reason string) error) Eraser {
	return funcEraser{name: name, fn: fn}
}

type funcEraser struct {
	name string
	fn   func(ctx context.Context, customerID, reason string) error
}

func (f funcEraser) Erase(ctx context.Context, customerID, reason string) error {
	return f.fn(ctx, customerID, reason)
}

func (f funcEraser) Name() string { return f.name }

// AddEraser registers e. Call it while wiring, before serving.
func (s *Service) AddEraser(e Eraser) { s.erasers = append(s.erasers, e) }

// erase runs every room's eraser for an erasure request before it is completed. A room
// that fails stops the completion, so a request is never marked done with data left;
// running it again is safe, since erasing erased data does nothing.
func (s *Service) erase(ctx context.Context, r Request) error {
	if r.Kind != KindErasure {
		return nil
	}
	if r.CustomerID == "" {
		return fmt.Errorf("%w: an erasure needs the verified customer", ErrIdentityNotVerified)
	}
	for _, e := range s.erasers {
		if err := e.Erase(ctx, r.CustomerID, "request:"+r.ID); err != nil {
			return fmt.Errorf("erasure in %s: %w", e.Name(), err)
		}
	}
	return nil
}
