package app

import (
	"context"
	"encoding/json"
	"testing"
	"time"

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
