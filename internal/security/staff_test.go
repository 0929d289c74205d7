package security

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

// cheap keeps argon2id fast under -race; the default parameters are benchmarked.
var cheap = Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32}

const pw = "fjällräven i snön"

func newStaff(t *testing.T, st *store.Store, c *clock) *Staff {
	t.Helper()
	mk, _, err := LoadOrCreateMasterKey(filepath.Join(t.TempDir(), "master.key"), true)
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := mk.AEAD("staff-totp")
	if err != nil {
		t.Fatal(err)
	}
	s := NewStaff(st, sealer, c.now)
	s.Params = cheap
	return s
}

func add(t *testing.T, s *Staff, email string, role Role) StaffMember {
	t.Helper()
	m, err := s.Add(context.Background(), email, "Test "+string(role), role, pw)
	if err != nil {
		t.Fatalf("add %s: %v", email, err)
	}
	return m
}

// login logs in from one fixed device unless the attempt names another.
func login(s *Staff, a LoginAttempt) (LoginResult, error) {
	if a.DeviceID == "" {
		a.DeviceID = "device-1"
	}
	if a.IP == "" {
		a.IP = "192.0.2.1"
	}
	return s.Login(context.Background(), a)
}

// S3: staff accounts are added with a checked e-mail, role and password, listed,
// disabled (ending their sessions) and given a new password (ending their sessions).
func TestS3_StaffAddListDisableReset(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		c := newClock()
		s := newStaff(t, st, c)
		owner := add(t, s, "  Owner@Example.SE ", RoleOwner)
		if owner.Email != "owner@example.se" || owner.Role != RoleOwner || owner.TOTPEnrolled {
			t.Fatalf("added %+v", owner)
		}
		ro := add(t, s, "reader@example.se", RoleReadOnly)
		if _, err := s.Add(ctx, "OWNER@example.se", "Dup", RoleAdmin, pw); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate e-mail in another case: %v", err)
		}
		for _, bad := range []struct {
			email, name string
			role        Role
			password    string
			want        error
		}{
			{"not an address", "X", RoleAdmin, pw, ErrStaffInput},
			{"x@example.se", "", RoleAdmin, pw, ErrStaffInput},
			{"x@example.se", "X", "root", pw, ErrStaffInput},
			{"x@example.se", "X", RoleAdmin, "short", ErrWeakPassword},
			{"x@example.se", "X", RoleAdmin, "password1234", ErrWeakPassword},
		} {
			if _, err := s.Add(ctx, bad.email, bad.name, bad.role, bad.password); !errors.Is(err, bad.want) {
				t.Errorf("add %+v: want %v, got %v", bad, bad.want, err)
			}
		}
		list, err := s.List(ctx)
		if err != nil || len(list) != 2 || list[0].ID != owner.ID || list[1].ID != ro.ID {
			t.Fatalf("list: %+v %v", list, err)
		}
		if got, err := s.GetByEmail(ctx, "READER@example.se"); err != nil || got.ID != ro.ID {
			t.Fatalf("get by e-mail: %+v %v", got, err)
		}
		if _, err := s.Get(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("get unknown: %v", err)
		}
		var hash string
		st.DB().QueryRow(`SELECT password_hash FROM staff WHERE id = $1`, ro.ID).Scan(&hash)
		if !strings.HasPrefix(hash, "$argon2id$") || strings.Contains(hash, pw) {
			t.Fatalf("stored password is %q", hash)
		}

		// Reset: the old password stops working and open sessions end.
		res, err := login(s, LoginAttempt{Email: "reader@example.se", Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.ResetPassword(ctx, ro.ID, "reader"+"reader-2026"); !errors.Is(err, ErrWeakPassword) {
			t.Fatalf("reset to a password holding the e-mail name: %v", err)
		}
		const pw2 = "ett helt nytt lösen"
		if err := s.ResetPassword(ctx, ro.ID, pw2); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sessions.Validate(ctx, res.Session.Token); !errors.Is(err, ErrSessionInvalid) {
			t.Fatalf("session survived a password reset: %v", err)
		}
		if _, err := login(s, LoginAttempt{Email: "reader@example.se", Password: pw}); !errors.Is(err, ErrLoginFailed) {
			t.Fatalf("old password after reset: %v", err)
		}
		res, err = login(s, LoginAttempt{Email: "reader@example.se", Password: pw2})
		if err != nil {
			t.Fatal(err)
		}

		// Disable: the session ends at once and the account cannot log in.
		if err := s.Disable(ctx, ro.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sessions.Validate(ctx, res.Session.Token); !errors.Is(err, ErrSessionInvalid) {
			t.Fatalf("session of disabled staff: %v", err)
		}
		if r, err := login(s, LoginAttempt{Email: "reader@example.se", Password: pw2}); !errors.Is(err, ErrLoginFailed) || r.Outcome != LoginDisabled {
			t.Fatalf("disabled login: %+v %v", r, err)
		}
		if m, _ := s.Get(ctx, ro.ID); m.DisabledAt == nil {
			t.Fatal("disabled_at not set")
		}

		// The company always keeps an active owner.
		if err := s.Disable(ctx, owner.ID); !errors.Is(err, ErrLastOwner) {
			t.Fatalf("disable last owner: %v", err)
		}
		if err := s.SetRole(ctx, owner.ID, RoleAdmin); !errors.Is(err, ErrLastOwner) {
			t.Fatalf("demote last owner: %v", err)
		}
		o2 := add(t, s, "owner2@example.se", RoleAdmin)
		if err := s.SetRole(ctx, o2.ID, RoleOwner); err != nil {
			t.Fatal(err)
		}
		if err := s.SetRole(ctx, owner.ID, RoleAuditor); err != nil {
			t.Fatal(err)
		}
		if m, _ := s.Get(ctx, owner.ID); m.Role != RoleAuditor {
			t.Fatalf("role not changed: %+v", m)
		}
		if err := s.SetRole(ctx, "nope", RoleAdmin); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("set role of unknown: %v", err)
		}
	})
}

