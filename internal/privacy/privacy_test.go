package privacy

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"tillit/internal/customer"
	"tillit/internal/nordic"
	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

func date(s string) nordic.Date {
	d, err := parseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// R1: a request's deadline is nordic's Art. 12(3) month on the company's calendar,
// from the day of receipt (for post, the letter's date of receipt), not from the day
// staff register it; weekends and each country's own public holidays move it.
func TestR1_DeadlineFromReceiptOnNationalCalendar(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nordic.SE)
		h.setToday("2026-06-15")
		for _, tc := range []struct {
			country            nordic.Country
			received, deadline string
		}{
			{nordic.SE, "2026-01-31", "2026-03-02"}, // 28 February is a Saturday
			{nordic.SE, "2026-03-05", "2026-04-07"}, // Easter Monday
			{nordic.SE, "2026-05-31", "2026-06-30"},
			{nordic.SE, "2025-12-31", "2026-02-02"},
			{nordic.DK, "2023-04-05", "2023-05-08"}, // Store bededag 2023 in Denmark only
			{nordic.SE, "2023-04-05", "2023-05-05"},
		} {
			svc, err := NewService(st, h.ks, h.audit, Options{Country: tc.country, Now: h.svc.now})
			if err != nil {
				t.Fatal(err)
			}
			cal, err := nordic.NewCalendar(tc.country)
			if err != nil {
				t.Fatal(err)
			}
			if got := nordic.Art12Deadline(date(tc.received), cal).String(); got != tc.deadline {
				t.Fatalf("table out of step with nordic: %s %s -> %s, nordic says %s", tc.country, tc.received, tc.deadline, got)
			}
			r, err := svc.Receive(h.ctx(), NewRequest{Kind: KindAccess, Channel: ChannelPost, ReceivedOn: tc.received, Reference: "letter-1"})
			if err != nil {
				t.Fatal(err)
			}
			if r.ReceivedOn != tc.received || r.Deadline != tc.deadline || r.DueOn != tc.deadline || r.State != StateReceived {
				t.Errorf("%s received %s: %+v", tc.country, tc.received, r)
			}
			if want := nordic.Art12Target(date(tc.received)).String(); r.Target != want {
				t.Errorf("target %s, want %s", r.Target, want)
			}
			if r.Overdue != (tc.deadline < "2026-06-15") {
				t.Errorf("%s: overdue %v", tc.received, r.Overdue)
			}
		}
		h.setToday("2026-03-10")
		r := h.receive(NewRequest{Kind: KindErasure, Channel: ChannelPortal})
		if r.ReceivedOn != "2026-03-10" || r.Deadline != "2026-04-10" {
			t.Fatalf("default receipt today: %+v", r)
		}
		_, err := h.svc.Receive(h.ctx(), NewRequest{Kind: "gossip", Channel: "pigeon", ReceivedOn: "2026-03-11", CustomerID: "nobody"})
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Fields) != 4 {
			t.Fatalf("invalid request: %v", err)
		}
	})
}

