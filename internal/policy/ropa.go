package policy

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"io"
	"slices"
	"strings"
	"time"
)

// Record is the record of processing activities of GDPR Art. 30(1) (P5), built
// from the policy file alone: the controller and its DPO, and for each category of
// personal data the purposes, legal basis, data subjects, recipients with their
// country and transfer basis, the retention and the security measures. All words
// are English.
type Record struct {
	Controller Controller `json:"controller"`
	// Authority is the lead supervisory authority.
	Authority string `json:"authority"`
	// PolicyVersion and EffectiveAt say which published version the record was
	// made from; zero when made from a file (ROPA).
	PolicyVersion int         `json:"policy_version,omitempty"`
	EffectiveAt   *time.Time  `json:"effective_at,omitempty"`
	Activities    []Activity  `json:"activities"`
	Recipients    []RecipRow  `json:"recipients"`
	Storage       []StoredAt  `json:"storage"`
	Security      []string    `json:"security_measures"`
	Cookies       []CookieRow `json:"cookies"`
}

// Controller is the controller's identity and contact details (Art. 30(1)(a)).
type Controller struct {
	Name      string       `json:"name"`
	TradeName string       `json:"trade_name,omitempty"`
	OrgNumber string       `json:"org_number"`
	Country   string       `json:"country"`
	Address   string       `json:"address"`
	Email     string       `json:"email"`
	Phone     string       `json:"phone,omitempty"`
	Website   string       `json:"website,omitempty"`
	DPO       *DPORow      `json:"dpo,omitempty"`
	Breach    []ContactRow `json:"breach_contacts"`
}

// ContactRow is a person or function to reach about a breach.
type ContactRow struct {
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// DPORow is the data protection officer.
type DPORow struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email"`
	Phone string `json:"phone,omitempty"`
}

// Activity is one processing activity: one category of the policy.
type Activity struct {
	ID                 string   `json:"id"`
	Name               string   `json:"name"`
	PurposeCodes       []string `json:"purpose_codes"`
	Purposes           []string `json:"purposes"`
	Description        string   `json:"description,omitempty"`
	BasisCode          string   `json:"basis_code"`
	LegalBasis         string   `json:"legal_basis"`
	LegitimateInterest string   `json:"legitimate_interest,omitempty"`
	SpecialBasis       string   `json:"special_basis,omitempty"`
	DataSubjects       []string `json:"data_subjects"`
	Data               string   `json:"data,omitempty"`
	Sources            []string `json:"sources"`
	Recipients         []string `json:"recipients"` // ids into Record.Recipients
	ThirdCountries     []string `json:"third_countries"`
	Retention          string   `json:"retention"`
}

// RecipRow is a recipient or processor of the register, with the transfer basis
// where it sits outside the EU/EEA.
type RecipRow struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Role          string   `json:"role"`
	Purposes      []string `json:"purposes"`
	Country       string   `json:"country"`
	CountryName   string   `json:"country_name"`
	InEEA         bool     `json:"in_eea"`
	TransferBasis string   `json:"transfer_basis"`
	Transfer      string   `json:"transfer"`
	Fields        []string `json:"fields,omitempty"`
}

// StoredAt is a storage place of the policy (backups included).
type StoredAt struct {
	Country     string `json:"country"`
	CountryName string `json:"country_name"`
	Description string `json:"description,omitempty"`
	Transfer    string `json:"transfer"`
}

// CookieRow is a cookie of the website, processing about website visitors.
type CookieRow struct {
	Name     string `json:"name"`
	Category string `json:"category"`
	Provider string `json:"provider"`
	Lifetime string `json:"lifetime"`
	Purpose  string `json:"purpose"`
}

// Data subjects as the record names them.
const (
	SubjectCustomers = "customers and their contact persons"
	SubjectVisitors  = "website visitors"
	SubjectProspects = "newsletter subscribers and prospective customers"
)

// dataSubjects says whom a category is about. Every category is about customers,
// except statistics and advertising-only categories where the policy has cookies,
// which are about website visitors; marketing and newsletters also reach people who
// are not (yet) customers.
func dataSubjects(p *Policy, c Category) []string {
	web := false
	customer := false
	prospect := false
	for _, pu := range c.Purposes {
		switch pu {
		case PurposeStatistics, PurposeTargetedAds, PurposeProfiling, PurposeThirdPartyMarketing:
			web = web || len(p.Cookies) > 0
			customer = customer || len(p.Cookies) == 0
		case PurposeNewsletter, PurposeOwnMarketing:
			prospect, customer = true, true
		default:
			customer = true
		}
	}
	var out []string
	if customer {
		out = append(out, SubjectCustomers)
	}
	if prospect {
		out = append(out, SubjectProspects)
	}
	if web {
		out = append(out, SubjectVisitors)
	}
	return out
}

