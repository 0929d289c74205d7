package store

import (
	"time"

	"github.com/google/uuid"
)

// NewID returns an opaque, time-sortable identifier (UUIDv7) for use in URLs.
func NewID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// Micros is how times are stored: microseconds since the Unix epoch, UTC.
func Micros(t time.Time) int64 { return t.UnixMicro() }

// Time turns a stored value back into a UTC time.
func Time(us int64) time.Time { return time.UnixMicro(us).UTC() }
