package security

import (
	"container/list"
	"sync"
	"time"
)

// RateLimiter is an in-memory token bucket per key (an IP address, an e-mail): a key
// may spend Burst requests at once and gets one more every Every. It remembers at
// most MaxKeys keys and forgets the least recently used first, so a flood of new keys
// costs bounded memory; a forgotten key starts again with a full bucket. It is per
// process: behind a load balancer each process limits on its own.
type RateLimiter struct {
	burst float64
	every time.Duration
	max   int
	now   func() time.Time

	mu   sync.Mutex
	keys map[string]*list.Element
	lru  list.List // front: most recently used; values are *bucket
}

type bucket struct {
	key    string
	tokens float64
	at     time.Time
}

// NewRateLimiter returns a limiter; now may be nil for time.Now.
func NewRateLimiter(burst int, every time.Duration, maxKeys int, now func() time.Time) *RateLimiter {
	if now == nil {
		now = time.Now
	}
	return &RateLimiter{burst: float64(max(1, burst)), every: every, max: max(1, maxKeys), now: now,
		keys: map[string]*list.Element{}}
}

// Allow spends one token of key. When none is left it reports false and how long
// until the next one (for a Retry-After header).
func (l *RateLimiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var b *bucket
	if e, hit := l.keys[key]; hit {
		l.lru.MoveToFront(e)
		b = e.Value.(*bucket)
		if el := now.Sub(b.at); el > 0 && l.every > 0 {
			b.tokens = min(l.burst, b.tokens+float64(el)/float64(l.every))
		}
		b.at = now
	} else {
		if len(l.keys) >= l.max {
			last := l.lru.Back()
			delete(l.keys, last.Value.(*bucket).key)
			l.lru.Remove(last)
		}
		b = &bucket{key: key, tokens: l.burst, at: now}
		l.keys[key] = l.lru.PushFront(b)
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) * float64(l.every))
	return false, max(wait, time.Nanosecond)
}

// Len is the number of keys remembered.
func (l *RateLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}