// R2: nothing that releases or changes data happens before the requester's identity
// is verified, and the verification (how, by whom, when) is recorded with its note
// sealed; an objection takes effect at once; refusals carry the right to complain.
func TestR2_TransitionsNeedVerifiedIdentity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nordic.SE)
		ctx := h.ctx()
		cid := h.customer("Anna Andersson", "anna@example.se", pnrA)
		r := h.receive(NewRequest{Kind: KindAccess, Channel: ChannelEmail, Reference: "mail-123"})

		for name, step := range map[string]func(string) (Request, error){"start": func(id string) (Request, error) { return h.svc.Start(ctx, id) },
			"complete": func(id string) (Request, error) { return h.svc.Complete(ctx, id) }} {
			if _, err := step(r.ID); !errors.Is(err, ErrIdentityNotVerified) {
				t.Fatalf("%s before verification: %v", name, err)
			}
		}
		if _, err := h.svc.VerifyIdentity(ctx, r.ID, MethodSignedLetter, "", ""); err == nil {
			t.Fatal("verified a request matched to no customer")
		}
		if _, err := h.svc.VerifyIdentity(ctx, r.ID, MethodOther, "", cid); err == nil {
			t.Fatal("method other without a note")
		}
		v, err := h.svc.VerifyIdentity(ctx, r.ID, MethodSignedLetter, "Signed letter with personnummer "+pnrA, cid)
		if err != nil {
			t.Fatal(err)
		}
		if v.State != StateIdentityVerified || v.CustomerID != cid || v.Verification == nil ||
			v.Verification.Method != MethodSignedLetter || v.Verification.ByID != testActor.ID || v.Verification.Note != "" {
			t.Fatalf("verified %+v %+v", v, v.Verification)
		}
		var sealed []byte
		if err := st.DB().QueryRow(`SELECT verification_note FROM privacy_requests WHERE id = $1`, r.ID).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		if len(sealed) == 0 || bytes.Contains(sealed, []byte("9876")) {
			t.Fatalf("verification note not sealed: %q", sealed)
		}
		g, err := h.svc.Get(ctx, r.ID)
		if err != nil || g.Verification.Note != "Signed letter with personnummer "+pnrA || len(g.Events) != 2 {
			t.Fatalf("get: %v %+v", err, g)
		}
		if _, err := h.svc.VerifyIdentity(ctx, r.ID, MethodInPerson, "", cid); !errors.Is(err, ErrWrongState) {
			t.Fatalf("verified twice: %v", err)
		}
		if s, err := h.svc.Start(ctx, r.ID); err != nil || s.State != StateInProgress {
			t.Fatalf("start: %v %+v", err, s)
		}
		if c, err := h.svc.Complete(ctx, r.ID); err != nil || c.State != StateCompleted || c.CompletedAt == nil {
			t.Fatalf("complete: %v %+v", err, c)
		}
		for _, step := range []func() (Request, error){
			func() (Request, error) { return h.svc.Complete(ctx, r.ID) },
			func() (Request, error) { return h.svc.Refuse(ctx, r.ID, "too late") },
			func() (Request, error) { return h.svc.Extend(ctx, r.ID, "busy") },
		} {
			if _, err := step(); !errors.Is(err, ErrWrongState) {
				t.Fatalf("step on a completed request: %v", err)
			}
		}

		// An objection to direct marketing needs no verified identity to take effect.
		o := h.receive(NewRequest{Kind: KindObjection, Channel: ChannelPhone, CustomerID: cid})
		if c, err := h.svc.Complete(ctx, o.ID); err != nil || c.State != StateCompleted {
			t.Fatalf("objection: %v %+v", err, c)
		}

		// A refusal carries the right to complain to IMY.
		e := h.receive(NewRequest{Kind: KindErasure, Channel: ChannelPost, Reference: "letter-9"})
		if _, err := h.svc.Refuse(ctx, e.ID, " "); err == nil {
			t.Fatal("refused without a reason")
		}
		f, err := h.svc.Refuse(ctx, e.ID, "The letter was not signed; identity could not be verified.")
		if err != nil || f.State != StateRefused || f.Refusal == nil || f.Refusal.RightToComplain.Code != "IMY" ||
			f.Refusal.TextKey != ComplaintTextKey || f.CompletedAt == nil {
			t.Fatalf("refuse: %v %+v", err, f)
		}
		if _, err := h.svc.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown id: %v", err)
		}

		// Once the customer is erased (key shredded) the request stays readable; the
		// sealed note is gone with the key.
		if err := h.ks.Shred(ctx, cid); err != nil {
			t.Fatal(err)
		}
		if g, err := h.svc.Get(ctx, r.ID); err != nil || g.Verification == nil || g.Verification.Note != "" {
			t.Fatalf("get after erasure: %v %+v", err, g.Verification)
		}

		// Every change is audited, as privacy.request.*, with the request as the reason.
		for action, want := range map[string]int{"receive": 3, "verify": 1, "start": 1, "complete": 2, "refuse": 1, "read": 2} {
			if n := h.count(`SELECT COUNT(*) FROM audit_log WHERE action = $1`, "privacy.request."+action); n != want {
				t.Errorf("privacy.request.%s entries %d, want %d", action, n, want)
			}
		}
		var actor, reason, ip string
		if err := st.DB().QueryRow(`SELECT actor_id, reason, ip FROM audit_log WHERE action = 'privacy.request.verify'`).Scan(&actor, &reason, &ip); err != nil ||
			actor != testActor.ID || reason != "request:"+r.ID || ip != testActor.IP {
			t.Fatalf("verify audit: %v %s %s %s", err, actor, reason, ip)
		}
		if n := h.count(`SELECT COUNT(*) FROM audit_log WHERE action LIKE 'privacy.%' AND (detail LIKE '%9876%' OR detail LIKE '%Anna%')`); n != 0 {
			t.Fatalf("personal data in audit details")
		}
	})
}

