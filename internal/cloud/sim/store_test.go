package sim

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/linkwright/linkwright/internal/cloud"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

const customerSvc = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"

// A state of an earlier release, cloud.json, is imported whole on first
// open and set aside; numbering, client tokens, connections and deleted
// endpoints carry on from it.
func TestCloudJSONIsImportedOnFirstOpen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	clock := &fakeClock{now: time.Now().UTC()} // an import dates what was deleted before by the real clock
	st := seed()
	prod := st.Environments[0]
	require.Equal(t, prodAWS.Project, prod.Project)
	prod.OpenPorts = []int{3306}
	platformSvc := st.Services[key(prod.ServiceName)]
	platformSvc.Allowed = []string{"arn:aws:iam::123456789012:root"}
	st.Services[key(customerSvc)] = &service{Name: customerSvc, ID: customerSvc, Cloud: "aws", Owner: "123456789012",
		Allowed: []string{prod.Principal}, Ports: []int{15432}}
	at := clock.Now().Add(-time.Hour)
	st.Seq = 3
	st.Endpoints = map[string]*endpoint{
		"vpce-00000000000000001": {ID: "vpce-00000000000000001", Cloud: "aws", Region: "us-east-1", Owner: "123456789012", Service: prod.ServiceName,
			State: cloud.StateProvisioning, Created: at, Accepted: at, IP: "127.77.0.2", DNSName: "vpce-00000000000000001.us-east-1." + Zone},
		"vpce-00000000000000002": {ID: "vpce-00000000000000002", Cloud: "aws", Region: "us-east-1", Owner: PlatformAWSAccount, Platform: true, Service: customerSvc,
			State: cloud.StatePendingAcceptance, Created: at.Add(time.Minute), IP: "127.77.0.3", DNSName: "vpce-00000000000000002.us-east-1." + Zone},
		"vpce-00000000000000003": {ID: "vpce-00000000000000003", Cloud: "aws", Region: "us-east-1", Owner: "123456789012", Service: prod.ServiceName,
			State: cloud.StateDeleted, Created: at.Add(2 * time.Minute), IP: "127.77.0.4", DNSName: "vpce-00000000000000003.us-east-1." + Zone},
	}
	st.Tokens = map[string]string{"run-1/1": "vpce-00000000000000002"}
	old := writeLegacy(t, dir, st)

	c := Open(dir)
	c.Now = clock.Now
	conns, err := c.Connections(ctx, prodAWS, "123456789012")
	require.NoError(t, err)
	assert.Equal(t, []cloud.Connection{
		{ID: "vpce-00000000000000001", Account: "123456789012", State: cloud.StateAvailable, Created: at},
		{ID: "vpce-00000000000000003", Account: "123456789012", State: cloud.StateDeleted, Created: at.Add(2 * time.Minute)},
	}, conns, "accepted long ago: available; the deleted one listed, as deleted")
	_, err = os.Stat(legacyPath(dir))
	assert.True(t, os.IsNotExist(err), "cloud.json is set aside: %v", err)
	migrated, err := os.ReadFile(legacyPath(dir) + ".migrated")
	require.NoError(t, err)
	assert.Equal(t, string(old), string(migrated), "nothing of it is lost")

	st2, err := c.ServiceState(ctx, prodAWS)
	require.NoError(t, err)
	assert.Equal(t, cloud.ServiceState{OpenPorts: []int{3306}, Accounts: []string{"123456789012"}}, st2)
	again, err := c.CreateEndpoint(ctx, cloud.EndpointSpec{Env: prodAWS, Service: customerSvc, Token: "run-1/1"})
	require.NoError(t, err)
	assert.Equal(t, "vpce-00000000000000002", again.ID, "the client token is kept")
	fresh, err := c.CreateEndpoint(ctx, cloud.EndpointSpec{Env: prodAWS, Service: customerSvc, Token: "run-1/2"})
	require.NoError(t, err)
	assert.Equal(t, []string{"127.77.0.5"}, fresh.IPs, "numbering carries on after the imported endpoints")
	pending, err := c.Customer("aws", "123456789012").PendingOnService(customerSvc)
	require.NoError(t, err)
	assert.Len(t, pending, 2)

	// Imported once: opened again, what changed since is what is there.
	require.NoError(t, c.Close())
	c = Open(dir)
	c.Now = clock.Now
	eps, err := c.PlatformEndpoints(ctx, prodAWS, customerSvc)
	require.NoError(t, err)
	assert.Len(t, eps, 2)

	// The deleted endpoint of the old state goes KeepDeleted after the import.
	clock.Advance(c.KeepDeleted + time.Minute)
	require.NoError(t, c.OpenPorts(ctx, prodAWS, []int{2222}))
	conns, err = c.Connections(ctx, prodAWS, "123456789012")
	require.NoError(t, err)
	assert.Equal(t, []string{"vpce-00000000000000001"}, connIDs(conns))
	assert.Zero(t, count(t, c, `SELECT count(*) FROM endpoints WHERE id = 'vpce-00000000000000003'`), "its record is removed")
}

