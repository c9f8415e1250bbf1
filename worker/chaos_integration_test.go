package main

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/cloud/sim"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/devtest"
	"github.com/linkwright/linkwright/internal/request"
	"github.com/linkwright/linkwright/internal/ticket"
)

// simCustomer is the customer of the simulated cloud, for driveBidirectional.
type simCustomer struct{ c *sim.Cloud }

func (s simCustomer) CreateEndpoint(account, service string) (string, error) {
	ep, err := s.c.Customer("aws", account).CreateEndpoint(service)
	return ep.ID, err
}

func (s simCustomer) Grant(account, service, principal string, ports []int) error {
	return s.c.Customer("aws", account).Grant(service, principal, ports)
}

func (s simCustomer) AcceptEndpoint(account, id string) error {
	return s.c.Customer("aws", account).AcceptEndpoint(id)
}

func (s simCustomer) RejectEndpoint(account, id string) error {
	return s.c.Customer("aws", account).RejectEndpoint(id)
}

func (s simCustomer) DeleteEndpoint(account, id string) error {
	return s.c.Customer("aws", account).DeleteEndpoint(id)
}

func (s simCustomer) Pending(service string) []string {
	var out []string
	eps, _ := s.c.Customer("aws", account).PendingOnService(service)
	for _, ep := range eps {
		out = append(out, ep.ID)
	}
	return out
}

// killer runs the real worker binary and kills it with SIGKILL at random
// moments, starting a new one each time, as a crashing host would.
type killer struct {
	t      *testing.T
	bin    string
	env    []string
	mu     sync.Mutex
	cmd    *exec.Cmd
	kills  int
	stop   chan struct{}
	done   chan struct{}
	logDir string
}

func (k *killer) startWorker() {
	k.mu.Lock()
	defer k.mu.Unlock()
	log, err := os.Create(filepath.Join(k.logDir, "worker-"+strconv.Itoa(k.kills)+".log"))
	require.NoError(k.t, err)
	cmd := exec.Command(k.bin)
	cmd.Env, cmd.Stdout, cmd.Stderr = k.env, log, log
	require.NoError(k.t, cmd.Start())
	k.cmd = cmd
}

func (k *killer) kill() {
	k.mu.Lock()
	defer k.mu.Unlock()
	_ = k.cmd.Process.Signal(syscall.SIGKILL)
	_ = k.cmd.Wait()
	k.kills++
}

// run kills and restarts the worker every 1 to 4 seconds until stopped.
func (k *killer) run(maxKills int) {
	defer close(k.done)
	for k.kills < maxKills {
		select {
		case <-k.stop:
			return
		case <-time.After(time.Second + time.Duration(rand.Int64N(int64(3*time.Second)))):
		}
		k.kill()
		k.startWorker()
	}
}

// A bidirectional enablement driven to completion while the real worker is
// killed with SIGKILL and restarted at random moments: nothing is lost (the
// whole audit trail, the reverse link's included), nothing is done twice,
// and the customer's service gets exactly one platform endpoint.
func TestIntegrationWorkerKilledAtRandom(t *testing.T) {
	c := devtest.Client(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "linkwright-worker")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ./worker: %s", out)

	cfg := testConfig(t)
	cfg.StateDir = filepath.Join(dir, "state")
	data, err := json.Marshal(map[string]any{
		"stateDir": cfg.StateDir, "activitiesPerSecond": 200, "budgets": map[string]float64{"read": 200, "poll": 200, "mutate": 200, "accept": 200},
		"policy": map[string]any{"approvers": []string{alice, bob}, "pollInitial": "200ms", "pollMax": "1s"},
	})
	require.NoError(t, err)
	cfgFile := filepath.Join(dir, "linkwright.json")
	require.NoError(t, os.WriteFile(cfgFile, data, 0o644))
	cfg, err = parseConfigFile(cfgFile)
	require.NoError(t, err)

	k := &killer{t: t, bin: bin, logDir: dir, stop: make(chan struct{}), done: make(chan struct{}),
		env: append(os.Environ(), "TEMPORAL_ADDRESS="+devtest.Address(), "LINKWRIGHT_CONFIG="+cfgFile, "LINKWRIGHT_LOG_LEVEL=warn",
			// Any free port: a `make run` on this machine holds the default.
			"LINKWRIGHT_ADMIN_LISTEN=127.0.0.1:0")}
	k.startWorker()
	t.Cleanup(func() { k.kill() })
	maxKills, _ := strconv.Atoi(os.Getenv("LINKWRIGHT_CHAOS_KILLS"))
	if maxKills <= 0 {
		maxKills = 4
	}
	go k.run(maxKills)

	req := request.Request{
		Company: "Chaos Inc", RequestedBy: "sam@platform.example", ProjectID: "abcd1234efgh5", Environment: "production",
		Cloud: "aws", Region: "us-east-1", CustomerAccount: account, ConnectionType: "bidirectional",
		Services:                []request.Service{{Name: "mysql", Port: 3306}},
		CustomerEndpointService: custSvc, CustomerServicePorts: []int{35499},
	}
	simCloud := sim.Open(cfg.SimDir())
	env := platformService(t, cfg, cloud.EnvRef{Cloud: "aws", Project: req.ProjectID, Environment: req.Environment})
	res := driveBidirectional(t, c, req, simCustomer{simCloud}, env.ServiceName, env.Principal)
	close(k.stop)
	<-k.done
	t.Logf("the worker was killed %d times", k.kills)

	actions := map[string]int{}
	for _, a := range res.Status.Audit {
		actions[a.Actor+": "+a.Action]++
	}
	for _, once := range []string{
		"linkwright: ticket", "linkwright: opened ports", "linkwright: allowed the customer", "linkwright: accepted the connection",
		"linkwright: asked for access", "customer: granted access", "linkwright: created the reverse endpoint",
		"customer: accepted the reverse endpoint", "linkwright: verified the reverse link", "linkwright: reverse link verified",
		"alice@platform.example: approve accept-connection (update)", "bob@platform.example: approve create-reverse-endpoint (update)",
		"bob@platform.example: approve create-reverse-endpoint (reverse link)", "linkwright: completed",
	} {
		assert.Equal(t, 1, actions[once], "%q once in the audit trail: %v", once, actions)
	}
	eps, err := simCloud.PlatformEndpoints(context.Background(), env.EnvRef, custSvc)
	require.NoError(t, err)
	assert.Len(t, eps, 1, "one platform endpoint into the customer's service")

	_, comments, err := ticket.NewFile(cfg.TicketDir()).Read(res.Status.Ticket)
	require.NoError(t, err)
	seen := map[string]int{}
	for _, cm := range comments {
		if cm.Public {
			seen[strings.SplitN(cm.Body, "\n", 2)[0]]++
		}
	}
	for first, n := range seen {
		assert.Equal(t, 1, n, "public reply posted %d times: %q", n, first)
	}
}

func parseConfigFile(path string) (config.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return config.Config{}, err
	}
	c := config.Default()
	return c, config.Parse(data, &c)
}
