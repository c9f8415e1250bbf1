package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/linkwright/linkwright/internal/cloud/sim"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/request"
	"github.com/linkwright/linkwright/workflows"
)

const (
	approver  = "oncall@bench.example"
	requester = "requester@bench.example"
	namespace = "default"
)

// Worker modes: setup raises every task queue's budget so that thousands
// of links are set up in minutes, on a simulated cloud that does not
// throttle; measure is the shipped configuration (config.Default's
// budgets) on a simulated cloud that throttles as EC2 does.
const (
	modeSetup   = "setup"
	modeMeasure = "measure"
)

type bench struct {
	o       options
	out     io.Writer
	dir     string
	shards  string
	server  *devServer
	c       client.Client
	worker  *workerProc
	workers int
	// nextE and nextL number enablement and live links.
	nextE, nextL atomic.Int64
	// fleet are the enablements left waiting on their customers: section
	// 2's background, then section 3's fleet.
	fleet []*link
	// service is the platform's endpoint service name (the same in every
	// link's simulated cloud).
	service string
	res     results
	started time.Time
	// scripts are the no-op scripts, posted to every worker started.
	scripts map[string]*Script
}

func newBench(o options, out io.Writer) (*bench, error) {
	if o.Temporal == "" {
		return nil, errors.New("no Temporal CLI: build it with `make bin/temporal` and set LINKWRIGHT_TEMPORAL (or -temporal)")
	}
	if _, err := os.Stat(o.Temporal); err != nil {
		return nil, fmt.Errorf("the Temporal CLI %s: %w (build it with `make bin/temporal`)", o.Temporal, err)
	}
	dir, err := os.MkdirTemp("", "linkwright-bench-")
	if err != nil {
		return nil, err
	}
	b := &bench{o: o, out: out, dir: dir, shards: filepath.Join(dir, "clouds"), started: time.Now()}
	b.res.Options = o
	b.res.Started = b.started
	return b, nil
}

func (b *bench) printf(format string, args ...any) { fmt.Fprintf(b.out, format, args...) }

// logf prints progress, stamped with the time since the start.
func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.out, "  [%7s] %s\n", time.Since(b.started).Round(time.Second), fmt.Sprintf(format, args...))
}

func (b *bench) close() {
	if b.worker != nil {
		b.worker.stop()
	}
	if b.c != nil {
		b.c.Close()
	}
	if b.server != nil {
		b.server.stop()
	}
	if !b.o.Keep {
		os.RemoveAll(b.dir)
	} else {
		b.printf("State, logs and simulated clouds kept in %s\n", b.dir)
	}
}

func (b *bench) run() error {
	b.printf("Linkwright benchmark: sections %v; state in %s\n", b.o.Sections, b.dir)
	var err error
	if b.server, err = startDevServer(b.o.Temporal, filepath.Join(b.dir, "devserver.log")); err != nil {
		return err
	}
	if b.c, err = client.Dial(client.Options{HostPort: b.server.address, Namespace: namespace, Logger: quiet{}}); err != nil {
		return err
	}
	b.logf("Temporal dev server %s (pid %d) on %s", b.o.Temporal, b.server.pid(), b.server.address)
	probe := sim.Open(filepath.Join(b.shards, "probe"))
	env, err := probe.Environment(context.Background(), realRef(benchEnv))
	probe.Close()
	if err != nil {
		return fmt.Errorf("the simulated cloud: %w", err)
	}
	b.service = env.ServiceName

	ctx := context.Background()
	var errs []error
	// Order: the fleet comes last, so that the other sections run beside
	// the same 1,000 waiting enablements (section 2's background) only.
	for _, s := range []int{1, 2, 4, 3, 5} {
		if !slices.Contains(b.o.Sections, s) {
			continue
		}
		var err error
		switch s {
		case 1:
			err = b.sectionThroughput(ctx)
		case 2:
			err = b.sectionApproval(ctx)
		case 3:
			err = b.sectionFleet(ctx)
		case 4:
			err = b.sectionThrottling(ctx)
		case 5:
			err = b.sectionCloudCalls(ctx)
		}
		if err != nil {
			b.printf("\nSection %d stopped: %v\n", s, err)
			b.res.Errors = append(b.res.Errors, fmt.Sprintf("section %d: %v", s, err))
			errs = append(errs, fmt.Errorf("section %d: %w", s, err))
		}
	}
	b.res.Took = time.Since(b.started).Round(time.Second).String()
	b.report()
	if b.o.Out != "" {
		data, err := json.MarshalIndent(b.res, "", "  ")
		if err == nil {
			err = os.WriteFile(b.o.Out, data, 0o644)
		}
		if err != nil {
			errs = append(errs, err)
		} else {
			b.printf("Figures written to %s\n", b.o.Out)
		}
	}
	return errors.Join(errs...)
}

