package validate

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckerCollectsEveryField(t *testing.T) {
	var c Checker
	if c.Err() != nil {
		t.Fatal("an empty checker reports an error")
	}
	if got := c.Text("/a", "  kept  ", 10, true); got != "kept" {
		t.Fatalf("Text returned %q", got)
	}
	c.Text("/b", "", 10, true)
	c.Text("/c", "bell\a", 10, false)
	c.Text("/d", strings.Repeat("å", 11), 10, false)
	c.Text("/e", "two\nlines", 20, false) // newlines are text
	var e *Error
	if !errors.As(c.Err(), &e) || len(e.Fields) != 3 {
		t.Fatalf("got %v, want /b, /c and /d", c.Err())
	}
	for i, want := range []string{"/b", "/c", "/d"} {
		if e.Fields[i].Field != want {
			t.Fatalf("field %d is %s, want %s", i, e.Fields[i].Field, want)
		}
	}
}
