package security

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the argon2id cost parameters. They are written into every hash,
// so changing them leaves old hashes verifiable; NeedsRehash tells a login to
// upgrade the stored hash.
type Argon2Params struct {
	Time      uint32 // passes over memory
	MemoryKiB uint32
	Threads   uint8
	KeyLen    uint32 // bytes of output
}

// DefaultArgon2Params cost about 120 ms and 64 MiB per hash on the 2-core machines we
// measured (BenchmarkArgon2Default). RFC 9106's second recommended setting, with
// parallelism cut to the cores we have.
var DefaultArgon2Params = Argon2Params{Time: 3, MemoryKiB: 64 * 1024, Threads: 2, KeyLen: 32}

const saltLen = 16

// ErrWeakPassword is wrapped by every refusal of a new password; the wrapped text
// says why in plain English and is safe to show to the person choosing it.
var ErrWeakPassword = errors.New("password not accepted")

// ErrBadHash means a stored password hash cannot be parsed.
var ErrBadHash = errors.New("malformed password hash")

// Password length limits (NIST SP 800-63B): counted in characters, not bytes.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 256
)

// HashPassword returns password hashed with argon2id in the PHC string format
// $argon2id$v=19$m=65536,t=3,p=2$salt$hash (unpadded standard base64).
func HashPassword(password string, p Argon2Params) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

type phc struct {
	p    Argon2Params
	salt []byte
	key  []byte
}

func parsePHC(encoded string) (phc, error) {
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return phc{}, ErrBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return phc{}, ErrBadHash
	}
	var h phc
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.p.MemoryKiB, &h.p.Time, &h.p.Threads); err != nil || n != 3 {
		return phc{}, ErrBadHash
	}
	var err error
	if h.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil {
		return phc{}, ErrBadHash
	}
	if h.key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil {
		return phc{}, ErrBadHash
	}
	// Bounds keep a tampered row from making a login allocate gigabytes.
	if h.p.Time < 1 || h.p.Time > 100 || h.p.MemoryKiB < 8 || h.p.MemoryKiB > 4<<20 ||
		h.p.Threads < 1 || len(h.key) < 16 || len(h.key) > 128 || len(h.salt) < 8 {
		return phc{}, ErrBadHash
	}
	h.p.KeyLen = uint32(len(h.key))
	return h, nil
}

// VerifyPassword reports whether password matches the encoded hash, comparing in
// constant time.
func VerifyPassword(password, encoded string) (bool, error) {
	h, err := parsePHC(encoded)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(password), h.salt, h.p.Time, h.p.MemoryKiB, h.p.Threads, h.p.KeyLen)
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

// NeedsRehash reports whether encoded was made with parameters other than p (or
// cannot be read), so that the next successful login should store a fresh hash.
func NeedsRehash(encoded string, p Argon2Params) bool {
	h, err := parsePHC(encoded)
	return err != nil || h.p != p
}

//go:embed breached.txt
var breachedFile string

// breached is the bundled list of common and breached passwords, lowercased.
var breached = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 4096)
	sc := bufio.NewScanner(strings.NewReader(breachedFile))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m[strings.ToLower(line)] = struct{}{}
	}
	return m
})

// IsBreached reports whether password is on the bundled list (case-insensitive).
func IsBreached(password string) bool {
	_, ok := breached()[strings.ToLower(password)]
	return ok
}

// CheckPassword applies the rules of NIST SP 800-63B to a new password: 12 to 256
// characters, not on the list of common and breached passwords, not the e-mail's
// local part and not containing it, not one character repeated. There are no
// composition rules (no "one digit, one symbol"): length is what counts.
func CheckPassword(password, email string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return fmt.Errorf("%w: it is not valid text (UTF-8)", ErrWeakPassword)
	case n < MinPasswordLen:
		return fmt.Errorf("%w: it must be at least %d characters long (it has %d)", ErrWeakPassword, MinPasswordLen, n)
	case n > MaxPasswordLen:
		return fmt.Errorf("%w: it must be at most %d characters long (it has %d)", ErrWeakPassword, MaxPasswordLen, n)
	case IsBreached(password):
		return fmt.Errorf("%w: it is on a list of common or breached passwords; choose another, e.g. a few unrelated words", ErrWeakPassword)
	case strings.Count(password, string([]rune(password)[:1])) == n:
		return fmt.Errorf("%w: it repeats a single character", ErrWeakPassword)
	}
	lower := strings.ToLower(password)
	if local, _, ok := strings.Cut(strings.ToLower(strings.TrimSpace(email)), "@"); ok && local != "" {
		// Short local parts ("a@x.se") would forbid too much; they are refused only as
		// the whole password, which the length rule already does.
		if lower == local || (utf8.RuneCountInString(local) >= 3 && strings.Contains(lower, local)) {
			return fmt.Errorf("%w: it must not contain your e-mail address or its name part", ErrWeakPassword)
		}
	}
	return nil
}
