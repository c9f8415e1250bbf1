package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/linkwright/linkwright/internal/approval"
	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/cloud/sim"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/devtest"
	"github.com/linkwright/linkwright/internal/request"
	"github.com/linkwright/linkwright/internal/webhook"
	"github.com/linkwright/linkwright/internal/webhook/snstest"
	"github.com/linkwright/linkwright/workflows"
)

func zendeskHook(t *testing.T, url, secret, body string) (int, string) {
	t.Helper()
	ts := time.Now().UTC().Format(time.RFC3339)
	req, err := http.NewRequest(http.MethodPost, url+"/webhooks/zendesk", bytes.NewBufferString(body))
	require.NoError(t, err)
	req.Header.Set("X-Zendesk-Webhook-Signature-Timestamp", ts)
	req.Header.Set("X-Zendesk-Webhook-Signature", webhook.ZendeskSignature(secret, ts, []byte(body)))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// A signed webhook from the ticket moves a waiting enablement on: the
// customer connected without anyone typing a temporal command, and the
// next poll is an hour away.
func TestIntegrationSignedWebhookMovesAWaitingEnablement(t *testing.T) {
	c := devtest.Client(t)
	cfg := testConfig(t)
	cfg.Policy.PollInitial = config.Duration(time.Hour)
	cfg.Policy.PollMax = config.Duration(time.Hour)
	startWorker(t, c, cfg)
	req := request.Request{
		Company: "Hooli", RequestedBy: "sam@platform.example", ProjectID: "abcd1234efgh5", Environment: "staging",
		Cloud: "aws", Region: "us-east-1", CustomerAccount: "410000000001", ConnectionType: "unidirectional",
		Services: []request.Service{{Name: "kafka", Port: 9092}},
	}
	id := req.WorkflowID()
	run := start(t, c, req)
	waitFor(t, c, id, "the customer's turn", phase(workflows.PhaseAwaitingConnection))
	// The first poll has run and found nothing; the next is an hour away.
	// Only now may the customer connect, or the first poll could find it.
	waitPolled(t, c, id, "AwaitConnectionRequest")
	st := status(t, c, id)
	env := platformService(t, cfg, cloud.EnvRef{Cloud: "aws", Project: req.ProjectID, Environment: req.Environment})
	_, err := sim.Open(cfg.SimDir()).Customer("aws", req.CustomerAccount).CreateEndpoint(env.ServiceName)
	require.NoError(t, err)

	srv := httptest.NewServer((&webhook.Receiver{Signaler: c, ZendeskSecret: "whsec"}).Handler())
	defer srv.Close()
	body := `{"ticket": "` + st.Ticket + `", "tags": "privatelink privatelink:endpoint-created"}`

	code, _ := zendeskHook(t, srv.URL, "forged", body)
	assert.Equal(t, http.StatusUnauthorized, code, "a badly signed webhook is refused")
	assert.Zero(t, signalsReceived(t, c, id), "and sends nothing: the refusal is made before any signal")
	assert.Equal(t, workflows.PhaseAwaitingConnection, status(t, c, id).Phase)

	require.Eventually(t, func() bool {
		code, out := zendeskHook(t, srv.URL, "whsec", body)
		return code == http.StatusOK && bytes.Contains([]byte(out), []byte("signalled"))
	}, 15*time.Second, 200*time.Millisecond, "the webhook finds the enablement by its ticket")
	st = waitFor(t, c, id, "the gate, long before the next poll", gate(workflows.GateAcceptConnection))
	assert.Contains(t, auditOf(st), "customer: "+workflows.SignalCustomerEndpointCreated)

	_, err = update(c, id, workflows.Cancel, workflows.Cancellation{Approver: alice, Reason: "end of test"})
	require.NoError(t, err)
	require.NoError(t, run.Get(t.Context(), nil), "the run undoes and ends before the next test on this ID")
}

func auditOf(st workflows.Status) []string {
	var out []string
	for _, a := range st.Audit {
		out = append(out, a.Actor+": "+a.Action)
	}
	return out
}

// An agent approves a gate on the ticket: the signed Zendesk webhook
// relays it as the approve update, signed with the worker's key, and the
// workflow, which requires signed approvals, takes it with the agent as
// the approver; an agent who is no approver is refused and told why.
func TestIntegrationApprovalOnTheTicket(t *testing.T) {
	c := devtest.Client(t)
	dir := t.TempDir()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	require.NoError(t, err)
	keyFile := filepath.Join(dir, "webhook-approvals.pem")
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	data, err := json.Marshal(map[string]any{
		"stateDir": filepath.Join(dir, "state"), "activitiesPerSecond": 200, "budgets": map[string]float64{"read": 200, "poll": 200, "mutate": 200, "accept": 200},
		"webhooks": map[string]any{"approvalKeyFile": keyFile},
		"policy": map[string]any{"approvers": []string{alice, bob}, "pollInitial": "200ms", "pollMax": "1s",
			"signedApprovals": map[string]any{"required": true}},
	})
	require.NoError(t, err)
	cfgFile := filepath.Join(dir, "linkwright.json")
	require.NoError(t, os.WriteFile(cfgFile, data, 0o644))
	t.Setenv("LINKWRIGHT_CONFIG", "")
	cfg, err := parseConfigFile(cfgFile)
	require.NoError(t, err)
	startWorker(t, c, cfg)
	signer, err := approval.NewSigner(keyFile)
	require.NoError(t, err)
	srv := httptest.NewServer((&webhook.Receiver{Signaler: c, ZendeskSecret: "whsec", Signer: signer}).Handler())
	defer srv.Close()

	req := request.Request{
		Company: "Initrode", RequestedBy: "sam@platform.example", ProjectID: "eu7k2m9p4q1xz", Environment: "production",
		Cloud: "aws", Region: "eu-west-1", CustomerAccount: "410000000002", ConnectionType: "unidirectional",
		Services: []request.Service{{Name: "kafka", Port: 9092}},
	}
	id := req.WorkflowID()
	run := start(t, c, req)
	waitFor(t, c, id, "the customer's turn", phase(workflows.PhaseAwaitingConnection))
	env := platformService(t, cfg, cloud.EnvRef{Cloud: "aws", Project: req.ProjectID, Environment: req.Environment})
	_, err = sim.Open(cfg.SimDir()).Customer("aws", req.CustomerAccount).CreateEndpoint(env.ServiceName)
	require.NoError(t, err)
	signal(t, c, id, workflows.SignalCustomerEndpointCreated, nil)
	st := waitFor(t, c, id, "gate accept-connection", gate(workflows.GateAcceptConnection))

	approve := func(agent string) string {
		body := `{"ticket": "` + st.Ticket + `", "event": "privatelink:approve:accept-connection", "agent": "` + agent + `"}`
		code, out := zendeskHook(t, srv.URL, "whsec", body)
		require.Equal(t, http.StatusOK, code, out)
		return out
	}
	assert.Contains(t, approve("mallory@evil.example"), "mallory@evil.example is not an approver")
	assert.Contains(t, approve("Alice@Platform.Example"), "approved accept-connection as alice@platform.example")
	waitFor(t, c, id, "the customer's confirmation", phase(workflows.PhaseAwaitingConfirmation))
	signal(t, c, id, workflows.SignalCustomerVerified, workflows.CustomerVerified{OK: true})
	res, _ := completed(t, c, run)
	assert.Equal(t, workflows.OutcomeCompleted, res.Outcome)
	assert.Contains(t, auditOf(res.Status), "alice@platform.example: approve accept-connection (update)")
}

// AWS's endpoint connection notification, delivered by SNS and signed by
// it, moves a waiting enablement on: the customer created their endpoint
// and told no one, and the next poll is an hour away. A notification SNS
// did not sign changes nothing.
func TestIntegrationSNSNotificationMovesAWaitingEnablement(t *testing.T) {
	c := devtest.Client(t)
	cfg := testConfig(t)
	cfg.Policy.PollInitial = config.Duration(time.Hour)
	cfg.Policy.PollMax = config.Duration(time.Hour)
	startWorker(t, c, cfg)
	req := request.Request{
		Company: "Initech", RequestedBy: "sam@platform.example", ProjectID: "abcd1234efgh5", Environment: "staging",
		Cloud: "aws", Region: "us-east-1", CustomerAccount: "410000000002", ConnectionType: "unidirectional",
		Services: []request.Service{{Name: "kafka", Port: 9092}},
	}
	id := req.WorkflowID()
	run := start(t, c, req)
	waitFor(t, c, id, "the customer's turn", phase(workflows.PhaseAwaitingConnection))
	waitPolled(t, c, id, "AwaitConnectionRequest")
	ref := cloud.EnvRef{Cloud: "aws", Region: "us-east-1", Project: req.ProjectID, Environment: req.Environment}
	env := platformService(t, cfg, ref)
	simCloud := sim.Open(cfg.SimDir())
	ep, err := simCloud.Customer("aws", req.CustomerAccount).CreateEndpoint(env.ServiceName)
	require.NoError(t, err)

	signer, err := snstest.NewSigner()
	require.NoError(t, err)
	defer signer.Close()
	const topic = "arn:aws:sns:us-east-1:123456789012:privatelink-connections"
	rc := &webhook.Receiver{Signaler: c}
	rc.SNSTopicARNs = []string{topic}
	signer.Configure(&rc.SNSConfig)
	// The owner is read back from the cloud, as the AWS provider's
	// EndpointOwner does with DescribeVpcEndpointConnections.
	rc.SNSEndpointOwner = func(ctx context.Context, _, serviceID, endpointID string) (string, error) {
		inv, err := simCloud.Inventory(ctx, ref, nil)
		if err != nil {
			return "", err
		}
		for _, cn := range inv.Connections {
			if cn.ID == endpointID && serviceID == env.ServiceID {
				return cn.Account, nil
			}
		}
		return "", nil
	}
	srv := httptest.NewServer(rc.Handler())
	defer srv.Close()
	post := func(body []byte) int {
		resp, err := http.Post(srv.URL+"/webhooks/sns", "text/plain; charset=UTF-8", bytes.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	msg := snstest.EndpointNotification("Connect", ep.ID, env.ServiceID, "pendingAcceptance", "")

	forger, err := snstest.NewSigner() // signs with a key SNS never had
	require.NoError(t, err)
	defer forger.Close()
	forged, err := forger.Notification(topic, msg)
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, post(forged), "a notification SNS did not sign is refused")
	assert.Zero(t, signalsReceived(t, c, id), "and sends nothing")

	signed, err := signer.Notification(topic, msg)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, post(signed))
	st := waitFor(t, c, id, "the gate, long before the next poll", gate(workflows.GateAcceptConnection))
	assert.Contains(t, auditOf(st), "customer: "+workflows.SignalCustomerEndpointCreated)

	_, err = update(c, id, workflows.Cancel, workflows.Cancellation{Approver: alice, Reason: "end of test"})
	require.NoError(t, err)
	require.NoError(t, run.Get(t.Context(), nil), "the run undoes and ends before the next test on this ID")

	// Each cloud call waited in its class's task queue, under that class's
	// budget, on the real server.
	_, h := historyLength(t, c, id, run.GetRunID())
	queues := map[string]string{}
	for _, ev := range h.Events {
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			queues[a.GetActivityType().GetName()] = a.GetTaskQueue().GetName()
		}
	}
	assert.Equal(t, "privatelink-cloud-read", queues["LookupEnvironment"])
	assert.Equal(t, "privatelink-cloud-mutate", queues["AllowAccounts"])
	assert.Equal(t, "privatelink-cloud-poll", queues["AwaitConnectionRequest"])
	assert.Equal(t, "privatelink", queues["OpenTicket"])
}
