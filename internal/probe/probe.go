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
	// Inconclusive is a check that says nothing about the link: the
	// resolver could not answer now (a temporary DNS failure, a resolver
	// of our own that failed). It is retried, never reported as the link's
	// state.
	Inconclusive Outcome = "inconclusive"
)

// Result is one port's check.
type Result struct {
	Host      string   `json:"host"`
	Port      int      `json:"port"`
	Addresses []string `json:"addresses,omitempty"`
	Outcome   Outcome  `json:"outcome"`
	// Millis is how long the connect took (or until it failed).
	Millis int64  `json:"millis"`
	Error  string `json:"error,omitempty"`
	// Diagnosis is for the platform's engineers: addresses, the error and
	// the next check to run by hand.
	Diagnosis string `json:"diagnosis"`
	// Advice is for the customer: what failed and what they can check,
	// with no addresses, internal error text or instructions meant for
	// engineers. Empty when the port connected.
	Advice string `json:"advice,omitempty"`
}

// OK reports whether the port connected.
func (r Result) OK() bool { return r.Outcome == Connected }

// Inconclusive reports whether the check said nothing about the link and
// should be run again rather than reported.
func (r Result) Inconclusive() bool { return r.Outcome == Inconclusive }

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
			results = append(results, unresolved(host, port, err))
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
	r.Advice = advice(r.Outcome, port)
	return r
}

// unresolved is the result for a port whose host did not resolve: a real
// answer ("no such host") is NoDNS; anything else (a temporary failure, a
// resolver that could not answer) is Inconclusive and is checked again.
func unresolved(host string, port int, err error) Result {
	r := Result{Host: host, Port: port, Error: err.Error()}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound && !dnsErr.IsTemporary {
		r.Outcome = NoDNS
		r.Diagnosis = fmt.Sprintf("%s does not resolve from the platform network (%v): check that the endpoint exists and is available and that its private DNS is enabled; try `dig %s` from a platform host", host, err, host)
		r.Advice = fmt.Sprintf("Port %d: the name of our endpoint into your service does not resolve yet. If you accepted the endpoint a few minutes ago, nothing is needed: we check again automatically.", port)
		return r
	}
	r.Outcome = Inconclusive
	r.Diagnosis = fmt.Sprintf("%s could not be resolved just now (%v): this says nothing about the link; the check runs again", host, err)
	return r
}

// advice is what the customer is told about a port that failed.
func advice(o Outcome, port int) string {
	switch o {
	case Refused:
		return fmt.Sprintf("Port %d: your service refused our connection. Check that your load balancer has a listener on port %d and that its targets are healthy.", port, port)
	case TimedOut:
		return fmt.Sprintf("Port %d: our connection attempts time out. Check that your load balancer's targets and their security groups allow traffic on port %d from the endpoint's network.", port, port)
	case Unreachable:
		return fmt.Sprintf("Port %d: your service is not reachable from our network yet. We are looking into it; nothing is needed from you for now.", port)
	}
	return fmt.Sprintf("Port %d: the connection to your service failed. We are looking into it and will tell you here if we need anything.", port)
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