// S3: an unknown e-mail, a wrong password and a disabled account get the same answer,
// and an unknown e-mail still costs a password verification.
func TestS3_LoginFailuresLookAlike(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		c := newClock()
		s := newStaff(t, st, c)
		s.Params = Argon2Params{Time: 2, MemoryKiB: 8 * 1024, Threads: 1, KeyLen: 32} // measurable, still quick
		add(t, s, "auditor@example.se", RoleAuditor)
		gone := add(t, s, "gone@example.se", RoleAuditor)
		if err := s.Disable(ctx, gone.ID); err != nil {
			t.Fatal(err)
		}
		res, err := login(s, LoginAttempt{Email: "auditor@example.se", Password: pw})
		if err != nil || res.Outcome != LoginOK || res.Session == nil || res.StaffID == "" {
			t.Fatalf("good login: %+v %v", res, err)
		}
		var texts []string
		for _, a := range []struct {
			email, password string
			want            LoginOutcome
		}{
			{"nobody@example.se", pw, LoginUnknownEmail},
			{"auditor@example.se", pw + "x", LoginBadPassword},
			{"gone@example.se", pw, LoginDisabled},
		} {
			start := time.Now()
			res, err := login(s, LoginAttempt{Email: a.email, Password: a.password})
			took := time.Since(start)
			if !errors.Is(err, ErrLoginFailed) || res.Outcome != a.want || res.Session != nil {
				t.Fatalf("%s: %+v %v", a.email, res, err)
			}
			texts = append(texts, err.Error())
			// The dummy verification: an unknown e-mail is not answered instantly.
			if took < time.Millisecond {
				t.Errorf("%s answered in %v: no password verification", a.email, took)
			}
		}
		if texts[0] != texts[1] || texts[1] != texts[2] {
			t.Fatalf("failures are told apart: %q", texts)
		}
	})
}

