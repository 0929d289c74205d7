package customer

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"tillit/internal/security"
	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

// importPnr is a valid, distinct Swedish personnummer for row i: birth dates spread
// over 1940-2000, the serial telling apart rows born on the same day.
func importPnr(i int) string {
	const days = 21900 // 1940-01-01 .. about 1999-12
	return pnr(time.Date(1940, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%days), 1+i/days)
}

// importCSV writes n valid rows (every tenth a company with a contact) with the given
// delimiter and header; row i is distinct in identity number and e-mail.
func importCSV(n int, comma rune, header []string, row func(i int) []string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Comma = comma
	w.Write(header)
	for i := range n {
		w.Write(row(i))
	}
	w.Flush()
	return b.Bytes()
}

var stdHeader = []string{"kind", "name", "email", "phone", "identity_number", "org_number", "street", "postal_code", "city", "contacts"}

func stdRow(i int) []string {
	if i%10 == 9 {
		nine := fmt.Sprintf("556%06d", i)
		return []string{"company", fmt.Sprintf("Bolag %d AB", i), fmt.Sprintf("info%d@bolag.se", i), "08-123 45 67", "", orgnr(nine),
			fmt.Sprintf("Box %d", i), "10005", "Stockholm", fmt.Sprintf(`[{"name":"Kontakt %d","email":"k%d@bolag.se","role":"CFO"}]`, i, i)}
	}
	return []string{"person", fmt.Sprintf("Person %d Import", i), fmt.Sprintf("import%d@example.se", i),
		fmt.Sprintf("070-%03d %02d %02d", i/10000%1000, i/100%100, i%100), importPnr(i), "",
		fmt.Sprintf("Storgatan %d", i%200+1), "11122", "Stockholm", ""}
}

func countAll(h *harness) (customers, fields, audits int) {
	return h.count(`SELECT COUNT(*) FROM customers`), h.count(`SELECT COUNT(*) FROM customer_fields`),
		h.count(`SELECT COUNT(*) FROM audit_log WHERE action LIKE 'customer.%'`)
}

func (h *harness) wantEmpty(t *testing.T) {
	t.Helper()
	if c, f, a := countAll(h); c+f+a != 0 {
		t.Fatalf("after a refused import: %d customers, %d fields, %d audit entries", c, f, a)
	}
}

// K1: a valid file of a few hundred rows, persons and companies, imports: every row is
// a customer with sealed fields whose source is import, with one customer.import audit
// entry that holds counts and nothing personal.
func TestK1_ImportValidFile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		data := importCSV(300, ',', stdHeader, stdRow)
		var stages []string
		rep, err := h.svc.Import(h.ctx(), bytes.NewReader(data), ImportOptions{Progress: func(stage string, done, total int) {
			if len(stages) == 0 || stages[len(stages)-1] != stage {
				stages = append(stages, stage)
			}
		}})
		if err != nil {
			t.Fatalf("%v: %+v", err, rep.Errors)
		}
		if rep.Rows != 300 || rep.Valid != 300 || rep.Imported != 300 || rep.ErrorCount != 0 || rep.BatchID == "" || rep.Delimiter != "," {
			t.Fatalf("report %+v", rep)
		}
		if strings.Join(stages, " ") != "read check keys write" {
			t.Fatalf("stages %v", stages)
		}
		if n := h.count(`SELECT COUNT(*) FROM customers`); n != 300 {
			t.Fatalf("%d customers", n)
		}
		if n := h.count(`SELECT COUNT(*) FROM customers WHERE kind = 'company'`); n != 30 {
			t.Fatalf("%d companies", n)
		}
		if n := h.count(`SELECT COUNT(DISTINCT number) FROM customers`); n != 300 {
			t.Fatalf("%d distinct numbers", n)
		}
		if n := h.count(`SELECT COUNT(*) FROM customer_fields WHERE source <> 'import'`); n != 0 {
			t.Fatalf("%d fields not sourced import", n)
		}
		var detail string
		if err := st.DB().QueryRow(`SELECT detail FROM audit_log WHERE action = 'customer.import'`).Scan(&detail); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(detail, `"rows":300`) || !strings.Contains(detail, `"companies":30`) || strings.Contains(detail, "Import") {
			t.Fatalf("audit detail %s", detail)
		}
		if n := h.count(`SELECT COUNT(*) FROM audit_log WHERE action LIKE 'customer.%'`); n != 1 {
			t.Fatalf("%d audit entries, want the one customer.import", n)
		}
		ms, err := h.svc.FindByIdentityNumber(context.Background(), importPnr(42))
		if err != nil || len(ms) != 1 {
			t.Fatalf("find: %v %v", ms, err)
		}
		c, err := h.svc.Get(h.ctx(), ms[0].ID, Reason{ReasonTicket, "T-1"})
		if err != nil {
			t.Fatal(err)
		}
		if c.Name != "Person 42 Import" || c.Email != "import42@example.se" || c.Phone != "+46700000042" ||
			c.Addresses[AddressRegistered].PostalCode != "111 22" || c.Sources["/name"].Source != SourceImport ||
			c.Sources["/name"].ActorID != testActor.ID {
			t.Fatalf("customer %+v", c)
		}
		ms, err = h.svc.FindByEmail(context.Background(), "info19@bolag.se")
		if err != nil || len(ms) != 1 {
			t.Fatalf("find company: %v %v", ms, err)
		}
		co, err := h.svc.Get(h.ctx(), ms[0].ID, Reason{ReasonTicket, "T-1"})
		if err != nil {
			t.Fatal(err)
		}
		if co.Kind != KindCompany || co.OrgNumber != orgnr("556000019") || len(co.Contacts) != 1 || co.Contacts[0].Role != "CFO" ||
			co.Addresses[AddressInvoice].City != "Stockholm" {
			t.Fatalf("company %+v", co)
		}
	})
}

