package sim

import (
	"context"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/probe"
)

// Listeners keeps one real TCP listener on loopback for every port of every
// available platform endpoint into a customer service, so that verification
// dials real sockets: a broken port or a rejected endpoint refuses
// connections. Each endpoint has its own loopback address (127.77.x.y), so
// two customers' services on the same port do not collide.
type Listeners struct {
	c    *Cloud
	mu   sync.Mutex
	open map[string]net.Listener // "ip:port"
	// What the state asked for when it was last read: the listeners
	// wanted, the state's version then, and when the first endpoint
	// accepted then becomes available (zero: none is to).
	want    map[string]bool
	read    bool
	version int64
	settles time.Time
	reads   int // how many times the endpoints were read (for tests)
	// OnError reports a listener that could not be opened (port taken).
	OnError func(addr string, err error)
}

// Listeners returns the listener set of this cloud; call Reconcile or Run.
func (c *Cloud) Listeners() *Listeners {
	return &Listeners{c: c, open: map[string]net.Listener{}}
}

// Reconcile opens and closes listeners to match the state on disk. It
// reads the endpoints again only when the state has changed since it last
// did (a write by any process) or an endpoint accepted meanwhile has
// become available; otherwise it only retries what it could not open.
func (l *Listeners) Reconcile() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.c.view(func(t *tx) error {
		v, err := t.version()
		if err != nil {
			return err
		}
		if l.read && v == l.version && (l.settles.IsZero() || t.now.Before(l.settles)) {
			return nil
		}
		want, settles, err := t.wantedListeners()
		if err != nil {
			return err
		}
		l.want, l.read, l.version, l.settles = want, true, v, settles
		l.reads++
		return nil
	})
	if err != nil {
		return err
	}
	want := l.want
	for addr, ln := range l.open {
		if !want[addr] {
			ln.Close()
			delete(l.open, addr)
		}
	}
	for addr := range want {
		if l.open[addr] != nil {
			continue
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			if l.OnError != nil {
				l.OnError(addr, err)
			}
			continue
		}
		l.open[addr] = ln
		go serve(ln)
	}
	return nil
}

// wantedListeners are the listeners the platform's available endpoints
// want, and when the first of those accepted but not yet available
// becomes available (zero: none is to).
func (t *tx) wantedListeners() (map[string]bool, time.Time, error) {
	want := map[string]bool{}
	var settles time.Time
	eps, err := t.endpoints(`SELECT data FROM endpoints WHERE platform = 1 AND state IN (?, ?)`,
		string(cloud.StateProvisioning), string(cloud.StateAvailable))
	if err != nil {
		return nil, settles, err
	}
	services := map[string]*service{}
	for _, ep := range eps {
		if ep.State == cloud.StateProvisioning {
			if at := ep.Accepted.Add(t.c.Settle); settles.IsZero() || at.Before(settles) {
				settles = at
			}
			continue
		}
		svc, ok := services[key(ep.Service)]
		if !ok {
			if svc, err = t.service(ep.Service); err != nil {
				return nil, settles, err
			}
			services[key(ep.Service)] = svc
		}
		if svc == nil {
			continue
		}
		for _, p := range svc.Ports {
			if !slices.Contains(ep.Broken, p) {
				want[net.JoinHostPort(ep.IP, strconv.Itoa(p))] = true
			}
		}
	}
	return want, settles, nil
}

// serve answers each connection with a one-line banner, like a service
// that speaks first, then closes it.
func serve(ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		conn.SetDeadline(time.Now().Add(time.Second))
		conn.Write([]byte("linkwright simulated customer service on " + ln.Addr().String() + "\r\n"))
		conn.Close()
	}
}

// Run reconciles every interval until ctx ends, then closes every listener.
func (l *Listeners) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	defer l.Close()
	for {
		_ = l.Reconcile()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Addrs lists the open listeners.
func (l *Listeners) Addrs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for a := range l.open {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// Close closes every listener.
func (l *Listeners) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for addr, ln := range l.open {
		ln.Close()
		delete(l.open, addr)
	}
}

// Resolver answers DNS for the simulated cloud's private zone, as a VPC's
// private hosted zone would, and passes other names to Fallback.
type Resolver struct {
	c        *Cloud
	Fallback interface {
		LookupHost(ctx context.Context, host string) ([]string, error)
	}
}

// Resolver returns a resolver for this cloud's zone; other names go to the
// system resolver.
func (c *Cloud) Resolver() Resolver { return Resolver{c: c, Fallback: net.DefaultResolver} }

// LookupHost resolves a name.
func (r Resolver) LookupHost(ctx context.Context, host string) ([]string, error) {
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	if !strings.HasSuffix(name, "."+Zone) {
		return r.Fallback.LookupHost(ctx, host)
	}
	var addrs []string
	err := r.c.view(func(t *tx) error {
		eps, err := t.endpoints(`SELECT data FROM endpoints WHERE dns_name = ?`, name)
		for _, ep := range eps {
			if ep.State != cloud.StateDeleted && ep.State != cloud.StateRejected {
				addrs = append(addrs, ep.IP)
			}
		}
		return err
	})
	if err != nil {
		return nil, unanswered(host, err)
	}
	if len(addrs) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return addrs, nil
}

// maxCauseInDNSError is how much of an internal failure's text a DNS
// error carries: enough for a short cause, never a long message that may
// name paths and state the prober's reader has no use for.
const maxCauseInDNSError = 80

// unanswered is the DNS error for a name the resolver could not look up
// because of its own failure (such as its state file unreadable): a
// temporary failure, as a DNS server answering SERVFAIL, never "no such
// host", so that the prober checks again instead of telling the customer
// the name does not resolve. It wraps nothing: the cause stays here.
func unanswered(host string, cause error) *net.DNSError {
	msg := "the simulated cloud's resolver could not answer"
	if c := cause.Error(); len(c) <= maxCauseInDNSError {
		msg += ": " + c
	}
	return &net.DNSError{Err: msg, Name: host, IsTemporary: true}
}

// Prober checks endpoints of this cloud: it brings the listeners up to date
// first and resolves names in the simulated zone.
type Prober struct {
	listeners *Listeners
	probe     *probe.Prober
}

// Prober returns a prober for this cloud's endpoints.
func (c *Cloud) Prober(l *Listeners, timeout time.Duration) *Prober {
	return &Prober{listeners: l, probe: &probe.Prober{Resolver: c.Resolver(), Timeout: timeout}}
}

// Probe resolves host and connects to every port.
func (p *Prober) Probe(ctx context.Context, host string, ports []int) []probe.Result {
	_ = p.listeners.Reconcile()
	return p.probe.Probe(ctx, host, ports)
}
