package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"tillit/internal/customer"
)

// runCustomers is `tillit customers import FILE.csv` and `tillit customers export FILE.csv`.
func runCustomers(ctx context.Context, io IO, args []string) error {
	sub, rest, err := subcommand(io, "customers", "customers import [--dry-run] [--map col=field,...] FILE.csv | export --reason KIND:REF FILE.csv", args, "import", "export")
	if err != nil {
		return err
	}
	var dryRun bool
	var mapping, reason string
	extra := func(fs *flag.FlagSet) {
		switch sub {
		case "import":
			fs.BoolVar(&dryRun, "dry-run", false, "check every row and report, write nothing")
			fs.StringVar(&mapping, "map", "", "column mapping, e.g. Kundnamn=name,Mejl=email (- ignores a column)")
		case "export":
			fs.StringVar(&reason, "reason", "", "why the register is exported, recorded in the audit log: ticket:REF, request:REF, contract:REF or free:TEXT (required)")
		}
	}
	synopsis := map[string]string{"import": "customers import [--dry-run] [--map col=field,...] [flags] FILE.csv", "export": "customers export --reason KIND:REF [flags] FILE.csv"}[sub]
	e, pos, err := openCommand(ctx, io, "customers "+sub, synopsis, rest, extra)
	if err != nil {
		return err
	}
	defer e.close()
	if len(pos) != 1 {
		return usagef("want exactly one FILE.csv")
	}
	svc := customer.NewService(e.st, e.ks, e.audit, customer.Options{})
	if sub == "export" {
		why, err := customer.ParseReason(reason)
		if err != nil {
			return usagef("--reason: %v", err)
		}
		f, err := os.OpenFile(pos[0], os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return usagef("%v", err)
		}
		n, err := svc.Export(ctx, f, why, progress(io, "export"))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(pos[0])
			return err
		}
		fmt.Fprintf(io.Stdout, "exported %d customers to %s (mode 0600; it holds personal data)\n", n, pos[0])
		return nil
	}
	stages := map[string]func(done, total int){}
	opt := customer.ImportOptions{DryRun: dryRun, Progress: func(stage string, done, total int) {
		if stages[stage] == nil {
			stages[stage] = progress(io, stage)
		}
		stages[stage](done, total)
	}}
	if mapping != "" {
		opt.Mapping = map[string]string{}
		for _, pair := range strings.Split(mapping, ",") {
			col, field, ok := strings.Cut(pair, "=")
			if !ok {
				return usagef("--map: %q is not column=field", pair)
			}
			opt.Mapping[strings.TrimSpace(col)] = strings.TrimSpace(field)
		}
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return usagef("%v", err)
	}
	defer f.Close()
	rep, err := svc.Import(ctx, f, opt)
	for _, re := range rep.Errors {
		fmt.Fprintf(io.Stderr, "%s:%s\n", pos[0], strings.TrimPrefix(re.String(), "line "))
	}
	if errors.Is(err, customer.ErrImportInvalid) {
		return negativef("%d errors in %d rows; nothing imported", rep.ErrorCount, rep.Rows)
	}
	if err != nil {
		return err
	}
	if rep.DryRun {
		fmt.Fprintf(io.Stdout, "%d rows checked, all valid; nothing written (--dry-run)\n", rep.Rows)
		return nil
	}
	fmt.Fprintf(io.Stdout, "imported %d customers\n", rep.Imported)
	return nil
}

// progress reports long work on standard error, at most every 10 %.
func progress(io IO, what string) func(done, total int) {
	last := -1
	return func(done, total int) {
		if total <= 0 {
			return
		}
		pct := done * 100 / total
		if pct/10 != last/10 || done == total {
			last = pct
			fmt.Fprintf(io.Stderr, "%s: %d of %d (%d%%)\n", what, done, total, pct)
		}
	}
}
