package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/cloud/sim"
	"github.com/linkwright/linkwright/internal/probe"
)

// The simulated cloud seeds a handful of platform environments, and a link
// is one per project, environment and cloud: far too few for a fleet of
// 20,000 links. So every benchmark link has a project of its own
// ("lwb-e000123" for an enablement, "lwb-l000123" for a link adopted
// live), and a simulated cloud of its own, in a directory of its own
// (shard), where the project is the seeded Pro project abcd1234efgh5 on
// AWS us-east-1. shards routes each call to the link's simulated cloud,
// translating the project both ways; the calls themselves are the
// simulated cloud's, unchanged.
const (
	benchPrefix   = "lwb-"
	seededProject = "abcd1234efgh5"
	benchCloud    = "aws"
	benchRegion   = "us-east-1"
	benchEnv      = "production"
	// platformPrincipal is the platform's principal in the simulated AWS.
	platformPrincipal = "arn:aws:iam::" + sim.PlatformAWSAccount + ":root"
	// Each enablement's customer service answers on a port of its own,
	// portBase + index, so that the simulated endpoints' listeners (one
	// loopback address per endpoint number, the same in every shard) never
	// collide, and so that a probe, which names only a host and ports,
	// finds its link's shard.
	portBase = 20000
	portSpan = 40000
)

func enablementProject(i int) string { return fmt.Sprintf("lwb-e%06d", i) }
func liveProject(i int) string       { return fmt.Sprintf("lwb-l%06d", i) }
func customerPort(i int) int         { return portBase + i%portSpan }

// customerAccount is link i's AWS account; live links use another range.
func customerAccount(i int, live bool) string {
	if live {
		return fmt.Sprintf("5%011d", i)
	}
	return fmt.Sprintf("4%011d", i)
}

// customerService is link i's own endpoint service (bidirectional links).
func customerService(i int) string {
	return fmt.Sprintf("com.amazonaws.vpce.%s.vpce-svc-%017x", benchRegion, i+1)
}

// projectOfPort is the enablement whose customer service answers on port.
func projectOfPort(port int) (string, bool) {
	if port < portBase || port >= portBase+portSpan {
		return "", false
	}
	return enablementProject(port - portBase), true
}

// shards is a cloud.Provider and a prober over one simulated cloud per
// benchmark link, in root/<project>.
type shards struct {
	root   string
	settle time.Duration
	mu     sync.Mutex
	clouds map[string]*shard
}

type shard struct {
	sim       *sim.Cloud
	once      sync.Once
	listeners *sim.Listeners
	prober    *sim.Prober
	// inUse counts calls under way; last is when the last one ended
	// (both under shards.mu).
	inUse int
	last  time.Time
}

func newShards(root string, settle time.Duration) *shards {
	return &shards{root: root, settle: settle, clouds: map[string]*shard{}}
}

// evictIdle closes the simulated clouds no call has used for idle (but
// those with listeners, which probes keep): 20,000 links' database handles
// held for ever would weigh in the worker's memory, where one cloud SDK
// client would not.
func (s *shards) evictIdle(idle time.Duration) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for name, sh := range s.clouds {
		if sh.inUse == 0 && sh.listeners == nil && time.Since(sh.last) > idle {
			_ = sh.sim.Close()
			delete(s.clouds, name)
			n++
		}
	}
	return n
}

// evictEvery runs evictIdle until ctx ends.
func (s *shards) evictEvery(ctx context.Context, every, idle time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.evictIdle(idle)
		}
	}
}

// shardName is the directory of a project's simulated cloud: its own for
// a benchmark project, "default" for any other.
func shardName(project string) string {
	if strings.HasPrefix(project, benchPrefix) {
		return project
	}
	return "default"
}

// get is the project's shard, in use until put.
func (s *shards) get(project string) *shard {
	name := shardName(project)
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := s.clouds[name]
	if sh == nil {
		c := sim.Open(filepath.Join(s.root, name))
		c.Settle = s.settle
		sh = &shard{sim: c}
		s.clouds[name] = sh
	}
	sh.inUse++
	return sh
}

func (s *shards) put(sh *shard) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh.inUse--
	sh.last = time.Now()
}

// route is the simulated cloud of ref's link and ref as that cloud names
// it; done ends the call.
func (s *shards) route(ref cloud.EnvRef) (c *sim.Cloud, r cloud.EnvRef, done func()) {
	sh := s.get(ref.Project)
	if strings.HasPrefix(ref.Project, benchPrefix) {
		ref.Project = seededProject
	}
	return sh.sim, ref, func() { s.put(sh) }
}

// realRef is a benchmark link's environment as its own simulated cloud names it.
func realRef(env string) cloud.EnvRef {
	return cloud.EnvRef{Cloud: benchCloud, Region: benchRegion, Project: seededProject, Environment: env}
}

// Close closes every simulated cloud and listener this process opened.
func (s *shards) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sh := range s.clouds {
		if sh.listeners != nil {
			sh.listeners.Close()
		}
		_ = sh.sim.Close()
	}
	s.clouds = map[string]*shard{}
}

var (
	_ cloud.Provider          = (*shards)(nil)
	_ cloud.BandwidthAccepter = (*shards)(nil)
)