// S3: five failures in a row lock the account; each further failure doubles the
// lock; a lock ends by itself, and a correct login afterwards resets the count.
func TestS3_LockoutWithBackoff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		c := newClock()
		s := newStaff(t, st, c)
		m := add(t, s, "reader@example.se", RoleReadOnly)
		wrong := LoginAttempt{Email: "reader@example.se", Password: "not the password"}
		right := LoginAttempt{Email: "reader@example.se", Password: pw}
		for i := 1; i <= 4; i++ {
			if res, _ := login(s, wrong); !res.LockedUntil.IsZero() {
				t.Fatalf("locked after %d failures", i)
			}
		}
		res, err := login(s, wrong)
		if !errors.Is(err, ErrLoginFailed) || !res.LockedUntil.Equal(c.now().Add(time.Minute)) {
			t.Fatalf("5th failure: %+v %v", res, err)
		}
		// Locked: even the right password is refused, without a hint.
		if res, err := login(s, right); !errors.Is(err, ErrLoginFailed) || res.Outcome != LoginLocked {
			t.Fatalf("login while locked: %+v %v", res, err)
		}
		c.add(time.Minute)
		res, _ = login(s, wrong)
		if !res.LockedUntil.Equal(c.now().Add(2 * time.Minute)) {
			t.Fatalf("6th failure: locked until %v, want 2 minutes", res.LockedUntil)
		}
		c.add(2 * time.Minute)
		res, _ = login(s, wrong)
		if !res.LockedUntil.Equal(c.now().Add(4 * time.Minute)) {
			t.Fatalf("7th failure: locked until %v, want 4 minutes", res.LockedUntil)
		}
		c.add(4 * time.Minute)
		if res, err := login(s, right); err != nil || res.Outcome != LoginOK {
			t.Fatalf("login after the lock: %+v %v", res, err)
		}
		if got, _ := s.Get(ctx, m.ID); got.FailedLogins != 0 || got.LockedUntil != nil {
			t.Fatalf("counter not reset: %+v", got)
		}
		if res, _ := login(s, wrong); !res.LockedUntil.IsZero() {
			t.Fatal("one failure after a reset locks again")
		}
		// Never permanent: the backoff is capped.
		s.MaxFailures, s.LockBase, s.LockMax = 5, time.Minute, time.Hour
		if d := s.lockFor(1000); d != time.Hour {
			t.Fatalf("lock after 1000 failures: %v", d)
		}
	})
}