// R1, R2: no extract before the requester's identity is verified; after it, one JSON
// document with the register's part: every field with its source, history, notes.
func TestR1_ExtractOnlyAfterVerification(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nordic.SE)
		ctx := h.ctx()
		cid := h.customer("Anna Andersson", "anna@example.se", pnrA)
		if _, err := h.cust.AddNote(ctx, cid, customer.Note{Channel: "email", Text: "Wants her data"}); err != nil {
			t.Fatal(err)
		}
		r := h.receive(NewRequest{Kind: KindAccess, Channel: ChannelPortal, CustomerID: cid})
		if _, err := h.svc.Extract(ctx, r.ID); !errors.Is(err, ErrIdentityNotVerified) {
			t.Fatalf("extract before verification: %v", err)
		}
		if n := h.count(`SELECT COUNT(*) FROM audit_log WHERE action IN ('customer.extract', 'privacy.request.extract')`); n != 0 {
			t.Fatalf("a refused extract read data: %d audit entries", n)
		}
		if _, err := h.svc.VerifyIdentity(ctx, r.ID, MethodPortalSession, "", ""); err != nil {
			t.Fatal(err)
		}
		x, err := h.svc.Extract(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Format string `json:"format"`
			Parts  struct {
				Customer customer.Extract `json:"customer"`
			} `json:"parts"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		c := doc.Parts.Customer.Customer
		if doc.Format != ExtractFormat || c.Name != "Anna Andersson" || c.Email != "anna@example.se" || c.IdentityNumber != pnrA {
			t.Fatalf("extract %s", b)
		}
		for _, f := range []string{"/name", "/email", "/identity_number", "/addresses/registered"} {
			if c.Sources[f].Source != customer.SourcePortal {
				t.Errorf("source of %s: %+v", f, c.Sources[f])
			}
		}
		if len(doc.Parts.Customer.Notes) != 1 || doc.Parts.Customer.Notes[0].Text != "Wants her data" {
			t.Fatalf("notes %+v", doc.Parts.Customer.Notes)
		}
		var reason string
		if err := st.DB().QueryRow(`SELECT reason FROM audit_log WHERE action = 'customer.extract'`).Scan(&reason); err != nil || reason != "request:"+r.ID {
			t.Fatalf("customer.extract audit: %v %q", err, reason)
		}
		if n := h.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'privacy.request.extract' AND subject_id = $1`, r.ID); n != 1 {
			t.Fatalf("privacy.request.extract entries %d", n)
		}
		if n := h.count(`SELECT COUNT(*) FROM privacy_request_events WHERE request_id = $1 AND action = 'extract'`, r.ID); n != 1 {
			t.Fatalf("extract not in the request's history")
		}

		// Only access and portability are answered with an extract.
		o := h.receive(NewRequest{Kind: KindRectification, Channel: ChannelPortal, CustomerID: cid})
		if _, err := h.svc.Extract(ctx, o.ID); !errors.Is(err, ErrNoExtract) {
			t.Fatalf("extract for rectification: %v", err)
		}
		// A second extractor with the same name is refused.
		if err := h.svc.AddExtractor(NewExtractor("customer", nil)); err == nil {
			t.Fatal("duplicate extractor accepted")
		}
	})
}

