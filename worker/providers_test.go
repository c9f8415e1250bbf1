package main

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// suffixResolver answers names under a suffix with loopback, where a
// test's listener stands in for the customer's service behind an
// emulator's endpoint; other names do not resolve.
type suffixResolver string

func (s suffixResolver) LookupHost(_ context.Context, host string) ([]string, error) {
	if strings.HasSuffix(host, string(s)) {
		return []string{"127.0.0.1"}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// customerService listens on loopback for the test, accepting and closing
// every connection, and returns its port.
func customerService(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// summarize totals API calls by name, leaving out the names in skip.
func summarize(calls map[string]int, skip ...string) (int, string) {
	total := 0
	var parts []string
	for k, n := range calls {
		if slices.Contains(skip, k) {
			continue
		}
		total += n
		parts = append(parts, fmt.Sprintf("%s=%d", k, n))
	}
	slices.Sort(parts)
	return total, strings.Join(parts, " ")
}