func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totpOpts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// S3: roles that see personal data need a confirmed TOTP before a session gets
// their permissions; after enrollment a login needs a code (asked for only after a
// correct password); a wrong or replayed code fails; a recovery code works once.
func TestS3_TOTPRequiredForPersonalDataRoles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		c := newClock()
		s := newStaff(t, st, c)
		m := add(t, s, "support@example.se", RoleSupport)
		for _, r := range Roles {
			want := r != RoleAuditor && r != RoleReadOnly
			if RequiresTOTP(r) != want {
				t.Errorf("RequiresTOTP(%s) = %v", r, !want)
			}
		}

		// Not enrolled: a session that may only enroll.
		res, err := login(s, LoginAttempt{Email: m.Email, Password: pw})
		if err != nil || !res.Session.NeedsTOTPEnrollment || res.Session.FullAccess() {
			t.Fatalf("login before enrollment: %+v %v", res.Session, err)
		}
		if v, err := s.Sessions.Validate(ctx, res.Session.Token); err != nil || !v.NeedsTOTPEnrollment || v.FullAccess() {
			t.Fatalf("validated session before enrollment: %+v %v", v, err)
		}

		if _, err := s.ConfirmTOTP(ctx, m.ID, "123456"); !errors.Is(err, ErrTOTPNotEnrolled) {
			t.Fatalf("confirm before enroll: %v", err)
		}
		uri, secret, err := s.EnrollTOTP(ctx, m.ID)
		if err != nil || !strings.HasPrefix(uri, "otpauth://totp/Tillit:support@example.se?") || !strings.Contains(uri, "secret="+secret) {
			t.Fatalf("enroll: %q %v", uri, err)
		}
		var sealed []byte
		st.DB().QueryRow(`SELECT totp_secret FROM staff WHERE id = $1`, m.ID).Scan(&sealed)
		if len(sealed) == 0 || bytes.Contains(sealed, []byte(secret)) {
			t.Fatal("TOTP secret stored in the clear")
		}
		if _, err := s.ConfirmTOTP(ctx, m.ID, "000000"); !errors.Is(err, ErrBadTOTPCode) {
			t.Fatalf("confirm with a wrong code: %v", err)
		}
		codes, err := s.ConfirmTOTP(ctx, m.ID, code(t, secret, c.now()))
		if err != nil || len(codes) != RecoveryCodeCount {
			t.Fatalf("confirm: %v %v", codes, err)
		}
		var stored string
		st.DB().QueryRow(`SELECT code_hash FROM staff_recovery_codes WHERE staff_id = $1 LIMIT 1`, m.ID).Scan(&stored)
		if len(stored) != 64 || strings.Contains(strings.Join(codes, ","), stored) {
			t.Fatalf("recovery code stored as %q", stored)
		}
		if _, _, err := s.EnrollTOTP(ctx, m.ID); !errors.Is(err, ErrTOTPEnrolled) {
			t.Fatalf("second enrollment: %v", err)
		}

		// The password comes first: a wrong one never reveals that a code is needed.
		if _, err := login(s, LoginAttempt{Email: m.Email, Password: "wrong password!"}); !errors.Is(err, ErrLoginFailed) {
			t.Fatalf("wrong password with TOTP enrolled: %v", err)
		}
		if res, err := login(s, LoginAttempt{Email: m.Email, Password: pw}); !errors.Is(err, ErrSecondFactorRequired) || res.Session != nil {
			t.Fatalf("no code: %+v %v", res, err)
		}
		if res, err := login(s, LoginAttempt{Email: m.Email, Password: pw, TOTPCode: "000000"}); !errors.Is(err, ErrLoginFailed) || res.Outcome != LoginBadCode {
			t.Fatalf("wrong code: %+v %v", res, err)
		}
		c.add(time.Minute) // the confirming code's step is spent; move to a fresh one
		good := code(t, secret, c.now())
		res, err = login(s, LoginAttempt{Email: m.Email, Password: pw, TOTPCode: good})
		if err != nil || res.Session.SecondFactor != FactorTOTP || !res.Session.FullAccess() || res.Session.NeedsTOTPEnrollment {
			t.Fatalf("good code: %+v %v", res.Session, err)
		}
		if _, err := login(s, LoginAttempt{Email: m.Email, Password: pw, TOTPCode: good}); !errors.Is(err, ErrLoginFailed) {
			t.Fatalf("replayed code: %v", err)
		}
		c.add(30 * time.Second) // one step of drift either way is accepted
		if _, err := login(s, LoginAttempt{Email: m.Email, Password: pw, TOTPCode: code(t, secret, c.now().Add(30*time.Second))}); err != nil {
			t.Fatalf("code from a clock one step ahead: %v", err)
		}

		// Recovery codes: once each, typed loosely.
		rc := strings.ToUpper(strings.ReplaceAll(codes[3], "-", " "))
		res, err = login(s, LoginAttempt{Email: m.Email, Password: pw, RecoveryCode: rc})
		if err != nil || res.Session.SecondFactor != FactorRecovery || !res.RecoveryCodeUsed || res.RecoveryCodesLeft != 9 {
			t.Fatalf("recovery code: %+v %v", res, err)
		}
		if res, err := login(s, LoginAttempt{Email: m.Email, Password: pw, RecoveryCode: codes[3]}); !errors.Is(err, ErrLoginFailed) || res.Outcome != LoginBadCode {
			t.Fatalf("recovery code reused: %+v %v", res, err)
		}
		if _, err := login(s, LoginAttempt{Email: m.Email, Password: pw, RecoveryCode: "aaaa-bbbb-cccc-dddd"}); !errors.Is(err, ErrLoginFailed) {
			t.Fatalf("made-up recovery code: %v", err)
		}

		// A lost phone: reset ends sessions and the role is back to enrolling.
		if err := s.ResetTOTP(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sessions.Validate(ctx, res.Session.Token); !errors.Is(err, ErrSessionInvalid) {
			t.Fatalf("session after TOTP reset: %v", err)
		}
		if res, err := login(s, LoginAttempt{Email: m.Email, Password: pw}); err != nil || !res.Session.NeedsTOTPEnrollment {
			t.Fatalf("login after TOTP reset: %+v %v", res, err)
		}
	})
}