// ROPA builds the Art. 30 record of p, which must have parsed without errors.
func ROPA(p *Policy) Record {
	b := &builder{p: p, c: &en, lang: EN}
	co := p.Company
	r := Record{
		Controller: Controller{Name: co.Name, TradeName: co.TradeName, OrgNumber: co.OrgNumber, Country: string(co.Country),
			Address: co.Address.Street + ", " + co.Address.PostalCode + " " + co.Address.City + ", " + CountryName(co.Country, EN),
			Email:   co.Email, Phone: co.Phone, Website: co.Website, Breach: []ContactRow{}},
		Activities: []Activity{}, Recipients: []RecipRow{}, Storage: []StoredAt{}, Security: []string{}, Cookies: []CookieRow{},
	}
	for _, c := range p.Privacy.BreachContacts {
		r.Controller.Breach = append(r.Controller.Breach, ContactRow{Name: c.Name, Email: c.Email, Phone: c.Phone})
	}
	if co.DPO != nil {
		r.Controller.DPO = &DPORow{Name: co.DPO.Name, Email: co.DPO.Email, Phone: co.DPO.Phone}
	}
	if a, ok := LookupAuthority(p.Authority); ok {
		r.Authority = a.Name.In(EN)
	}
	byID := map[string]RecipRow{}
	for _, x := range p.Recipients {
		row := RecipRow{ID: x.ID, Name: x.Name, Role: en.roles[x.Role], Purposes: []string{}, Country: string(x.Country),
			CountryName: CountryName(x.Country, EN), InEEA: InEEA(x.Country), TransferBasis: string(x.Transfer),
			Transfer: en.noTransfer, Fields: x.Fields}
		if x.Transfer != "" {
			row.Transfer = en.transfers[x.Transfer]
		}
		for _, pu := range x.Purposes {
			row.Purposes = append(row.Purposes, en.purposes[pu])
		}
		r.Recipients = append(r.Recipients, row)
		byID[x.ID] = row
	}
	for _, c := range p.Categories {
		a := Activity{ID: c.ID, Name: c.Name.In(EN), PurposeCodes: []string{}, Purposes: []string{}, Description: c.Description.In(EN),
			BasisCode: string(c.Basis), LegalBasis: en.basis[c.Basis], LegitimateInterest: c.LegitimateInterest.In(EN),
			DataSubjects: dataSubjects(p, c), Data: c.Data.In(EN), Sources: []string{}, Recipients: []string{},
			ThirdCountries: []string{}, Retention: b.retention(c.Retention)}
		if c.SpecialBasis != "" {
			a.SpecialBasis = string(c.SpecialBasis)
		}
		for _, pu := range c.Purposes {
			a.PurposeCodes = append(a.PurposeCodes, string(pu))
			a.Purposes = append(a.Purposes, en.purposes[pu])
		}
		for _, s := range c.Sources {
			if s == SourceDataSubject {
				a.Sources = append(a.Sources, "the data subject") // the catalog says "you"
				continue
			}
			a.Sources = append(a.Sources, en.sources[s])
		}
		for _, id := range c.Recipients {
			a.Recipients = append(a.Recipients, id)
			if x, ok := byID[id]; ok && !x.InEEA && !slices.Contains(a.ThirdCountries, x.Country) {
				a.ThirdCountries = append(a.ThirdCountries, x.Country)
			}
		}
		r.Activities = append(r.Activities, a)
	}
	for _, s := range p.Storage {
		row := StoredAt{Country: string(s.Country), CountryName: CountryName(s.Country, EN), Description: s.Description.In(EN), Transfer: en.noTransfer}
		if s.Transfer != "" {
			row.Transfer = en.transfers[s.Transfer]
		}
		r.Storage = append(r.Storage, row)
	}
	for _, m := range p.Security {
		r.Security = append(r.Security, m.In(EN))
	}
	if len(p.Privacy.StaffAccessReasons) > 0 {
		var rs []string
		for _, x := range p.Privacy.StaffAccessReasons {
			rs = append(rs, en.reasons[x])
		}
		r.Security = append(r.Security, fmt.Sprintf(en.staffAccess, en.list(rs)))
	}
	for _, c := range p.Cookies {
		life := en.session
		if !c.Lifetime.Session {
			life = en.words(c.Lifetime.Duration)
		}
		r.Cookies = append(r.Cookies, CookieRow{Name: c.Name, Category: string(c.Category), Provider: c.Provider, Lifetime: life, Purpose: c.Purpose.In(EN)})
	}
	return r
}

