package customer

// Bulk import of customers from CSV (issue 7 item 9).
//
// An import is all or nothing. It runs in three steps:
//
//  1. read and validate: every row is checked with the rules of Create (NewCustomer.validate),
//     for duplicates within the file (blind indexes of identity or org number and e-mail),
//     and then, in batched look-ups, against the register. Nothing is written; a file
//     with any bad row stops here with a per-row report.
//  2. keys and sealing: each customer gets an id and a data key, and its fields are sealed,
//     outside any data write. The keystore commits each new key on its own (a separate
//     database on SQLite, the same group writer on PostgreSQL, which must not be
//     re-entered from inside a write); Import asks for keys from several goroutines so
//     that the keystore's group commit takes them many to a commit.
//  3. one store.Write inserts every customer, their sealed fields and one customer.import
//     audit entry: one savepoint of the shared transaction, on both engines, so that the
//     register holds all of the file or none of it. A crash, a cancelled context or a
//     conflict (a customer with the same identity number added meanwhile) anywhere in it
//     leaves nothing visible, with no marker or clean-up needed.
//
// Why one write rather than chunks with a batch marker: the marker would have to hide
// incomplete rows from every query of every room that reads customers, and a clean-up
// would have to find them after a crash. One write keeps the guarantee in the database.
// Its cost is that the write holds the SQLite writer for the insert (about two seconds
// per 100,000 customers here) and that sealed rows are held in memory until then (about
// 1 KB a customer). Data keys made in step 2 for an import that then fails stay in the
// keystore without data; they hold nothing personal.

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tillit/internal/nordic"
	"tillit/internal/security"
	"tillit/internal/store"
)

// Import stages, as Progress reports them.
const (
	StageRead  = "read"  // rows read and validated; total is 0 (unknown) until the end
	StageCheck = "check" // look-ups of duplicates in the register
	StageKeys  = "keys"  // data keys made and fields sealed
	StageWrite = "write" // rows inserted in the one write
)

// ImportOptions tune Import.
type ImportOptions struct {
	// Mapping maps a CSV header (as written in the file) to a register field, and
	// overrides the default mapping by header name; "-" or "" ignores the column.
	// Fields: name, email, phone, identity_number, org_number, kind, country, language,
	// status, street, postal_code, city, address_country, address_role, contacts (JSON
	// list), and per role {registered,invoice,installation,delivery}_{street,postal_code,
	// city,country}.
	Mapping map[string]string
	// DryRun validates and checks everything and writes nothing.
	DryRun bool
	// Source is the K5 source recorded on every field; default import.
	Source Source
	// Country is used for rows with no country; default SE.
	Country nordic.Country
	// Progress, if not nil, is called now and then with the stage, the work done and
	// the total (0 when not yet known). It runs on Import's goroutines; keep it short.
	Progress func(stage string, done, total int)
	// MaxErrors caps the row errors kept in the report (ErrorCount counts them all);
	// default 1000.
	MaxErrors int
}

// RowError is one problem of one row. It never holds the value itself.
type RowError struct {
	Line    int    `json:"line"`             // 1-based line of the CSV file, the header being line 1
	Column  string `json:"column,omitempty"` // the CSV header, as written in the file
	Field   string `json:"field,omitempty"`  // the register field, e.g. "identity_number", "addresses/invoice/postal_code"
	Message string `json:"message"`
}