// S3: sessions end after 30 idle minutes and 12 hours after login whatever the use;
// logout ends one, "log out everywhere" all; last_seen is written at most once a minute.
func TestS3_SessionTimeoutsAndRevocation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		c := newClock()
		s := newStaff(t, st, c)
		m := add(t, s, "auditor@example.se", RoleAuditor)
		in := func() string {
			t.Helper()
			res, err := login(s, LoginAttempt{Email: m.Email, Password: pw, UserAgent: "Firefox"})
			if err != nil {
				t.Fatal(err)
			}
			return res.Session.Token
		}
		lastSeen := func(raw string) int64 {
			var v int64
			st.DB().QueryRow(`SELECT last_seen_at FROM staff_sessions WHERE id_hash = $1`, hashHex(raw)).Scan(&v)
			return v
		}

		tok := in()
		if len(tok) != 43 {
			t.Fatalf("token %q is not 256 bits in base64url", tok)
		}
		var ua, ip string
		st.DB().QueryRow(`SELECT user_agent_hash, ip FROM staff_sessions WHERE id_hash = $1`, hashHex(tok)).Scan(&ua, &ip)
		if ua == "Firefox" || len(ua) != 64 || ip != "192.0.2.1" {
			t.Fatalf("stored user agent %q, ip %q", ua, ip)
		}
		before := lastSeen(tok)
		c.add(30 * time.Second)
		v, err := s.Sessions.Validate(ctx, tok)
		if err != nil || v.StaffID != m.ID || v.Role != RoleAuditor || v.Email != m.Email || v.Principal().Kind != "staff" {
			t.Fatalf("validate: %+v %v", v, err)
		}
		if lastSeen(tok) != before {
			t.Fatal("last_seen written within the first minute")
		}
		c.add(29 * time.Minute) // 29.5 minutes idle: still alive, and touched
		if _, err := s.Sessions.Validate(ctx, tok); err != nil {
			t.Fatalf("29.5 min idle: %v", err)
		}
		if lastSeen(tok) != store.Micros(c.now()) {
			t.Fatal("last_seen not touched after a minute")
		}
		c.add(30 * time.Minute)
		if _, err := s.Sessions.Validate(ctx, tok); !errors.Is(err, ErrSessionInvalid) {
			t.Fatalf("30 min idle: %v", err)
		}

		// Absolute: busy all day, still out after 12 hours.
		tok = in()
		for range 12*3 - 1 {
			c.add(20 * time.Minute)
			if _, err := s.Sessions.Validate(ctx, tok); err != nil {
				t.Fatalf("busy session at %v: %v", c.now(), err)
			}
		}
		c.add(20 * time.Minute)
		if _, err := s.Sessions.Validate(ctx, tok); !errors.Is(err, ErrSessionInvalid) {
			t.Fatalf("12 h after login: %v", err)
		}

		// Logout and log out everywhere.
		if n, err := s.Sessions.DeleteExpired(ctx); err != nil || n != 2 {
			t.Fatalf("delete expired: %d %v", n, err)
		}
		a, b, d := in(), in(), in()
		if err := s.Sessions.Revoke(ctx, a); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sessions.Validate(ctx, a); !errors.Is(err, ErrSessionInvalid) {
			t.Fatalf("revoked: %v", err)
		}
		if _, err := s.Sessions.Validate(ctx, b); err != nil {
			t.Fatalf("revoking one ended another: %v", err)
		}
		if n, err := s.Sessions.RevokeAll(ctx, m.ID); err != nil || n != 2 {
			t.Fatalf("revoke all: %d %v", n, err)
		}
		for _, x := range []string{b, d} {
			if _, err := s.Sessions.Validate(ctx, x); !errors.Is(err, ErrSessionInvalid) {
				t.Fatalf("after revoke all: %v", err)
			}
		}
		for _, bad := range []string{"", "short", strings.Repeat("A", 43)} {
			if _, err := s.Sessions.Validate(ctx, bad); !errors.Is(err, ErrSessionInvalid) {
				t.Fatalf("%q: %v", bad, err)
			}
		}

		// Cleanup removes what can no longer be used.
		in()
		c.add(31 * time.Minute)
		if n, err := s.Sessions.DeleteExpired(ctx); err != nil || n < 1 {
			t.Fatalf("delete expired: %d %v", n, err)
		}
		var left int
		st.DB().QueryRow(`SELECT COUNT(*) FROM staff_sessions`).Scan(&left)
		if left != 0 {
			t.Fatalf("%d sessions left", left)
		}
	})
}

