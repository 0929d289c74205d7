package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"tillit/internal/policy"
)

// runPolicy is `tillit policy check FILE...` and `tillit policy render FILE`.
func runPolicy(ctx context.Context, io IO, args []string) error {
	sub, rest, err := subcommand(io, "policy", "policy check FILE... | render [--doc privacy|terms] [--lang sv|da|nb|en] [--format html|md] FILE | publish [--effective DATE] FILE | versions | ropa [--format json|csv|html]", args, "check", "render", "publish", "versions", "ropa")
	if err != nil {
		return err
	}
	if sub == "publish" || sub == "versions" || sub == "ropa" {
		return runPolicyVersions(ctx, io, sub, rest)
	}
	fs := flag.NewFlagSet("policy "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	doc := fs.String("doc", "privacy", "document: privacy or terms")
	lang := fs.String("lang", "en", "language: sv, da, nb or en")
	format := fs.String("format", "html", "format: html or md")
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return usagef("%v", err)
	}
	files := fs.Args()
	if len(files) == 0 || (sub == "render" && len(files) != 1) {
		return usagef("want %s", map[string]string{"check": "one or more policy FILEs", "render": "exactly one policy FILE"}[sub])
	}
	if sub == "check" {
		errorsFound := 0
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return usagef("%v", err)
			}
			ds := policy.Check(f, data)
			if len(ds) > 0 {
				fmt.Fprint(io.Stdout, ds.String())
			}
			errorsFound += ds.Count(policy.SeverityError)
		}
		if errorsFound > 0 {
			return negativef("%d errors", errorsFound)
		}
		return nil
	}
	if !validChoice(*doc, "privacy", "terms") || !validChoice(*lang, "sv", "da", "nb", "en") || !validChoice(*format, "html", "md") {
		return usagef("--doc must be privacy or terms, --lang sv, da, nb or en, --format html or md")
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		return usagef("%v", err)
	}
	p, ds := policy.Parse(files[0], data)
	if ds.HasErrors() {
		fmt.Fprint(io.Stderr, ds.String())
		return negativef("%s has errors; nothing rendered", files[0])
	}
	out, err := policy.Render(p, policy.DocKind(*doc), policy.Lang(*lang), policy.Format(*format))
	if err != nil {
		return err
	}
	_, err = io.Stdout.Write(out)
	return err
}

// runPolicyVersions is `tillit policy publish FILE` and `tillit policy versions`.
func runPolicyVersions(ctx context.Context, io IO, sub string, args []string) error {
	var effective, format string
	extra := func(fs *flag.FlagSet) {
		switch sub {
		case "publish":
			fs.StringVar(&effective, "effective", "", "when the version takes effect: YYYY-MM-DD (midnight UTC) or RFC 3339; default now")
		case "ropa":
			fs.StringVar(&format, "format", "json", "json, csv or html")
		}
	}
	synopsis := map[string]string{"publish": "policy publish [--effective DATE] [flags] FILE", "versions": "policy versions [flags]",
		"ropa": "policy ropa [--format json|csv|html] [flags]"}[sub]
	e, pos, err := openCommand(ctx, io, "policy "+sub, synopsis, args, extra)
	if err != nil {
		return err
	}
	defer e.close()
	versions := policy.NewVersions(e.st, e.audit, nil)
	if sub == "ropa" {
		// The record of processing activities (Art. 30) of the version in effect.
		if err := policy.WriteROPA(ctx, versions, io.Stdout, format); errors.Is(err, policy.ErrNoVersion) {
			return negativef("no policy is published yet; tillit policy publish FILE first")
		} else if err != nil {
			return err
		}
		return nil
	}
	if sub == "versions" {
		list, err := versions.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(io.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VERSION\tEFFECTIVE\tPUBLISHED\tSHA-256\tFILE")
		for _, v := range list {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", v.N, v.EffectiveAt.Format(time.RFC3339), v.PublishedAt.Format(time.RFC3339), v.SHA256[:12], v.Filename)
		}
		return tw.Flush()
	}
	if len(pos) != 1 {
		return usagef("want exactly one policy FILE")
	}
	var at time.Time
	if effective != "" {
		if at, err = time.Parse(time.DateOnly, effective); err != nil {
			if at, err = time.Parse(time.RFC3339, effective); err != nil {
				return usagef("--effective: %q is not YYYY-MM-DD or RFC 3339", effective)
			}
		}
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return usagef("%v", err)
	}
	v, ds, err := versions.Publish(ctx, pos[0], data, at)
	if len(ds) > 0 {
		fmt.Fprint(io.Stderr, ds.String())
	}
	switch {
	case errors.Is(err, policy.ErrInvalid):
		return negativef("%s has errors; nothing published", pos[0])
	case errors.Is(err, policy.ErrUnchanged):
		return negativef("%s is the same as the latest published version; nothing published", pos[0])
	case err != nil:
		return err
	}
	fmt.Fprintf(io.Stdout, "published version %d, effective %s\n", v.N, v.EffectiveAt.Format(time.RFC3339))
	return nil
}

func validChoice(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}