// --- the worker process

// workerCfg is the worker's configuration for a mode.
func (b *bench) workerCfg(mode string) workerConfig {
	lc := map[string]any{
		"stateDir": filepath.Join(b.dir, "state"),
		"policy":   map[string]any{"approvers": []string{approver}},
	}
	throttle := true
	if mode == modeSetup {
		v := b.o.SetupBudget
		lc["activitiesPerSecond"] = v
		lc["budgets"] = config.Budgets{Read: v, Poll: v, Mutate: v, Accept: v}
		throttle = false
	}
	data, _ := json.Marshal(lc)
	return workerConfig{Address: b.server.address, Namespace: namespace, Config: data, ShardRoot: b.shards, Throttle: throttle}
}

// useWorker makes sure the worker runs in mode, restarting it if not.
func (b *bench) useWorker(mode string) error {
	if b.worker != nil && b.worker.mode == mode && b.worker.alive() {
		return nil
	}
	if b.worker != nil {
		b.worker.stop()
		b.worker = nil
	}
	b.workers++
	w, err := startWorkerProc(b.dir, b.workers, b.workerCfg(mode), mode)
	if err != nil {
		return err
	}
	b.worker = w
	b.logf("worker %d (pid %d) runs in %s mode", b.workers, w.pid(), mode)
	if b.scripts != nil {
		return w.postScripts(b.scripts)
	}
	return nil
}

// cpuNow is the CPU time the worker and the dev server have used so far.
func (b *bench) cpuNow() (worker, server time.Duration, err error) {
	worker, err1 := procCPU(b.worker.pid())
	server, err2 := procCPU(b.server.pid())
	return worker, server, errors.Join(err1, err2)
}

// --- links

// link is one enablement (or no-op) the benchmark drives.
type link struct {
	idx     int
	noop    bool
	project string
	id      string
	runID   string
}

func (b *bench) newEnablementIndex() (int, error) {
	i := int(b.nextE.Add(1) - 1)
	if i >= portSpan {
		return 0, fmt.Errorf("more than %d enablements: their customer ports would collide", portSpan)
	}
	return i, nil
}

// enablementRequest is enablement i's request: bidirectional on AWS, its
// own project, account and customer service.
func enablementRequest(i int) request.Request {
	p := enablementProject(i)
	return request.Request{
		Company: "Bench " + p, RequestedBy: requester, ProjectID: p, Environment: benchEnv,
		Cloud: benchCloud, Region: benchRegion, CustomerAccount: customerAccount(i, false), ConnectionType: request.Bidirectional,
		Services:                []request.Service{{Name: "mysql", Port: 3306}},
		CustomerEndpointService: customerService(i), CustomerServicePorts: []int{customerPort(i)},
	}
}

// startEnablement starts enablement i; its run is the returned link's.
func (b *bench) startEnablement(ctx context.Context, i int) (*link, error) {
	req := enablementRequest(i)
	data, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	run, err := b.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: req.WorkflowID(), TaskQueue: workflows.TaskQueue, StaticSummary: "PrivateLink for " + req.Company,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, workflows.EnablementWorkflow, json.RawMessage(data))
	if err != nil {
		return nil, err
	}
	return &link{idx: i, project: req.ProjectID, id: run.GetID(), runID: run.GetRunID()}, nil
}

