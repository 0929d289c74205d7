package app

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"tillit/internal/customer"
	"tillit/internal/jobs"
	"tillit/internal/mail"
	"tillit/internal/nordic"
	"tillit/internal/privacy"
	"tillit/internal/security"
	"tillit/internal/store"
)

// newPrivacy builds the data-subject request service with each room's part of an
// access extract, and registers its jobs on the queue.
func (s *server) newPrivacy(ctx context.Context) (*privacy.Service, error) {
	svc, err := privacy.NewService(s.env.st, s.env.ks, s.env.audit, privacy.Options{Country: s.companyCountry(ctx), Queue: s.jobs})
	if err != nil {
		return nil, err
	}
	err = svc.AddExtractor(privacy.NewExtractor("customer", func(ctx context.Context, id, reason string) (any, error) {
		why, err := customer.ParseReason(reason)
		if err != nil {
			return nil, err
		}
		return s.customers.Extract(ctx, id, why)
	}))
	if err != nil {
		return nil, err
	}
	// The access extract shows what was disclosed to whom (D2).
	err = svc.AddExtractor(privacy.NewExtractor("disclosures", func(ctx context.Context, id, _ string) (any, error) {
		return s.disclosures.ForCustomer(ctx, id)
	}))
	if err != nil {
		return nil, err
	}
	svc.AddEraser(privacy.NewEraser("customer", func(ctx context.Context, id, reason string) error {
		why, err := customer.ParseReason(reason)
		if err != nil {
			return err
		}
		return s.customers.Erase(ctx, id, why)
	}))
	s.jobs.Register(privacy.RemindersJobKind, svc.RemindersJob)
	s.jobs.Periodic(privacy.RemindersJobKind, 24*time.Hour, nil)
	s.jobs.Register(privacy.ReminderJobKind, s.remindStaff(svc))
	s.jobs.Register(privacy.ExtensionNoticeJobKind, s.noticeExtension(svc))
	return svc, nil
}

// companyCountry is the country of the policy in effect, whose calendar moves legal
// deadlines; Sweden until a policy is published.
func (s *server) companyCountry(ctx context.Context) nordic.Country {
	n, err := s.versions.Current(ctx, time.Now())
	if err != nil {
		return nordic.SE
	}
	p, err := s.versions.Policy(ctx, n)
	if err != nil || p.Company.Country == "" {
		return nordic.SE
	}
	return nordic.Country(p.Company.Country)
}

// remindStaff mails every active owner, admin and support member that a request is
// due soon (R1: reminders to staff before the deadline).
func (s *server) remindStaff(svc *privacy.Service) jobs.Handler {
	return func(ctx context.Context, job jobs.Job) error {
		var args struct {
			RequestID string `json:"request_id"`
		}
		if err := json.Unmarshal(job.Args, &args); err != nil {
			return jobs.Permanent(fmt.Errorf("reminder args: %w", err))
		}
		ctx = security.WithActor(ctx, security.Actor{Kind: security.ActorSystem, ID: "privacy-reminders"})
		req, err := svc.Get(ctx, args.RequestID)
		if err != nil {
			return err
		}
		return s.mailStaff(ctx, []security.Role{security.RoleOwner, security.RoleAdmin, security.RoleSupport}, mail.Message{
			Template: "privacy-deadline", Locale: "en",
			Data: map[string]string{"request": req.ID, "due": req.DueOn, "kind": string(req.Kind), "link": s.baseURL() + "/console"}})
	}
}

// noticeExtension tells the requester that the deadline is extended, and why, in
// their language (Art. 12(3): within the first month). Reading the customer's
// address is itself audited, with the request as the reason.
func (s *server) noticeExtension(svc *privacy.Service) jobs.Handler {
	return func(ctx context.Context, job jobs.Job) error {
		var args struct {
			RequestID string `json:"request_id"`
		}
		if err := json.Unmarshal(job.Args, &args); err != nil {
			return jobs.Permanent(fmt.Errorf("extension notice args: %w", err))
		}
		ctx = security.WithActor(ctx, security.Actor{Kind: security.ActorSystem, ID: "privacy-notices"})
		req, err := svc.Get(ctx, args.RequestID)
		if err != nil {
			return err
		}
		if req.Extension == nil || req.Extension.NotifiedAt != nil {
			return nil // nothing to tell, or already told
		}
		if req.CustomerID == "" {
			return jobs.Permanent(fmt.Errorf("request %s has no verified customer to notify", req.ID))
		}
		c, err := s.customers.Get(ctx, req.CustomerID, customer.Reason{Kind: customer.ReasonRequest, Ref: req.ID})
		if err != nil {
			return err
		}
		if c.Email == "" {
			return jobs.Permanent(fmt.Errorf("customer of request %s has no e-mail address; notify by post", req.ID))
		}
		err = s.env.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
			_, err := s.outbox.Enqueue(ctx, tx, mail.Message{Template: "privacy-extension", Locale: c.Language, To: c.Email,
				Data: map[string]string{"request": req.ID, "kind": string(req.Kind), "due": req.DueOn, "reason": req.Extension.Reason}})
			return err
		})
		if err != nil {
			return err
		}
		s.outbox.Wake()
		_, err = svc.MarkExtensionNotified(ctx, req.ID)
		return err
	}
}
