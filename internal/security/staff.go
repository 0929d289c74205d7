package security

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"tillit/internal/store"
)

// SealOpener is the authenticated encryption the staff service keeps TOTP secrets
// under; *Sealer from MasterKey.AEAD("staff-totp") is one.
type SealOpener interface {
	Seal(plaintext, aad []byte) ([]byte, error)
	Open(ciphertext, aad []byte) ([]byte, error)
}

// RequiresTOTP reports whether a role sees personal data and so needs a confirmed
// second factor before a session gets the role's permissions (S3).
func RequiresTOTP(r Role) bool {
	switch r {
	case RoleOwner, RoleAdmin, RoleSupport, RoleBilling:
		return true
	}
	return false
}

// Errors of the staff service. Texts are safe to show to the person concerned.
var (
	ErrStaffInput = errors.New("invalid staff details")
	// ErrLoginFailed is the one answer to an unknown e-mail, a wrong password or
	// code, a disabled account and a locked account: the client learns nothing more.
	// LoginResult.Outcome says which, for the audit log.
	ErrLoginFailed = errors.New("wrong e-mail, password or code")
	// ErrSecondFactorRequired comes only after a correct password.
	ErrSecondFactorRequired = errors.New("enter the code from your authenticator app or a recovery code")
	ErrLastOwner            = errors.New("this is the last active owner; make someone else owner first")
	ErrSelfApproval         = errors.New("a new device must be approved by someone else")
)

// StaffMember is a staff account as listed; secrets and hashes stay inside.
type StaffMember struct {
	ID                string     `json:"id"`
	Email             string     `json:"email"`
	Name              string     `json:"name"`
	Role              Role       `json:"role"`
	TOTPEnrolled      bool       `json:"totp_enrolled"`
	FailedLogins      int        `json:"failed_logins"`
	LockedUntil       *time.Time `json:"locked_until,omitempty"`
	DisabledAt        *time.Time `json:"disabled_at,omitempty"`
	CreatedAt         time.Time  `json:"created_at"`
	PasswordChangedAt time.Time  `json:"password_changed_at"`
}

// staffRow is a staff row with its secrets, for this package only.
type staffRow struct {
	StaffMember
	hash     string
	secret   []byte // sealed TOTP secret, nil if none
	lastStep int64
}

const staffCols = `id, email, name, role, password_hash, totp_secret, totp_confirmed_at, totp_last_step,
	disabled_at, failed_logins, locked_until, created_at, password_changed_at`

func scanStaff(sc interface{ Scan(...any) error }) (staffRow, error) {
	var r staffRow
	var confirmed, disabled, locked sql.NullInt64
	var created, changed int64
	err := sc.Scan(&r.ID, &r.Email, &r.Name, &r.Role, &r.hash, &r.secret, &confirmed, &r.lastStep,
		&disabled, &r.FailedLogins, &locked, &created, &changed)
	if err != nil {
		return r, store.Classify(err)
	}
	r.TOTPEnrolled = confirmed.Valid
	if disabled.Valid {
		t := store.Time(disabled.Int64)
		r.DisabledAt = &t
	}
	if locked.Valid {
		t := store.Time(locked.Int64)
		r.LockedUntil = &t
	}
	r.CreatedAt, r.PasswordChangedAt = store.Time(created), store.Time(changed)
	return r, nil
}

// Staff manages staff accounts, their logins, second factors and devices (S3, S5).
// Password hashing runs outside the database writer, never inside a group commit.
type Staff struct {
	st       *store.Store
	sealer   SealOpener
	now      func() time.Time
	Sessions *Sessions

	// Params hash new passwords; a login with a hash made otherwise re-hashes it.
	Params Argon2Params
	// Issuer names the service in authenticator apps.
	Issuer string
	// After MaxFailures failed logins in a row the account is locked for LockBase,
	// doubling with each further failure up to LockMax. A lock always ends.
	MaxFailures int
	LockBase    time.Duration
	LockMax     time.Duration

	// Audit records account changes, logins and failed logins, in the same
	// transaction as the change.
	Audit *Audit

	slots chan struct{} // bounds concurrent argon2 runs (each takes Params.MemoryKiB)

	dummyMu     sync.Mutex
	dummyParams Argon2Params
	dummyHash   string
}

