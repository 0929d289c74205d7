package security

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock() *clock               { return &clock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)} }

// Tokens are stored only as their SHA-256; expiry and revocation end them, and a
// token that is malformed, unknown, expired or revoked is refused the same way.
func TestTokensLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		c := newClock()
		tok := NewTokens(st, c.now)
		raw, meta, err := tok.Create(ctx, "ci", RoleAuditor, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(raw, TokenPrefix) || len(raw) != len(TokenPrefix)+43 {
			t.Fatalf("token %q is not prefix + 256 bits in base64url", raw)
		}
		var stored string
		st.DB().QueryRow(`SELECT hash FROM api_tokens WHERE id = $1`, meta.ID).Scan(&stored)
		if stored == "" || strings.Contains(stored, raw[len(TokenPrefix):]) {
			t.Fatalf("stored %q is not a hash of the token", stored)
		}
		p, err := tok.Authenticate(ctx, raw)
		if err != nil || p.Role != RoleAuditor || p.ID != meta.ID {
			t.Fatalf("authenticate: %+v %v", p, err)
		}
		for _, bad := range []string{"", "tillit_", raw + "x", strings.Replace(raw, raw[10:11], "Z", 1) + "", "Bearer " + raw} {
			if bad == raw {
				continue
			}
			if _, err := tok.Authenticate(ctx, bad); !errors.Is(err, ErrBadToken) {
				t.Errorf("token %q accepted or wrong error: %v", bad, err)
			}
		}
		c.add(time.Hour)
		if _, err := tok.Authenticate(ctx, raw); !errors.Is(err, ErrBadToken) {
			t.Fatalf("expired token accepted: %v", err)
		}

		raw2, meta2, err := tok.Create(ctx, "ops", RoleAdmin, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tok.Authenticate(ctx, raw2); err != nil {
			t.Fatal(err)
		}
		if err := tok.Revoke(ctx, meta2.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := tok.Authenticate(ctx, raw2); !errors.Is(err, ErrBadToken) {
			t.Fatal("revoked token still accepted from the cache")
		}
		if err := tok.Revoke(ctx, meta2.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second revoke: %v", err)
		}
		// Another process revoking is seen once the cache entry ages out.
		raw3, meta3, _ := tok.Create(ctx, "shared", RoleAdmin, 0)
		other := NewTokens(st, c.now)
		if _, err := other.Authenticate(ctx, raw3); err != nil {
			t.Fatal(err)
		}
		if err := tok.Revoke(ctx, meta3.ID); err != nil {
			t.Fatal(err)
		}
		c.add(other.CacheTTL + time.Second)
		if _, err := other.Authenticate(ctx, raw3); !errors.Is(err, ErrBadToken) {
			t.Fatal("revocation never reached another process")
		}
		if _, _, err := tok.Create(ctx, "x", Role("king"), 0); !errors.Is(err, ErrTokenInput) {
			t.Fatalf("unknown role: %v", err)
		}
	})
}

func TestMasterKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	k, created, err := LoadOrCreateMasterKey(path, true)
	if err != nil || !created {
		t.Fatal(created, err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
	k2, created, err := LoadOrCreateMasterKey(path, true)
	if err != nil || created || k2.Fingerprint() != k.Fingerprint() {
		t.Fatal("reloading gave another key", created, err)
	}
	if _, _, err := LoadOrCreateMasterKey(filepath.Join(t.TempDir(), "none"), false); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing key without create: %v", err)
	}
	os.WriteFile(path, []byte("short"), 0o600)
	if _, _, err := LoadOrCreateMasterKey(path, true); err == nil {
		t.Fatal("a malformed key file was accepted")
	}
}

func TestSealerBindsToPurposeAndAAD(t *testing.T) {
	k, _, _ := LoadOrCreateMasterKey(filepath.Join(t.TempDir(), "k"), true)
	a, _ := k.AEAD("mail-outbox")
	b, _ := k.AEAD("other")
	ct, err := a.Seal([]byte("kund@example.se"), []byte("row-1"))
	if err != nil || bytes.Contains(ct, []byte("kund")) {
		t.Fatal("plaintext visible in ciphertext", err)
	}
	if pt, err := a.Open(ct, []byte("row-1")); err != nil || string(pt) != "kund@example.se" {
		t.Fatal(err)
	}
	if _, err := a.Open(ct, []byte("row-2")); err == nil {
		t.Fatal("ciphertext opened under another row id")
	}
	if _, err := b.Open(ct, []byte("row-1")); err == nil {
		t.Fatal("ciphertext opened with another purpose's key")
	}
}
