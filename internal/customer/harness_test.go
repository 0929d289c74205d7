package customer

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tillit/internal/security"
	"tillit/internal/store"
	"tillit/internal/web"
)

// harness serves the register's routes over a real migrated database, with a wrap
// that authenticates nobody but sets a principal and an actor, as the lead's wrap
// would after checking a token.
type harness struct {
	t   testing.TB
	st  *store.Store
	ks  *security.Keystore
	svc *Service
	srv *httptest.Server
}

var testActor = security.Actor{Kind: security.ActorToken, ID: "tok-test", IP: "192.0.2.7", RequestID: "req-test"}

func newHarness(t testing.TB, st *store.Store) *harness {
	t.Helper()
	ctx := context.Background()
	key, _, err := security.LoadOrCreateMasterKey(filepath.Join(t.TempDir(), "master.key"), true)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := security.OpenKeystore(ctx, st, "", key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ks.Close() })
	audit := security.NewAudit(st, ks.SigningKey(), security.AuditOptions{})
	svc := NewService(st, ks, audit, Options{})
	idemSeal, err := ks.AEAD("idempotency")
	if err != nil {
		t.Fatal(err)
	}
	idem := web.NewIdempotency(st, idemSeal, nil)
	wrap := func(perm security.Permission, h web.HandlerFunc) http.Handler {
		inner := web.LimitBody(web.MaxBody, idem.Middleware(web.Require(perm, h)))
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			role := security.Role(r.Header.Get("X-Test-Role"))
			if role == "" {
				role = security.RoleOwner
			}
			ctx := web.WithPrincipal(r.Context(), security.Principal{Kind: security.ActorToken, ID: testActor.ID, Name: "test", Role: role})
			ctx = security.WithActor(ctx, testActor)
			inner.ServeHTTP(w, r.WithContext(ctx))
		})
	}
	mux := http.NewServeMux()
	NewHTTP(svc).Routes(mux, wrap)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &harness{t: t, st: st, ks: ks, svc: svc, srv: srv}
}

// ctx is a context whose actor is the test token.
func (h *harness) ctx() context.Context { return security.WithActor(context.Background(), testActor) }

type call struct {
	method, path, body string
	header             map[string]string
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (h *harness) do(c call) answer {
	h.t.Helper()
	req, err := http.NewRequest(c.method, h.srv.URL+c.path, strings.NewReader(c.body))
	if err != nil {
		h.t.Fatal(err)
	}
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, res.Header, string(b)}
}

func (h *harness) count(q string, args ...any) int {
	h.t.Helper()
	var n int
	if err := h.st.DB().QueryRow(q, args...).Scan(&n); err != nil {
		h.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// pnr makes a valid Swedish personnummer (YYYYMMDD-NNNC) for a birth date and serial.
func pnr(birth time.Time, serial int) string {
	d := birth.Format("060102") + fmt.Sprintf("%03d", serial%1000)
	return birth.Format("20060102") + "-" + d[6:] + luhn(d)
}

// orgnr makes a valid Swedish organisation number NNNNNN-NNNC from nine digits.
func orgnr(nine string) string { return nine[:6] + "-" + nine[6:] + luhn(nine) }

func luhn(nine string) string {
	sum := 0
	for i, r := range nine {
		d := int(r - '0')
		if i%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return fmt.Sprint((10 - sum%10) % 10)
}

// person is a valid Swedish person with distinct look-up values for i.
func person(i int) NewCustomer {
	return NewCustomer{
		Kind: KindPerson, Country: "SE", Name: fmt.Sprintf("Person %d Svensson", i),
		Email:          fmt.Sprintf("person%d@example.se", i),
		Phone:          fmt.Sprintf("070-%03d %02d %02d", i/10000%1000, i/100%100, i%100),
		IdentityNumber: pnr(time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/900), 2+i%900),
		Addresses: map[AddressRole]Address{
			AddressRegistered: {Street: fmt.Sprintf("Storgatan %d", i%200+1), PostalCode: "11122", City: "Stockholm"},
		},
	}
}

func testDate(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
