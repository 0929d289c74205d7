package app

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"tillit/internal/security"
	"tillit/internal/store"
	"tillit/internal/web"
)

// newStaff builds the staff service; TOTP secrets are sealed with their own purpose key.
func newStaff(e *env) (*security.Staff, error) {
	sealer, err := e.ks.AEAD("staff-totp")
	if err != nil {
		return nil, err
	}
	staff := security.NewStaff(e.st, sealer, nil)
	staff.Audit = e.audit
	return staff, nil
}

// generatePassword makes a password that meets the rules: 120 random bits, grouped
// for reading aloud.
func generatePassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	var b strings.Builder
	buf := make([]byte, 24)
	rand.Read(buf)
	for i, c := range buf {
		if i > 0 && i%6 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return b.String()
}

// staffError maps the staff service's refusals onto API answers.
func staffError(err error) error {
	switch {
	case errors.Is(err, security.ErrWeakPassword):
		// Not expressible in a schema, so it has its own type apart from "validation".
		return &web.Error{Status: http.StatusUnprocessableEntity, Type: "weak-password", Title: "Password not accepted",
			Detail: err.Error(), Errors: []web.FieldError{{Pointer: "/password", Message: err.Error()}}}
	case errors.Is(err, security.ErrStaffInput):
		return web.Invalid(web.FieldError{Pointer: "", Message: err.Error()})
	case errors.Is(err, security.ErrLastOwner):
		return &web.Error{Status: http.StatusConflict, Type: "last-owner", Title: "Conflict", Detail: security.ErrLastOwner.Error(), Err: err}
	case errors.Is(err, store.ErrConflict):
		return &web.Error{Status: http.StatusConflict, Type: "conflict", Title: "Conflict", Detail: "A staff member with that e-mail already exists.", Err: err}
	case errors.Is(err, store.ErrNotFound):
		return web.Errorf(http.StatusNotFound, "not-found", "No staff member with that id.")
	}
	return err
}

type staffRequest struct {
	Email    string        `json:"email"`
	Name     string        `json:"name"`
	Role     security.Role `json:"role"`
	Password string        `json:"password"`
}

// staffCreated carries the password only when the server generated it.
type staffCreated struct {
	security.StaffMember
	Password string `json:"password,omitempty"`
}

func (s *server) listStaff(w http.ResponseWriter, r *http.Request) error {
	list, err := s.staff.List(r.Context())
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, web.NewPage(list, len(list), func(m security.StaffMember) string { return m.ID }))
}

func (s *server) addStaff(w http.ResponseWriter, r *http.Request) error {
	var req staffRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	generated := req.Password == ""
	if generated {
		req.Password = generatePassword()
	}
	m, err := s.staff.Add(r.Context(), req.Email, req.Name, req.Role, req.Password)
	if err != nil {
		return staffError(err)
	}
	out := staffCreated{StaffMember: m}
	if generated {
		out.Password = req.Password
	}
	return web.WriteJSON(w, http.StatusCreated, out)
}

func (s *server) disableStaff(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.staff.Disable(r.Context(), id); err != nil {
		return staffError(err)
	}
	m, err := s.staff.Get(r.Context(), id)
	if err != nil {
		return staffError(err)
	}
	return web.WriteJSON(w, http.StatusOK, m)
}

type passwordRequest struct {
	Password string `json:"password"`
}

func (s *server) resetStaffPassword(w http.ResponseWriter, r *http.Request) error {
	var req passwordRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	id := r.PathValue("id")
	generated := req.Password == ""
	if generated {
		req.Password = generatePassword()
	}
	if err := s.staff.ResetPassword(r.Context(), id, req.Password); err != nil {
		return staffError(err)
	}
	m, err := s.staff.Get(r.Context(), id)
	if err != nil {
		return staffError(err)
	}
	out := staffCreated{StaffMember: m}
	if generated {
		out.Password = req.Password
	}
	return web.WriteJSON(w, http.StatusOK, out)
}

