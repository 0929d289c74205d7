package security

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"tillit/internal/store"
)

// ErrSessionInvalid covers unknown, malformed, expired and revoked sessions and
// sessions of disabled staff alike.
var ErrSessionInvalid = errors.New("session expired or invalid; please log in again")

// Session cookie names. With the __Host- prefix the browser accepts the cookie only
// from a secure origin, for Path=/ and without a Domain, so a sibling subdomain
// cannot plant or overwrite it.
const (
	SessionCookieSecure   = "__Host-tillit_session"
	SessionCookieInsecure = "tillit_session"
)

// Second factors a session can have been granted with.
const (
	FactorNone     = ""
	FactorTOTP     = "totp"
	FactorRecovery = "recovery"
)

// Session is a staff member's logged-in session as seen on one request.
type Session struct {
	// Token is the raw cookie value, set only in the Session that Login returns.
	Token      string
	StaffID    string
	Email      string
	Name       string
	Role       Role
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	// DeviceApproved is false on a device no one has approved yet: the caller must
	// then refuse admin-level permissions.
	DeviceApproved bool
	// SecondFactor is FactorTOTP or FactorRecovery when one was given at login.
	SecondFactor string
	// NeedsTOTPEnrollment: the role sees personal data and no TOTP is confirmed yet;
	// the session may only enroll (EnrollTOTP, ConfirmTOTP) and log out.
	NeedsTOTPEnrollment bool
}

// FullAccess reports whether the session may use its role's permissions: the role
// needs no second factor, or one was given. Admin-level permissions additionally
// need DeviceApproved.
func (s Session) FullAccess() bool {
	return !RequiresTOTP(s.Role) || s.SecondFactor != FactorNone
}

// Principal is who acts through this session.
func (s Session) Principal() Principal {
	return Principal{Kind: "staff", ID: s.StaffID, Name: s.Name, Role: s.Role}
}

// Sessions keeps staff sessions server-side: the cookie carries 256 random bits, the
// table their SHA-256. A session ends after IdleTimeout without use, at
// AbsoluteTimeout after login, on logout, and at once when its staff member is
// disabled or has the password reset.
type Sessions struct {
	st  *store.Store
	now func() time.Time

	IdleTimeout     time.Duration // default 30 min
	AbsoluteTimeout time.Duration // default 12 h
	// TouchEvery bounds how often Validate writes last_seen_at (default 1 min), so a
	// busy console does not turn every page view into a durable write.
	TouchEvery time.Duration
}

// NewSessions returns the session service; now may be nil for time.Now.
func NewSessions(st *store.Store, now func() time.Time) *Sessions {
	if now == nil {
		now = time.Now
	}
	return &Sessions{st: st, now: now, IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 12 * time.Hour, TouchEvery: time.Minute}
}

func hashHex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func randomToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// newSession is the grant Login hands to create.
type newSession struct {
	staffID, deviceHash, ip, userAgent, factor string
	deviceApproved                             bool
}