// Environment implements cloud.Provider: the environment, named by the
// link's own project.
func (s *shards) Environment(ctx context.Context, ref cloud.EnvRef) (cloud.Environment, error) {
	c, r, done := s.route(ref)
	defer done()
	env, err := c.Environment(ctx, r)
	if err == nil {
		env.Project = ref.Project
	}
	return env, err
}

func (s *shards) OpenPorts(ctx context.Context, ref cloud.EnvRef, ports []int) error {
	c, r, done := s.route(ref)
	defer done()
	return c.OpenPorts(ctx, r, ports)
}

func (s *shards) ClosePorts(ctx context.Context, ref cloud.EnvRef, ports []int) error {
	c, r, done := s.route(ref)
	defer done()
	return c.ClosePorts(ctx, r, ports)
}

func (s *shards) AllowAccount(ctx context.Context, ref cloud.EnvRef, account string) error {
	c, r, done := s.route(ref)
	defer done()
	return c.AllowAccount(ctx, r, account)
}

func (s *shards) RevokeAccount(ctx context.Context, ref cloud.EnvRef, account string) error {
	c, r, done := s.route(ref)
	defer done()
	return c.RevokeAccount(ctx, r, account)
}

func (s *shards) ServiceState(ctx context.Context, ref cloud.EnvRef) (cloud.ServiceState, error) {
	c, r, done := s.route(ref)
	defer done()
	return c.ServiceState(ctx, r)
}

func (s *shards) Connections(ctx context.Context, ref cloud.EnvRef, account string) ([]cloud.Connection, error) {
	c, r, done := s.route(ref)
	defer done()
	return c.Connections(ctx, r, account)
}

func (s *shards) AcceptConnections(ctx context.Context, ref cloud.EnvRef, ids []string) error {
	c, r, done := s.route(ref)
	defer done()
	return c.AcceptConnections(ctx, r, ids)
}

func (s *shards) AcceptConnectionsWithBandwidth(ctx context.Context, ref cloud.EnvRef, ids []string, mbps int) error {
	c, r, done := s.route(ref)
	defer done()
	return c.AcceptConnectionsWithBandwidth(ctx, r, ids, mbps)
}

func (s *shards) RejectConnections(ctx context.Context, ref cloud.EnvRef, ids []string, reason string) error {
	c, r, done := s.route(ref)
	defer done()
	return c.RejectConnections(ctx, r, ids, reason)
}

func (s *shards) TargetHealth(ctx context.Context, ref cloud.EnvRef, ports []int) ([]cloud.Target, error) {
	c, r, done := s.route(ref)
	defer done()
	return c.TargetHealth(ctx, r, ports)
}

func (s *shards) ServiceVisible(ctx context.Context, ref cloud.EnvRef, service string) (bool, error) {
	c, r, done := s.route(ref)
	defer done()
	return c.ServiceVisible(ctx, r, service)
}

func (s *shards) CreateEndpoint(ctx context.Context, spec cloud.EndpointSpec) (cloud.Endpoint, error) {
	c, r, done := s.route(spec.Env)
	defer done()
	spec.Env = r
	return c.CreateEndpoint(ctx, spec)
}

func (s *shards) DescribeEndpoint(ctx context.Context, ref cloud.EnvRef, id string) (cloud.Endpoint, error) {
	c, r, done := s.route(ref)
	defer done()
	return c.DescribeEndpoint(ctx, r, id)
}

func (s *shards) PlatformEndpoints(ctx context.Context, ref cloud.EnvRef, service string) ([]cloud.Endpoint, error) {
	c, r, done := s.route(ref)
	defer done()
	return c.PlatformEndpoints(ctx, r, service)
}

func (s *shards) DeleteEndpoint(ctx context.Context, ref cloud.EnvRef, id string) error {
	c, r, done := s.route(ref)
	defer done()
	return c.DeleteEndpoint(ctx, r, id)
}

func (s *shards) Zones(ctx context.Context, ref cloud.EnvRef, service string) (cloud.Zones, error) {
	c, r, done := s.route(ref)
	defer done()
	return c.Zones(ctx, r, service)
}

func (s *shards) Inventory(ctx context.Context, ref cloud.EnvRef, services []string) (cloud.Inventory, error) {
	c, r, done := s.route(ref)
	defer done()
	return c.Inventory(ctx, r, services)
}

// Probe implements activities.Prober: the link is found by its customer
// service's port; its simulated cloud resolves the name and keeps the
// endpoint's listeners, as the worker's own simulated cloud does.
func (s *shards) Probe(ctx context.Context, host string, ports []int) []probe.Result {
	project := "default"
	for _, p := range ports {
		if name, ok := projectOfPort(p); ok {
			project = name
			break
		}
	}
	sh := s.get(project)
	defer s.put(sh)
	sh.once.Do(func() {
		sh.listeners = sh.sim.Listeners()
		sh.prober = sh.sim.Prober(sh.listeners, 5*time.Second)
	})
	return sh.prober.Probe(ctx, host, ports)
}

// indexOf is the link index in a benchmark project's name.
func indexOf(project string) (int, bool) {
	if len(project) < len(benchPrefix)+2 || !strings.HasPrefix(project, benchPrefix) {
		return 0, false
	}
	n, err := strconv.Atoi(project[len(benchPrefix)+1:])
	return n, err == nil
}
