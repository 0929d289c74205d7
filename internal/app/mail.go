package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"text/tabwriter"
	"time"

	"tillit/internal/mail"
	"tillit/internal/store"
)

// newOutbox builds the mail outbox, its rows sealed with a key derived from the
// master key for this purpose only.
func newOutbox(e *env) (*mail.Outbox, error) {
	sealer, err := e.ks.AEAD("mail-outbox")
	if err != nil {
		return nil, err
	}
	return mail.NewOutbox(e.st, sealer, mail.Options{Logger: e.log})
}

// mailSender validates --smtp; with none set, mail stays queued until one is.
func mailSender(cfg *Config) (mail.Sender, error) {
	if cfg.SMTP == "" {
		return nil, nil
	}
	s, err := mail.NewSMTPSender(cfg.SMTP, mail.SMTPOptions{})
	if err != nil {
		return nil, usagef("--smtp (TILLIT_SMTP): %v", err)
	}
	return s, nil
}

// deliverMail is the background delivery loop of tillit serve.
func deliverMail(o *mail.Outbox, s mail.Sender, log *slog.Logger) func(context.Context) error {
	return func(ctx context.Context) error {
		if s == nil {
			log.Warn("no --smtp set: mail is queued in the outbox and sent once a server is configured")
			return nil
		}
		return o.Run(ctx, s)
	}
}

func runMail(ctx context.Context, io IO, args []string) error {
	sub, rest, err := subcommand(io, "mail", "mail test|list [flags]", args, "test", "list")
	if err != nil {
		return err
	}
	var to, locale, state, smtp string
	extra := func(fs *flag.FlagSet) {
		switch sub {
		case "test":
			fs.StringVar(&to, "to", "", "address to send the test message to (required)")
			fs.StringVar(&locale, "locale", "en", "language of the message: sv, da, nb or en")
			fs.StringVar(&smtp, "smtp", "", "send now through this SMTP server instead of leaving it to tillit serve [TILLIT_SMTP]")
		case "list":
			fs.StringVar(&state, "state", "", "only messages in this state: pending, sending, sent, failed")
		}
	}
	synopsis := map[string]string{"test": "mail test --to ADDRESS [--locale LANG] [--smtp URL] [flags]", "list": "mail list [--state STATE] [flags]"}[sub]
	e, _, err := openCommand(ctx, io, "mail "+sub, synopsis, rest, extra)
	if err != nil {
		return err
	}
	defer e.close()
	o, err := newOutbox(e)
	if err != nil {
		return err
	}
	if sub == "list" {
		entries, err := o.List(ctx, state, 1000)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(io.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTEMPLATE\tLOCALE\tSTATE\tATTEMPTS\tCREATED\tLAST ERROR")
		for _, m := range entries {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", m.ID, m.Template, m.Locale, m.State, m.Attempts, m.CreatedAt.Format(time.RFC3339), m.LastError)
		}
		return tw.Flush()
	}
	if to == "" {
		return usagef("--to is required")
	}
	if smtp == "" {
		smtp = io.Getenv("TILLIT_SMTP")
	}
	var id string
	err = e.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		id, err = o.Enqueue(ctx, tx, mail.Message{Template: "test", Locale: locale, To: to})
		return err
	})
	if errors.Is(err, mail.ErrInvalid) {
		return usagef("%v", err)
	}
	if err != nil {
		return err
	}
	if smtp == "" {
		fmt.Fprintf(io.Stdout, "queued %s; tillit serve sends it through its --smtp server\n", id)
		return nil
	}
	s, err := mail.NewSMTPSender(smtp, mail.SMTPOptions{})
	if err != nil {
		return usagef("--smtp: %v", err)
	}
	if _, err := o.DeliverDue(ctx, s); err != nil {
		return err
	}
	entries, err := o.List(ctx, "", 1000)
	if err != nil {
		return err
	}
	for _, m := range entries {
		if m.ID != id {
			continue
		}
		if m.State == mail.StateSent {
			fmt.Fprintf(io.Stdout, "sent %s\n", id)
			return nil
		}
		return negativef("message %s is %s: %s", id, m.State, m.LastError)
	}
	return negativef("message %s not found after sending", id)
}
