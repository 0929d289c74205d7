package mail

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// SendError is a failed delivery described without the server's free text, which
// often quotes the recipient ("550 5.1.1 <anna@example.com>: no such user"). Its
// Error is safe to log and to store; Err keeps the full cause for errors.Is/As and
// must not be logged.
type SendError struct {
	// Stage names the step that failed: "smtp connect", "smtp MAIL FROM",
	// "smtp RCPT TO", "smtp DATA", "open", "render".
	Stage string
	// Code is the SMTP reply code (451, 550, …), or 0 when the failure was not an
	// SMTP reply (network, TLS, decryption).
	Code int
	// Enhanced is the enhanced status code such as "5.1.1", when the server sent one.
	Enhanced string
	// Permanent means retrying cannot help: the server refused this recipient or
	// message with a 5xx reply, or the row cannot be rendered.
	Permanent bool
	Err       error
}

func (e *SendError) Error() string {
	var b strings.Builder
	b.WriteString(e.Stage)
	switch {
	case e.Code != 0:
		fmt.Fprintf(&b, ": %d", e.Code)
		if e.Enhanced != "" {
			b.WriteString(" " + e.Enhanced)
		}
	case e.Err != nil:
		b.WriteString(": " + redactAddresses(e.Err.Error()))
	}
	if e.Permanent {
		b.WriteString(" (permanent)")
	} else {
		b.WriteString(" (temporary)")
	}
	return b.String()
}

func (e *SendError) Unwrap() error { return e.Err }

// maxErrorLen bounds last_error; server texts can be long.
const maxErrorLen = 300

// safeError is the text stored in last_error and logged: a SendError's own summary,
// or the error's text with the recipient and anything else that looks like an
// address removed.
func safeError(err error, to string) string {
	var se *SendError
	s := ""
	if errors.As(err, &se) {
		s = se.Error()
	} else {
		s = err.Error()
	}
	if to != "" {
		s = replaceFold(s, to, "<address>")
	}
	s = redactAddresses(s)
	if len(s) > maxErrorLen {
		cut := maxErrorLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// redactAddresses replaces every word with an @ in it by "<address>".
func redactAddresses(s string) string {
	isDelim := func(r byte) bool {
		return r <= ' ' || strings.IndexByte(`<>"'(),;[]`, r) >= 0
	}
	var b strings.Builder
	i := 0
	for {
		at := strings.IndexByte(s[i:], '@')
		if at < 0 {
			b.WriteString(s[i:])
			return b.String()
		}
		at += i
		start, end := at, at+1
		for start > i && !isDelim(s[start-1]) {
			start--
		}
		for end < len(s) && !isDelim(s[end]) {
			end++
		}
		b.WriteString(s[i:start])
		b.WriteString("<address>")
		i = end
	}
}

// replaceFold replaces every case-insensitive occurrence of old (ASCII folding, as
// mail servers fold the domain) in s.
func replaceFold(s, old, repl string) string {
	if old == "" {
		return s
	}
	lower, lowerOld := strings.ToLower(s), strings.ToLower(old)
	if len(lower) != len(s) {
		return strings.ReplaceAll(s, old, repl) // non-ASCII case change shifted bytes
	}
	var b strings.Builder
	i := 0
	for {
		j := strings.Index(lower[i:], lowerOld)
		if j < 0 {
			b.WriteString(s[i:])
			return b.String()
		}
		b.WriteString(s[i : i+j])
		b.WriteString(repl)
		i += j + len(old)
	}
}
