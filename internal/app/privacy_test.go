package app

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"tillit/internal/customer"
	"tillit/internal/jobs"
	"tillit/internal/privacy"
	"tillit/internal/security"
	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

// R1: a request near its deadline makes the daily reminder job queue a mail to every
// active owner, admin and support member, through the outbox.
func TestR1_DeadlineRemindersMailStaff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newAPIHarness(t, st)
		s := h.server
		ctx := context.Background()
		for _, m := range []struct {
			email string
			role  security.Role
		}{{"owner@example.com", security.RoleOwner}, {"help@example.com", security.RoleSupport}, {"books@example.com", security.RoleBilling}} {
			if _, err := s.staff.Add(ctx, m.email, "Staff", m.role, "blåbär och lingon i skogen"); err != nil {
				t.Fatal(err)
			}
		}
		received := time.Now().AddDate(0, -1, 0).Format(time.DateOnly) // due about now
		req, err := s.privacy.Receive(ctx, privacy.NewRequest{Kind: privacy.Kind("access"), Channel: privacy.Channel("email"), ReceivedOn: received})
		if err != nil {
			t.Fatal(err)
		}
		n, err := s.privacy.RemindDue(ctx, s.privacy.Today())
		if err != nil || n != 1 {
			t.Fatalf("reminders: %d %v", n, err)
		}
		args, _ := json.Marshal(map[string]string{"request_id": req.ID})
		if err := s.remindStaff(s.privacy)(ctx, jobs.Job{Kind: privacy.ReminderJobKind, Args: args}); err != nil {
			t.Fatal(err)
		}
		var mails int
		st.DB().QueryRow(`SELECT COUNT(*) FROM mail_outbox WHERE template = 'privacy-deadline'`).Scan(&mails)
		if mails != 2 {
			t.Fatalf("%d reminder mails queued, want 2 (owner and support; not billing)", mails)
		}
	})
}

// R1: extending the deadline queues a notice to the requester, in their language,
// with the reason, and records that they were told.
func TestR1_ExtensionNoticeMailsRequester(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newAPIHarness(t, st)
		s := h.server
		ctx := security.WithActor(context.Background(), security.Actor{Kind: security.ActorStaff, ID: "staff-1"})
		ref, err := s.customers.Create(ctx, customer.NewCustomer{Kind: customer.KindPerson, Country: "SE", Name: "Karin Ek",
			Email: "karin@example.com", IdentityNumber: "189001019802"})
		if err != nil {
			t.Fatal(err)
		}
		req, err := s.privacy.Receive(ctx, privacy.NewRequest{Kind: "access", Channel: "email", CustomerID: ref.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.privacy.VerifyIdentity(ctx, req.ID, "signed_letter", "", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.privacy.Extend(ctx, req.ID, "Many systems to search."); err != nil {
			t.Fatal(err)
		}
		args, _ := json.Marshal(map[string]string{"request_id": req.ID})
		if err := s.noticeExtension(s.privacy)(ctx, jobs.Job{Kind: privacy.ExtensionNoticeJobKind, Args: args}); err != nil {
			t.Fatal(err)
		}
		var mails int
		st.DB().QueryRow(`SELECT COUNT(*) FROM mail_outbox WHERE template = 'privacy-extension' AND locale = 'sv'`).Scan(&mails)
		if mails != 1 {
			t.Fatalf("%d extension notices queued in Swedish, want 1", mails)
		}
		got, err := s.privacy.Get(ctx, req.ID)
		if err != nil || got.Extension == nil || got.Extension.NotifiedAt == nil {
			t.Fatalf("the request does not record the notice: %+v %v", got.Extension, err)
		}
		// Run again (a retried job): nothing more is sent.
		if err := s.noticeExtension(s.privacy)(ctx, jobs.Job{Kind: privacy.ExtensionNoticeJobKind, Args: args}); err != nil {
			t.Fatal(err)
		}
		st.DB().QueryRow(`SELECT COUNT(*) FROM mail_outbox WHERE template = 'privacy-extension'`).Scan(&mails)
		if mails != 1 {
			t.Fatalf("a retried job sent %d notices", mails)
		}
	})
}

// R4: completing a verified erasure request erases the customer in the register
// (key destroyed, data deleted); the API then answers 410 for them.
func TestR4_CompletingAnErasureErasesTheCustomer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newAPIHarness(t, st)
		s := h.server
		ctx := security.WithActor(context.Background(), security.Actor{Kind: security.ActorStaff, ID: "staff-1"})
		ref, err := s.customers.Create(ctx, customer.NewCustomer{Kind: customer.KindPerson, Country: "SE", Name: "Lova Berg",
			Email: "lova@example.com", IdentityNumber: "189001039800"})
		if err != nil {
			t.Fatal(err)
		}
		req, err := s.privacy.Receive(ctx, privacy.NewRequest{Kind: "erasure", Channel: "email", CustomerID: ref.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.privacy.Complete(ctx, req.ID); err == nil {
			t.Fatal("an erasure completed before the requester's identity was verified")
		}
		if a := h.do(call{method: "GET", path: "/api/v1/customers/" + ref.ID, token: h.owner, header: map[string]string{"Tillit-Reason": "ticket:T-1"}}); a.status != 200 {
			t.Fatalf("the customer was touched before verification: %d", a.status)
		}
		if _, err := s.privacy.VerifyIdentity(ctx, req.ID, "signed_letter", "", ""); err != nil {
			t.Fatal(err)
		}
		done, err := s.privacy.Complete(ctx, req.ID)
		if err != nil || done.State != "completed" {
			t.Fatalf("complete: %+v %v", done.State, err)
		}
		if a := h.do(call{method: "GET", path: "/api/v1/customers/" + ref.ID, token: h.owner, header: map[string]string{"Tillit-Reason": "ticket:T-1"}}); a.status != 410 {
			t.Fatalf("reading the erased customer: %d %s", a.status, a.body)
		}
	})
}
