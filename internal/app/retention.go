package app

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"tillit/internal/customer"
	"tillit/internal/jobs"
	"tillit/internal/policy"
	"tillit/internal/privacy"
	"tillit/internal/security"
	"tillit/internal/store"
)

// retentionEngine builds the retention engine for the policy in effect at now: each
// run takes the rules of that version, so a new policy applies from its effective
// date. notes lists rules that no room enforces yet.
func retentionEngine(ctx context.Context, st *store.Store, audit *security.Audit, versions *policy.Versions,
	customers *customer.Service, now time.Time) (ret *privacy.Retention, notes []string, err error) {
	ret = privacy.NewRetention(st, audit, privacy.RetentionOptions{Now: func() time.Time { return now }})
	n, err := versions.Current(ctx, now)
	if err != nil {
		return ret, []string{"no policy is published: nothing is due"}, nil
	}
	p, err := versions.Policy(ctx, n)
	if err != nil {
		return nil, nil, err
	}
	rules, notes := customer.RetentionFromPolicy(p)
	ret.AddSource(privacy.AdaptRetentionSource(customers.RetentionSource(rules)))
	return ret, notes, nil
}

// registerRetention runs retention daily (T1, T5).
func (s *server) registerRetention() {
	s.jobs.Register(privacy.RetentionJobKind, func(ctx context.Context, job jobs.Job) error {
		ctx = security.WithActor(ctx, security.Actor{Kind: security.ActorSystem, ID: "retention"})
		ret, _, err := retentionEngine(ctx, s.env.st, s.env.audit, s.versions, s.customers, time.Now())
		if err != nil {
			return err
		}
		return ret.RetentionJob(ctx, job)
	})
	s.jobs.Periodic(privacy.RetentionJobKind, 24*time.Hour, nil)
}

// runRetention is `tillit retention preview|run` (DESIGN Contracts).
func runRetention(ctx context.Context, io IO, args []string) error {
	sub, rest, err := subcommand(io, "retention", "retention preview|run [--at DATE] [flags]", args, "preview", "run")
	if err != nil {
		return err
	}
	var at string
	extra := func(fs *flag.FlagSet) {
		fs.StringVar(&at, "at", "", "evaluate the rules as of YYYY-MM-DD instead of now (preview only)")
	}
	e, _, err := openCommand(ctx, io, "retention "+sub, "retention "+sub+" [--at DATE] [flags]", rest, extra)
	if err != nil {
		return err
	}
	defer e.close()
	now := time.Now()
	if at != "" {
		if sub == "run" {
			return usagef("--at is for preview only; a run always uses the current time")
		}
		if now, err = time.Parse(time.DateOnly, at); err != nil {
			return usagef("--at: %q is not YYYY-MM-DD", at)
		}
	}
	versions := policy.NewVersions(e.st, e.audit, nil)
	customers := customer.NewService(e.st, e.ks, e.audit, customer.Options{})
	ret, notes, err := retentionEngine(ctx, e.st, e.audit, versions, customers, now)
	if err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintf(io.Stderr, "note: %s\n", n)
	}
	if sub == "preview" {
		plan, err := ret.Plan(ctx, now)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(io.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ACTION\tKIND\tID\tDUE SINCE\tRULE")
		for _, it := range plan.Due {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", it.Action, it.Kind, it.ID, it.DueSince.Format(time.DateOnly), it.Rule)
		}
		for _, h := range plan.Held {
			fmt.Fprintf(tw, "held\t%s\t%s\t%s\t%s\n", h.Item.Kind, h.Item.ID, h.Item.DueSince.Format(time.DateOnly), h.Reason)
		}
		tw.Flush()
		fmt.Fprintf(io.Stdout, "%d due, %d held; nothing was changed (tillit retention run applies them)\n", len(plan.Due), len(plan.Held))
		return nil
	}
	rep, err := ret.Run(ctx, now, progress(io, "retention"))
	if err != nil {
		return err
	}
	for _, f := range rep.Failed {
		fmt.Fprintf(io.Stderr, "failed: %s %s: %s\n", f.Item.Kind, f.Item.ID, f.Err)
	}
	fmt.Fprintf(io.Stdout, "%d applied, %d held, %d failed\n", len(rep.Applied), len(rep.Held), len(rep.Failed))
	if len(rep.Failed) > 0 {
		return negativef("%d items failed; run again to retry them", len(rep.Failed))
	}
	return nil
}