func (e RowError) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "line %d: ", e.Line)
	switch {
	case e.Column != "" && e.Field != "" && e.Column != e.Field:
		fmt.Fprintf(&b, "%s (%s): ", e.Column, e.Field)
	case e.Column != "":
		b.WriteString(e.Column + ": ")
	case e.Field != "":
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// ImportReport is what Import found and did.
type ImportReport struct {
	Rows       int        `json:"rows"`        // data rows read (blank rows not counted)
	Valid      int        `json:"valid"`       // rows without any error
	ErrorCount int        `json:"error_count"` // all errors, even beyond MaxErrors
	Errors     []RowError `json:"errors"`      // sorted by line; at most MaxErrors
	DryRun     bool       `json:"dry_run"`
	Imported   int        `json:"imported"` // customers written: Rows, or 0
	BatchID    string     `json:"batch_id,omitempty"`
	Delimiter  string     `json:"delimiter"`
}

// ErrImportInvalid is returned (with the report) when any row is bad: nothing was written.
var ErrImportInvalid = errors.New("the import file has invalid rows; nothing was imported")

// headerSynonyms maps a normalised header (lower case, spaces and dashes as
// underscores) to a register field.
var headerSynonyms = map[string]string{}

func init() {
	add := func(field string, names ...string) {
		headerSynonyms[field] = field
		for _, n := range names {
			headerSynonyms[normHeader(n)] = field
		}
	}
	add("name", "namn", "navn", "full name", "fullständigt namn", "fulde navn", "fullt navn", "kundnamn", "kundenavn", "företagsnamn", "firmanavn")
	add("email", "e-mail", "e-post", "epost", "mail", "email address", "e-postadress", "e-mailadresse", "e-postadresse")
	add("phone", "telefon", "telefonnummer", "tlf", "tel", "mobil", "mobile", "mobilnummer", "telephone", "phone number")
	add("identity_number", "personnummer", "personnr", "pnr", "cpr", "cpr-nummer", "cpr-nr", "cprnr", "fødselsnummer", "fodselsnummer",
		"fødselsnr", "samordningsnummer", "d-nummer", "identity number", "personal number")
	add("org_number", "organisationsnummer", "orgnr", "org-nr", "org nr", "cvr", "cvr-nummer", "cvr-nr", "organisasjonsnummer",
		"organisation number", "organization number")
	add("kind", "typ", "type", "kundtyp", "kundetype")
	add("country", "land", "landekode", "landskod")
	add("language", "språk", "sprak", "sprog", "lang")
	add("status")
	add("street", "address", "adress", "adresse", "gatuadress", "gateadresse", "gade", "vej", "utdelningsadress", "street address")
	add("postal_code", "postnummer", "postnr", "post nr", "zip", "zip code", "postcode", "postal code")
	add("city", "ort", "postort", "by", "poststed", "stad", "town")
	add("address_country", "address country", "adressland")
	add("address_role", "address role", "adresstyp", "adressetype", "adressroll")
	add("contacts", "kontakter", "kontaktpersoner", "kontaktpersonar")
	for _, r := range AddressRoles {
		for _, p := range []string{"street", "postal_code", "city", "country"} {
			add(string(r) + "_" + p)
		}
	}
	// What Export writes but an import does not take: a new customer gets its own.
	for _, n := range []string{"id", "number", "created_at", "updated_at", "birth_date"} {
		headerSynonyms[n] = "-"
	}
}

func normHeader(s string) string {
	s = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(s, "\ufeff")))
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '.' {
			return '_'
		}
		return r
	}, s)
	return s
}

// importable lists the fields a column can map to.
func importable(f string) bool {
	switch f {
	case "name", "email", "phone", "identity_number", "org_number", "kind", "country", "language", "status",
		"street", "postal_code", "city", "address_country", "address_role", "contacts":
		return true
	}
	role, part, ok := strings.Cut(f, "_")
	if !ok || !slices.Contains(AddressRoles, AddressRole(role)) {
		return false
	}
	return slices.Contains([]string{"street", "postal_code", "city", "country"}, part)
}

// columns is the mapping of one file's header.
type columns struct {
	header []string // as written (BOM removed)
	field  []string // field of each column; "" ignored
	byName map[string]int
}

func mapHeader(header []string, mapping map[string]string) (columns, []RowError) {
	c := columns{header: make([]string, len(header)), field: make([]string, len(header)), byName: map[string]int{}}
	var errs []RowError
	userMap := map[string]string{}
	for k, v := range mapping {
		userMap[normHeader(k)] = strings.TrimSpace(v)
	}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		c.header[i] = h
		f, ok := userMap[normHeader(h)]
		if ok {
			if f != "" && f != "-" {
				f = normHeader(f)
				if !importable(f) {
					errs = append(errs, RowError{Line: 1, Column: h, Message: "is mapped to an unknown field"})
					continue
				}
			}
		} else if f, ok = headerSynonyms[normHeader(h)]; !ok {
			errs = append(errs, RowError{Line: 1, Column: h,
				Message: "is not a known column; map it to a field (col=field) or ignore it (col=-)"})
			continue
		}
		if f == "-" {
			f = ""
		}
		if f == "" {
			continue
		}
		if j, dup := c.byName[f]; dup {
			errs = append(errs, RowError{Line: 1, Column: h, Field: f, Message: fmt.Sprintf("maps to the same field as column %q", c.header[j])})
			continue
		}
		c.field[i], c.byName[f] = f, i
	}
	for k := range userMap {
		found := false
		for _, h := range c.header {
			found = found || normHeader(h) == k
		}
		if !found {
			errs = append(errs, RowError{Line: 1, Column: k, Message: "is mapped but is not in the header"})
		}
	}
	if _, ok := c.byName["name"]; !ok && len(errs) == 0 {
		errs = append(errs, RowError{Line: 1, Field: "name", Message: "the file has no column for the name"})
	}
	return c, errs
}