// runStaff is `tillit staff add|list|disable|reset-password`.
func runStaff(ctx context.Context, io IO, args []string) error {
	sub, rest, err := subcommand(io, "staff", "staff add|list|disable|reset-password [flags]", args, "add", "list", "disable", "reset-password")
	if err != nil {
		return err
	}
	var email, name, role string
	var passwordStdin bool
	extra := func(fs *flag.FlagSet) {
		switch sub {
		case "add":
			fs.StringVar(&email, "email", "", "e-mail address, used to log in (required)")
			fs.StringVar(&name, "name", "", "full name (required)")
			fs.StringVar(&role, "role", string(security.RoleSupport), "role: owner, admin, support, billing, auditor, readonly")
			fs.BoolVar(&passwordStdin, "password-stdin", false, "read the password from the first line of standard input (default: generate one and print it once)")
		case "reset-password":
			fs.BoolVar(&passwordStdin, "password-stdin", false, "read the new password from the first line of standard input (default: generate one)")
		}
	}
	synopsis := map[string]string{
		"add":            "staff add --email EMAIL --name NAME [--role ROLE] [--password-stdin] [flags]",
		"list":           "staff list [flags]",
		"disable":        "staff disable [flags] EMAIL",
		"reset-password": "staff reset-password [--password-stdin] [flags] EMAIL",
	}[sub]
	e, pos, err := openCommand(ctx, io, "staff "+sub, synopsis, rest, extra)
	if err != nil {
		return err
	}
	defer e.close()
	staff, err := newStaff(e)
	if err != nil {
		return err
	}
	password := func() (string, bool, error) {
		if !passwordStdin {
			return generatePassword(), true, nil
		}
		if io.Stdin == nil {
			return "", false, usagef("--password-stdin: no standard input")
		}
		line, err := bufio.NewReader(io.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return "", false, usagef("--password-stdin: nothing on standard input")
		}
		return strings.TrimRight(line, "\r\n"), false, nil
	}
	byEmail := func() (security.StaffMember, error) {
		if len(pos) != 1 {
			return security.StaffMember{}, usagef("want exactly one EMAIL")
		}
		m, err := staff.GetByEmail(ctx, pos[0])
		if errors.Is(err, store.ErrNotFound) {
			return m, negativef("no staff member %s", pos[0])
		}
		return m, err
	}
	switch sub {
	case "add":
		if email == "" || name == "" {
			return usagef("--email and --name are required")
		}
		pw, generated, err := password()
		if err != nil {
			return err
		}
		m, err := staff.Add(ctx, email, name, security.Role(role), pw)
		if errors.Is(err, security.ErrStaffInput) || errors.Is(err, security.ErrWeakPassword) || errors.Is(err, store.ErrConflict) {
			return negativef("%v", err)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(io.Stdout, "added %s (%s, role %s, id %s)\n", m.Email, m.Name, m.Role, m.ID)
		if generated {
			fmt.Fprintf(io.Stdout, "password (shown once): %s\n", pw)
		}
		if security.RequiresTOTP(m.Role) {
			fmt.Fprintln(io.Stdout, "This role sees personal data: the first login asks to set up an authenticator app.")
		}
	case "list":
		list, err := staff.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(io.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EMAIL\tNAME\tROLE\tTOTP\tSTATE\tCREATED")
		for _, m := range list {
			state := "active"
			if m.DisabledAt != nil {
				state = "disabled"
			} else if m.LockedUntil != nil && m.LockedUntil.After(time.Now()) {
				state = "locked until " + m.LockedUntil.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\t%s\n", m.Email, m.Name, m.Role, m.TOTPEnrolled, state, m.CreatedAt.Format(time.DateOnly))
		}
		return tw.Flush()
	case "disable":
		m, err := byEmail()
		if err != nil {
			return err
		}
		if err := staff.Disable(ctx, m.ID); errors.Is(err, security.ErrLastOwner) {
			return negativef("%v", err)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(io.Stdout, "disabled %s; their sessions are ended\n", m.Email)
	case "reset-password":
		m, err := byEmail()
		if err != nil {
			return err
		}
		pw, generated, err := password()
		if err != nil {
			return err
		}
		if err := staff.ResetPassword(ctx, m.ID, pw); errors.Is(err, security.ErrWeakPassword) {
			return negativef("%v", err)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(io.Stdout, "password of %s reset; their sessions are ended\n", m.Email)
		if generated {
			fmt.Fprintf(io.Stdout, "new password (shown once): %s\n", pw)
		}
	}
	return nil
}