// K1: a ;-separated file with a byte order mark and Swedish headers, as a Swedish
// spreadsheet saves it, imports; quoted cells may hold the delimiter.
func TestK1_ImportSemicolonSwedishHeadersBOM(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		header := []string{"Namn", "E-post", "Telefon", "Personnummer", "Gatuadress", "Postnummer", "Ort", "Land"}
		data := importCSV(50, ';', header, func(i int) []string {
			return []string{fmt.Sprintf("Åsa Öberg; nr %d", i), fmt.Sprintf("asa%d@exempel.se", i), "070-111 22 33",
				strings.ReplaceAll(importPnr(i)[2:], "-", ""), "Ängsvägen 3", "412 58", "Göteborg", "Sverige"}
		})
		data = append([]byte("\ufeff"), data...)
		rep, err := h.svc.Import(h.ctx(), bytes.NewReader(data), ImportOptions{})
		if err != nil {
			t.Fatalf("%v: %+v", err, rep.Errors)
		}
		if rep.Delimiter != ";" || rep.Imported != 50 {
			t.Fatalf("report %+v", rep)
		}
		ms, err := h.svc.FindByEmail(context.Background(), "asa7@exempel.se")
		if err != nil || len(ms) != 1 {
			t.Fatalf("find: %v %v", ms, err)
		}
		c, err := h.svc.Get(h.ctx(), ms[0].ID, Reason{ReasonTicket, "T-1"})
		if err != nil {
			t.Fatal(err)
		}
		if c.Name != "Åsa Öberg; nr 7" || c.IdentityNumber != importPnr(7) || c.Country != "SE" || c.Addresses[AddressRegistered].City != "Göteborg" {
			t.Fatalf("customer %+v", c)
		}
		// Danish and Norwegian headers, with a mapping for a header no synonym knows.
		dk := "Navn,Epost,CPR,Kundens vej,Postnr,By\nJens Jensen,jens@eksempel.dk,0707614285,Vestergade 1,8000,Aarhus\n"
		rep, err = h.svc.Import(h.ctx(), strings.NewReader(dk), ImportOptions{Country: "DK", Mapping: map[string]string{"Kundens vej": "street"}})
		if err != nil || rep.Imported != 1 {
			t.Fatalf("danish: %v %+v", err, rep)
		}
	})
}