// NewStaff returns the staff service with its session store; now may be nil for
// time.Now. sealer keeps TOTP secrets (MasterKey.AEAD("staff-totp")).
func NewStaff(st *store.Store, sealer SealOpener, now func() time.Time) *Staff {
	if now == nil {
		now = time.Now
	}
	return &Staff{st: st, sealer: sealer, now: now, Sessions: NewSessions(st, now),
		Params: DefaultArgon2Params, Issuer: "Tillit", MaxFailures: 5, LockBase: time.Minute, LockMax: time.Hour,
		slots: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))}
}

func normEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

func checkEmail(e string) error {
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || a.Name != "" || len(e) > 254 || !strings.Contains(e, "@") {
		return fmt.Errorf("%w: %q is not an e-mail address", ErrStaffInput, e)
	}
	return nil
}

func checkName(n string) error {
	if n == "" || utf8.RuneCountInString(n) > 100 {
		return fmt.Errorf("%w: name must be 1 to 100 characters", ErrStaffInput)
	}
	return nil
}

func checkRole(r Role) error {
	if !r.Valid() {
		return fmt.Errorf("%w: unknown role %q (known: %v)", ErrStaffInput, r, Roles)
	}
	return nil
}

func (s *Staff) acquire(ctx context.Context) error {
	select {
	case s.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Staff) release() { <-s.slots }

func (s *Staff) hash(ctx context.Context, password string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer s.release()
	return HashPassword(password, s.Params)
}

func (s *Staff) verify(ctx context.Context, password, encoded string) (bool, error) {
	if err := s.acquire(ctx); err != nil {
		return false, err
	}
	defer s.release()
	return VerifyPassword(password, encoded)
}

// dummyVerify costs what a real verification costs, so an unknown e-mail answers as
// slowly as a wrong password.
func (s *Staff) dummyVerify(ctx context.Context, password string) {
	s.dummyMu.Lock()
	if s.dummyHash == "" || s.dummyParams != s.Params {
		s.dummyHash, _ = HashPassword("tillit dummy password", s.Params)
		s.dummyParams = s.Params
	}
	h := s.dummyHash
	s.dummyMu.Unlock()
	s.verify(ctx, password, h)
}

// Add creates a staff account. The e-mail is stored lowercased; a second account
// with the same e-mail is store.ErrConflict. The password must pass CheckPassword.
func (s *Staff) Add(ctx context.Context, email, name string, role Role, password string) (StaffMember, error) {
	email, name = normEmail(email), strings.TrimSpace(name)
	for _, err := range []error{checkEmail(email), checkName(name), checkRole(role), CheckPassword(password, email)} {
		if err != nil {
			return StaffMember{}, err
		}
	}
	h, err := s.hash(ctx, password)
	if err != nil {
		return StaffMember{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	m := StaffMember{ID: store.NewID(), Email: email, Name: name, Role: role, CreatedAt: now, PasswordChangedAt: now}
	err = s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO staff (id, email, name, role, password_hash, created_at, password_changed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, m.ID, m.Email, m.Name, string(m.Role), h, store.Micros(now), store.Micros(now))
		if err != nil {
			return err
		}
		return s.record(ctx, tx, "staff.add", m.ID, fmt.Sprintf(`{"role":%q}`, m.Role))
	})
	if err = store.Classify(err); errors.Is(err, store.ErrConflict) {
		return StaffMember{}, fmt.Errorf("a staff member with e-mail %s already exists: %w", email, err)
	}
	return m, err
}

func (s *Staff) load(ctx context.Context, q store.Querier, where string, arg any) (staffRow, error) {
	return scanStaff(q.QueryRowContext(ctx, `SELECT `+staffCols+` FROM staff WHERE `+where, arg))
}

// Get returns one staff member, or store.ErrNotFound.
func (s *Staff) Get(ctx context.Context, id string) (StaffMember, error) {
	r, err := s.load(ctx, s.st.DB(), `id = $1`, id)
	return r.StaffMember, err
}

// GetByEmail returns the staff member with this e-mail (any case), or store.ErrNotFound.
func (s *Staff) GetByEmail(ctx context.Context, email string) (StaffMember, error) {
	r, err := s.load(ctx, s.st.DB(), `email = $1`, normEmail(email))
	return r.StaffMember, err
}

// List returns every staff member, disabled ones included, by e-mail.
func (s *Staff) List(ctx context.Context) ([]StaffMember, error) {
	rows, err := s.st.DB().QueryContext(ctx, `SELECT `+staffCols+` FROM staff ORDER BY email`)
	if err != nil {
		return nil, store.Classify(err)
	}
	defer rows.Close()
	var out []StaffMember
	for rows.Next() {
		r, err := scanStaff(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r.StaffMember)
	}
	return out, store.Classify(rows.Err())
}

// keepAnOwner refuses a change that would leave no active owner.
func keepAnOwner(ctx context.Context, tx store.Tx, id string) error {
	var role string
	var disabled sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT role, disabled_at FROM staff WHERE id = $1`, id).Scan(&role, &disabled); err != nil {
		return store.Classify(err)
	}
	if Role(role) != RoleOwner || disabled.Valid {
		return nil
	}
	var others int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM staff WHERE role = $1 AND disabled_at IS NULL AND id <> $2`,
		string(RoleOwner), id).Scan(&others); err != nil {
		return err
	}
	if others == 0 {
		return ErrLastOwner
	}
	return nil
}

