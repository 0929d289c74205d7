// Package policies embeds the example policy files, one per kind of company in the
// seeds, so that `tillit serve --demo` can publish one.
package policies

import "embed"

// FS holds the example policy files (*.yaml).
//
//go:embed *.yaml
var FS embed.FS