// K2: one bad row among many imports nothing; the report names its line (the header
// being line 1) and the field, and repeats no personal value.
func TestK2_ImportOneBadRowImportsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		const bad = 337
		badID := ""
		data := importCSV(600, ',', stdHeader, func(i int) []string {
			r := stdRow(i)
			if i == bad {
				good := r[4]
				badID = good[:len(good)-1] + fmt.Sprint((int(good[len(good)-1]-'0')+1)%10) // wrong check digit
				r[4] = badID
			}
			return r
		})
		rep, err := h.svc.Import(h.ctx(), bytes.NewReader(data), ImportOptions{})
		if !errors.Is(err, ErrImportInvalid) {
			t.Fatalf("err %v", err)
		}
		if rep.Rows != 600 || rep.Valid != 599 || rep.ErrorCount != 1 || len(rep.Errors) != 1 || rep.Imported != 0 {
			t.Fatalf("report %+v", rep)
		}
		e := rep.Errors[0]
		if e.Line != bad+2 || e.Field != "identity_number" || e.Column != "identity_number" {
			t.Fatalf("error %+v", e)
		}
		for _, leak := range []string{badID, badID[2:], strings.ReplaceAll(badID, "-", ""), "Person 337"} {
			if strings.Contains(e.String(), leak) || strings.Contains(fmt.Sprint(err), leak) {
				t.Fatalf("the error repeats the value: %s", e)
			}
		}
		t.Log(e)
		h.wantEmpty(t)
		if h.ks != nil && st.Dialect() == store.Postgres {
			if n := keyCount(t, h); n != 0 {
				t.Fatalf("a refused import made %d data keys", n)
			}
		}

		// Several kinds of problem at once, each on its line; a multi-line quoted cell
		// does not shift the line numbers.
		f := "name,email,phone,identity_number,postal_code,street,city,kind,note\n" +
			"Anna Andersson,anna@example.se,,811218-9876,11122,Gatan 1,Sthlm,person,\"two\nlines\"\n" + // lines 2-3
			"Bo,not-an-address,,,11122,Gatan 1,Sthlm,person,\n" + // 4
			"Cecilia,,12,,,,,person,\n" + // 5
			"Dag,,,,1234,Gatan 1,Sthlm,person,\n" + // 6
			",dag@example.se,,,,,,robot,\n" + // 7
			"Eva,eva@example.se,,,11122,Gatan 1\n" + // 8: too few fields
			"\"Fia\"x,,,,,,,person,\n" // 9: bad quote
		rep, err = h.svc.Import(h.ctx(), strings.NewReader(f), ImportOptions{Mapping: map[string]string{"note": "-"}})
		if !errors.Is(err, ErrImportInvalid) {
			t.Fatalf("err %v", err)
		}
		want := []string{"4 email", "5 phone", "6 addresses/registered/postal_code", "7 kind", "7 name", "8 ", "9 "}
		var got []string
		for _, e := range rep.Errors {
			got = append(got, fmt.Sprintf("%d %s", e.Line, e.Field))
		}
		for _, w := range want {
			if !strings.Contains(strings.Join(got, "|")+"|", w+"|") && !strings.Contains(strings.Join(got, "|"), w) {
				t.Fatalf("errors %v lack %q", got, w)
			}
		}
		for _, e := range rep.Errors {
			if e.Line == 6 && e.Column != "postal_code" {
				t.Fatalf("postal code error names column %q", e.Column)
			}
			if e.Line < 4 {
				t.Fatalf("a good row is reported: %+v", e)
			}
		}
		if rep.Valid != 1 {
			t.Fatalf("valid %d of %d: %v", rep.Valid, rep.Rows, got)
		}
		h.wantEmpty(t)

		// An unknown column is refused at line 1 unless mapped or ignored.
		rep, err = h.svc.Import(h.ctx(), strings.NewReader("name,shoe_size\nA,44\n"), ImportOptions{})
		if !errors.Is(err, ErrImportInvalid) || rep.Errors[0].Line != 1 || rep.Errors[0].Column != "shoe_size" {
			t.Fatalf("unknown column: %v %+v", err, rep)
		}
		rep, err = h.svc.Import(h.ctx(), strings.NewReader("name,shoe_size\nA,44\n"), ImportOptions{DryRun: true, Mapping: map[string]string{"shoe_size": "-"}})
		if err != nil || rep.Valid != 1 {
			t.Fatalf("ignored column: %v %+v", err, rep)
		}
	})
}

// K1: the same identity number (written differently) or e-mail twice in the file, or
// already in the register, is reported on its line and imports nothing.
func TestK1_ImportDuplicates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		existing := person(900000)
		ref, err := h.svc.Create(h.ctx(), existing)
		if err != nil {
			t.Fatal(err)
		}
		data := importCSV(20, ',', stdHeader, func(i int) []string {
			r := stdRow(i)
			switch i {
			case 5: // line 7: the identity number of row 1 (line 3), written without century or dash
				r[4] = strings.ReplaceAll(importPnr(1)[2:], "-", "")
			case 8: // line 10: the e-mail of row 2, in capitals
				r[2] = strings.ToUpper("import2@example.se")
			case 11: // line 13: in the register already
				r[4] = existing.IdentityNumber
			case 12: // line 14: e-mail in the register already
				r[2] = existing.Email
			}
			return r
		})
		rep, err := h.svc.Import(h.ctx(), bytes.NewReader(data), ImportOptions{})
		if !errors.Is(err, ErrImportInvalid) {
			t.Fatalf("err %v %+v", err, rep)
		}
		var got []string
		for _, e := range rep.Errors {
			got = append(got, fmt.Sprintf("%d %s: %s", e.Line, e.Field, e.Message))
		}
		want := []string{"7 identity_number: is the same as on line 3", "10 email: is the same as on line 4",
			"13 identity_number: another customer in the register already has this identity number",
			"14 email: another customer in the register already has this e-mail address"}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("errors\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if rep.Valid != 16 {
			t.Fatalf("valid %d", rep.Valid)
		}
		if n := h.count(`SELECT COUNT(*) FROM customers`); n != 1 {
			t.Fatalf("%d customers", n)
		}
		_ = ref
	})
}