// Disable ends an account: its sessions end at once and it can no longer log in.
// Disabling the last active owner is ErrLastOwner; an unknown id store.ErrNotFound.
func (s *Staff) Disable(ctx context.Context, id string) error {
	return s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := keepAnOwner(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE staff SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL`,
			store.Micros(s.now()), id); err != nil {
			return err
		}
		if _, err := revokeAllTx(ctx, tx, id); err != nil {
			return err
		}
		return s.record(ctx, tx, "staff.disable", id, "")
	})
}

// ResetPassword sets a new password, clears any lock and ends every session.
func (s *Staff) ResetPassword(ctx context.Context, id, password string) error {
	m, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if err := CheckPassword(password, m.Email); err != nil {
		return err
	}
	h, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	return s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE staff SET password_hash = $1, password_changed_at = $2,
			failed_logins = 0, locked_until = NULL WHERE id = $3`, h, store.Micros(s.now()), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		if _, err = revokeAllTx(ctx, tx, id); err != nil {
			return err
		}
		return s.record(ctx, tx, "staff.password.reset", id, "")
	})
}

// SetRole changes a staff member's role; sessions see the new role on their next
// request. Demoting the last active owner is ErrLastOwner.
func (s *Staff) SetRole(ctx context.Context, id string, role Role) error {
	if err := checkRole(role); err != nil {
		return err
	}
	return s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		if role != RoleOwner {
			if err := keepAnOwner(ctx, tx, id); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE staff SET role = $1 WHERE id = $2`, string(role), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return s.record(ctx, tx, "staff.role", id, fmt.Sprintf(`{"role":%q}`, role))
	})
}

// LoginAttempt is what the login form and the request give.
type LoginAttempt struct {
	Email        string
	Password     string
	TOTPCode     string // six digits from the authenticator app, or
	RecoveryCode string // one of the codes ConfirmTOTP returned
	IP           string
	UserAgent    string
	// DeviceID is the value of the device cookie (NewDeviceID makes one).
	DeviceID string
	// TrustFirstDevice approves this device when the staff member has no device
	// yet: for the demo and the first owner's bootstrap only.
	TrustFirstDevice bool
}

// LoginOutcome says what happened, for the audit log; never show it to the client.
type LoginOutcome string

const (
	LoginOK                   LoginOutcome = "ok"
	LoginUnknownEmail         LoginOutcome = "unknown_email"
	LoginBadPassword          LoginOutcome = "bad_password"
	LoginDisabled             LoginOutcome = "disabled"
	LoginLocked               LoginOutcome = "locked"
	LoginSecondFactorRequired LoginOutcome = "second_factor_required"
	LoginBadCode              LoginOutcome = "bad_code"
)

// LoginResult tells the caller what to audit and whom to mail.
type LoginResult struct {
	Outcome LoginOutcome
	StaffID string   // empty for an unknown e-mail
	Session *Session // set when Outcome is LoginOK
	// NewDevice: the login came from a device not seen before; the caller mails the
	// staff member (outbox) and an approver. DeviceRef names the device in Devices
	// and ApproveDevice without revealing the cookie value.
	NewDevice bool
	DeviceRef string
	// LockedUntil is set when the account is locked, by this attempt or before.
	LockedUntil time.Time
	// Rehashed: the password hash was upgraded to the current Params.
	Rehashed bool
	// RecoveryCodeUsed and RecoveryCodesLeft are set when a recovery code was spent.
	RecoveryCodeUsed  bool
	RecoveryCodesLeft int
}

var errBadCode = errors.New("bad second-factor code")

// Login checks an attempt and, on success, opens a session. Every failure is
// ErrLoginFailed, except ErrSecondFactorRequired after a correct password when no
// code was given; Outcome tells the audit log which. Rate limiting by IP and by
// e-mail is the caller's (RateLimiter); the per-account lock is here.
func (s *Staff) Login(ctx context.Context, a LoginAttempt) (LoginResult, error) {
	if a.DeviceID == "" {
		return LoginResult{}, errors.New("security: login without a device id (set one with NewDeviceID)")
	}
	res := LoginResult{DeviceRef: hashHex(a.DeviceID)}
	row, err := s.load(ctx, s.st.DB(), `email = $1`, normEmail(a.Email))
	if errors.Is(err, store.ErrNotFound) {
		s.dummyVerify(ctx, a.Password)
		res.Outcome = LoginUnknownEmail
		return s.refuse(ctx, res, a.IP, ErrLoginFailed)
	}
	if err != nil {
		return res, err
	}
	res.StaffID = row.ID
	now := s.now()
	if row.LockedUntil != nil && now.Before(*row.LockedUntil) {
		s.dummyVerify(ctx, a.Password)
		res.Outcome, res.LockedUntil = LoginLocked, *row.LockedUntil
		return s.refuse(ctx, res, a.IP, ErrLoginFailed)
	}
	ok, err := s.verify(ctx, a.Password, row.hash)
	if err != nil {
		return res, fmt.Errorf("staff %s: %w", row.ID, err)
	}
	if row.DisabledAt != nil {
		res.Outcome = LoginDisabled
		return s.refuse(ctx, res, a.IP, ErrLoginFailed)
	}
	if !ok {
		return s.fail(ctx, res, LoginBadPassword, a.IP)
	}

	factor, step, recovery := FactorNone, int64(0), ""
	if row.TOTPEnrolled {
		switch {
		case strings.TrimSpace(a.TOTPCode) != "":
			if step, ok = s.checkTOTP(row, a.TOTPCode, now); !ok {
				return s.fail(ctx, res, LoginBadCode, a.IP)
			}
			factor = FactorTOTP
		case strings.TrimSpace(a.RecoveryCode) != "":
			factor, recovery = FactorRecovery, hashRecoveryCode(row.ID, a.RecoveryCode)
		default:
			res.Outcome = LoginSecondFactorRequired
			return s.refuse(ctx, res, a.IP, ErrSecondFactorRequired)
		}
	}
	newHash := ""
	if NeedsRehash(row.hash, s.Params) {
		if newHash, err = s.hash(ctx, a.Password); err != nil {
			return res, err
		}
	}

	err = s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		res.RecoveryCodeUsed, res.RecoveryCodesLeft, res.NewDevice, res.Rehashed = false, 0, false, false
		switch factor {
		case FactorTOTP:
			// A code is good once: a replay within its 90-second window fails.
			r, err := tx.ExecContext(ctx, `UPDATE staff SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1`, step, row.ID)
			if err != nil {
				return err
			}
			if n, _ := r.RowsAffected(); n == 0 {
				return errBadCode
			}
		case FactorRecovery:
			r, err := tx.ExecContext(ctx, `UPDATE staff_recovery_codes SET used_at = $1
				WHERE staff_id = $2 AND code_hash = $3 AND used_at IS NULL`, store.Micros(now), row.ID, recovery)
			if err != nil {
				return err
			}
			if n, _ := r.RowsAffected(); n == 0 {
				return errBadCode
			}
			res.RecoveryCodeUsed = true
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM staff_recovery_codes WHERE staff_id = $1 AND used_at IS NULL`,
				row.ID).Scan(&res.RecoveryCodesLeft); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE staff SET failed_logins = 0, locked_until = NULL WHERE id = $1`, row.ID); err != nil {
			return err
		}
		if newHash != "" {
			// Only if the hash is still the one verified: a concurrent reset wins.
			r, err := tx.ExecContext(ctx, `UPDATE staff SET password_hash = $1 WHERE id = $2 AND password_hash = $3`, newHash, row.ID, row.hash)
			if err != nil {
				return err
			}
			n, _ := r.RowsAffected()
			res.Rehashed = n == 1
		}
		approved, isNew, err := s.device(ctx, tx, row.ID, res.DeviceRef, a.IP, a.TrustFirstDevice, now)
		if err != nil {
			return err
		}
		res.NewDevice = isNew
		sess, err := s.Sessions.create(ctx, tx, newSession{staffID: row.ID, deviceHash: res.DeviceRef, ip: a.IP,
			userAgent: a.UserAgent, factor: factor, deviceApproved: approved})
		if err != nil {
			return err
		}
		sess.Email, sess.Name, sess.Role = row.Email, row.Name, row.Role
		sess.NeedsTOTPEnrollment = RequiresTOTP(row.Role) && !row.TOTPEnrolled
		res.Session = &sess
		ok := res
		ok.Outcome = LoginOK
		return s.recordLogin(ctx, tx, ok, a.IP)
	})
	if errors.Is(err, errBadCode) {
		res.Session = nil
		return s.fail(ctx, res, LoginBadCode, a.IP)
	}
	if err != nil {
		return LoginResult{StaffID: row.ID, DeviceRef: res.DeviceRef}, err
	}
	res.Outcome = LoginOK
	return res, nil
}

// record appends an audit entry about staff member id in tx.
func (s *Staff) record(ctx context.Context, tx store.Tx, action, id, detail string) error {
	return s.Audit.Record(ctx, tx, AuditEntry{Action: action, SubjectKind: "staff", SubjectID: id, Detail: detail})
}

// recordLogin appends the audit entry of a login attempt: the staff member as actor
// when known, the outcome in the detail (never the e-mail or password tried).
func (s *Staff) recordLogin(ctx context.Context, tx store.Tx, res LoginResult, ip string) error {
	e := AuditEntry{ActorKind: ActorStaff, ActorID: res.StaffID, Action: "staff.login", SubjectKind: "staff",
		SubjectID: res.StaffID, IP: ip, Detail: fmt.Sprintf(`{"outcome":%q,"new_device":%v}`, res.Outcome, res.NewDevice)}
	if res.Outcome != LoginOK {
		e.Action = "staff.login.failed"
	}
	return s.Audit.Record(ctx, tx, e)
}

// refuse records a login refused without any other change and returns err.
func (s *Staff) refuse(ctx context.Context, res LoginResult, ip string, err error) (LoginResult, error) {
	if werr := s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		return s.recordLogin(ctx, tx, res, ip)
	}); werr != nil {
		return res, werr
	}
	return res, err
}

// fail counts a failed login and locks the account once MaxFailures is reached.
func (s *Staff) fail(ctx context.Context, res LoginResult, outcome LoginOutcome, ip string) (LoginResult, error) {
	res.Outcome = outcome
	now := s.now()
	err := s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := s.recordLogin(ctx, tx, res, ip); err != nil {
			return err
		}
		var n int
		// The increment is one statement, so concurrent failures all count.
		if err := tx.QueryRowContext(ctx, `UPDATE staff SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins`,
			res.StaffID).Scan(&n); err != nil {
			return err
		}
		if n < s.MaxFailures {
			return nil
		}
		res.LockedUntil = now.Add(s.lockFor(n)).UTC().Truncate(time.Microsecond)
		_, err := tx.ExecContext(ctx, `UPDATE staff SET locked_until = $1 WHERE id = $2`, store.Micros(res.LockedUntil), res.StaffID)
		return err
	})
	if err != nil {
		return res, err
	}
	return res, ErrLoginFailed
}

// lockFor is the lock after the nth failure in a row: LockBase at MaxFailures,
// doubling after that, at most LockMax.
func (s *Staff) lockFor(n int) time.Duration {
	d := s.LockBase
	for i := s.MaxFailures; i < n && d < s.LockMax; i++ {
		d *= 2
	}
	return min(d, s.LockMax)
}

// Device is a browser a staff member has logged in from.
type Device struct {
	Ref        string     `json:"ref"` // SHA-256 of the device cookie value
	FirstSeen  time.Time  `json:"first_seen"`
	LastIP     string     `json:"last_ip"`
	ApprovedAt *time.Time `json:"approved_at,omitempty"`
	ApprovedBy string     `json:"approved_by,omitempty"`
}

// device records the device of a successful login and reports whether it is
// approved and whether it was new.
func (s *Staff) device(ctx context.Context, tx store.Tx, staffID, ref, ip string, trustFirst bool, now time.Time) (approved, isNew bool, err error) {
	var at sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT approved_at FROM staff_devices WHERE staff_id = $1 AND device_hash = $2`, staffID, ref).Scan(&at)
	switch {
	case err == nil:
		_, err = tx.ExecContext(ctx, `UPDATE staff_devices SET last_ip = $1 WHERE staff_id = $2 AND device_hash = $3`, ip, staffID, ref)
		return at.Valid, false, err
	case !errors.Is(err, sql.ErrNoRows):
		return false, false, err
	}
	var by any
	if trustFirst {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM staff_devices WHERE staff_id = $1`, staffID).Scan(&n); err != nil {
			return false, false, err
		}
		if n == 0 {
			approved, by = true, "bootstrap"
		}
	}
	var approvedAt any
	if approved {
		approvedAt = store.Micros(now)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO staff_devices (staff_id, device_hash, first_seen, last_ip, approved_at, approved_by)
		VALUES ($1, $2, $3, $4, $5, $6)`, staffID, ref, store.Micros(now), ip, approvedAt, by)
	return approved, !approved, err
}

