package app

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite generated documentation")

// docs/configuration.md holds the settings table generated from the one list of
// settings, so the documentation cannot drift from the code.
func TestConfigurationDocMatchesSettings(t *testing.T) {
	const path = "../../docs/configuration.md"
	const begin, end = "<!-- settings:begin -->\n", "<!-- settings:end -->"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the settings markers", path)
	}
	want := doc[:i+len(begin)] + ConfigTable() + doc[j:]
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if doc != want {
		t.Fatalf("%s is out of date; run go test ./internal/app -run ConfigurationDoc -update", path)
	}
}
