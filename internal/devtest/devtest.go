// Package devtest starts the real Temporal dev server that integration
// tests run against: the binary the Makefile builds (LINKWRIGHT_TEMPORAL),
// with Linkwright's search attributes registered.
package devtest

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/linkwright/linkwright/workflows"
)

var server *testsuite.DevServer

// ServerFlags are the dev server settings Linkwright needs beyond its
// search attributes: one partition per task queue, so that the cloud
// budgets' few tasks a second are not split four ways (the Makefile's
// LINKWRIGHT_DEV_SERVER_FLAGS, kept in step by a test).
var ServerFlags = []string{
	"--dynamic-config-value", "matching.numTaskqueueReadPartitions=1",
	"--dynamic-config-value", "matching.numTaskqueueWritePartitions=1",
}

// Main runs a package's tests with one dev server for all of them, when
// LINKWRIGHT_TEMPORAL names the binary. Call it from TestMain.
func Main(m *testing.M) {
	flag.Parse()
	path := os.Getenv("LINKWRIGHT_TEMPORAL")
	if path == "" || testing.Short() {
		os.Exit(m.Run()) // integration tests skip, or fail, on their own
	}
	args := append([]string{"--headless"}, ServerFlags...)
	for _, sa := range workflows.SearchAttributes {
		args = append(args, "--search-attribute", sa.GetName()+"=Keyword")
	}
	var err error
	server, err = testsuite.StartDevServer(context.Background(), testsuite.DevServerOptions{
		ExistingPath: path, LogLevel: "error", ExtraArgs: args,
		ClientOptions: &client.Options{Logger: Quiet{}},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "cannot start the Temporal dev server at", path+":", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = server.Stop()
	os.Exit(code)
}

// Client returns a client of the dev server, or skips the test when there
// is none; under `make test` (LINKWRIGHT_REQUIRE_INTEGRATION) it fails instead.
func Client(t *testing.T) client.Client {
	t.Helper()
	if server == nil {
		if os.Getenv("LINKWRIGHT_REQUIRE_INTEGRATION") != "" {
			t.Fatal("LINKWRIGHT_TEMPORAL is not set: run `make test`, which builds bin/temporal and sets it")
		}
		t.Skip("integration test: needs a Temporal dev server; run `make test` (it builds bin/temporal)")
	}
	return server.Client()
}

// Address is the dev server's frontend, for TEMPORAL_ADDRESS.
func Address() string { return server.FrontendHostPort() }

// Quiet is an SDK logger that logs nothing.
type Quiet struct{}

func (Quiet) Debug(string, ...any) {}
func (Quiet) Info(string, ...any)  {}
func (Quiet) Warn(string, ...any)  {}
func (Quiet) Error(string, ...any) {}
