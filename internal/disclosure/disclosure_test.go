package disclosure

import (
	"errors"
	"strings"
	"testing"

	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

func courier() NewRecipient {
	return NewRecipient{Name: "PostNord", Role: RoleProcessor, Country: "se", AgreementDate: "2025-11-01",
		AllowedFields: []string{"name", "address", "phone", "name"}, Purposes: []string{"delivery"}}
}

// D1: a recipient outside the EU/EEA needs a Chapter V transfer basis; inside it the
// basis is none; changes are validated as a whole and audited.
func TestD1_RegisterNeedsTransferBasisOutsideEEA(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		_, err := h.svc.Register(h.ctx(), NewRecipient{Name: "US Mailer", Role: RoleProcessor, Country: "US",
			AllowedFields: []string{"email"}, Purposes: []string{"newsletter"}})
		var ve *ValidationError
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), "/transfer_basis") {
			t.Fatalf("non-EEA without basis: %v", err)
		}
		if _, err := h.svc.Register(h.ctx(), NewRecipient{Name: "US Mailer", Role: RoleProcessor, Country: "US",
			TransferBasis: TransferNone}); !errors.As(err, &ve) {
			t.Fatalf("non-EEA with basis none: %v", err)
		}
		for _, bad := range []NewRecipient{{Name: "", Role: RoleProcessor, Country: "SE"}, {Name: "X", Role: "friend", Country: "SE"},
			{Name: "X", Role: RoleProcessor, Country: "Sweden"}, {Name: "X", Role: RoleProcessor, Country: "SE", AgreementDate: "1/11/2025"},
			{Name: "X", Role: RoleProcessor, Country: "SE", AllowedFields: []string{"e mail"}}} {
			if _, err := h.svc.Register(h.ctx(), bad); !errors.As(err, &ve) {
				t.Fatalf("%+v accepted: %v", bad, err)
			}
		}
		if n := h.count(`SELECT COUNT(*) FROM recipients`); n != 0 {
			t.Fatalf("%d recipients written by refused registrations", n)
		}
		us, err := h.svc.Register(h.ctx(), NewRecipient{Name: "US Mailer", Role: RoleProcessor, Country: "us", TransferBasis: TransferSCC,
			AllowedFields: []string{"email"}, Purposes: []string{"newsletter"}})
		if err != nil || us.Country != "US" || us.TransferBasis != TransferSCC {
			t.Fatalf("US with scc: %+v %v", us, err)
		}
		pn, err := h.svc.Register(h.ctx(), courier())
		if err != nil || pn.TransferBasis != TransferNone || strings.Join(pn.AllowedFields, ",") != "address,name,phone" || pn.Country != "SE" {
			t.Fatalf("EEA recipient: %+v %v", pn, err)
		}
		if _, err := h.svc.Update(h.ctx(), pn.ID, Patch{Country: ptr("CN")}); !errors.As(err, &ve) {
			t.Fatalf("moving to CN without basis: %v", err)
		}
		got, err := h.svc.Update(h.ctx(), pn.ID, Patch{Country: ptr("CH"), TransferBasis: ptr(TransferAdequacy), Purposes: []string{"delivery", "returns"}})
		if err != nil || got.TransferBasis != TransferAdequacy || len(got.Purposes) != 2 {
			t.Fatalf("update: %+v %v", got, err)
		}
		if g, err := h.svc.Get(h.ctx(), pn.ID); err != nil || g.Country != "CH" || !g.UpdatedAt.Equal(got.UpdatedAt) {
			t.Fatalf("get: %+v %v", g, err)
		}
		if _, err := h.svc.Get(h.ctx(), "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown: %v", err)
		}
		if n := h.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'disclosure.recipient-create'`); n != 2 {
			t.Fatalf("%d create audits", n)
		}
		if n := h.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'disclosure.recipient-update' AND subject_id = $1
			AND detail LIKE '%"country"%'`, pn.ID); n != 1 {
			t.Fatalf("%d update audits", n)
		}
		ls, err := h.svc.List(h.ctx(), "", 1)
		if err != nil || len(ls) != 2 {
			t.Fatalf("list: %d %v", len(ls), err)
		}
	})
}