func (c columns) get(rec []string, field string) string {
	if i, ok := c.byName[field]; ok && i < len(rec) {
		return strings.TrimSpace(rec[i])
	}
	return ""
}

// column names the CSV column that holds a register field (a validation pointer
// without its slash), given the row's role for the generic address columns.
func (c columns) column(field string, role AddressRole) string {
	if i, ok := c.byName[field]; ok {
		return c.header[i]
	}
	if rest, ok := strings.CutPrefix(field, "addresses/"); ok {
		r, part, _ := strings.Cut(rest, "/")
		if i, ok := c.byName[r+"_"+part]; ok {
			return c.header[i]
		}
		if r == string(role) {
			g := part
			if part == "country" {
				g = "address_country"
			}
			if i, ok := c.byName[g]; ok {
				return c.header[i]
			}
			if part == "" {
				if i, ok := c.byName["address_role"]; ok {
					return c.header[i]
				}
			}
		}
	}
	if strings.HasPrefix(field, "contacts") {
		if i, ok := c.byName["contacts"]; ok {
			return c.header[i]
		}
	}
	return ""
}

var kindWords = map[string]Kind{
	"person": KindPerson, "privat": KindPerson, "privatperson": KindPerson, "private": KindPerson, "p": KindPerson,
	"company": KindCompany, "företag": KindCompany, "foretag": KindCompany, "firma": KindCompany, "virksomhed": KindCompany,
	"bedrift": KindCompany, "selskap": KindCompany, "business": KindCompany, "organisation": KindCompany, "c": KindCompany,
}

var countryWords = map[string]nordic.Country{
	"se": nordic.SE, "sverige": nordic.SE, "sweden": nordic.SE, "swe": nordic.SE,
	"dk": nordic.DK, "danmark": nordic.DK, "denmark": nordic.DK, "dnk": nordic.DK,
	"no": nordic.NO, "norge": nordic.NO, "norway": nordic.NO, "nor": nordic.NO,
}

func country(s string) nordic.Country {
	if c, ok := countryWords[strings.ToLower(strings.TrimSpace(s))]; ok {
		return c
	}
	return nordic.Country(strings.ToUpper(strings.TrimSpace(s)))
}

// newCustomer builds what Create would take from one record. Problems that Create's
// validation cannot see (a malformed contacts list) are returned as row errors.
func (c columns) newCustomer(rec []string, def nordic.Country, src Source) (NewCustomer, AddressRole, []FieldError) {
	var errs []FieldError
	n := NewCustomer{
		Name: c.get(rec, "name"), Email: c.get(rec, "email"), Phone: c.get(rec, "phone"),
		IdentityNumber: c.get(rec, "identity_number"), OrgNumber: c.get(rec, "org_number"),
		Language: strings.ToLower(c.get(rec, "language")), Status: Status(strings.ToLower(c.get(rec, "status"))),
		Source: src, Country: def,
	}
	if s := c.get(rec, "country"); s != "" {
		n.Country = country(s)
	}
	switch k := strings.ToLower(c.get(rec, "kind")); {
	case k == "" && n.OrgNumber != "" && n.IdentityNumber == "":
		n.Kind = KindCompany
	case k == "":
		n.Kind = KindPerson
	default:
		if kk, ok := kindWords[k]; ok {
			n.Kind = kk
		} else {
			n.Kind = Kind(k) // validate names it
		}
	}
	role := AddressRegistered
	if n.Kind == KindCompany {
		role = AddressInvoice
	}
	if r := strings.ToLower(c.get(rec, "address_role")); r != "" {
		role = AddressRole(r)
	}
	addr := func(r AddressRole, street, pc, city, ctry string) {
		if street == "" && pc == "" && city == "" {
			return
		}
		if n.Addresses == nil {
			n.Addresses = map[AddressRole]Address{}
		}
		a := Address{Street: street, PostalCode: pc, City: city}
		if ctry != "" {
			a.Country = country(ctry)
		}
		n.Addresses[r] = a
	}
	addr(role, c.get(rec, "street"), c.get(rec, "postal_code"), c.get(rec, "city"), c.get(rec, "address_country"))
	for _, r := range AddressRoles {
		p := string(r) + "_"
		addr(r, c.get(rec, p+"street"), c.get(rec, p+"postal_code"), c.get(rec, p+"city"), c.get(rec, p+"country"))
	}
	if s := c.get(rec, "contacts"); s != "" {
		dec := json.NewDecoder(strings.NewReader(s))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&n.Contacts); err != nil {
			errs = append(errs, FieldError{"/contacts", `must be a JSON list of contacts, e.g. [{"name":…,"email":…,"phone":…,"role":…}]`})
		}
	}
	return n, role, errs
}

