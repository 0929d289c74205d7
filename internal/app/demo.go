package app

import (
	"context"
	"errors"
	"fmt"
	"io"

	"tillit/internal/security"
	"tillit/internal/store"
)

const metaDemo = "demo"

// loadDemo marks an empty data directory as a demo and prints how to use it. It
// refuses a database that already holds real data, so --demo can never mix fictional
// records into a company's register.
func loadDemo(ctx context.Context, e *env, tokens *security.Tokens, w io.Writer) error {
	demo, err := getMeta(ctx, e.st, metaDemo)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if demo == "" {
		var n int
		if err := e.st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM api_tokens`).Scan(&n); err != nil {
			return store.Classify(err)
		}
		if n > 0 {
			return usagef("--demo: %s already holds real data; use a new --data directory for the demo", e.cfg.Data)
		}
		if err := setMeta(ctx, e.st, metaDemo, "1"); err != nil {
			return err
		}
	}
	raw, _, err := tokens.Create(ctx, "demo owner", security.RoleOwner, 0)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Demo data directory: %s\nAPI token (role owner), shown once:\n  %s\nTry:\n  curl -H 'Authorization: Bearer %s' http://%s/api/v1/system\n",
		e.cfg.Data, raw, raw, e.cfg.Addr)
	return nil
}
