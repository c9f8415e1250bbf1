package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/linkwright/linkwright/internal/devtest"
	"github.com/linkwright/linkwright/workflows"
)

// The local dev stack registers exactly the search attributes the workflows
// set: a new one in workflows/messages.go without a Makefile entry would
// fail every upsert on `make run`.
func TestMakefileRegistersEverySearchAttribute(t *testing.T) {
	data, err := os.ReadFile("../Makefile")
	require.NoError(t, err)
	var listed []string
	inList := false
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "SEARCH_ATTRIBUTES :=") {
			inList = true
			line = strings.TrimPrefix(line, "SEARCH_ATTRIBUTES :=")
		}
		if inList {
			listed = append(listed, strings.Fields(strings.TrimSuffix(line, `\`))...)
			if !strings.HasSuffix(line, `\`) {
				break
			}
		}
	}
	var want []string
	for _, sa := range workflows.SearchAttributes {
		want = append(want, sa.GetName())
	}
	assert.ElementsMatch(t, want, listed)
}

// make run's dev server and the tests' are set up alike: one partition per
// task queue, so that the budgets' rates are not split between partitions.
func TestMakefileDevServerFlagsMatchTheTests(t *testing.T) {
	data, err := os.ReadFile("../Makefile")
	require.NoError(t, err)
	var flags []string
	inList := false
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "export LINKWRIGHT_DEV_SERVER_FLAGS :=") {
			inList = true
			line = strings.TrimPrefix(line, "export LINKWRIGHT_DEV_SERVER_FLAGS :=")
		}
		if inList {
			flags = append(flags, strings.Fields(strings.TrimSuffix(line, `\`))...)
			if !strings.HasSuffix(line, `\`) {
				break
			}
		}
	}
	assert.Equal(t, devtest.ServerFlags, flags)
}
