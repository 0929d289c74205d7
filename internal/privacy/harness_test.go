package privacy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"tillit/internal/web/apitest"
	"time"

	"tillit/internal/customer"
	"tillit/internal/jobs"
	"tillit/internal/nordic"
	"tillit/internal/security"
	"tillit/internal/store"
	"tillit/internal/web"
)

// harness is the request desk over a real migrated database, with the customer
// register plugged in as an extractor the way the composition root does it, a job
// queue (not running) to see what is enqueued, an injectable clock, and the routes
// served behind a wrap that sets a principal as the lead's wrap would.
type harness struct {
	t     testing.TB
	st    *store.Store
	ks    *security.Keystore
	audit *security.Audit
	cust  *customer.Service
	queue *jobs.Queue
	svc   *Service
	srv   *httptest.Server
	clock atomic.Pointer[time.Time]
}

var testActor = security.Actor{Kind: security.ActorStaff, ID: "staff-anna", IP: "192.0.2.9", RequestID: "req-test"}

func newHarness(t testing.TB, st *store.Store, country nordic.Country) *harness {
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
	h := &harness{t: t, st: st, ks: ks, audit: audit}
	h.setNow(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC))
	now := func() time.Time { return *h.clock.Load() }
	h.cust = customer.NewService(st, ks, audit, customer.Options{Now: now})
	h.queue = jobs.New(st, jobs.Options{Now: now, Retention: -1})
	// The adapter the lead writes in internal/app: the register's Extract behind
	// privacy's Extractor, with the request as the reason.
	custPart := NewExtractor("customer", func(ctx context.Context, id, reason string) (any, error) {
		why, err := customer.ParseReason(reason)
		if err != nil {
			return nil, err
		}
		return h.cust.Extract(ctx, id, why)
	})
	h.svc, err = NewService(st, ks, audit, Options{Country: country, Now: now, Queue: h.queue, Extractors: []Extractor{custPart}})
	if err != nil {
		t.Fatal(err)
	}
	wrap := func(perm security.Permission, hf web.HandlerFunc) http.Handler {
		inner := web.LimitBody(web.MaxBody, web.Require(perm, hf))
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			role := security.Role(r.Header.Get("X-Test-Role"))
			if role == "" {
				role = security.RoleOwner
			}
			ctx := web.WithPrincipal(r.Context(), security.Principal{Kind: testActor.Kind, ID: testActor.ID, Name: "Anna", Role: role})
			ctx = security.WithActor(ctx, testActor)
			inner.ServeHTTP(w, r.WithContext(ctx))
		})
	}
	mux := http.NewServeMux()
	NewHTTP(h.svc).Routes(mux, wrap)
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	return h
}

func (h *harness) setNow(t time.Time) { h.clock.Store(&t) }

// setToday puts the clock at noon of day d in the company's zone.
func (h *harness) setToday(d string) {
	h.t.Helper()
	day, err := time.Parse(time.DateOnly, d)
	if err != nil {
		h.t.Fatal(err)
	}
	h.setNow(day.Add(11 * time.Hour))
}

func (h *harness) ctx() context.Context { return security.WithActor(context.Background(), testActor) }

// customer registers a Swedish person and returns their id.
func (h *harness) customer(name, email, pnr string) string {
	h.t.Helper()
	ref, err := h.cust.Create(h.ctx(), customer.NewCustomer{Kind: customer.KindPerson, Country: "SE", Name: name, Email: email,
		IdentityNumber: pnr, Source: customer.SourcePortal,
		Addresses: map[customer.AddressRole]customer.Address{customer.AddressRegistered: {Street: "Storgatan 1", PostalCode: "11122", City: "Stockholm"}}})
	if err != nil {
		h.t.Fatal(err)
	}
	return ref.ID
}

func (h *harness) receive(n NewRequest) Request {
	h.t.Helper()
	r, err := h.svc.Receive(h.ctx(), n)
	if err != nil {
		h.t.Fatalf("receive %+v: %v", n, err)
	}
	return r
}

// Test people: Skatteverket's published test personnummer.
const (
	pnrA = "19811218-9876"
	pnrB = "19900101-0017"
)

func jobsJob() jobs.Job { return jobs.Job{Kind: RemindersJobKind} }

// answer, do, decode and count come from apitest, shared by every room's tests.
type answer = apitest.Answer

func (h *harness) do(method, path, body string) answer {
	h.t.Helper()
	return apitest.Do(h.t, h.srv.URL, method, path, body)
}

func decode[T any](t testing.TB, a answer) T { t.Helper(); return apitest.Decode[T](t, a) }

func (h *harness) count(q string, args ...any) int {
	h.t.Helper()
	return apitest.Count(h.t, h.st.DB(), q, args...)
}
