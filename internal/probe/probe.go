// Package probe checks a link from inside the platform network the way an
// engineer would by hand (dig, then `curl -v telnet://host:port`): resolve
// the endpoint's DNS name, then open a TCP connection to every port, and
// say in one line what a failure means and what to check next.
package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Outcome classifies one port's check.
type Outcome string

// Outcomes, from best to worst.
const (
	Connected   Outcome = "connected"
	Refused     Outcome = "refused"
	TimedOut    Outcome = "timed-out"
	NoDNS       Outcome = "no-dns"
	Unreachable Outcome = "unreachable"
	Failed      Outcome = "failed"
)

// Result is one port's check.
type Result struct {
	Host      string   `json:"host"`
	Port      int      `json:"port"`
	Addresses []string `json:"addresses,omitempty"`
	Outcome   Outcome  `json:"outcome"`
	// Millis is how long the connect took (or until it failed).
	Millis    int64  `json:"millis"`
	Error     string `json:"error,omitempty"`
	Diagnosis string `json:"diagnosis"`
}

// OK reports whether the port connected.
func (r Result) OK() bool { return r.Outcome == Connected }

// Resolver looks up host names; *net.Resolver is one.
type Resolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// Prober runs checks.
type Prober struct {
	Resolver Resolver
	// Dial opens a connection; net.Dialer.DialContext by default.
	Dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	Timeout time.Duration // per connection attempt
}

// New returns a prober using the system resolver and a 5-second timeout.
func New() *Prober {
	return &Prober{Resolver: net.DefaultResolver, Timeout: 5 * time.Second}
}

// Probe resolves host once and connects to every port; results are in
// the order of ports.
func (p *Prober) Probe(ctx context.Context, host string, ports []int) []Result {
	results := make([]Result, 0, len(ports))
	addrs, err := p.Resolver.LookupHost(ctx, host)
	if err == nil && len(addrs) == 0 {
		err = &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	if err != nil {
		for _, port := range ports {
			results = append(results, Result{Host: host, Port: port, Outcome: NoDNS, Error: err.Error(),
				Diagnosis: fmt.Sprintf("%s does not resolve from the platform network (%v): check that the endpoint exists and is available and that its private DNS is enabled; try `dig %s` from a platform host", host, err, host)})
		}
		return results
	}
	// Every port at once, so a probe takes one timeout however many ports.
	results = make([]Result, len(ports))
	var wg sync.WaitGroup
	for i, port := range ports {
		wg.Go(func() { results[i] = p.connect(ctx, host, addrs, port) })
	}
	wg.Wait()
	return results
}

func (p *Prober) connect(ctx context.Context, host string, addrs []string, port int) Result {
	r := Result{Host: host, Port: port, Addresses: addrs}
	dial := p.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	addr := net.JoinHostPort(addrs[0], strconv.Itoa(port))
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	conn, err := dial(cctx, "tcp", addr)
	r.Millis = time.Since(start).Milliseconds()
	if err == nil {
		conn.Close()
		r.Outcome = Connected
		r.Diagnosis = fmt.Sprintf("%s:%d (%s) connected in %d ms", host, port, addrs[0], r.Millis)
		return r
	}
	r.Error = err.Error()
	r.Outcome = Classify(err)
	switch r.Outcome {
	case Refused:
		r.Diagnosis = fmt.Sprintf("%s:%d (%s) refused the connection: the endpoint is up but nothing answers on %d; ask the customer to check their load balancer has a listener on %d with healthy targets (`curl -v telnet://%s:%d`)", host, port, addrs[0], port, port, host, port)
	case TimedOut:
		r.Diagnosis = fmt.Sprintf("%s:%d (%s) did not answer within %s: packets are dropped; check the platform endpoint's security group allows outbound %d and the customer's targets allow the platform's endpoint subnet (`tcpdump port %d` on a target shows whether SYNs arrive)", host, port, addrs[0], timeout, port, port)
	case Unreachable:
		r.Diagnosis = fmt.Sprintf("%s:%d (%s) is unreachable from the platform network: check the route tables and that the endpoint is in the platform's subnets (`netstat -rn`)", host, port, addrs[0])
	default:
		r.Diagnosis = fmt.Sprintf("%s:%d (%s) failed: %v", host, port, addrs[0], err)
	}
	return r
}

// Classify names the failure of a TCP connect.
func Classify(err error) Outcome {
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case err == nil:
		return Connected
	case errors.As(err, &dnsErr):
		return NoDNS
	case errors.Is(err, syscall.ECONNREFUSED):
		return Refused
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return Unreachable
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return TimedOut
	}
	return Failed
}