// useScript makes s the no-op's script, in the worker (and in those
// started later), under key.
func (b *bench) useScript(key string, s *Script) error {
	b.scripts = map[string]*Script{key: s}
	return b.worker.postScripts(b.scripts)
}

// startNoop starts no-op j from the script stored under key.
func (b *bench) startNoop(ctx context.Context, j int, key string) (*link, error) {
	project := fmt.Sprintf("lwb-n%06d", j)
	s := b.scripts[key]
	if s == nil {
		return nil, fmt.Errorf("no no-op script %q", key)
	}
	run, err := b.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: request.WorkflowID(project, benchEnv, benchCloud), TaskQueue: workflows.TaskQueue, StaticSummary: "PrivateLink for Bench " + project,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, noopPrefix+s.Type, noopInput{Script: key, Project: project})
	if err != nil {
		return nil, err
	}
	return &link{idx: j, noop: true, project: project, id: run.GetID(), runID: run.GetRunID()}, nil
}

// status queries a workflow's current run.
func (b *bench) status(ctx context.Context, id string) (workflows.Status, error) {
	var st workflows.Status
	qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := b.c.QueryWorkflow(qctx, id, "", workflows.QueryStatus)
	if err == nil {
		err = v.Get(&st)
	}
	return st, err
}

// waitStatus polls the status query (100 ms, growing to 1 s) until ok.
func (b *bench) waitStatus(ctx context.Context, id, what string, within time.Duration, ok func(workflows.Status) bool) (workflows.Status, error) {
	deadline := time.Now().Add(within)
	pause := 100 * time.Millisecond
	var last workflows.Status
	var lastErr error
	for {
		st, err := b.status(ctx, id)
		if err == nil {
			if ok(st) {
				return st, nil
			}
			last = st
		} else {
			lastErr = err
		}
		if time.Now().After(deadline) {
			return last, fmt.Errorf("%s: timed out after %s waiting for %s (last: phase %q, gate %q; last error %v)", id, within, what, last.Phase, last.Gate, lastErr)
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(pause):
		}
		pause = min(pause*3/2, time.Second)
	}
}

func phaseIs(p workflows.Phase) func(workflows.Status) bool {
	return func(st workflows.Status) bool { return st.Phase == p }
}

func gateIs(g string) func(workflows.Status) bool {
	return func(st workflows.Status) bool { return st.Gate == g }
}

