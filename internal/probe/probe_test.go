package probe

import (
	"context"
	"net"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type staticResolver map[string][]string

func (s staticResolver) LookupHost(_ context.Context, host string) ([]string, error) {
	if a, ok := s[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func TestProbeRealListeners(t *testing.T) {
	open, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer open.Close()
	go func() {
		for {
			c, err := open.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close() // nothing listens there now
	openPort := open.Addr().(*net.TCPAddr).Port

	p := &Prober{Resolver: staticResolver{"db.customer.internal": {"127.0.0.1"}}, Timeout: 2 * time.Second}
	res := p.Probe(context.Background(), "db.customer.internal", []int{openPort, closedPort})
	require.Len(t, res, 2)
	assert.Equal(t, Connected, res[0].Outcome, res[0].Error)
	assert.True(t, res[0].OK())
	assert.Contains(t, res[0].Diagnosis, "connected")
	assert.Equal(t, Refused, res[1].Outcome, res[1].Error)
	assert.Contains(t, res[1].Diagnosis, "refused")
	assert.Contains(t, res[1].Diagnosis, "curl -v telnet://db.customer.internal:"+strconv.Itoa(closedPort))
}

func TestProbeUnresolvable(t *testing.T) {
	p := &Prober{Resolver: staticResolver{}, Timeout: time.Second}
	res := p.Probe(context.Background(), "vpce-gone.example.internal", []int{5432, 6379})
	require.Len(t, res, 2)
	for _, r := range res {
		assert.Equal(t, NoDNS, r.Outcome)
		assert.Contains(t, r.Diagnosis, "does not resolve")
		assert.Contains(t, r.Diagnosis, "dig vpce-gone.example.internal")
	}
}

func TestProbeSystemResolverLocalhost(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	res := New().Probe(context.Background(), "localhost", []int{ln.Addr().(*net.TCPAddr).Port})
	assert.Equal(t, Connected, res[0].Outcome, res[0].Error)
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// A dropped SYN cannot be made on loopback, so the timeout path uses a
// dialer that waits out its context like a blackholed connect.
func TestProbeTimeout(t *testing.T) {
	p := &Prober{
		Resolver: staticResolver{"h": {"127.0.0.1"}},
		Timeout:  50 * time.Millisecond,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			<-ctx.Done()
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: timeoutErr{}}
		},
	}
	res := p.Probe(context.Background(), "h", []int{5432})
	assert.Equal(t, TimedOut, res[0].Outcome)
	assert.Contains(t, res[0].Diagnosis, "tcpdump port 5432")
	assert.GreaterOrEqual(t, res[0].Millis, int64(50))
}

func TestClassify(t *testing.T) {
	assert.Equal(t, Connected, Classify(nil))
	assert.Equal(t, NoDNS, Classify(&net.DNSError{Err: "x"}))
	assert.Equal(t, TimedOut, Classify(context.DeadlineExceeded))
	assert.Equal(t, Failed, Classify(assert.AnError))
}

// All ports are dialled at once: each dial waits at a barrier that opens
// only when every port has started dialling. Dialled one after another,
// the first would wait out its timeout alone.
func TestProbeDialsPortsAtOnce(t *testing.T) {
	ports := []int{5432, 6379, 3306, 2222}
	var barrier sync.WaitGroup
	barrier.Add(len(ports))
	p := &Prober{
		Resolver: staticResolver{"h": {"127.0.0.1"}},
		Timeout:  2 * time.Second,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			barrier.Done()
			done := make(chan struct{})
			go func() { barrier.Wait(); close(done) }()
			select {
			case <-done:
				return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		},
	}
	res := p.Probe(context.Background(), "h", ports)
	for i, r := range res {
		assert.Equal(t, ports[i], r.Port, "results keep the order of the ports")
		assert.Equal(t, Refused, r.Outcome, "port %d: %s", r.Port, r.Error)
	}
}

type failingResolver struct{ err error }

func (f failingResolver) LookupHost(context.Context, string) ([]string, error) { return nil, f.err }

// A resolver that cannot answer now says nothing about the link: the
// result is Inconclusive (checked again), never "does not resolve".
func TestProbeTemporaryDNSFailureIsInconclusive(t *testing.T) {
	for _, err := range []error{
		&net.DNSError{Err: "server misbehaving", Name: "h", IsTemporary: true},
		&net.DNSError{Err: "i/o timeout", Name: "h", IsTimeout: true},
		&net.DNSError{Err: "simulated cloud state /x/cloud.json is corrupt", Name: "h", IsTemporary: true, IsNotFound: true},
		assert.AnError,
	} {
		p := &Prober{Resolver: failingResolver{err}, Timeout: time.Second}
		res := p.Probe(context.Background(), "h", []int{5432})
		require.Len(t, res, 1)
		assert.Equal(t, Inconclusive, res[0].Outcome, "%v", err)
		assert.True(t, res[0].Inconclusive())
		assert.False(t, res[0].OK())
		assert.Empty(t, res[0].Advice, "nothing to tell the customer")
	}
}

// What the customer is told names the port and what they can check, and
// nothing internal: no host, no address, no error text, no instructions
// meant for the platform's engineers.
func TestAdviceIsForTheCustomer(t *testing.T) {
	refusing := func(ctx context.Context, _, _ string) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	timingOut := func(ctx context.Context, _, _ string) (net.Conn, error) {
		<-ctx.Done()
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: timeoutErr{}}
	}
	const host = "vpce-0abc.vpce-svc-1.us-east-1.vpce.amazonaws.com"
	cases := []struct {
		p    *Prober
		want Outcome
	}{
		{&Prober{Resolver: staticResolver{host: {"10.1.2.3"}}, Dial: refusing, Timeout: time.Second}, Refused},
		{&Prober{Resolver: staticResolver{host: {"10.1.2.3"}}, Dial: timingOut, Timeout: 20 * time.Millisecond}, TimedOut},
		{&Prober{Resolver: staticResolver{}, Timeout: time.Second}, NoDNS},
	}
	for _, c := range cases {
		res := c.p.Probe(context.Background(), host, []int{5432})
		require.Equal(t, c.want, res[0].Outcome)
		adv := res[0].Advice
		assert.Contains(t, adv, "5432")
		for _, internal := range []string{host, "10.1.2.3", "127.", res[0].Error, "ask the customer", "dig ", "tcpdump", "curl"} {
			assert.NotContains(t, adv, internal, "%s advice: %q", c.want, adv)
		}
		assert.NotEmpty(t, res[0].Diagnosis)
	}
}
