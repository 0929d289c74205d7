package app

import (
	"context"
	"encoding/json"
	"testing"

	"tillit/internal/customer"
	"tillit/internal/incident"
	"tillit/internal/jobs"
	"tillit/internal/security"
	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

// B1: an undecided breach mails the owners at its reminder hours, and a high-risk
// breach's affected customers get the Art. 34 notice in their language.
func TestB1_BreachRemindersAndNoticesAreMailed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newAPIHarness(t, st)
		s := h.server
		ctx := security.WithActor(context.Background(), security.Actor{Kind: security.ActorStaff, ID: "staff-1"})
		if _, err := s.staff.Add(ctx, "owner@example.com", "Owner", security.RoleOwner, "hallon och jordgubbar i juli"); err != nil {
			t.Fatal(err)
		}
		ref, err := s.customers.Create(ctx, customer.NewCustomer{Kind: customer.KindPerson, Country: "SE", Name: "Ida Ek",
			Email: "ida@example.com", IdentityNumber: "189001049817"})
		if err != nil {
			t.Fatal(err)
		}
		inc, err := s.incidents.Record(ctx, incident.NewIncident{Kind: "breach", Title: "Lost laptop", Risk: "high",
			MeasuresTaken: "Remote wipe; passwords changed."})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.incidents.AddAffected(ctx, inc.ID, []string{ref.ID}); err != nil {
			t.Fatal(err)
		}
		remind, _ := json.Marshal(map[string]any{"incident_id": inc.ID, "hour": 24})
		if err := s.remindBreach(s.incidents)(ctx, jobs.Job{Kind: incident.ReminderJobKind, Args: remind}); err != nil {
			t.Fatal(err)
		}
		notice, _ := json.Marshal(map[string]string{"incident_id": inc.ID, "customer_id": ref.ID})
		if err := s.noticeBreach(s.incidents, incident.Contact{Name: "Firma AB", Email: "dpo@example.com"})(ctx, jobs.Job{Kind: incident.NoticeJobKind, Args: notice}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ template, locale string }{{"breach-reminder", "en"}, {"breach-notice", "sv"}} {
			var n int
			st.DB().QueryRow(`SELECT COUNT(*) FROM mail_outbox WHERE template = $1 AND locale = $2`, c.template, c.locale).Scan(&n)
			if n != 1 {
				t.Fatalf("%d %s mails in %s, want 1", n, c.template, c.locale)
			}
		}
	})
}