// sniff skips a UTF-8 byte order mark and picks the delimiter the header line uses most
// outside quotes: ',' or ';' (Nordic spreadsheets) or a tab.
func sniff(br *bufio.Reader) (rune, error) {
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
	}
	var line []byte
	for n := 512; ; n *= 2 {
		b, err := br.Peek(n)
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line = b[:i]
			break
		}
		if err != nil || n >= br.Size() {
			line = b
			break
		}
	}
	counts := map[rune]int{}
	quoted := false
	for _, r := range string(line) {
		switch {
		case r == '"':
			quoted = !quoted
		case !quoted && (r == ',' || r == ';' || r == '\t'):
			counts[r]++
		}
	}
	best := ','
	for _, r := range []rune{';', '\t'} {
		if counts[r] > counts[best] {
			best = r
		}
	}
	if len(line) == 0 {
		return 0, errors.New("the file is empty")
	}
	return best, nil
}

// importRow is a valid row waiting for its key.
type importRow struct {
	line int
	n    NewCustomer
}

type importer struct {
	s      *Service
	opt    ImportOptions
	rep    ImportReport
	errs   []RowError
	rows   []importRow
	ident  map[string]int // blind index -> first line
	email  map[string]int
	regIDs []regKey // look-ups against the register
	bad    map[int]bool
}

type regKey struct {
	line  int
	field string
	col   string
	bidx  string
}

func (im *importer) fail(e RowError) {
	im.rep.ErrorCount++
	if e.Line > 1 {
		im.bad[e.Line] = true
	}
	if len(im.errs) < im.opt.MaxErrors {
		im.errs = append(im.errs, e)
	}
}

func (im *importer) progress(stage string, done, total int) {
	if im.opt.Progress != nil {
		im.opt.Progress(stage, done, total)
	}
}

// Import reads customers from CSV and adds them all to the register, or none. See
// ImportOptions for the columns. Every row is validated with the rules of Create and
// checked for duplicates in the file and in the register first; when any row is bad
// (the error is ErrImportInvalid) or in a dry run nothing is written and the report
// lists each problem with its line. Otherwise every customer, every sealed field and
// one customer.import audit entry (counts only) commit together in one write.
func (s *Service) Import(ctx context.Context, r io.Reader, opt ImportOptions) (ImportReport, error) {
	if opt.Source == "" {
		opt.Source = SourceImport
	}
	if !validSource(opt.Source) {
		return ImportReport{}, &ValidationError{[]FieldError{{"/source", "unknown source"}}}
	}
	if opt.Country == "" {
		opt.Country = nordic.SE
	}
	if opt.MaxErrors <= 0 {
		opt.MaxErrors = 1000
	}
	im := &importer{s: s, opt: opt, ident: map[string]int{}, email: map[string]int{}, bad: map[int]bool{}}
	im.rep.DryRun = opt.DryRun
	if err := im.read(ctx, r); err != nil {
		return im.report(), err
	}
	if err := im.checkRegister(ctx); err != nil {
		return im.report(), err
	}
	if im.rep.ErrorCount > 0 {
		im.rows = nil
		return im.report(), ErrImportInvalid
	}
	if opt.DryRun || len(im.rows) == 0 {
		return im.report(), nil
	}
	ps, err := im.prepareAll(ctx)
	if err != nil {
		return im.report(), err
	}
	batch := store.NewID()
	if err := im.write(ctx, batch, ps); err != nil {
		return im.report(), err
	}
	im.rep.Imported, im.rep.BatchID = len(ps), batch
	return im.report(), nil
}

