package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"tillit/internal/nordic"
)

// runID is `tillit id check NUMBER`: what kind of Nordic identity or organisation
// number it is, its normal form, birth date and sex where encoded. Exit 0 when the
// number is valid in at least one of the countries asked about, 1 when it is not.
func runID(ctx context.Context, io IO, args []string) error {
	_, rest, err := subcommand(io, "id", "id check [--country SE|DK|NO] [--interim] NUMBER", args, "check")
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("id check", flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	country := fs.String("country", "", "only this country: SE, DK or NO (default: all three)")
	interim := fs.Bool("interim", false, "accept Swedish interim numbers")
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return usagef("%v", err)
	}
	if fs.NArg() != 1 {
		return usagef("want exactly one NUMBER")
	}
	countries := []nordic.Country{nordic.SE, nordic.DK, nordic.NO}
	if *country != "" {
		c := nordic.Country(strings.ToUpper(*country))
		if c != nordic.SE && c != nordic.DK && c != nordic.NO {
			return usagef("--country: %q is not SE, DK or NO", *country)
		}
		countries = []nordic.Country{c}
	}
	number := fs.Arg(0)
	today := time.Now().UTC()
	var found int
	var reasons []string
	for _, c := range countries {
		if id, err := nordic.ParsePerson(c, number, nordic.Options{On: today, AllowInterim: *interim}); err == nil {
			found++
			printID(io, id, today)
		} else {
			reasons = append(reasons, fmt.Sprintf("%s person: %s", c, reason(err)))
		}
		if id, err := nordic.ParseOrg(c, number); err == nil {
			found++
			printID(io, id, today)
		} else {
			reasons = append(reasons, fmt.Sprintf("%s organisation: %s", c, reason(err)))
		}
	}
	if found == 0 {
		return negativef("not a valid number (%s)", strings.Join(reasons, "; "))
	}
	return nil
}

func reason(err error) string {
	var ne *nordic.Error
	if errors.As(err, &ne) {
		return ne.Reason
	}
	return err.Error()
}

func printID(io IO, id nordic.ID, today time.Time) {
	fmt.Fprintf(io.Stdout, "%s %s: %s", id.Country, id.Kind, id.Canonical)
	if !id.BirthDate.IsZero() {
		fmt.Fprintf(io.Stdout, ", born %s (age %d)", id.BirthDate.Format(time.DateOnly), id.Age(today))
		if id.CenturyGuessed {
			fmt.Fprint(io.Stdout, " (century guessed)")
		}
	}
	if id.Sex != nordic.SexUnknown {
		fmt.Fprintf(io.Stdout, ", %s", id.Sex)
	}
	if id.Country == nordic.DK && id.Kind == nordic.KindCPR {
		fmt.Fprintf(io.Stdout, ", modulus 11: %v", id.Mod11)
	}
	if id.AlsoOrgNumber {
		fmt.Fprint(io.Stdout, ", also a sole trader's organisation number")
	}
	fmt.Fprintf(io.Stdout, "; shown masked as %s\n", id.Masked())
}
