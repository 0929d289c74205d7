// Package docsync keeps generated sections of docs/ equal to the code they describe:
// a section sits between <!-- NAME:begin --> and <!-- NAME:end --> markers, and a test
// fails when it differs from what the code generates (or rewrites it with -update).
package docsync

import (
	"os"
	"strings"
	"testing"
)

// Check compares the NAME section of the file at path with body.
func Check(t testing.TB, path, name, body string, update bool) {
	t.Helper()
	begin, end := "<!-- "+name+":begin -->\n", "<!-- "+name+":end -->"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the %s markers", path, name)
	}
	want := doc[:i+len(begin)] + body + doc[j:]
	if update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if doc != want {
		t.Fatalf("the %s section of %s differs from the code; check the change is intended, then run the test with -update", name, path)
	}
}