func connIDs(conns []cloud.Connection) []string {
	var out []string
	for _, c := range conns {
		out = append(out, c.ID)
	}
	return out
}

// A cloud.json that cannot be read fails every call, saying so, and is
// left where it is; once it is repaired (here: removed), the next call
// opens the state.
func TestCorruptCloudJSONIsNotImported(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(legacyPath(dir), []byte("not json"), 0o644))
	c := Open(dir)
	for range 2 {
		_, err := c.Environment(context.Background(), prodAWS)
		assert.ErrorContains(t, err, "cloud.json is corrupt (delete it to start afresh)")
	}
	_, err := os.Stat(legacyPath(dir))
	require.NoError(t, err, "left as it is")
	require.NoError(t, os.Remove(legacyPath(dir)))
	env, err := c.Environment(context.Background(), prodAWS)
	require.NoError(t, err)
	assert.Equal(t, "pro", env.Plan, "seeded")
}

// Everything written is there after a restart: a Cloud closed, a new one
// opened on the same directory.
func TestStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	c := Open(dir)
	c.Settle = 0
	env := mustEnv(t, c)
	require.NoError(t, c.OpenPorts(ctx, prodAWS, []int{3306, 2222}))
	require.NoError(t, c.AllowAccount(ctx, prodAWS, "123456789012"))
	require.NoError(t, c.ByHand(prodAWS).BreakTarget(2222))
	conn, err := c.Customer("aws", "123456789012").CreateEndpoint(env.ServiceName)
	require.NoError(t, err)
	require.NoError(t, c.AcceptConnections(ctx, prodAWS, []string{conn.ID}))
	cu := c.Customer("aws", "123456789012")
	require.NoError(t, cu.Grant(customerSvc, env.Principal, []int{15432}))
	require.NoError(t, cu.SetServiceZones(customerSvc, []string{"us-east-1a", "us-east-1b"}))
	ep, err := c.CreateEndpoint(ctx, cloud.EndpointSpec{Env: prodAWS, Service: customerSvc, Token: "t1"})
	require.NoError(t, err)
	require.NoError(t, cu.AcceptEndpoint(ep.ID))
	require.NoError(t, cu.BreakPort(ep.ID, 15432))
	require.NoError(t, c.Close())

	c = Open(dir)
	c.Settle = 0
	st, err := c.ServiceState(ctx, prodAWS)
	require.NoError(t, err)
	assert.Equal(t, cloud.ServiceState{OpenPorts: []int{2222, 3306}, Accounts: []string{"123456789012"}}, st)
	targets, err := c.TargetHealth(ctx, prodAWS, []int{2222})
	require.NoError(t, err)
	assert.False(t, targets[0].Healthy)
	conns, err := c.Connections(ctx, prodAWS, "123456789012")
	require.NoError(t, err)
	require.Len(t, conns, 1)
	assert.Equal(t, conn.ID, conns[0].ID)
	assert.Equal(t, cloud.StateAvailable, conns[0].State)
	z, err := c.Zones(ctx, prodAWS, customerSvc)
	require.NoError(t, err)
	assert.Equal(t, []string{"use1-az2", "use1-az4"}, z.Service)
	same, err := c.CreateEndpoint(ctx, cloud.EndpointSpec{Env: prodAWS, Service: customerSvc, Token: "t1"})
	require.NoError(t, err)
	assert.Equal(t, ep.ID, same.ID, "the client token is kept")
	eps, err := c.Customer("aws", "123456789012").Endpoints()
	require.NoError(t, err)
	require.Len(t, eps, 2)
	for _, e := range eps {
		assert.Equal(t, cloud.StateAvailable, e.State, e.ID)
	}
	stale, err := cu.Endpoints() // of the Cloud closed above: it opens the state again
	require.NoError(t, err)
	assert.Equal(t, eps, stale)
	next, err := c.Customer("aws", "123456789012").CreateEndpoint(env.ServiceName)
	require.NoError(t, err)
	assert.NotContains(t, []string{conn.ID, ep.ID}, next.ID, "numbering carries on")
}

