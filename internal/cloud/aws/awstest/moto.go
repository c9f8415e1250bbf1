// Package awstest runs the AWS provider's tests against moto (an EC2 and
// ELB emulator started on loopback) with an in-process extension for what
// moto lacks: cross-account endpoint connections, accept and reject,
// endpoints that wait for acceptance, and customers' own endpoint services
// with their allowed principals enforced and the availability zones they
// are offered in, which customers name unlike the platform (AccountZones).
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
	if err := MotoAvailable(); err != nil {
		if os.Getenv("LINKWRIGHT_REQUIRE_MOTO") != "" {
			t.Fatal(err)
		}
		t.Skip(err.Error())
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	url, stop, err := RunMoto(port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return url
}

// MotoAvailable says why moto cannot run here, or nil.
func MotoAvailable() error {
	if err := exec.Command("python3", "-c", "import moto.server").Run(); err != nil {
		return fmt.Errorf("needs moto (python3 -m moto.server): install it with `pip install 'moto[server]'`: %w", err)
	}
	return nil
}

// RunMoto starts moto on a loopback port and waits until it answers.
func RunMoto(port int) (url string, stop func(), err error) {
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	// The platform's account, as on the simulated cloud (not moto's
	// default, which the examples use as the customer's).
	cmd.Env = append(os.Environ(), "MOTO_ACCOUNT_ID="+PlatformAccount)
	if err := cmd.Start(); err != nil {
		cancel()
		return "", nil, err
	}
	stop = func() { cancel(); _ = cmd.Wait() }
	url = fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return url, stop, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	return "", nil, fmt.Errorf("moto did not answer on %s within 30s", url)
}
