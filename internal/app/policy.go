package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"tillit/internal/policy"
)

// runPolicy is `tillit policy check FILE...` and `tillit policy render FILE`.
func runPolicy(ctx context.Context, io IO, args []string) error {
	sub, rest, err := subcommand(io, "policy", "policy check FILE... | policy render [--doc privacy|terms] [--lang sv|da|nb|en] [--format html|md] FILE", args, "check", "render")
	if err != nil {
		return err
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

func validChoice(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}
