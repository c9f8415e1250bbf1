package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.temporal.io/sdk/client"

	"github.com/linkwright/linkwright/internal/app"
	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/cloud/sim"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/devtest"
	"github.com/linkwright/linkwright/internal/request"
	"github.com/linkwright/linkwright/internal/telemetry"
	"github.com/linkwright/linkwright/internal/telemetry/telemetrytest"
	"github.com/linkwright/linkwright/workflows"
)

// telemetryClient sets telemetry up as the worker command does and dials
// the dev server with its client options. Both end with the test.
func telemetryClient(t *testing.T, opts telemetry.Options) (*telemetry.Telemetry, client.Client) {
	t.Helper()
	devtest.Client(t) // skips, or fails, without a dev server
	tel, err := telemetry.Setup(t.Context(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	co := client.Options{HostPort: devtest.Address(), Logger: devtest.Quiet{}}
	tel.ClientOptions(&co)
	c, err := client.Dial(co)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return tel, c
}

// telemetryRequest is a unidirectional request on a seeded environment of
// the simulated cloud; each test ends its link.
func telemetryRequest() request.Request {
	return request.Request{
		Company: "Telemetry Inc", RequestedBy: "sam@platform.example", ProjectID: "abcd1234efgh5", Environment: "staging",
		Cloud: "aws", Region: "us-east-1", CustomerAccount: "310000000077", ConnectionType: "unidirectional",
		Services: []request.Service{{Name: "pg", Port: 5432}},
	}
}

// driveUnidirectional runs a unidirectional enablement to its live link
// on a worker already started: the customer connects, alice approves, the
// customer confirms. at runs at the customer's turn and at the gate, so
// that a test can look at the fleet while the link waits there.
func driveUnidirectional(t *testing.T, c client.Client, cfg config.Config, req request.Request, at func(workflows.Phase, workflows.WaitingOn)) {
	t.Helper()
	id := req.WorkflowID()
	env := platformService(t, cfg, cloud.EnvRef{Cloud: req.Cloud, Project: req.ProjectID, Environment: req.Environment})
	run := start(t, c, req)
	waitFor(t, c, id, "the customer's turn", phase(workflows.PhaseAwaitingConnection))
	at(workflows.PhaseAwaitingConnection, workflows.WaitingOnCustomer)
	_, err := sim.Open(cfg.SimDir()).Customer(req.Cloud, req.CustomerAccount).CreateEndpoint(env.ServiceName)
	require.NoError(t, err)
	signal(t, c, id, workflows.SignalCustomerEndpointCreated, nil)
	waitFor(t, c, id, "gate accept-connection", gate(workflows.GateAcceptConnection))
	at(workflows.PhaseAwaitingApproval, workflows.WaitingOnOperator)
	_, err = update(c, id, workflows.Approve, workflows.Approval{Gate: workflows.GateAcceptConnection, Approver: alice})
	require.NoError(t, err)
	waitFor(t, c, id, "the customer's confirmation", phase(workflows.PhaseAwaitingConfirmation))
	signal(t, c, id, workflows.SignalCustomerVerified, workflows.CustomerVerified{OK: true})
	completed(t, c, run)
	waitFor(t, c, id, "the live link", phase(workflows.PhaseLive))
}

// scrapeUntil scrapes the handler until ok holds of a scrape (metrics
// recorded by a worker and counts read from visibility arrive when they
// arrive), and fails after a minute with what is missing.
func scrapeUntil(t *testing.T, tel *telemetry.Telemetry, what string, ok func(telemetrytest.Families) string) telemetrytest.Families {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		fams := telemetrytest.Scrape(t, tel.MetricsHandler())
		missing := ok(fams)
		if missing == "" {
			return fams
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %s\nexposed: %v", what, missing, append(fams.Names("linkwright_"), fams.Names("temporal_")...))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// atLeast checks that the matching series add up to at least min.
func atLeast(fams telemetrytest.Families, name string, labels map[string]string, min float64) string {
	n, ok := fams.Sum(name, labels)
	if !ok || n < min {
		return fmt.Sprintf("%s%v = %v (found %t), want >= %v; series: %s", name, labels, n, ok, min, fams.String(name))
	}
	return ""
}

func all(checks ...string) string {
	var missing []string
	for _, c := range checks {
		if c != "" {
			missing = append(missing, c)
		}
	}
	return strings.Join(missing, "\n")
}

// A real worker with metrics on runs an enablement to its live link; the
// Prometheus endpoint, scraped over HTTP, shows the Temporal SDK's
// metrics, the cloud and ticket calls, the approval at its gate, the time
// to live, and the fleet counted in visibility at each wait.
func TestIntegrationTelemetryMetrics(t *testing.T) {
	tel, c := telemetryClient(t, telemetry.Options{ServiceName: "linkwright-test", Metrics: true, FleetRefresh: time.Millisecond})
	cfg := testConfig(t)
	startWorker(t, c, cfg, app.WithTelemetry(tel))
	req := telemetryRequest()

	driveUnidirectional(t, c, cfg, req, func(p workflows.Phase, on workflows.WaitingOn) {
		// The fleet gauges count running links in visibility: at least
		// this one stands in this phase, waiting on this party.
		scrapeUntil(t, tel, "the fleet at "+string(p), func(f telemetrytest.Families) string {
			return all(
				atLeast(f, "linkwright_links", map[string]string{"phase": string(p)}, 1),
				atLeast(f, "linkwright_waits", map[string]string{"waiting_on": string(on)}, 1),
			)
		})
	})

	fams := scrapeUntil(t, tel, "the metrics of a link gone live", func(f telemetrytest.Families) string {
		wf := map[string]string{"workflow_type": workflows.EnablementWorkflow, "task_queue": workflows.TaskQueue}
		return all(
			// The SDK's own, through the contrib handler.
			atLeast(f, "temporal_request_total", nil, 1),
			atLeast(f, "temporal_workflow_continue_as_new_total", wf, 1),
			atLeast(f, "temporal_workflow_task_execution_latency_seconds", wf, 1),
			atLeast(f, "temporal_activity_execution_latency_seconds", map[string]string{"activity_type": "OpenPorts"}, 1),
			// Linkwright's.
			atLeast(f, "linkwright_cloud_api_calls_total", map[string]string{"provider": "sim", "action": "OpenPorts", "outcome": "ok"}, 1),
			atLeast(f, "linkwright_cloud_api_calls_total", map[string]string{"provider": "sim", "action": "Environment", "outcome": "ok"}, 1),
			atLeast(f, "linkwright_cloud_api_call_duration_seconds", map[string]string{"provider": "sim", "action": "AcceptConnections"}, 1),
			atLeast(f, "linkwright_ticket_api_calls_total", map[string]string{"tracker": "file", "action": "Open", "outcome": "ok"}, 1),
			atLeast(f, "linkwright_ticket_api_calls_total", map[string]string{"tracker": "file", "action": "Comment", "outcome": "ok"}, 1),
			atLeast(f, "linkwright_approvals_total", map[string]string{"gate": workflows.GateAcceptConnection, "workflow_type": workflows.EnablementWorkflow}, 1),
			atLeast(f, "linkwright_time_to_live_business_seconds", wf, 1),
			atLeast(f, "linkwright_links", map[string]string{"phase": string(workflows.PhaseLive)}, 1),
		)
	})
	require.Equal(t, "COUNTER", fams.Type("linkwright_approvals_total"))
	require.Equal(t, "HISTOGRAM", fams.Type("linkwright_time_to_live_business_seconds"))
	n, _ := fams.Sum("linkwright_approvals_total", map[string]string{"gate": workflows.GateAcceptConnection})
	require.Equal(t, 1.0, n, "one approval, counted once however often the workflow was replayed")
	_, refused := fams.Sum("linkwright_refusals_total", nil)
	require.False(t, refused, "nobody refused anything")
	// Minutes, not days: under one business day.
	ttl := fams.Series("linkwright_time_to_live_business_seconds", map[string]string{"workflow_type": workflows.EnablementWorkflow})
	require.Len(t, ttl, 1)
	require.Equal(t, 86400.0, ttl[0].GetHistogram().GetBucket()[0].GetUpperBound())
	require.Equal(t, uint64(1), ttl[0].GetHistogram().GetBucket()[0].GetCumulativeCount())
	endLink(t, c, req.WorkflowID())
}

// With tracing on, the client's start of an enablement, the worker's run
// of it, an activity of that run and the cloud call the activity made are
// one trace, each span the child of the one before.
func TestIntegrationTelemetryTraces(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tel, c := telemetryClient(t, telemetry.Options{ServiceName: "linkwright-test", Tracing: true, TraceExporter: exp})
	require.True(t, tel.Tracing())
	cfg := testConfig(t)
	startWorker(t, c, cfg, app.WithTelemetry(tel))
	req := telemetryRequest()
	// The run's span ends with the run: drive it to its live link.
	driveUnidirectional(t, c, cfg, req, func(workflows.Phase, workflows.WaitingOn) {})

	var chain []string
	deadline := time.Now().Add(60 * time.Second)
	for chain == nil {
		chain = traceChain(exp.GetSpans(), "cloud.OpenPorts", workflows.EnablementWorkflow)
		if chain == nil {
			require.True(t, time.Now().Before(deadline), "no trace from StartWorkflow to a cloud call among %d spans: %v", len(exp.GetSpans()), spanNames(exp.GetSpans()))
			time.Sleep(100 * time.Millisecond)
		}
	}
	require.Equal(t, []string{"StartWorkflow:" + workflows.EnablementWorkflow, "RunWorkflow:" + workflows.EnablementWorkflow,
		"StartActivity:OpenPorts", "RunActivity:OpenPorts", "cloud.OpenPorts"}, chain)
	// Ticket calls are spans under their activities too.
	require.NotNil(t, traceChain(exp.GetSpans(), "ticket.Open", workflows.EnablementWorkflow), "ticket.Open under its activity: %v", spanNames(exp.GetSpans()))
	endLink(t, c, req.WorkflowID())
}

// traceChain walks from a span named leaf up its parents, within its
// trace, to the StartWorkflow span of the workflow type, and returns the
// names from the root down; nil when no leaf reaches one (yet).
func traceChain(spans tracetest.SpanStubs, leaf, workflowType string) []string {
	byID := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		byID[s.SpanContext.TraceID().String()+s.SpanContext.SpanID().String()] = s
	}
	for _, s := range spans {
		if s.Name != leaf {
			continue
		}
		chain := []string{s.Name}
		for cur := s; cur.Parent.IsValid(); {
			if cur.Parent.TraceID() != s.SpanContext.TraceID() {
				break
			}
			parent, ok := byID[cur.Parent.TraceID().String()+cur.Parent.SpanID().String()]
			if !ok {
				break
			}
			chain = append([]string{parent.Name}, chain...)
			cur = parent
		}
		if chain[0] == "StartWorkflow:"+workflowType {
			return chain
		}
	}
	return nil
}

func spanNames(spans tracetest.SpanStubs) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range spans {
		if !seen[s.Name] {
			seen[s.Name] = true
			out = append(out, s.Name)
		}
	}
	return out
}