// JSON is the record as indented JSON.
func (r Record) JSON() []byte {
	b, _ := json.MarshalIndent(r, "", "  ")
	return append(b, '\n')
}

// CSVHeader is the header row of CSV.
var CSVHeader = []string{"controller", "org_number", "activity_id", "activity", "purposes", "legal_basis", "legitimate_interest",
	"data_subjects", "data", "sources", "retention", "recipient", "recipient_role", "recipient_country", "transfer_basis",
	"third_countries", "security_measures"}

// CSV is the record as CSV: one row per activity and recipient, so a spreadsheet can
// filter on either; an activity without recipients has one row with the recipient
// columns empty. Lists within a cell are joined with "; ". The controller and the
// security measures repeat on every row, so each row stands alone.
func (r Record) CSV() []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(CSVHeader)
	byID := map[string]RecipRow{}
	for _, x := range r.Recipients {
		byID[x.ID] = x
	}
	sec := strings.Join(r.Security, "; ")
	for _, a := range r.Activities {
		base := []string{r.Controller.Name, r.Controller.OrgNumber, a.ID, a.Name, strings.Join(a.Purposes, "; "), a.LegalBasis,
			a.LegitimateInterest, strings.Join(a.DataSubjects, "; "), a.Data, strings.Join(a.Sources, "; "), a.Retention}
		tail := []string{strings.Join(a.ThirdCountries, "; "), sec}
		if len(a.Recipients) == 0 {
			w.Write(slices.Concat(base, []string{"", "", "", ""}, tail))
			continue
		}
		for _, id := range a.Recipients {
			x, ok := byID[id]
			if !ok {
				x = RecipRow{Name: id}
			}
			w.Write(slices.Concat(base, []string{x.Name, x.Role, x.CountryName, x.Transfer}, tail))
		}
	}
	w.Flush()
	return buf.Bytes()
}

