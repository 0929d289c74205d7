package security

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"tillit/internal/store"
)

// TOTP errors.
var (
	ErrTOTPEnrolled    = errors.New("two-factor authentication is already set up for this account")
	ErrTOTPNotEnrolled = errors.New("start two-factor setup first")
	ErrBadTOTPCode     = errors.New("that code is not right; check the time on your phone and try the next code")
)

// RecoveryCodeCount is how many recovery codes ConfirmTOTP hands out.
const RecoveryCodeCount = 10

// totpOpts are the settings every authenticator app understands: SHA-1, six digits,
// 30 seconds. One step of clock drift either way is accepted.
var totpOpts = totp.ValidateOpts{Period: 30, Skew: 0, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

func totpAAD(staffID string) []byte { return []byte("staff-totp:" + staffID) }

// EnrollTOTP starts two-factor setup: it stores a new secret (sealed) and returns it
// as an otpauth:// URI for a QR code and as text for typing. It takes effect only
// after ConfirmTOTP; until then a repeat replaces the secret.
func (s *Staff) EnrollTOTP(ctx context.Context, id string) (otpauthURI, secret string, err error) {
	r, err := s.load(ctx, s.st.DB(), `id = $1`, id)
	if err != nil {
		return "", "", err
	}
	if r.TOTPEnrolled {
		return "", "", ErrTOTPEnrolled
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.Issuer, AccountName: r.Email, Period: totpOpts.Period,
		SecretSize: 20, Digits: totpOpts.Digits, Algorithm: totpOpts.Algorithm})
	if err != nil {
		return "", "", err
	}
	sealed, err := s.sealer.Seal([]byte(key.Secret()), totpAAD(id))
	if err != nil {
		return "", "", err
	}
	err = s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE staff SET totp_secret = $1 WHERE id = $2 AND totp_confirmed_at IS NULL`, sealed, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrTOTPEnrolled
		}
		return nil
	})
	if err != nil {
		return "", "", err
	}
	return key.URL(), key.Secret(), nil
}

// ConfirmTOTP finishes setup with a code from the app and returns the recovery codes,
// to be shown once: only their hashes are kept, and each works once. Sessions opened
// before confirming lack the second factor; the staff member logs in again.
func (s *Staff) ConfirmTOTP(ctx context.Context, id, code string) ([]string, error) {
	r, err := s.load(ctx, s.st.DB(), `id = $1`, id)
	if err != nil {
		return nil, err
	}
	if r.TOTPEnrolled {
		return nil, ErrTOTPEnrolled
	}
	if r.secret == nil {
		return nil, ErrTOTPNotEnrolled
	}
	now := s.now()
	step, ok := s.checkTOTP(r, code, now)
	if !ok {
		return nil, ErrBadTOTPCode
	}
	codes := make([]string, RecoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
	}
	err = s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE staff SET totp_confirmed_at = $1, totp_last_step = $2
			WHERE id = $3 AND totp_confirmed_at IS NULL AND totp_secret = $4`, store.Micros(now), step, id, r.secret)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrTOTPEnrolled // confirmed, or re-enrolled, meanwhile
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM staff_recovery_codes WHERE staff_id = $1`, id); err != nil {
			return err
		}
		for _, c := range codes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO staff_recovery_codes (staff_id, code_hash, created_at) VALUES ($1, $2, $3)`,
				id, hashRecoveryCode(id, c), store.Micros(now)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// ResetTOTP removes a staff member's second factor and recovery codes (lost phone)
// and ends their sessions; they enroll again at the next login.
func (s *Staff) ResetTOTP(ctx context.Context, id string) error {
	return s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE staff SET totp_secret = NULL, totp_confirmed_at = NULL WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM staff_recovery_codes WHERE staff_id = $1`, id); err != nil {
			return err
		}
		_, err = revokeAllTx(ctx, tx, id)
		return err
	})
}

// checkTOTP returns the time step a code matches (now, or one step either side), in
// constant time per candidate.
func (s *Staff) checkTOTP(r staffRow, code string, now time.Time) (int64, bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 || r.secret == nil {
		return 0, false
	}
	secret, err := s.sealer.Open(r.secret, totpAAD(r.ID))
	if err != nil {
		return 0, false
	}
	period := int64(totpOpts.Period)
	base := now.Unix() / period
	found, step := false, int64(0)
	for _, st := range []int64{base - 1, base, base + 1} {
		want, err := totp.GenerateCodeCustom(string(secret), time.Unix(st*period, 0), totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			found, step = true, st
		}
	}
	return step, found
}

// Recovery codes are 16 characters of Crockford base32 (80 bits), shown in groups of
// four; typing is forgiving about case, dashes, spaces and look-alike letters.
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

func newRecoveryCode() string {
	var b [16]byte
	rand.Read(b[:])
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(crockford[c&31])
	}
	return sb.String()
}

func normRecoveryCode(c string) string {
	c = strings.ToLower(c)
	c = strings.NewReplacer("-", "", " ", "", "o", "0", "i", "1", "l", "1").Replace(c)
	return c
}

// hashRecoveryCode binds the hash to the staff id, so equal codes of two accounts
// differ and no table of hashes serves every account.
func hashRecoveryCode(staffID, code string) string {
	return hashHex("tillit recovery code\x00" + staffID + "\x00" + normRecoveryCode(code))
}

// DeviceRef is the public name of a device id (its SHA-256), as Devices lists it.
func DeviceRef(deviceID string) string { return hashHex(deviceID) }

// TOTPCode is the code an authenticator app shows for secret at a time; the demo uses
// it to finish its own two-factor setup.
func TOTPCode(secret string, at time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, at, totpOpts)
}