// A deleted endpoint is listed, as deleted, for KeepDeleted (as EC2 shows
// one for a while); then it is not found, and the next write removes it
// and its client token from the state.
func TestDeletedEndpointIsRemoved(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	clock := newFakeClock()
	c := Open(dir)
	c.Now, c.KeepDeleted = clock.Now, time.Hour
	env := mustEnv(t, c)
	cu := c.Customer("aws", "123456789012")
	require.NoError(t, cu.Grant(customerSvc, env.Principal, []int{15432}))
	ep, err := c.CreateEndpoint(ctx, cloud.EndpointSpec{Env: prodAWS, Service: customerSvc, Token: "t1"})
	require.NoError(t, err)
	require.NoError(t, c.AllowAccount(ctx, prodAWS, "123456789012"))
	conn, err := cu.CreateEndpoint(env.ServiceName)
	require.NoError(t, err)

	require.NoError(t, c.DeleteEndpoint(ctx, prodAWS, ep.ID))
	require.NoError(t, cu.DeleteEndpoint(conn.ID))
	clock.Advance(59 * time.Minute)
	require.NoError(t, c.DeleteEndpoint(ctx, prodAWS, ep.ID), "deleting again is success")
	require.NoError(t, cu.DeleteEndpoint(conn.ID), "deleting again is success")
	got, err := c.DescribeEndpoint(ctx, prodAWS, ep.ID)
	require.NoError(t, err)
	assert.Equal(t, cloud.StateDeleted, got.State, "listed for a while")
	conns, err := c.Connections(ctx, prodAWS, "123456789012")
	require.NoError(t, err)
	require.Len(t, conns, 1)
	assert.Equal(t, cloud.StateDeleted, conns[0].State)
	same, err := c.CreateEndpoint(ctx, cloud.EndpointSpec{Env: prodAWS, Service: customerSvc, Token: "t1"})
	require.NoError(t, err)
	assert.Equal(t, ep.ID, same.ID, "the token still finds it")

	clock.Advance(time.Minute) // an hour after the first delete
	_, err = c.DescribeEndpoint(ctx, prodAWS, ep.ID)
	assert.True(t, cloud.IsNotFound(err), "got %v", err)
	conns, err = c.Connections(ctx, prodAWS, "123456789012")
	require.NoError(t, err)
	assert.Empty(t, conns)
	assert.True(t, cloud.IsNotFound(cu.DeleteEndpoint(conn.ID)), "gone")

	require.NoError(t, c.OpenPorts(ctx, prodAWS, []int{3306}), "any write")
	other := Open(dir) // as another process would find it
	assert.Zero(t, count(t, other, `SELECT count(*) FROM endpoints WHERE id IN (?, ?)`, ep.ID, conn.ID), "the records are removed")
	assert.Zero(t, count(t, other, `SELECT count(*) FROM tokens WHERE token = 't1'`), "and the client token")
	fresh, err := c.CreateEndpoint(ctx, cloud.EndpointSpec{Env: prodAWS, Service: customerSvc, Token: "t1"})
	require.NoError(t, err)
	assert.NotEqual(t, ep.ID, fresh.ID, "the token makes a new endpoint")

	// Kept for no time at all, a deleted endpoint goes with its delete.
	c.KeepDeleted = 0
	require.NoError(t, c.DeleteEndpoint(ctx, prodAWS, fresh.ID))
	assert.Zero(t, count(t, other, `SELECT count(*) FROM endpoints WHERE id = ?`, fresh.ID))
	assert.Zero(t, count(t, other, `SELECT count(*) FROM endpoints`), "nothing deleted is left")
}

// Goroutines writing through two Clouds on one directory (as two
// processes would) lose no update: read-modify-writes of one record (the
// platform service's allowed accounts, the environment's ports) and of
// the endpoint numbering.
func TestConcurrentWritersThroughTwoOpensLoseNothing(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	clouds := []*Cloud{Open(dir), Open(dir)}
	svc := mustEnv(t, clouds[0]).ServiceName
	const writers, each = 8, 5
	ids := make(chan string, writers*each)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				c := clouds[(w+i)%2]
				account := fmt.Sprintf("1000%02d%06d", w, i)
				if !assert.NoError(t, c.AllowAccount(ctx, prodAWS, account)) {
					return
				}
				assert.NoError(t, c.OpenPorts(ctx, prodAWS, []int{20000 + w*100 + i}))
				ep, err := clouds[(w+i+1)%2].Customer("aws", account).CreateEndpoint(svc)
				if assert.NoError(t, err) {
					ids <- ep.ID
					assert.NoError(t, c.AcceptConnections(ctx, prodAWS, []string{ep.ID}))
				}
			}
		})
	}
	wg.Wait()
	close(ids)
	checkFleetWrites(t, Open(dir), writers, each, ids)
}