var ropaTmpl = htmltemplate.Must(htmltemplate.New("ropa").Funcs(htmltemplate.FuncMap{
	"join": strings.Join,
	"recip": func(r Record, id string) RecipRow {
		for _, x := range r.Recipients {
			if x.ID == id {
				return x
			}
		}
		return RecipRow{Name: id}
	},
}).Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head><meta charset="utf-8"><title>Record of processing activities – {{.R.Controller.Name}}</title></head>
<body>
<h1>Record of processing activities – {{.R.Controller.Name}}</h1>
<p>GDPR Article 30(1).{{if .R.PolicyVersion}} Made from policy version {{.R.PolicyVersion}}{{with .R.EffectiveAt}}, in effect from {{.Format "2006-01-02"}}{{end}}.{{end}}</p>
<h2>Controller</h2>
<dl>
<dt>Name</dt><dd>{{.R.Controller.Name}}{{with .R.Controller.TradeName}} ({{.}}){{end}}</dd>
<dt>Registration number</dt><dd>{{.R.Controller.OrgNumber}}</dd>
<dt>Address</dt><dd>{{.R.Controller.Address}}</dd>
<dt>E-mail</dt><dd>{{.R.Controller.Email}}</dd>
{{with .R.Controller.Phone}}<dt>Phone</dt><dd>{{.}}</dd>{{end}}
{{with .R.Controller.DPO}}<dt>Data protection officer</dt><dd>{{.Name}} {{.Email}} {{.Phone}}</dd>{{end}}
<dt>Supervisory authority</dt><dd>{{.R.Authority}}</dd>
</dl>
<h2>Processing activities</h2>
{{range .R.Activities}}{{$a := .}}<section id="{{.ID}}">
<h3>{{.Name}}</h3>
<dl>
<dt>Purposes</dt><dd>{{join .Purposes "; "}}</dd>
{{with .Description}}<dt>Description</dt><dd>{{.}}</dd>{{end}}
<dt>Legal basis</dt><dd>{{.LegalBasis}}{{with .LegitimateInterest}}: {{.}}{{end}}{{with .SpecialBasis}}; Art. 9(2): {{.}}{{end}}</dd>
<dt>Data subjects</dt><dd>{{join .DataSubjects "; "}}</dd>
{{with .Data}}<dt>Personal data</dt><dd>{{.}}</dd>{{end}}
<dt>Sources</dt><dd>{{join .Sources "; "}}</dd>
<dt>Recipients</dt><dd>{{if .Recipients}}<ul>{{range .Recipients}}{{with recip $.R .}}<li>{{.Name}} ({{.Role}}, {{.CountryName}}; {{.Transfer}})</li>{{end}}{{end}}</ul>{{else}}none{{end}}</dd>
<dt>Transfers to third countries</dt><dd>{{if .ThirdCountries}}{{join .ThirdCountries ", "}}{{else}}none{{end}}</dd>
<dt>Erasure</dt><dd>{{.Retention}}</dd>
</dl>
</section>
{{end}}
<h2>Recipients and processors</h2>
{{if .R.Recipients}}<table>
<thead><tr><th>Recipient</th><th>Role</th><th>Purposes</th><th>Country</th><th>Transfer basis</th></tr></thead>
<tbody>{{range .R.Recipients}}<tr><td>{{.Name}}</td><td>{{.Role}}</td><td>{{join .Purposes "; "}}</td><td>{{.CountryName}}</td><td>{{.Transfer}}</td></tr>
{{end}}</tbody>
</table>{{else}}<p>None.</p>{{end}}
{{if .R.Storage}}<h2>Storage</h2>
<ul>{{range .R.Storage}}<li>{{.CountryName}}{{with .Description}}: {{.}}{{end}} ({{.Transfer}})</li>{{end}}</ul>{{end}}
{{if .R.Cookies}}<h2>Cookies (website visitors)</h2>
<table>
<thead><tr><th>Cookie</th><th>Set by</th><th>Category</th><th>Purpose</th><th>Lifetime</th></tr></thead>
<tbody>{{range .R.Cookies}}<tr><td>{{.Name}}</td><td>{{.Provider}}</td><td>{{.Category}}</td><td>{{.Purpose}}</td><td>{{.Lifetime}}</td></tr>
{{end}}</tbody>
</table>{{end}}
<h2>Technical and organisational security measures</h2>
<ul>{{range .R.Security}}<li>{{.}}</li>{{end}}</ul>
</body>
</html>
`))

// HTML renders the record as a standalone HTML page. The record's words are English
// whatever lang is; lang only sets the page's lang attribute (en when empty).
func (r Record) HTML(lang Lang) []byte {
	if lang == "" {
		lang = EN
	}
	var buf bytes.Buffer
	if err := ropaTmpl.Execute(&buf, struct {
		Lang Lang
		R    Record
	}{lang, r}); err != nil {
		// The template and the record are ours; a failure is a programming error.
		panic(err)
	}
	return buf.Bytes()
}

// Render returns the record in format json, csv or html, with its content type.
func (r Record) Render(format string) (body []byte, contentType string, err error) {
	switch format {
	case "", "json":
		return r.JSON(), "application/json", nil
	case "csv":
		return r.CSV(), "text/csv; charset=utf-8", nil
	case "html":
		return r.HTML(EN), "text/html; charset=utf-8", nil
	}
	return nil, "", fmt.Errorf("policy: unknown record format %q (want json, csv or html)", format)
}

// CurrentROPA is the record of the version in effect now; ErrNoVersion when nothing
// is published (or in effect yet).
func (v *Versions) CurrentROPA(ctx context.Context) (Record, error) {
	n, err := v.Current(ctx, v.now())
	if err != nil {
		return Record{}, err
	}
	p, err := v.Policy(ctx, n)
	if err != nil {
		return Record{}, err
	}
	var eff int64
	if err := v.st.DB().QueryRowContext(ctx, `SELECT effective_at FROM policy_versions WHERE n = $1`, n).Scan(&eff); err != nil {
		return Record{}, err
	}
	r := ROPA(p)
	r.PolicyVersion = n
	t := time.UnixMicro(eff).UTC()
	r.EffectiveAt = &t
	return r, nil
}

// WriteROPA writes the record of the version in effect now to w in format json, csv
// or html (for `tillit policy ropa`). ErrNoVersion: nothing is published.
func WriteROPA(ctx context.Context, versions *Versions, w io.Writer, format string) error {
	if !slices.Contains([]string{"", "json", "csv", "html"}, format) {
		return fmt.Errorf("policy: unknown record format %q (want json, csv or html)", format)
	}
	r, err := versions.CurrentROPA(ctx)
	if err != nil {
		return err
	}
	body, _, _ := r.Render(format)
	_, err = w.Write(body)
	return err
}