// D2: Disclose refuses, writing nothing, an unknown recipient or customer, a field off
// the allow-list (named), a purpose not registered and a missing basis; a good
// disclosure logs the field names only, is audited and is listed for the customer.
func TestD2_DiscloseChecksAllowListAndLogsNamesOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		cid := h.customer("Anna Andersson", "anna@example.se", pnrA)
		other := h.customer("Bo Berg", "bo@example.se", pnrB)
		pn, err := h.svc.Register(h.ctx(), courier())
		if err != nil {
			t.Fatal(err)
		}
		good := func() Disclosure {
			return Disclosure{RecipientID: pn.ID, CustomerID: cid, Purpose: "delivery", Basis: Basis{Kind: BasisOrder, Ref: "order-1001"},
				Fields: map[string]string{"name": "Anna Andersson", "address": "Storgatan 1, 111 22 Stockholm"}}
		}
		refusals := []struct {
			name string
			edit func(*Disclosure)
			want error
			text string
		}{
			{"field off the allow-list", func(d *Disclosure) { d.Fields["personnummer"] = pnrA }, ErrFieldNotAllowed, `"personnummer"`},
			{"purpose not listed", func(d *Disclosure) { d.Purpose = "marketing" }, ErrPurposeNotAllowed, `"marketing"`},
			{"no basis", func(d *Disclosure) { d.Basis = Basis{} }, ErrNoBasis, ""},
			{"unknown basis", func(d *Disclosure) { d.Basis.Kind = "whim" }, ErrNoBasis, "whim"},
			{"unknown recipient", func(d *Disclosure) { d.RecipientID = "nope" }, ErrUnknownRecipient, ""},
			{"unknown customer", func(d *Disclosure) { d.CustomerID = "nope" }, ErrUnknownCustomer, ""},
			{"no fields", func(d *Disclosure) { d.Fields = nil }, ErrNoFields, ""},
		}
		for _, r := range refusals {
			d := good()
			r.edit(&d)
			_, err := h.svc.Disclose(h.ctx(), d)
			if !errors.Is(err, r.want) || !strings.Contains(err.Error(), r.text) {
				t.Fatalf("%s: %v", r.name, err)
			}
		}
		if n := h.count(`SELECT COUNT(*) FROM disclosures`); n != 0 {
			t.Fatalf("%d disclosures written by refusals", n)
		}
		if n := h.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'disclosure.send'`); n != 0 {
			t.Fatalf("%d send audits written by refusals", n)
		}

		rec, err := h.svc.Disclose(h.ctx(), good())
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(rec.Fields, ",") != "address,name" || rec.Send["name"] != "Anna Andersson" || len(rec.Send) != 2 ||
			rec.RecipientName != "PostNord" || rec.ActorID != testActor.ID {
			t.Fatalf("record %+v", rec)
		}
		// The row holds the names only: no value of the disclosed fields is stored.
		rows, err := h.st.DB().Query(`SELECT id, recipient_id, customer_id, fields, purpose, basis_kind, basis_ref, actor_kind, actor_id FROM disclosures`)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			n++
			var cols [9]string
			if err := rows.Scan(&cols[0], &cols[1], &cols[2], &cols[3], &cols[4], &cols[5], &cols[6], &cols[7], &cols[8]); err != nil {
				t.Fatal(err)
			}
			all := strings.Join(cols[:], "|")
			if strings.Contains(all, "Anna") || strings.Contains(all, "Storgatan") || cols[3] != "address,name" {
				t.Fatalf("row stores values: %s", all)
			}
		}
		rows.Close()
		if n != 1 {
			t.Fatalf("%d rows", n)
		}
		var det string
		if err := h.st.DB().QueryRow(`SELECT detail FROM audit_log WHERE action = 'disclosure.send' AND subject_id = $1`, cid).Scan(&det); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(det, `"fields":["address","name"]`) || strings.Contains(det, "Anna") || strings.Contains(det, "Storgatan") {
			t.Fatalf("audit detail %s", det)
		}

		h.setNow(h.clock.Load().Add(1e9))
		d2 := good()
		d2.Fields = map[string]string{"phone": "+46 70 123 45 67"}
		d2.Basis = Basis{Kind: BasisRequest}
		if _, err := h.svc.Disclose(h.ctx(), d2); err != nil {
			t.Fatal(err)
		}
		ds, err := h.svc.ForCustomer(h.ctx(), cid)
		if err != nil || len(ds) != 2 || ds[0].ID != rec.ID || ds[1].Fields[0] != "phone" || ds[1].Basis.Kind != BasisRequest ||
			ds[0].Basis.Ref != "order-1001" || ds[0].Send != nil || !ds[0].At.Equal(rec.At) {
			t.Fatalf("for customer: %+v %v", ds, err)
		}
		if ds, err := h.svc.ForCustomer(h.ctx(), other); err != nil || len(ds) != 0 {
			t.Fatalf("other customer: %+v %v", ds, err)
		}
		if _, err := h.svc.ForCustomer(h.ctx(), "nope"); !errors.Is(err, ErrUnknownCustomer) {
			t.Fatalf("unknown customer: %v", err)
		}
	})
}
