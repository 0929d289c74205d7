package security

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// MasterKey is the root of Tillit's envelope encryption. It never leaves the process;
// purpose keys are derived from it with HKDF, and per-customer data keys are wrapped
// by it.
type MasterKey struct {
	key [32]byte
}

// ErrKeyPermissions means the key file can be read by someone other than its owner.
var ErrKeyPermissions = errors.New("master key file is readable by group or others")

// LoadOrCreateMasterKey reads the key at path, or, when create is true and the file
// does not exist, generates one there with mode 0600. created tells which happened.
func LoadOrCreateMasterKey(path string, create bool) (k *MasterKey, created bool, err error) {
	fi, err := os.Stat(path)
	switch {
	case err == nil:
		if fi.Mode().Perm()&0o077 != 0 {
			return nil, false, fmt.Errorf("%w: %s has mode %04o; run chmod 600 %s", ErrKeyPermissions, path, fi.Mode().Perm(), path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, false, err
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(raw) != 32 {
			return nil, false, fmt.Errorf("master key %s: want 32 bytes in base64", path)
		}
		k = &MasterKey{}
		copy(k.key[:], raw)
		return k, false, nil
	case errors.Is(err, fs.ErrNotExist) && create:
		k = &MasterKey{}
		if _, err := rand.Read(k.key[:]); err != nil {
			return nil, false, err
		}
		// O_EXCL: two processes starting at once must not each write their own key.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			if errors.Is(err, fs.ErrExist) {
				return LoadOrCreateMasterKey(path, false)
			}
			return nil, false, err
		}
		_, err = f.WriteString(base64.StdEncoding.EncodeToString(k.key[:]) + "\n")
		if serr := f.Sync(); err == nil {
			err = serr
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
			return nil, false, err
		}
		return k, true, nil
	default:
		return nil, false, err
	}
}

// Fingerprint identifies the key without revealing it, so the database can record
// which key its encrypted data needs.
func (k *MasterKey) Fingerprint() string {
	m := hmac.New(sha256.New, k.key[:])
	m.Write([]byte("tillit master key fingerprint v1"))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// AEAD derives an authenticated cipher (AES-256-GCM) for one purpose, such as
// "mail-outbox". Different purposes never share a key.
func (k *MasterKey) AEAD(purpose string) (*Sealer, error) {
	return deriveSealer(k.key[:], "tillit/"+purpose)
}

// deriveSealer makes an AES-256-GCM Sealer from a key derived with HKDF-SHA-256.
func deriveSealer(secret []byte, info string) (*Sealer, error) {
	sub, err := hkdf.Key(sha256.New, secret, nil, info, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(sub)
	if err != nil {
		return nil, err
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: g}, nil
}

// Sealer encrypts small values with a random nonce stored in front of the ciphertext.
type Sealer struct {
	aead cipher.AEAD
}

// Seal encrypts plaintext bound to aad (e.g. the row id), so a ciphertext moved to
// another row fails to open.
func (s *Sealer) Seal(plaintext, aad []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, plaintext, aad), nil
}

// Open decrypts what Seal produced with the same aad.
func (s *Sealer) Open(ciphertext, aad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(ciphertext) < n {
		return nil, errors.New("ciphertext too short")
	}
	return s.aead.Open(nil, ciphertext[:n], ciphertext[n:], aad)
}
