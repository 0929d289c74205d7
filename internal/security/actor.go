package security

import "context"

// Actor is who acts in a request, job or command, with where from. It travels in the
// context so that every audited write names the actor without each call passing it.
type Actor struct {
	Kind      string // ActorStaff, ActorCustomer, ActorToken or ActorSystem
	ID        string
	IP        string
	RequestID string
}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of ctx; without one it is the system itself.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Kind: ActorSystem, ID: "tillit"}
}
