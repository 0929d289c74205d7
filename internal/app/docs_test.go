package app

import (
	"flag"
	"testing"

	"tillit/internal/docsync"
)

var update = flag.Bool("update", false, "rewrite generated documentation")

// docs/configuration.md holds the settings table generated from the one list of
// settings, so the documentation cannot drift from the code.
func TestConfigurationDocMatchesSettings(t *testing.T) {
	docsync.Check(t, "../../docs/configuration.md", "settings", ConfigTable(), *update)
}