// R1: the deadline can be extended by two months once, only within the first month,
// with a reason the requester is told (a notice job is queued; its sending is recorded).
func TestR1_ExtensionOnlyWithinFirstMonth(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nordic.SE)
		ctx := h.ctx()
		h.setToday("2026-03-10")
		a := h.receive(NewRequest{Kind: KindAccess, Channel: ChannelPost, ReceivedOn: "2026-01-31"}) // deadline 2026-03-02
		b := h.receive(NewRequest{Kind: KindAccess, Channel: ChannelPost, ReceivedOn: "2026-02-20"}) // deadline 2026-03-20
		if _, err := h.svc.Extend(ctx, a.ID, "Many requests at once"); !errors.Is(err, ErrExtensionTooLate) {
			t.Fatalf("extension after the first month: %v", err)
		}
		if _, err := h.svc.Extend(ctx, b.ID, ""); err == nil {
			t.Fatal("extension without a reason")
		}
		cal, _ := nordic.NewCalendar(nordic.SE)
		want := nordic.Art12Extended(date("2026-02-20"), cal).String()
		e, err := h.svc.Extend(ctx, b.ID, "The request covers ten years of records")
		if err != nil {
			t.Fatal(err)
		}
		if e.Extension == nil || e.Extension.Deadline != want || e.DueOn != want || e.Deadline != b.Deadline ||
			e.Extension.Reason != "The request covers ten years of records" || e.Extension.NotifiedAt != nil {
			t.Fatalf("extended %+v %+v", e, e.Extension)
		}
		if _, err := h.svc.Extend(ctx, b.ID, "again"); !errors.Is(err, ErrAlreadyExtended) {
			t.Fatalf("second extension: %v", err)
		}
		if n := h.count(`SELECT COUNT(*) FROM jobs WHERE kind = $1`, ExtensionNoticeJobKind); n != 1 {
			t.Fatalf("extension notice jobs %d", n)
		}
		n, err := h.svc.MarkExtensionNotified(ctx, b.ID)
		if err != nil || n.Extension.NotifiedAt == nil {
			t.Fatalf("notified: %v %+v", err, n.Extension)
		}
		if _, err := h.svc.MarkExtensionNotified(ctx, a.ID); !errors.Is(err, ErrWrongState) {
			t.Fatalf("notice of no extension: %v", err)
		}
		// On the deadline day itself the first month has not yet passed.
		c := h.receive(NewRequest{Kind: KindErasure, Channel: ChannelEmail, ReceivedOn: "2026-02-10"}) // deadline 2026-03-10
		if _, err := h.svc.Extend(ctx, c.ID, "Backups must be checked"); err != nil {
			t.Fatalf("extension on the deadline day: %v", err)
		}
		if k := h.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'privacy.request.extend'`); k != 2 {
			t.Fatalf("privacy.request.extend entries %d", k)
		}
	})
}

// R1: the overdue view lists open requests past their due day (the extended one when
// extended); staff are reminded once a day of requests due within five working days.
func TestR1_OverdueViewAndReminders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nordic.SE)
		ctx := h.ctx()
		h.setToday("2026-03-20")
		late := h.receive(NewRequest{Kind: KindAccess, Channel: ChannelEmail, ReceivedOn: "2026-02-10"})    // 2026-03-10: overdue
		done := h.receive(NewRequest{Kind: KindObjection, Channel: ChannelEmail, ReceivedOn: "2026-02-10"}) // overdue but answered
		soon := h.receive(NewRequest{Kind: KindAccess, Channel: ChannelEmail, ReceivedOn: "2026-02-26"})    // 2026-03-26: in 4 working days
		later := h.receive(NewRequest{Kind: KindAccess, Channel: ChannelEmail, ReceivedOn: "2026-03-15"})   // 2026-04-15
		if _, err := h.svc.Complete(ctx, done.ID); err != nil {
			t.Fatal(err)
		}
		h.setToday("2026-02-20")
		ext := h.receive(NewRequest{Kind: KindAccess, Channel: ChannelEmail, ReceivedOn: "2026-02-09"}) // 2026-03-09, extended
		if _, err := h.svc.Extend(ctx, ext.ID, "Complex"); err != nil {
			t.Fatal(err)
		}
		h.setToday("2026-03-20")

		od, err := h.svc.Overdue(ctx, h.svc.Today())
		if err != nil {
			t.Fatal(err)
		}
		if len(od) != 1 || od[0].ID != late.ID || !od[0].Overdue {
			t.Fatalf("overdue %+v", od)
		}
		all, err := h.svc.List(ctx, Filter{})
		if err != nil || len(all) != 5 {
			t.Fatalf("list: %v %d", err, len(all))
		}
		listed, err := h.svc.List(ctx, Filter{Overdue: true})
		if err != nil || len(listed) != 1 || listed[0].ID != late.ID {
			t.Fatalf("list overdue: %v %+v", err, listed)
		}
		if l, err := h.svc.List(ctx, Filter{State: StateCompleted}); err != nil || len(l) != 1 || l[0].ID != done.ID {
			t.Fatalf("list completed: %v %+v", err, l)
		}

		n, err := h.svc.RemindDue(ctx, h.svc.Today())
		if err != nil || n != 2 {
			t.Fatalf("reminders: %v %d", err, n)
		}
		for _, id := range []string{late.ID, soon.ID} {
			if k := h.count(`SELECT COUNT(*) FROM privacy_reminders WHERE request_id = $1`, id); k != 1 {
				t.Errorf("reminders of %s: %d", id, k)
			}
		}
		if k := h.count(`SELECT COUNT(*) FROM privacy_reminders WHERE request_id IN ($1, $2)`, later.ID, ext.ID); k != 0 {
			t.Errorf("reminded of requests not yet due")
		}
		if n, err := h.svc.RemindDue(ctx, h.svc.Today()); err != nil || n != 0 {
			t.Fatalf("second run the same day: %v %d", err, n)
		}
		if k := h.count(`SELECT COUNT(*) FROM jobs WHERE kind = $1`, ReminderJobKind); k != 2 {
			t.Fatalf("reminder jobs %d", k)
		}
		if k := h.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'privacy.request.remind'`); k != 2 {
			t.Fatalf("privacy.request.remind entries %d", k)
		}
		// The next day, the periodic job reminds again.
		h.setToday("2026-03-23")
		if err := h.svc.RemindersJob(ctx, jobsJob()); err != nil {
			t.Fatal(err)
		}
		if k := h.count(`SELECT COUNT(*) FROM privacy_reminders`); k != 4 {
			t.Fatalf("reminders after the second day: %d", k)
		}
	})
}