func (im *importer) report() ImportReport {
	r := im.rep
	r.Valid = max(0, r.Rows-len(im.bad))
	sort.SliceStable(im.errs, func(i, j int) bool { return im.errs[i].Line < im.errs[j].Line })
	r.Errors = im.errs
	if r.Errors == nil {
		r.Errors = []RowError{}
	}
	return r
}

func (im *importer) read(ctx context.Context, r io.Reader) error {
	br := bufio.NewReaderSize(r, 1<<16)
	delim, err := sniff(br)
	if err != nil {
		im.fail(RowError{Line: 1, Message: err.Error()})
		return nil
	}
	im.rep.Delimiter = string(delim)
	cr := csv.NewReader(br)
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		im.fail(RowError{Line: 1, Message: "the header line is not CSV: " + csvReason(err)})
		return nil
	}
	cols, herrs := mapHeader(header, im.opt.Mapping)
	for _, e := range herrs {
		im.fail(e)
	}
	if len(herrs) > 0 {
		return nil // without a mapping the rows mean nothing
	}
	at := im.s.now().UTC()
	for {
		if im.rep.Rows%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			im.progress(StageRead, im.rep.Rows, 0)
		}
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				im.rep.Rows++
				im.fail(RowError{Line: pe.StartLine, Message: "is not valid CSV: " + csvReason(err)})
				continue
			}
			return fmt.Errorf("read the import file: %w", err)
		}
		if blank(rec) {
			continue
		}
		line, _ := cr.FieldPos(0)
		im.rep.Rows++
		if len(rec) != len(cols.header) {
			im.fail(RowError{Line: line, Message: fmt.Sprintf("has %d fields; the header has %d", len(rec), len(cols.header))})
			continue
		}
		im.row(line, rec, cols, at)
	}
	im.progress(StageRead, im.rep.Rows, im.rep.Rows)
	return nil
}

func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error() // the csv package's reasons never quote the data
	}
	return "unreadable"
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// row validates one record and remembers it if it is good.
func (im *importer) row(line int, rec []string, cols columns, at time.Time) {
	n, role, errs := cols.newCustomer(rec, im.opt.Country, im.opt.Source)
	norm, _, err := n.validate(at)
	var ve *ValidationError
	if errors.As(err, &ve) {
		errs = append(errs, ve.Fields...)
	} else if err != nil {
		errs = append(errs, FieldError{"", "is invalid"})
	}
	for _, fe := range errs {
		f := strings.TrimPrefix(fe.Field, "/")
		im.fail(RowError{Line: line, Column: cols.column(f, role), Field: f, Message: fe.Message})
	}
	if len(errs) > 0 {
		return
	}
	identity, email, _ := im.s.blinds(Customer{Kind: norm.Kind, Country: norm.Country, IdentityNumber: norm.IdentityNumber,
		OrgNumber: norm.OrgNumber, Email: norm.Email})
	bad := false
	if identity.Valid {
		f := "identity_number"
		if norm.Kind == KindCompany {
			f = "org_number"
		}
		if first, dup := im.ident[identity.String]; dup {
			im.fail(RowError{Line: line, Column: cols.column(f, role), Field: f, Message: fmt.Sprintf("is the same as on line %d", first)})
			bad = true
		} else {
			im.ident[identity.String] = line
			im.regIDs = append(im.regIDs, regKey{line, f, cols.column(f, role), identity.String})
		}
	}
	if email.Valid {
		if first, dup := im.email[email.String]; dup {
			im.fail(RowError{Line: line, Column: cols.column("email", role), Field: "email", Message: fmt.Sprintf("is the same as on line %d", first)})
			bad = true
		} else {
			im.email[email.String] = line
			im.regIDs = append(im.regIDs, regKey{line, "email", cols.column("email", role), email.String})
		}
	}
	if bad {
		return
	}
	if im.rep.ErrorCount == 0 {
		im.rows = append(im.rows, importRow{line: line, n: norm})
	} else {
		im.rows = nil // the import will not happen: keep no plaintext
	}
}

