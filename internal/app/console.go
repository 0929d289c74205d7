package app

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"tillit/internal/mail"
	"tillit/internal/security"
	"tillit/internal/store"
	"tillit/internal/web"
)

// The staff console: sign-in with password and second factor, two-factor setup, and
// an overview. Sessions are server-side (security.Sessions); the cookie holds only a
// random token. Cross-origin form posts are refused by CrossOriginProtection.

func (s *server) consoleRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{asset}", web.Static) // content-hashed assets at the root; anything else is a 404
	mux.HandleFunc("GET /console/login", s.loginPage)
	mux.HandleFunc("POST /console/login", s.login)
	mux.HandleFunc("POST /console/logout", s.logout)
	mux.HandleFunc("GET /console/totp", s.totpPage)
	mux.HandleFunc("POST /console/totp", s.totpConfirm)
	mux.HandleFunc("GET /console", s.dashboard)
}

type loginData struct{ Email string }

func (s *server) loginPage(w http.ResponseWriter, r *http.Request) {
	web.Render(w, r, http.StatusOK, "login", "login.title", "", loginData{})
}

func (s *server) secureCookies(r *http.Request) bool { return r.TLS != nil }

func (s *server) login(w http.ResponseWriter, r *http.Request) {
	lang := web.Lang(r)
	email := strings.TrimSpace(r.PostFormValue("email"))
	for _, key := range []string{"ip:" + web.ClientIP(r), "email:" + strings.ToLower(email)} {
		if ok, wait := s.loginLimits.Allow(key); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
			web.Render(w, r, http.StatusTooManyRequests, "login", "login.title", web.T(lang, "login.too_many", int(wait.Seconds())+1), loginData{Email: email})
			return
		}
	}
	device := ""
	for _, name := range []string{security.DeviceCookieSecure, security.DeviceCookieInsecure} {
		if c, err := r.Cookie(name); err == nil && len(c.Value) >= 32 {
			device = c.Value
		}
	}
	if device == "" {
		device = security.NewDeviceID()
		http.SetCookie(w, security.DeviceCookie(device, s.secureCookies(r)))
	}
	demo, _ := getMeta(r.Context(), s.env.st, metaDemo)
	res, err := s.staff.Login(r.Context(), security.LoginAttempt{
		Email: email, Password: r.PostFormValue("password"), TOTPCode: r.PostFormValue("code"),
		RecoveryCode: r.PostFormValue("recovery"), IP: web.ClientIP(r), UserAgent: r.UserAgent(),
		DeviceID: device, TrustFirstDevice: demo == "1",
	})
	switch {
	case errors.Is(err, security.ErrSecondFactorRequired):
		web.Render(w, r, http.StatusUnauthorized, "login", "login.title", web.T(lang, "login.code_needed"), loginData{Email: email})
		return
	case errors.Is(err, security.ErrLoginFailed):
		web.Render(w, r, http.StatusUnauthorized, "login", "login.title", web.T(lang, "login.failed"), loginData{Email: email})
		return
	case err != nil:
		web.WriteProblem(w, r, err)
		return
	}
	if res.NewDevice {
		s.mailNewDevice(r, res.Session.Email)
	}
	http.SetCookie(w, security.SessionCookie(res.Session.Token, s.secureCookies(r)))
	target := "/console"
	if res.Session.NeedsTOTPEnrollment {
		target = "/console/totp"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// session returns the signed-in staff member, or redirects to the sign-in page.
func (s *server) session(w http.ResponseWriter, r *http.Request) (security.Session, string, bool) {
	for _, name := range []string{security.SessionCookieSecure, security.SessionCookieInsecure} {
		c, err := r.Cookie(name)
		if err != nil {
			continue
		}
		sess, err := s.staff.Sessions.Validate(r.Context(), c.Value)
		if err == nil {
			return sess, c.Value, true
		}
	}
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
	return security.Session{}, "", false
}

type dashboardData struct {
	Name, Role              string
	DeviceApproved          bool
	FailedJobs, PendingMail int
}

func (s *server) dashboard(w http.ResponseWriter, r *http.Request) {
	sess, _, ok := s.session(w, r)
	if !ok {
		return
	}
	if sess.NeedsTOTPEnrollment {
		http.Redirect(w, r, "/console/totp", http.StatusSeeOther)
		return
	}
	d := dashboardData{Name: sess.Name, Role: string(sess.Role), DeviceApproved: sess.DeviceApproved}
	db := s.env.st.DB()
	db.QueryRowContext(r.Context(), `SELECT COUNT(*) FROM jobs WHERE state = 'failed'`).Scan(&d.FailedJobs)
	db.QueryRowContext(r.Context(), `SELECT COUNT(*) FROM mail_outbox WHERE state IN ('pending', 'sending')`).Scan(&d.PendingMail)
	web.Render(w, r, http.StatusOK, "dashboard", "dashboard.title", "", d)
}

func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	sess, raw, ok := s.session(w, r)
	if !ok {
		return
	}
	if r.URL.Query().Get("everywhere") == "1" {
		s.staff.Sessions.RevokeAll(r.Context(), sess.StaffID)
	} else {
		s.staff.Sessions.Revoke(r.Context(), raw)
	}
	http.SetCookie(w, security.ClearSessionCookie(s.secureCookies(r)))
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}