func TestSessionCookie(t *testing.T) {
	c := SessionCookie("tok", true)
	if c.Name != "__Host-tillit_session" || !c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != "" || c.SameSite != 2 {
		t.Fatalf("secure cookie: %+v", c)
	}
	if err := c.Valid(); err != nil {
		t.Fatal(err)
	}
	c = SessionCookie("tok", false)
	if strings.HasPrefix(c.Name, "__Host-") || c.Secure || !c.HttpOnly {
		t.Fatalf("development cookie: %+v", c)
	}
	if ClearSessionCookie(true).MaxAge >= 0 {
		t.Fatal("clearing cookie does not expire")
	}
	if d := DeviceCookie(NewDeviceID(), true); d.Name != "__Host-tillit_device" || d.MaxAge <= 0 || len(d.Value) != 43 {
		t.Fatalf("device cookie: %+v", d)
	}
}

// S5: a login from a device never seen is let in without admin-level access
// (DeviceApproved false) and reported as new, so the staff member is mailed; someone
// else approves it; only the very first device can be trusted at bootstrap.
func TestS5_NewDevicePendingUntilApproved(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		c := newClock()
		s := newStaff(t, st, c)
		m := add(t, s, "auditor@example.se", RoleAuditor)
		boss := add(t, s, "boss@example.se", RoleAuditor)

		res, err := login(s, LoginAttempt{Email: m.Email, Password: pw, DeviceID: "laptop", TrustFirstDevice: true})
		if err != nil || !res.Session.DeviceApproved || res.NewDevice {
			t.Fatalf("first device at bootstrap: %+v %v", res, err)
		}
		// TrustFirstDevice does nothing once a device exists.
		res, err = login(s, LoginAttempt{Email: m.Email, Password: pw, DeviceID: "phone", TrustFirstDevice: true})
		if err != nil || res.Session.DeviceApproved || !res.NewDevice || res.DeviceRef != DeviceRef("phone") {
			t.Fatalf("second device: %+v %v", res, err)
		}
		phone := res.Session.Token
		// Seen again while pending: still unapproved, no second mail.
		res, err = login(s, LoginAttempt{Email: m.Email, Password: pw, DeviceID: "phone"})
		if err != nil || res.Session.DeviceApproved || res.NewDevice {
			t.Fatalf("pending device again: %+v %v", res, err)
		}
		// Without the bootstrap flag even a first device waits.
		res, err = login(s, LoginAttempt{Email: boss.Email, Password: pw, DeviceID: "desk"})
		if err != nil || res.Session.DeviceApproved || !res.NewDevice {
			t.Fatalf("first device without trust: %+v %v", res, err)
		}

		devs, err := s.Devices(ctx, m.ID)
		byRef := map[string]Device{}
		for _, d := range devs {
			byRef[d.Ref] = d
		}
		if err != nil || len(devs) != 2 || byRef[DeviceRef("laptop")].ApprovedBy != "bootstrap" ||
			byRef[DeviceRef("phone")].ApprovedAt != nil || byRef[DeviceRef("phone")].FirstSeen.IsZero() {
			t.Fatalf("devices: %+v %v", devs, err)
		}
		if DeviceRef("phone") == "phone" || len(DeviceRef("phone")) != 64 {
			t.Fatal("device id stored in the clear")
		}
		if err := s.ApproveDevice(ctx, m.ID, DeviceRef("phone"), m.ID); !errors.Is(err, ErrSelfApproval) {
			t.Fatalf("self approval: %v", err)
		}
		if err := s.ApproveDevice(ctx, m.ID, DeviceRef("phone"), boss.ID); err != nil {
			t.Fatal(err)
		}
		if v, err := s.Sessions.Validate(ctx, phone); err != nil || !v.DeviceApproved {
			t.Fatalf("session on the approved device: %+v %v", v, err)
		}
		if err := s.ApproveDevice(ctx, m.ID, DeviceRef("phone"), boss.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("approve twice: %v", err)
		}
		if err := s.ApproveDevice(ctx, m.ID, DeviceRef("tablet"), "cli"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("approve unknown: %v", err)
		}
		res, err = login(s, LoginAttempt{Email: m.Email, Password: pw, DeviceID: "phone"})
		if err != nil || !res.Session.DeviceApproved || res.NewDevice {
			t.Fatalf("approved device: %+v %v", res, err)
		}
		if _, err := s.Login(ctx, LoginAttempt{Email: m.Email, Password: pw}); err == nil || errors.Is(err, ErrLoginFailed) {
			t.Fatalf("login without a device id: %v", err)
		}
	})
}