// K1: a dry run validates and checks everything and writes nothing.
func TestK1_ImportDryRunWritesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		rep, err := h.svc.Import(h.ctx(), bytes.NewReader(importCSV(200, ',', stdHeader, stdRow)), ImportOptions{DryRun: true})
		if err != nil || rep.Rows != 200 || rep.Valid != 200 || rep.Imported != 0 || !rep.DryRun {
			t.Fatalf("%v %+v", err, rep)
		}
		h.wantEmpty(t)
		if st.Dialect() == store.Postgres {
			if n := keyCount(t, h); n != 0 {
				t.Fatalf("a dry run made %d data keys", n)
			}
		}
	})
}

// K1: an import cancelled midway (while keys are made, or halfway through the write)
// leaves nothing visible: the write is one savepoint of one transaction, so a crash
// at the same point is the same as this rollback. A later import of the same file
// then succeeds.
func TestK1_ImportCancelledMidwayLeavesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		data := importCSV(1200, ',', stdHeader, stdRow)
		for _, stage := range []string{StageKeys, StageWrite} {
			ctx, cancel := context.WithCancel(h.ctx())
			sawWrite := 0
			rep, err := h.svc.Import(ctx, bytes.NewReader(data), ImportOptions{Progress: func(s string, done, total int) {
				if s == StageWrite {
					sawWrite = done
				}
				if s == stage && done >= 400 && done < total {
					cancel()
				}
			}})
			cancel()
			if !errors.Is(err, context.Canceled) || rep.Imported != 0 {
				t.Fatalf("%s: err %v, report %+v", stage, err, rep)
			}
			if stage == StageWrite && sawWrite < 400 {
				t.Fatalf("the write was not under way when cancelled (%d)", sawWrite)
			}
			h.wantEmpty(t)
		}
		rep, err := h.svc.Import(h.ctx(), bytes.NewReader(data), ImportOptions{})
		if err != nil || rep.Imported != 1200 {
			t.Fatalf("re-run: %v %+v", err, rep)
		}
		if n := h.count(`SELECT COUNT(*) FROM customers`); n != 1200 {
			t.Fatalf("%d customers", n)
		}
	})
}

