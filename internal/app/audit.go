package app

import (
	"context"
	"fmt"
	"os/user"
)

// operatorName names who runs a CLI command, for the audit log.
func operatorName() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}

// runAudit is `tillit audit verify|checkpoint`.
func runAudit(ctx context.Context, io IO, args []string) error {
	sub, rest, err := subcommand(io, "audit", "audit verify|checkpoint [flags]", args, "verify", "checkpoint")
	if err != nil {
		return err
	}
	e, _, err := openCommand(ctx, io, "audit "+sub, "audit "+sub+" [flags]", rest, nil)
	if err != nil {
		return err
	}
	defer e.close()
	if sub == "checkpoint" {
		c, err := e.audit.Checkpoint(ctx)
		if err != nil {
			return err
		}
		io.Stdout.Write(c.Export())
		return nil
	}
	// Verification only reads: rows the sequencer of a running server has not chained
	// yet are reported as the unchained tail.
	last := 0
	rep, err := e.audit.Verify(ctx, func(done int) {
		if done-last >= 100000 {
			last = done
			fmt.Fprintf(io.Stderr, "verified %d entries\n", done)
		}
	})
	if err != nil {
		return err
	}
	if !rep.OK {
		return negativef("%s", rep)
	}
	fmt.Fprintln(io.Stdout, rep)
	return nil
}