// checkRegister looks the file's identity numbers and e-mails up in the register, by
// blind index, in batches.
func (im *importer) checkRegister(ctx context.Context) error {
	const chunk = 500
	keys := im.regIDs
	done := 0
	for len(keys) > 0 {
		n := min(chunk, len(keys))
		part := keys[:n]
		keys = keys[n:]
		byCol := map[string][]regKey{}
		for _, k := range part {
			col := "identity_bidx"
			if k.field == "email" {
				col = "email_bidx"
			}
			byCol[col] = append(byCol[col], k)
		}
		for col, ks := range byCol {
			ph := make([]string, len(ks))
			args := make([]any, len(ks))
			for i, k := range ks {
				ph[i], args[i] = "$"+strconv.Itoa(i+1), k.bidx
			}
			rows, err := im.s.st.DB().QueryContext(ctx, `SELECT `+col+` FROM customers WHERE `+col+` IN (`+strings.Join(ph, ", ")+`)`, args...)
			if err != nil {
				return store.Classify(err)
			}
			found := map[string]bool{}
			for rows.Next() {
				var b string
				if err := rows.Scan(&b); err != nil {
					rows.Close()
					return err
				}
				found[b] = true
			}
			if err := rows.Close(); err != nil {
				return store.Classify(err)
			}
			if err := rows.Err(); err != nil {
				return store.Classify(err)
			}
			for _, k := range ks {
				if found[k.bidx] {
					im.fail(RowError{Line: k.line, Column: k.col, Field: k.field, Message: "another customer in the register already has this " + fieldWord(k.field)})
				}
			}
		}
		done += n
		im.progress(StageCheck, done, len(im.regIDs))
	}
	return nil
}

func fieldWord(f string) string {
	switch f {
	case "identity_number":
		return "identity number"
	case "org_number":
		return "organisation number"
	case "email":
		return "e-mail address"
	}
	return f
}

// prepareAll makes each customer's data key and seals its fields, from several
// goroutines so that the keystore's group commit stores many keys per commit. The
// plaintext row is dropped as soon as it is sealed.
func (im *importer) prepareAll(ctx context.Context) ([]*prepared, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ps := make([]*prepared, len(im.rows))
	workers := max(128, 8*runtime.GOMAXPROCS(0))
	var next, done atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	total := len(im.rows)
	var pmu sync.Mutex
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= total || ctx.Err() != nil {
					return
				}
				p, err := im.s.prepare(ctx, im.rows[i].n)
				if err != nil {
					once.Do(func() {
						firstErr = fmt.Errorf("line %d: %w", im.rows[i].line, err)
						cancel()
					})
					return
				}
				ps[i] = p
				im.rows[i] = importRow{}
				if d := done.Add(1); d%512 == 0 || int(d) == total {
					pmu.Lock()
					im.progress(StageKeys, int(d), total)
					pmu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	im.rows = nil
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return ps, nil
}

// bulk inserts rows of a fixed width through one prepared statement of rowsPer rows
// (parsing a statement costs as much as running it on SQLite), and the tail through
// one statement of its own size. Fewer than a few hundred parameters a statement:
// modernc's binding of $N parameters grows with the square of their number.
type bulk struct {
	ctx     context.Context
	tx      store.Tx
	head    string
	row     func(k int) string // the row's SQL with its first parameter $k+1
	width   int
	rowsPer int
	stmt    *sql.Stmt
	args    []any
	onErr   func(error) error
}

type preparer interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

func (b *bulk) sql(rows int) string {
	var q strings.Builder
	q.WriteString(b.head)
	for i := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(b.row(i * b.width))
	}
	return q.String()
}

func (b *bulk) add(args ...any) error {
	b.args = append(b.args, args...)
	if len(b.args) < b.width*b.rowsPer {
		return nil
	}
	if b.stmt == nil {
		if p, ok := b.tx.(preparer); ok {
			st, err := p.PrepareContext(b.ctx, b.sql(b.rowsPer))
			if err != nil {
				return err
			}
			b.stmt = st
		}
	}
	var err error
	if b.stmt != nil {
		_, err = b.stmt.ExecContext(b.ctx, b.args...)
	} else {
		_, err = b.tx.ExecContext(b.ctx, b.sql(b.rowsPer), b.args...)
	}
	b.args = b.args[:0]
	return b.onErr(err)
}