// checkFleetWrites checks what writers made each times: every account
// allowed, every port open, every endpoint there (accepted), under its
// own ID.
func checkFleetWrites(t *testing.T, c *Cloud, writers, each int, ids <-chan string) {
	t.Helper()
	ctx := context.Background()
	st, err := c.ServiceState(ctx, prodAWS)
	require.NoError(t, err)
	var accounts []string
	var ports []int
	for w := range writers {
		for i := range each {
			accounts = append(accounts, fmt.Sprintf("1000%02d%06d", w, i))
			ports = append(ports, 20000+w*100+i)
		}
	}
	slices.Sort(ports)
	assert.Equal(t, accounts, st.Accounts, "no account lost")
	assert.Equal(t, ports, st.OpenPorts, "no port lost")
	if ids != nil {
		seen := map[string]bool{}
		for id := range ids {
			assert.False(t, seen[id], "endpoint ID %s given twice", id)
			seen[id] = true
		}
		assert.Len(t, seen, writers*each)
	}
	assert.Equal(t, writers*each, count(t, c, `SELECT count(*) FROM endpoints WHERE state = 'provisioning'`), "every endpoint, accepted")
	assert.Equal(t, writers*each, count(t, c, `SELECT value FROM meta WHERE key = 'seq'`))
}

// Two OS processes (this test binary, run again) write to one new
// directory at once and lose nothing; both create the state at once too.
func TestTwoProcessesLoseNothing(t *testing.T) {
	const each = 15
	if dir := os.Getenv("SIM_TEST_WRITER_DIR"); dir != "" {
		w, err := strconv.Atoi(os.Getenv("SIM_TEST_WRITER"))
		require.NoError(t, err)
		writeAsProcess(t, dir, w, each)
		return
	}
	dir := t.TempDir()
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for w := range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestTwoProcessesLoseNothing$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "SIM_TEST_WRITER_DIR="+dir, "SIM_TEST_WRITER="+strconv.Itoa(w))
		out := &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = out, out
		require.NoError(t, cmd.Start())
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	for i, cmd := range cmds {
		require.NoError(t, cmd.Wait(), "writer %d:\n%s", i, outs[i])
		require.Contains(t, outs[i].String(), "wrote as process", "writer %d ran:\n%s", i, outs[i])
	}
	checkFleetWrites(t, Open(dir), 2, each, nil)
}

func writeAsProcess(t *testing.T, dir string, w, each int) {
	ctx := context.Background()
	c := Open(dir)
	svc := mustEnv(t, c).ServiceName
	for i := range each {
		account := fmt.Sprintf("1000%02d%06d", w, i)
		require.NoError(t, c.AllowAccount(ctx, prodAWS, account))
		require.NoError(t, c.OpenPorts(ctx, prodAWS, []int{20000 + w*100 + i}))
		ep, err := c.Customer("aws", account).CreateEndpoint(svc)
		require.NoError(t, err)
		require.NoError(t, c.AcceptConnections(ctx, prodAWS, []string{ep.ID}))
	}
	t.Logf("wrote as process %d (pid %d)", w, os.Getpid())
}

// Listeners read the endpoints again only when the state changed (a
// write by anyone) or an endpoint accepted meanwhile became available.
func TestListenersReadOnlyWhatChanged(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	clock := newFakeClock()
	c := Open(dir)
	c.Now, c.Settle = clock.Now, time.Minute
	ls := c.Listeners()
	defer ls.Close()
	reads := func() int { ls.mu.Lock(); defer ls.mu.Unlock(); return ls.reads }

	for range 3 {
		require.NoError(t, ls.Reconcile())
	}
	assert.Equal(t, 1, reads(), "nothing changed: read once")

	other := Open(dir) // another process
	other.Now, other.Settle = clock.Now, time.Minute
	const port = 15461
	cu := other.Customer("aws", "123456789012")
	require.NoError(t, cu.Grant(customerSvc, mustEnv(t, other).Principal, []int{port}))
	ep, err := other.CreateEndpoint(ctx, cloud.EndpointSpec{Env: prodAWS, Service: customerSvc, Token: "t1"})
	require.NoError(t, err)
	require.NoError(t, cu.AcceptEndpoint(ep.ID))
	require.NoError(t, ls.Reconcile())
	require.NoError(t, ls.Reconcile())
	assert.Equal(t, 2, reads(), "read again once after the writes")
	assert.Empty(t, ls.Addrs(), "accepted, not yet available")

	clock.Advance(time.Minute)
	require.NoError(t, ls.Reconcile())
	assert.Equal(t, 3, reads(), "available now, with no write: read again")
	addr := net.JoinHostPort(ep.IPs[0], strconv.Itoa(port))
	assert.Equal(t, []string{addr}, ls.Addrs())
	require.NoError(t, ls.Reconcile())
	assert.Equal(t, 3, reads())

	require.NoError(t, cu.BreakPort(ep.ID, port))
	require.NoError(t, ls.Reconcile())
	assert.Equal(t, 4, reads())
	assert.Empty(t, ls.Addrs(), "the broken port is closed")
}