// K1, S3: the register exported to CSV (audited with the reason and the count) and
// imported into an empty register gives the same customers back.
func TestK1_ExportReimportRoundTrips(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		if _, err := h.svc.Import(h.ctx(), bytes.NewReader(importCSV(250, ',', stdHeader, stdRow)), ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		two := person(77)
		two.Addresses[AddressDelivery] = Address{Street: "Hamnvägen 3", PostalCode: "41502", City: "Göteborg"}
		two.Language = "en"
		if _, err := h.svc.Create(h.ctx(), two); err != nil {
			t.Fatal(err)
		}
		if _, err := h.svc.Export(h.ctx(), &bytes.Buffer{}, Reason{}, nil); !errors.Is(err, ErrReasonRequired) {
			t.Fatalf("export without reason: %v", err)
		}
		var out bytes.Buffer
		var last [2]int
		n, err := h.svc.Export(h.ctx(), &out, Reason{ReasonTicket, "EXP-1"}, func(done, total int) { last = [2]int{done, total} })
		if err != nil || n != 251 || last != [2]int{251, 251} {
			t.Fatalf("export: %d %v %v", n, err, last)
		}
		var reason, detail string
		if err := st.DB().QueryRow(`SELECT reason, detail FROM audit_log WHERE action = 'customer.export'`).Scan(&reason, &detail); err != nil {
			t.Fatal(err)
		}
		if reason != "ticket:EXP-1" || !strings.Contains(detail, `"count":251`) {
			t.Fatalf("audit %q %s", reason, detail)
		}
		if !strings.Contains(out.String(), "Person 42 Import") {
			t.Fatalf("export lacks a name:\n%.500s", out.String())
		}

		var st2 *store.Store
		if st.Dialect() == store.SQLite {
			st2 = storetest.SQLite(t)
		} else {
			st2 = storetest.Postgres(t)
		}
		h2 := newHarness(t, st2)
		rep, err := h2.svc.Import(h2.ctx(), bytes.NewReader(out.Bytes()), ImportOptions{})
		if err != nil || rep.Imported != 251 {
			t.Fatalf("re-import: %v %+v", err, rep.Errors)
		}
		if c := h2.count(`SELECT COUNT(*) FROM customers`); c != 251 {
			t.Fatalf("%d customers after re-import", c)
		}
		if a, b := h.count(`SELECT COUNT(*) FROM customer_fields`), h2.count(`SELECT COUNT(*) FROM customer_fields`); a != b {
			t.Fatalf("fields %d before, %d after", a, b)
		}
		for _, email := range []string{two.Email, "info29@bolag.se", "import100@example.se"} {
			m1, _ := h.svc.FindByEmail(context.Background(), email)
			m2, _ := h2.svc.FindByEmail(context.Background(), email)
			if len(m1) != 1 || len(m2) != 1 {
				t.Fatalf("%s: %v %v", email, m1, m2)
			}
			c1, err1 := h.svc.Get(h.ctx(), m1[0].ID, Reason{ReasonTicket, "T"})
			c2, err2 := h2.svc.Get(h2.ctx(), m2[0].ID, Reason{ReasonTicket, "T"})
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if mustJSON(t, []any{c1.Name, c1.Phone, c1.IdentityNumber, c1.OrgNumber, c1.Addresses, c1.Contacts, c1.Language, c1.Kind, c1.Status}) !=
				mustJSON(t, []any{c2.Name, c2.Phone, c2.IdentityNumber, c2.OrgNumber, c2.Addresses, c2.Contacts, c2.Language, c2.Kind, c2.Status}) {
				t.Fatalf("round trip changed the customer:\n%+v\n%+v", c1, c2)
			}
		}
	})
}

// S2: after an import, a distinctive value is nowhere in the database files (SQLite,
// WAL included) or the tables' text (PostgreSQL).
func TestS2_ImportLeavesNoPlaintext(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		const canary = "Qwzximport Kanariesson"
		data := importCSV(120, ',', stdHeader, func(i int) []string {
			r := stdRow(i)
			r[1] = fmt.Sprintf("%s %d", canary, i)
			r[6] = "Qwzxgränd 12"
			return r
		})
		if rep, err := h.svc.Import(h.ctx(), bytes.NewReader(data), ImportOptions{}); err != nil {
			t.Fatalf("%v %+v", err, rep.Errors)
		}
		needles := []string{canary, "Qwzxgränd", "import7@example.se", importPnr(7), strings.ReplaceAll(importPnr(7), "-", "")}
		var hay [][]byte
		if st.Dialect() == store.SQLite {
			for _, suffix := range []string{"", "-wal"} {
				b, err := os.ReadFile(st.Path() + suffix)
				if err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
				hay = append(hay, b)
			}
		} else {
			hay = append(hay, pgDump(t, st))
		}
		total := 0
		for _, b := range hay {
			total += len(b)
			low := bytes.ToLower(b)
			for _, n := range needles {
				for _, form := range []string{n, hex.EncodeToString([]byte(n))} {
					if bytes.Contains(low, bytes.ToLower([]byte(form))) {
						t.Errorf("plaintext %q found at rest", n)
					}
				}
			}
		}
		if total < 50000 {
			t.Fatalf("scanned only %d bytes", total)
		}
	})
}

// FuzzImportCSV feeds arbitrary bytes to the import's reader and validation (dry run
// on SQLite): it never panics, every error has a line within the file, and no error
// message repeats a cell of 6+ characters.
func FuzzImportCSV(f *testing.F) {
	f.Add([]byte("name,email\nA,a@b.se\n"))
	f.Add([]byte("\ufeffNamn;E-post;Personnummer\n\"Å;1\";x@y.se;811218-9876\n"))
	f.Add([]byte("name,identity_number\n\"a\nb\",19811218-9877\n,\n"))
	f.Add([]byte("name\n\"unterminated\n"))
	st := storetest.SQLite(f)
	h := newHarness(f, st)
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, _ := h.svc.Import(security.WithActor(context.Background(), testActor), bytes.NewReader(data), ImportOptions{DryRun: true})
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, e := range rep.Errors {
			if e.Line < 1 || e.Line > lines {
				t.Fatalf("line %d of a %d-line file: %+v", e.Line, lines, e)
			}
		}
		if rep.Imported != 0 {
			t.Fatal("a dry run imported")
		}
	})
}