func (b *bulk) flush() error {
	var err error
	if n := len(b.args) / b.width; n > 0 {
		_, err = b.tx.ExecContext(b.ctx, b.sql(n), b.args...)
		b.args = b.args[:0]
	}
	if b.stmt != nil {
		b.stmt.Close()
		b.stmt = nil
	}
	return b.onErr(err)
}

func params(k, n int) string {
	var q strings.Builder
	for i := range n {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("$" + strconv.Itoa(k+i+1))
	}
	return q.String()
}

// write inserts every prepared customer and the audit entry in one store.Write. The
// statements run without the caller's cancellation (a cancelled statement can break a
// PostgreSQL connection, and with it the other writes sharing the commit); the
// context is checked between chunks instead, and a cancel rolls the import back.
func (im *importer) write(ctx context.Context, batch string, ps []*prepared) error {
	persons, companies := 0, 0
	for _, p := range ps {
		if p.ref.Kind == KindCompany {
			companies++
		} else {
			persons++
		}
	}
	err := im.s.st.Write(ctx, func(wctx context.Context, tx store.Tx) error {
		xctx := context.WithoutCancel(wctx)
		pg := im.s.st.Dialect() == store.Postgres
		var base int64
		if !pg {
			// The single SQLite writer makes MAX+1 safe, as in insert.
			if err := tx.QueryRowContext(xctx, `SELECT COALESCE(MAX(number), 10000) FROM customers`).Scan(&base); err != nil {
				return err
			}
		}
		custs := &bulk{ctx: xctx, tx: tx, width: 10, rowsPer: 20, onErr: duplicate,
			head: `INSERT INTO customers (id, number, kind, status, language, country, identity_bidx, email_bidx, phone_bidx, created_at, updated_at) VALUES `,
			row: func(k int) string {
				if pg { // the number parameter is ignored: the sequence draws it
					return "($" + strconv.Itoa(k+1) + ", nextval('customer_number_seq') + 0*$" + strconv.Itoa(k+2) + "::bigint, " + params(k+2, 8) + ", $" + strconv.Itoa(k+10) + ")"
				}
				return "(" + params(k, 10) + ", $" + strconv.Itoa(k+10) + ")"
			}}
		fields := &bulk{ctx: xctx, tx: tx, width: 7, rowsPer: 40, onErr: func(err error) error { return err },
			head: `INSERT INTO customer_fields (customer_id, field, value, source, actor_kind, actor_id, set_at) VALUES `,
			row:  func(k int) string { return "(" + params(k, 7) + ")" }}
		const chunk = 500
		for start := 0; start < len(ps); start += chunk {
			if err := ctx.Err(); err != nil {
				return err
			}
			end := min(start+chunk, len(ps))
			for i, p := range ps[start:end] {
				r := p.ref
				at := store.Micros(r.CreatedAt)
				if err := custs.add(r.ID, base+int64(start+i)+1, r.Kind, r.Status, r.Language, r.Country, p.identity, p.email, p.ph, at); err != nil {
					return err
				}
			}
			if err := custs.flush(); err != nil { // customers before their fields (foreign key)
				return err
			}
			for _, p := range ps[start:end] {
				at := store.Micros(p.ref.CreatedAt)
				for _, f := range p.fields {
					if err := fields.add(p.ref.ID, f.field, f.ct, p.source, p.actor.Kind, p.actor.ID, at); err != nil {
						return err
					}
				}
			}
			if err := fields.flush(); err != nil {
				return err
			}
			im.progress(StageWrite, end, len(ps))
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		return im.s.audit.Record(xctx, tx, security.AuditEntry{Action: "customer.import", SubjectKind: "customer_import",
			SubjectID: batch, Detail: detail(map[string]any{"rows": len(ps), "persons": persons, "companies": companies,
				"source": im.opt.Source})})
	})
	if err != nil {
		var de *DuplicateError
		if errors.As(err, &de) {
			return fmt.Errorf("a customer added while the file was imported has the same %s as a row of the file; nothing was imported: %w",
				fieldWord(strings.TrimPrefix(de.Field, "/")), err)
		}
		return fmt.Errorf("import: nothing was imported: %w", err)
	}
	return nil
}
