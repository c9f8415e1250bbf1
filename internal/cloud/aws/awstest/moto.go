// Package awstest runs the AWS provider's tests against moto (an EC2 and
// ELB emulator started on loopback) with an in-process extension for what
// moto lacks: cross-account endpoint connections, accept and reject,
// endpoints that wait for acceptance, and customers' own endpoint services
// with their allowed principals enforced.
package awstest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// StartMoto starts `python3 -m moto.server` on a free loopback port for
// the test and returns its URL. Where python3 or moto is missing the test
// is skipped, with the reason; with LINKWRIGHT_REQUIRE_MOTO set it fails.
func StartMoto(t testing.TB) string {
	t.Helper()
	if err := exec.Command("python3", "-c", "import moto.server").Run(); err != nil {
		msg := "needs moto (python3 -m moto.server): install it with `pip install 'moto[server]'`: " + err.Error()
		if os.Getenv("LINKWRIGHT_REQUIRE_MOTO") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return url
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("moto did not answer on %s within 30s", url)
	return ""
}
