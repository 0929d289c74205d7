package security

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// S3: login attempts are rate limited per key with a token bucket: a burst, then one
// request per interval, with the wait reported; memory stays bounded under many keys.
func TestS3_RateLimiter(t *testing.T) {
	c := newClock()
	l := NewRateLimiter(3, time.Second, 2, c.now)
	for i := range 3 {
		if ok, _ := l.Allow("192.0.2.1"); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.Allow("192.0.2.1")
	if ok || wait != time.Second {
		t.Fatalf("4th: %v, retry after %v", ok, wait)
	}
	if ok, _ := l.Allow("192.0.2.2"); !ok {
		t.Fatal("another key shares the bucket")
	}
	c.add(500 * time.Millisecond)
	if ok, wait := l.Allow("192.0.2.1"); ok || wait != 500*time.Millisecond {
		t.Fatalf("half refilled: %v %v", ok, wait)
	}
	c.add(500 * time.Millisecond)
	if ok, _ := l.Allow("192.0.2.1"); !ok {
		t.Fatal("refilled token refused")
	}
	if ok, _ := l.Allow("192.0.2.1"); ok {
		t.Fatal("refill gave more than one token")
	}
	c.add(time.Hour)
	for i := range 3 {
		if ok, _ := l.Allow("192.0.2.1"); !ok {
			t.Fatalf("after an hour, request %d refused: the bucket holds more than the burst?", i+1)
		}
	}
	if ok, _ := l.Allow("192.0.2.1"); ok {
		t.Fatal("bucket refilled beyond its burst")
	}

	// Bounded: a third key evicts the least recently used (192.0.2.2), not the busy one.
	l.Allow("192.0.2.3")
	if l.Len() != 2 {
		t.Fatalf("%d keys kept, want 2", l.Len())
	}
	if ok, _ := l.Allow("192.0.2.1"); ok {
		t.Fatal("the recently used key was evicted and reset")
	}

	// Safe under concurrent use (run with -race); exactly the burst gets through.
	l = NewRateLimiter(50, time.Hour, 1000, c.now)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for i := range 200 {
		wg.Go(func() {
			if ok, _ := l.Allow("shared"); ok {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
			l.Allow(fmt.Sprint("k", i))
		})
	}
	wg.Wait()
	if allowed != 50 {
		t.Fatalf("%d allowed, want 50", allowed)
	}
}
