package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"tillit/examples/policies"
	"tillit/internal/customer"
	"tillit/internal/policy"
	"tillit/internal/security"
	"tillit/internal/store"
)

const metaDemo = "demo"

// loadDemo marks an empty data directory as a demo and prints how to use it. It
// refuses a database that already holds real data, so --demo can never mix fictional
// records into a company's register.
func loadDemo(ctx context.Context, e *env, tokens *security.Tokens, staff *security.Staff, w io.Writer) error {
	demo, err := getMeta(ctx, e.st, metaDemo)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if demo == "" {
		var n int
		if err := e.st.DB().QueryRowContext(ctx,
			`SELECT (SELECT COUNT(*) FROM api_tokens) + (SELECT COUNT(*) FROM staff)`).Scan(&n); err != nil {
			return store.Classify(err)
		}
		if n > 0 {
			return usagef("--demo: %s already holds real data; use a new --data directory for the demo", e.cfg.Data)
		}
		if err := setMeta(ctx, e.st, metaDemo, "1"); err != nil {
			return err
		}
		if err := demoStaff(ctx, staff, w); err != nil {
			return err
		}
		if err := loadDemoCustomers(ctx, customer.NewService(e.st, e.ks, e.audit, customer.Options{}), w); err != nil {
			return err
		}
		src, err := policies.FS.ReadFile("installer.yaml")
		if err != nil {
			return err
		}
		if _, _, err := policy.NewVersions(e.st, e.audit, nil).Publish(ctx, "installer.yaml", src, time.Time{}); err != nil {
			return fmt.Errorf("demo policy: %w", err)
		}
		fmt.Fprintf(w, "Demo policy published: http://%s/privacy\n", e.cfg.Addr)
	}
	raw, _, err := tokens.Create(ctx, "demo owner", security.RoleOwner, 0)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Demo data directory: %s\nAPI token (role owner), shown once:\n  %s\nTry:\n  curl -H 'Authorization: Bearer %s' http://%s/api/v1/system\n",
		e.cfg.Data, raw, raw, e.cfg.Addr)
	return nil
}

// demoStaff makes the demo's owner account with two-factor authentication set up and
// prints how to sign in. The console trusts the first device of a demo account.
func demoStaff(ctx context.Context, staff *security.Staff, w io.Writer) error {
	password := generatePassword()
	m, err := staff.Add(ctx, demoEmail, "Demo Owner", security.RoleOwner, password)
	if err != nil {
		return err
	}
	uri, secret, err := staff.EnrollTOTP(ctx, m.ID)
	if err != nil {
		return err
	}
	code, err := security.TOTPCode(secret, time.Now())
	if err != nil {
		return err
	}
	if _, err := staff.ConfirmTOTP(ctx, m.ID, code); err != nil {
		return err
	}
	fmt.Fprintf(w, "Staff login: %s / %s\nAuthenticator (add to your app): %s\n", demoEmail, password, uri)
	return nil
}

const demoEmail = "demo@tillit.example"