// S3: when the argon2id parameters change, the next successful login stores a hash
// made with the new ones; a failed login never does.
func TestS3_RehashOnParameterChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		c := newClock()
		s := newStaff(t, st, c)
		m := add(t, s, "auditor@example.se", RoleAuditor)
		stored := func() string {
			var h string
			st.DB().QueryRow(`SELECT password_hash FROM staff WHERE id = $1`, m.ID).Scan(&h)
			return h
		}
		old := stored()
		s.Params = Argon2Params{Time: 2, MemoryKiB: 128, Threads: 1, KeyLen: 32}
		if _, err := login(s, LoginAttempt{Email: m.Email, Password: "wrong password"}); !errors.Is(err, ErrLoginFailed) {
			t.Fatal(err)
		}
		if stored() != old {
			t.Fatal("failed login changed the hash")
		}
		res, err := login(s, LoginAttempt{Email: m.Email, Password: pw})
		if err != nil || !res.Rehashed {
			t.Fatalf("login with new params: %+v %v", res, err)
		}
		if h := stored(); h == old || NeedsRehash(h, s.Params) || !strings.Contains(h, "$m=128,t=2,p=1$") {
			t.Fatalf("hash after rehash: %s", h)
		}
		if res, err := login(s, LoginAttempt{Email: m.Email, Password: pw}); err != nil || res.Rehashed {
			t.Fatalf("second login: %+v %v", res, err)
		}
	})
}
