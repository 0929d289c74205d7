package app

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"tillit/internal/customer"
	"tillit/internal/incident"
	"tillit/internal/jobs"
	"tillit/internal/mail"
	"tillit/internal/security"
	"tillit/internal/store"
)

// newIncidents builds the breach register with the company's contact from the policy
// in effect, and registers its jobs: reminders to the owners before the 72-hour
// deadline, and the Art. 34 notices to affected customers.
func (s *server) newIncidents(ctx context.Context) (*incident.Service, error) {
	var contact incident.Contact
	if n, err := s.versions.Current(ctx, time.Now()); err == nil {
		if p, err := s.versions.Policy(ctx, n); err == nil {
			contact = incident.Contact{Name: p.Company.Name, Email: p.Company.Email, Phone: p.Company.Phone}
		}
	}
	svc, err := incident.NewService(s.env.st, s.env.audit, incident.Options{Country: s.companyCountry(ctx), Queue: s.jobs, Contact: contact})
	if err != nil {
		return nil, err
	}
	s.jobs.Register(incident.ReminderJobKind, s.remindBreach(svc))
	s.jobs.Register(incident.NoticeJobKind, s.noticeBreach(svc, contact))
	return svc, nil
}

// remindBreach mails every active owner and admin while a breach is neither reported
// nor documented as not to be reported (B1: reminders at 24, 48 and 66 hours).
func (s *server) remindBreach(svc *incident.Service) jobs.Handler {
	return func(ctx context.Context, job jobs.Job) error {
		ctx = security.WithActor(ctx, security.Actor{Kind: security.ActorSystem, ID: "breach-reminders"})
		reminded, err := svc.Remind(ctx, job)
		if err != nil || !reminded {
			return err
		}
		var args struct {
			IncidentID string `json:"incident_id"`
			Hour       int    `json:"hour"`
		}
		json.Unmarshal(job.Args, &args)
		inc, err := svc.Get(ctx, args.IncidentID)
		if err != nil {
			return err
		}
		deadline := ""
		if inc.Deadline != nil {
			deadline = inc.Deadline.Format("2006-01-02 15:04 MST")
		}
		return s.mailStaff(ctx, []security.Role{security.RoleOwner, security.RoleAdmin}, mail.Message{Template: "breach-reminder", Locale: "en",
			Data: map[string]string{"title": inc.Title, "hours": strconv.Itoa(args.Hour), "deadline": deadline, "link": s.baseURL() + "/console"}})
	}
}

// noticeBreach sends one affected customer the Art. 34 notice in their language;
// reading their address is audited with the incident as the reason.
func (s *server) noticeBreach(svc *incident.Service, contact incident.Contact) jobs.Handler {
	return func(ctx context.Context, job jobs.Job) error {
		var args struct {
			IncidentID string `json:"incident_id"`
			CustomerID string `json:"customer_id"`
		}
		if err := json.Unmarshal(job.Args, &args); err != nil {
			return jobs.Permanent(fmt.Errorf("breach notice args: %w", err))
		}
		ctx = security.WithActor(ctx, security.Actor{Kind: security.ActorSystem, ID: "breach-notices"})
		inc, err := svc.Get(ctx, args.IncidentID)
		if err != nil {
			return err
		}
		c, err := s.customers.Get(ctx, args.CustomerID, customer.Reason{Kind: customer.ReasonFreeText, Ref: "breach notice " + inc.ID})
		if err != nil {
			return err
		}
		if c.Email == "" {
			return jobs.Permanent(fmt.Errorf("customer %s of incident %s has no e-mail address; notify by post", c.ID, inc.ID))
		}
		err = s.env.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
			_, err := s.outbox.Enqueue(ctx, tx, mail.Message{Template: "breach-notice", Locale: c.Language, To: c.Email,
				Data: map[string]string{"company": contact.Name, "contact": contact.Email, "measures": inc.MeasuresTaken}})
			return err
		})
		if err == nil {
			s.outbox.Wake()
		}
		return err
	}
}

// mailStaff queues m to every active staff member with one of roles.
func (s *server) mailStaff(ctx context.Context, roles []security.Role, m mail.Message) error {
	staff, err := s.staff.List(ctx)
	if err != nil {
		return err
	}
	err = s.env.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		for _, member := range staff {
			if member.DisabledAt != nil || !slices.Contains(roles, member.Role) {
				continue
			}
			m.To = member.Email
			if _, err := s.outbox.Enqueue(ctx, tx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		s.outbox.Wake()
	}
	return err
}