// approve approves gate on the link through the update, and returns when
// the update returned.
func (b *bench) approve(ctx context.Context, id, gate string) (time.Time, error) {
	uctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	h, err := b.c.UpdateWorkflow(uctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: workflows.Approve,
		Args: []any{workflows.Approval{Gate: gate, Approver: approver, Comment: "benchmark"}}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err == nil {
		err = h.Get(uctx, nil)
	}
	return time.Now(), err
}

func (b *bench) signal(ctx context.Context, id, name string, arg any) error {
	return b.c.SignalWorkflow(ctx, id, "", name, arg)
}

// --- the customer's side, in the link's own simulated cloud

func (b *bench) withCloud(project string, fn func(*sim.Cloud) error) error {
	c := sim.Open(filepath.Join(b.shards, shardName(project)))
	c.Settle = 0
	defer c.Close()
	return fn(c)
}

// customerConnect: the customer of enablement i creates an endpoint to
// the platform's service.
func (b *bench) customerConnect(i int) error {
	return b.withCloud(enablementProject(i), func(c *sim.Cloud) error {
		_, err := c.Customer(benchCloud, customerAccount(i, false)).CreateEndpoint(b.service)
		return err
	})
}

// customerGrant: the customer allows the platform on their own service.
func (b *bench) customerGrant(i int) error {
	return b.withCloud(enablementProject(i), func(c *sim.Cloud) error {
		return c.Customer(benchCloud, customerAccount(i, false)).Grant(customerService(i), platformPrincipal, []int{customerPort(i)})
	})
}

// customerAccept: the customer accepts the platform's endpoint.
func (b *bench) customerAccept(i int, endpoint string) error {
	return b.withCloud(enablementProject(i), func(c *sim.Cloud) error {
		return c.Customer(benchCloud, customerAccount(i, false)).AcceptEndpoint(endpoint)
	})
}

// --- bulk operations

// parallel runs fn(0..n-1) on at most width goroutines, and returns the
// errors joined (at most 5 of them, and how many there were).
func parallel(n, width int, fn func(i int) error) error {
	var mu sync.Mutex
	var errs []error
	count := 0
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range min(n, width) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					count++
					if len(errs) < 5 {
						errs = append(errs, err)
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if count > len(errs) {
		errs = append(errs, fmt.Errorf("and %d more errors", count-len(errs)))
	}
	return errors.Join(errs...)
}

// terminate ends the current run of every workflow named (and so its
// children): what a section leaves behind must not load the next one.
func (b *bench) terminate(ctx context.Context, ids []string) error {
	return parallel(len(ids), 2*b.o.Concurrency, func(i int) error {
		err := b.c.TerminateWorkflow(ctx, ids[i], "", "benchmark: done with it")
		var nf *serviceerror.NotFound
		if err != nil && !errors.As(err, &nf) {
			return err
		}
		return nil
	})
}

// list is the IDs of the running workflows of a type in a phase, from
// visibility (search attributes).
func (b *bench) list(ctx context.Context, typ string, phase workflows.Phase) (map[string]bool, error) {
	q := fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running' AND PrivateLinkPhase = '%s'", typ, phase)
	out := map[string]bool{}
	var token []byte
	for {
		resp, err := b.c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: namespace, Query: q, PageSize: 1000, NextPageToken: token})
		if err != nil {
			return nil, err
		}
		for _, e := range resp.GetExecutions() {
			out[e.GetExecution().GetWorkflowId()] = true
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			return out, nil
		}
	}
}

// inPhase is which of the workflows named are, in visibility, running
// workflows of type typ in phase: a few are looked up by ID, many by
// listing the phase.
func (b *bench) inPhase(ctx context.Context, named map[string]bool, typ string, phase workflows.Phase) (map[string]bool, error) {
	if len(named) > 500 {
		return b.list(ctx, typ, phase)
	}
	all := slices.Sorted(maps.Keys(named))
	out := map[string]bool{}
	for len(all) > 0 {
		chunk := all[:min(100, len(all))]
		all = all[len(chunk):]
		quoted := make([]string, len(chunk))
		for i, id := range chunk {
			quoted[i] = "'" + id + "'"
		}
		q := runningInPhase(typ, phase) + " AND WorkflowId IN (" + strings.Join(quoted, ", ") + ")"
		var token []byte
		for {
			resp, err := b.c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: namespace, Query: q, PageSize: 1000, NextPageToken: token})
			if err != nil {
				return nil, err
			}
			for _, e := range resp.GetExecutions() {
				out[e.GetExecution().GetWorkflowId()] = true
			}
			if token = resp.GetNextPageToken(); len(token) == 0 {
				break
			}
		}
	}
	return out, nil
}

// count counts the executions a visibility query matches.
func (b *bench) count(ctx context.Context, query string) (int64, error) {
	resp, err := b.c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: namespace, Query: query})
	if err != nil {
		return 0, err
	}
	return resp.GetCount(), nil
}

func runningInPhase(typ string, phase workflows.Phase) string {
	return fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running' AND PrivateLinkPhase = '%s'", typ, phase)
}

// errTimeout is a bulk step that ran out of time.
var errTimeout = errors.New("ran out of time")

