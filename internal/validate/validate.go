// Package validate collects what is wrong with a request to a room, field by field,
// so that the API can point at each one (RFC 9457 errors[]) and the CLI can name it.
// It knows nothing of HTTP.
package validate

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FieldError names one invalid field by JSON pointer.
type FieldError struct {
	Field   string
	Message string
}

// Error lists every invalid field; nothing was written.
type Error struct{ Fields []FieldError }

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("invalid input:")
	for _, f := range e.Fields {
		fmt.Fprintf(&b, " %s: %s;", f.Field, f.Message)
	}
	return strings.TrimSuffix(b.String(), ";")
}

// Checker gathers field errors; its zero value is ready to use.
type Checker struct{ errs []FieldError }

// Add records that field is invalid.
func (c *Checker) Add(field, format string, args ...any) {
	c.errs = append(c.errs, FieldError{field, fmt.Sprintf(format, args...)})
}

// Err is an *Error listing every field added, or nil.
func (c *Checker) Err() error {
	if len(c.errs) == 0 {
		return nil
	}
	return &Error{Fields: c.errs}
}

// Text checks a free-text value: trimmed, printable (newlines allowed), at most max
// characters, and present when required. It returns the trimmed value.
func (c *Checker) Text(field, s string, max int, required bool) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "" && required:
		c.Add(field, "is required")
	case !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) >= 0:
		c.Add(field, "must be printable text")
	case utf8.RuneCountInString(s) > max:
		c.Add(field, "must be at most %d characters", max)
	}
	return s
}
