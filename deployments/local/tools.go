//go:build tools

// Package local pins the Temporal CLI so that `go build` in this module
// builds exactly the pinned version.
package local

import _ "github.com/temporalio/cli/cmd/temporal"