// create inserts a session inside the caller's write and returns its raw token.
func (s *Sessions) create(ctx context.Context, tx store.Tx, n newSession) (Session, error) {
	raw, err := randomToken()
	if err != nil {
		return Session{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	sess := Session{Token: raw, StaffID: n.staffID, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(s.AbsoluteTimeout), DeviceApproved: n.deviceApproved, SecondFactor: n.factor}
	_, err = tx.ExecContext(ctx, `INSERT INTO staff_sessions (id_hash, staff_id, device_hash, created_at,
		last_seen_at, expires_at, idle_timeout, ip, user_agent_hash, device_approved, second_factor)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		hashHex(raw), n.staffID, n.deviceHash, store.Micros(now), store.Micros(now), store.Micros(sess.ExpiresAt),
		s.IdleTimeout.Microseconds(), n.ip, hashHex(n.userAgent), n.deviceApproved, n.factor)
	return sess, err
}

// Validate returns the session for a raw cookie value, or ErrSessionInvalid.
func (s *Sessions) Validate(ctx context.Context, raw string) (Session, error) {
	if len(raw) != 43 {
		return Session{}, ErrSessionInvalid
	}
	h := hashHex(raw)
	var sess Session
	var created, seen, expires, idle int64
	var disabled, totpConfirmed sql.NullInt64
	err := s.st.DB().QueryRowContext(ctx, `SELECT s.staff_id, s.created_at, s.last_seen_at, s.expires_at,
		s.idle_timeout, s.device_approved, s.second_factor, st.email, st.name, st.role, st.disabled_at,
		st.totp_confirmed_at
		FROM staff_sessions s JOIN staff st ON st.id = s.staff_id WHERE s.id_hash = $1`, h).
		Scan(&sess.StaffID, &created, &seen, &expires, &idle, &sess.DeviceApproved, &sess.SecondFactor,
			&sess.Email, &sess.Name, &sess.Role, &disabled, &totpConfirmed)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Session{}, ErrSessionInvalid
	case err != nil:
		return Session{}, store.Classify(err)
	}
	now := s.now()
	sess.CreatedAt, sess.LastSeenAt, sess.ExpiresAt = store.Time(created), store.Time(seen), store.Time(expires)
	if disabled.Valid || !now.Before(sess.ExpiresAt) ||
		!now.Before(sess.LastSeenAt.Add(time.Duration(idle)*time.Microsecond)) {
		return Session{}, ErrSessionInvalid
	}
	sess.NeedsTOTPEnrollment = RequiresTOTP(sess.Role) && !totpConfirmed.Valid
	if now.Sub(sess.LastSeenAt) >= s.TouchEvery {
		t := now.UTC().Truncate(time.Microsecond)
		err := s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
			// The condition keeps a slow touch from moving last_seen_at backwards.
			_, err := tx.ExecContext(ctx, `UPDATE staff_sessions SET last_seen_at = $1 WHERE id_hash = $2 AND last_seen_at < $1`,
				store.Micros(t), h)
			return err
		})
		if err != nil {
			return Session{}, err
		}
		sess.LastSeenAt = t
	}
	return sess, nil
}

// Revoke ends one session (logout). Revoking an unknown session is not an error.
func (s *Sessions) Revoke(ctx context.Context, raw string) error {
	return s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE id_hash = $1`, hashHex(raw))
		return err
	})
}

// RevokeAll ends every session of a staff member ("log out everywhere") and returns
// how many there were.
func (s *Sessions) RevokeAll(ctx context.Context, staffID string) (n int64, err error) {
	err = s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		n, err = revokeAllTx(ctx, tx, staffID)
		return err
	})
	return n, err
}

func revokeAllTx(ctx context.Context, tx store.Tx, staffID string) (int64, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE staff_id = $1`, staffID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// DeleteExpired removes sessions past their absolute end or idle for longer than
// their idle timeout, for a periodic cleanup job.
func (s *Sessions) DeleteExpired(ctx context.Context) (n int64, err error) {
	now := store.Micros(s.now())
	err = s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE expires_at <= $1 OR last_seen_at + idle_timeout <= $1`, now)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// SessionCookie is the cookie carrying a session token. secure is false only for
// plain-HTTP development on localhost; then the __Host- prefix cannot be used. The
// cookie lives for the browser session; the server enforces the timeouts.
func SessionCookie(raw string, secure bool) *http.Cookie {
	name := SessionCookieInsecure
	if secure {
		name = SessionCookieSecure
	}
	return &http.Cookie{Name: name, Value: raw, Path: "/", Secure: secure, HttpOnly: true, SameSite: http.SameSiteLaxMode}
}

// ClearSessionCookie deletes the session cookie (logout).
func ClearSessionCookie(secure bool) *http.Cookie {
	c := SessionCookie("", secure)
	c.MaxAge = -1
	return c
}

// Device cookie names; the value is a random device id from NewDeviceID.
const (
	DeviceCookieSecure   = "__Host-tillit_device"
	DeviceCookieInsecure = "tillit_device"
)

// NewDeviceID returns a random device id for a browser that has none.
func NewDeviceID() string {
	raw, err := randomToken()
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return raw
}

// DeviceCookie is the long-lived cookie that recognises a staff member's browser.
func DeviceCookie(deviceID string, secure bool) *http.Cookie {
	name := DeviceCookieInsecure
	if secure {
		name = DeviceCookieSecure
	}
	return &http.Cookie{Name: name, Value: deviceID, Path: "/", Secure: secure, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: 400 * 24 * 3600}
}