// Devices lists a staff member's devices, pending ones included, oldest first.
func (s *Staff) Devices(ctx context.Context, staffID string) ([]Device, error) {
	rows, err := s.st.DB().QueryContext(ctx, `SELECT device_hash, first_seen, last_ip, approved_at, approved_by
		FROM staff_devices WHERE staff_id = $1 ORDER BY first_seen, device_hash`, staffID)
	if err != nil {
		return nil, store.Classify(err)
	}
	defer rows.Close()
	var out []Device
	for rows.Next() {
		var d Device
		var first int64
		var at sql.NullInt64
		var by sql.NullString
		if err := rows.Scan(&d.Ref, &first, &d.LastIP, &at, &by); err != nil {
			return nil, err
		}
		d.FirstSeen, d.ApprovedBy = store.Time(first), by.String
		if at.Valid {
			t := store.Time(at.Int64)
			d.ApprovedAt = &t
		}
		out = append(out, d)
	}
	return out, store.Classify(rows.Err())
}

// ApproveDevice approves a pending device (deviceRef as in LoginResult.DeviceRef and
// Devices); the staff member's sessions on it get DeviceApproved at once. approverID
// is the approving staff member's id, or "cli"; nobody approves their own device.
// An unknown or already approved device is store.ErrNotFound.
func (s *Staff) ApproveDevice(ctx context.Context, staffID, deviceRef, approverID string) error {
	if approverID == "" || approverID == staffID {
		return ErrSelfApproval
	}
	return s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE staff_devices SET approved_at = $1, approved_by = $2
			WHERE staff_id = $3 AND device_hash = $4 AND approved_at IS NULL`, store.Micros(s.now()), approverID, staffID, deviceRef)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		_, err = tx.ExecContext(ctx, `UPDATE staff_sessions SET device_approved = $1 WHERE staff_id = $2 AND device_hash = $3`,
			true, staffID, deviceRef)
		return err
	})
}