// waitAll waits until every link of ids is, in visibility, a running
// workflow of type typ in phase; act (if any) is called once for each as
// it gets there. It returns how many got there.
func (b *bench) waitAll(ctx context.Context, ids []string, typ string, phase workflows.Phase, deadline time.Time, act func(id string) error) (int, error) {
	pending := map[string]bool{}
	for _, id := range ids {
		pending[id] = true
	}
	done := 0
	for {
		in, err := b.inPhase(ctx, pending, typ, phase)
		if err != nil {
			return done, err
		}
		var ready []string
		for id := range pending {
			if in[id] {
				ready = append(ready, id)
			}
		}
		if act != nil && len(ready) > 0 {
			var mu sync.Mutex
			err := parallel(len(ready), b.o.Concurrency, func(i int) error {
				if err := act(ready[i]); err != nil {
					return err
				}
				mu.Lock()
				delete(pending, ready[i])
				done++
				mu.Unlock()
				return nil
			})
			if err != nil {
				return done, err
			}
		} else {
			for _, id := range ready {
				delete(pending, id)
				done++
			}
		}
		if len(pending) == 0 {
			return done, nil
		}
		if time.Now().After(deadline) {
			return done, fmt.Errorf("%w: %d of %d reached %s", errTimeout, done, len(ids), phase)
		}
		select {
		case <-ctx.Done():
			return done, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// startEnablements starts n new enablements.
func (b *bench) startEnablements(ctx context.Context, n int) ([]*link, error) {
	links := make([]*link, n)
	err := parallel(n, b.o.Concurrency, func(k int) error {
		i, err := b.newEnablementIndex()
		if err != nil {
			return err
		}
		links[k], err = b.startEnablement(ctx, i)
		return err
	})
	return slices.DeleteFunc(links, func(l *link) bool { return l == nil }), err
}

// toGate brings started enablements to gate accept-connection: each,
// once waiting for the customer, gets its customer's endpoint and the
// signal a support agent would relay.
func (b *bench) toGate(ctx context.Context, links []*link, deadline time.Time) error {
	byID := map[string]*link{}
	ids := make([]string, len(links))
	for k, l := range links {
		byID[l.id], ids[k] = l, l.id
	}
	if _, err := b.waitAll(ctx, ids, workflows.EnablementWorkflow, workflows.PhaseAwaitingConnection, deadline, func(id string) error {
		if err := b.customerConnect(byID[id].idx); err != nil {
			return err
		}
		return b.signal(ctx, id, workflows.SignalCustomerEndpointCreated, workflows.CustomerEvent{Detail: "benchmark"})
	}); err != nil {
		return err
	}
	_, err := b.waitAll(ctx, ids, workflows.EnablementWorkflow, workflows.PhaseAwaitingApproval, deadline, nil)
	return err
}

// history reads a run's whole history.
func (b *bench) history(ctx context.Context, id, runID string) ([]*historypb.HistoryEvent, error) {
	it := b.c.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var out []*historypb.HistoryEvent
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}

func ids(links []*link) []string {
	out := make([]string, len(links))
	for i, l := range links {
		out[i] = l.id
	}
	return out
}

func projects(links []*link) []string {
	out := make([]string, len(links))
	for i, l := range links {
		out[i] = l.project
	}
	return out
}

// waitRecords polls the worker's records until have is true of the
// record of every project named, and returns them.
func (b *bench) waitRecords(ctx context.Context, projects []string, within time.Duration, have func(linkRecord) bool) (map[string]linkRecord, error) {
	deadline := time.Now().Add(within)
	pause := 20 * time.Millisecond
	for {
		recs, err := b.worker.records(projects)
		if err == nil {
			missing := 0
			for _, p := range projects {
				if !have(recs[p]) {
					missing++
				}
			}
			if missing == 0 {
				return recs, nil
			}
			if time.Now().After(deadline) {
				return recs, fmt.Errorf("%w: %d of %d links have no record after %s", errTimeout, missing, len(projects), within)
			}
		} else if time.Now().After(deadline) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pause):
		}
		pause = min(pause*2, 500*time.Millisecond)
	}
}
