package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"tillit/internal/nordic"
)

// runID is `tillit id check NUMBER...`: for each number, what kind of Nordic identity
// or organisation number it is, its normal form, birth date and sex where encoded.
// Exit 0 when every number is valid in at least one of the countries asked about, 1
// when any is not, 2 on usage errors. "-" reads numbers from standard input, one per
// line.
func runID(ctx context.Context, io IO, args []string) error {
	_, rest, err := subcommand(io, "id", "id check [--country se|dk|no] [--interim] [--json] NUMBER... | -", args, "check")
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("id check", flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	country := fs.String("country", "", "only this country: se, dk or no (default: all three)")
	interim := fs.Bool("interim", false, "accept Swedish interim numbers")
	asJSON := fs.Bool("json", false, "print one JSON object per number")
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return usagef("%v", err)
	}
	if fs.NArg() == 0 {
		return usagef("want one or more NUMBERs, or - to read them from standard input")
	}
	countries := []nordic.Country{nordic.SE, nordic.DK, nordic.NO}
	if *country != "" {
		c := nordic.Country(strings.ToUpper(*country))
		if c != nordic.SE && c != nordic.DK && c != nordic.NO {
			return usagef("--country: %q is not se, dk or no", *country)
		}
		countries = []nordic.Country{c}
	}
	numbers := fs.Args()
	if len(numbers) == 1 && numbers[0] == "-" {
		if io.Stdin == nil {
			return usagef("no standard input")
		}
		numbers = nil
		sc := bufio.NewScanner(io.Stdin)
		for sc.Scan() {
			if line := strings.TrimSpace(sc.Text()); line != "" {
				numbers = append(numbers, line)
			}
		}
		if err := sc.Err(); err != nil {
			return err
		}
	}
	today := time.Now().UTC()
	invalid := 0
	enc := json.NewEncoder(io.Stdout)
	for _, n := range numbers {
		r := checkNumber(n, countries, nordic.Options{On: today, AllowInterim: *interim}, today)
		if !r.Valid {
			invalid++
		}
		if *asJSON {
			enc.Encode(r)
		} else {
			printCheck(io, n, r)
		}
	}
	if invalid > 0 {
		return negativef("%d of %d numbers are not valid", invalid, len(numbers))
	}
	return nil
}

// idCheck is the answer for one number; Matches lists every reading that is valid.
type idCheck struct {
	Input   string    `json:"input"`
	Valid   bool      `json:"valid"`
	Matches []idMatch `json:"matches,omitempty"`
	Reasons []string  `json:"reasons,omitempty"`
}

type idMatch struct {
	Country        string `json:"country"`
	Kind           string `json:"kind"`
	Canonical      string `json:"canonical"`
	Masked         string `json:"masked"`
	BirthDate      string `json:"birth_date,omitempty"`
	Age            *int   `json:"age,omitempty"`
	Sex            string `json:"sex,omitempty"`
	CenturyGuessed bool   `json:"century_guessed,omitempty"`
	Mod11          *bool  `json:"mod11,omitempty"`
	AlsoOrgNumber  bool   `json:"also_org_number,omitempty"`
}

func checkNumber(n string, countries []nordic.Country, opt nordic.Options, today time.Time) idCheck {
	r := idCheck{Input: n}
	add := func(c nordic.Country, what string, id nordic.ID, err error) {
		if err != nil {
			r.Reasons = append(r.Reasons, fmt.Sprintf("%s %s: %s", c, what, reason(err)))
			return
		}
		m := idMatch{Country: string(id.Country), Kind: string(id.Kind), Canonical: id.Canonical, Masked: id.Masked(),
			Sex: string(id.Sex), CenturyGuessed: id.CenturyGuessed, AlsoOrgNumber: id.AlsoOrgNumber}
		if !id.BirthDate.IsZero() {
			m.BirthDate = id.BirthDate.Format(time.DateOnly)
			age := id.Age(today)
			m.Age = &age
		}
		if id.Kind == nordic.KindCPR {
			m.Mod11 = &id.Mod11
		}
		r.Matches = append(r.Matches, m)
	}
	for _, c := range countries {
		id, err := nordic.ParsePerson(c, n, opt)
		add(c, "person", id, err)
		id, err = nordic.ParseOrg(c, n)
		add(c, "organisation", id, err)
	}
	r.Valid = len(r.Matches) > 0
	if r.Valid {
		r.Reasons = nil
	}
	return r
}

func reason(err error) string {
	var ne *nordic.Error
	if errors.As(err, &ne) {
		return ne.Reason
	}
	return err.Error()
}

func printCheck(io IO, input string, r idCheck) {
	if !r.Valid {
		fmt.Fprintf(io.Stdout, "%s: not valid (%s)\n", input, strings.Join(r.Reasons, "; "))
		return
	}
	for _, m := range r.Matches {
		fmt.Fprintf(io.Stdout, "%s: valid %s %s %s", input, m.Country, m.Kind, m.Canonical)
		if m.BirthDate != "" {
			fmt.Fprintf(io.Stdout, ", born %s (age %d)", m.BirthDate, *m.Age)
			if m.CenturyGuessed {
				fmt.Fprint(io.Stdout, " (century guessed)")
			}
		}
		if m.Sex != "" {
			fmt.Fprintf(io.Stdout, ", %s", m.Sex)
		}
		if m.Mod11 != nil {
			fmt.Fprintf(io.Stdout, ", modulus 11: %v", *m.Mod11)
		}
		if m.AlsoOrgNumber {
			fmt.Fprint(io.Stdout, ", also a sole trader's organisation number")
		}
		fmt.Fprintf(io.Stdout, "; masked %s\n", m.Masked)
	}
}