type totpData struct {
	URI, Secret   string
	RecoveryCodes []string
}

func (s *server) totpPage(w http.ResponseWriter, r *http.Request) {
	sess, _, ok := s.session(w, r)
	if !ok {
		return
	}
	if !sess.NeedsTOTPEnrollment {
		http.Redirect(w, r, "/console", http.StatusSeeOther)
		return
	}
	uri, secret, err := s.staff.EnrollTOTP(r.Context(), sess.StaffID)
	if err != nil {
		web.WriteProblem(w, r, err)
		return
	}
	web.Render(w, r, http.StatusOK, "totp", "totp.title", "", totpData{URI: uri, Secret: secret})
}

func (s *server) totpConfirm(w http.ResponseWriter, r *http.Request) {
	sess, _, ok := s.session(w, r)
	if !ok {
		return
	}
	codes, err := s.staff.ConfirmTOTP(r.Context(), sess.StaffID, r.PostFormValue("code"))
	if errors.Is(err, security.ErrBadTOTPCode) {
		// The secret already shown stays pending; ask only for the code again.
		web.Render(w, r, http.StatusUnprocessableEntity, "totp", "totp.title", web.T(web.Lang(r), "totp.bad_code"), totpData{})
		return
	}
	if err != nil {
		web.WriteProblem(w, r, err)
		return
	}
	// The limited session ends: the next sign-in uses the new second factor.
	s.staff.Sessions.RevokeAll(r.Context(), sess.StaffID)
	http.SetCookie(w, security.ClearSessionCookie(s.secureCookies(r)))
	web.Render(w, r, http.StatusOK, "totp", "totp.title", "", totpData{RecoveryCodes: codes})
}

// mailNewDevice tells a staff member about a sign-in from a device not seen before
// (S5). A failure to queue the mail is logged, not shown: the sign-in itself stands.
func (s *server) mailNewDevice(r *http.Request, email string) {
	err := s.env.st.Write(r.Context(), func(ctx context.Context, tx store.Tx) error {
		_, err := s.outbox.Enqueue(ctx, tx, mail.Message{Template: "new-device", Locale: web.Lang(r), To: email,
			Data: map[string]string{"when": time.Now().UTC().Format("2006-01-02 15:04 MST"), "ip": web.ClientIP(r),
				"link": s.baseURL() + "/console/login"}})
		return err
	})
	if err != nil {
		slog.ErrorContext(r.Context(), "new-device mail not queued", "err", err, "request_id", web.RequestID(r.Context()))
		return
	}
	s.outbox.Wake()
}

// baseURL is the public address of this server, for links in mail.
func (s *server) baseURL() string {
	switch {
	case s.env.cfg.BaseURL != "":
		return strings.TrimSuffix(s.env.cfg.BaseURL, "/")
	case s.env.cfg.Addr != "":
		return "http://" + s.env.cfg.Addr
	}
	return "http://localhost"
}
