package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/linkwright/linkwright/internal/app"
	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/cloud/azure"
	"github.com/linkwright/linkwright/internal/cloud/azure/aztest"
	"github.com/linkwright/linkwright/internal/devtest"
	"github.com/linkwright/linkwright/internal/probe"
	"github.com/linkwright/linkwright/internal/request"
	"github.com/linkwright/linkwright/workflows"
)

// A bidirectional enablement for an Azure request, through the real
// workflows and worker on a real dev server, against the armnetwork fakes
// and the test model.
func TestIntegrationAzureBidirectional(t *testing.T) {
	c := devtest.Client(t)
	ref := cloud.EnvRef{Cloud: "azure", Region: "westeurope", Project: "azure1234abcd", Environment: "production"}
	m := aztest.New()
	plat := m.Build(ref, "pro")
	tr := m.Transport()
	provider := azure.NewFor(azure.Options{
		SubscriptionID: aztest.PlatformSubscription, ResourceGroups: []string{plat.ResourceGroup},
		SubnetID:              "/subscriptions/" + aztest.PlatformSubscription + "/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/endpoints",
		EndpointResourceGroup: "rg-endpoints",
	}, &azfake.TokenCredential{}, tr)

	port := customerService(t)

	cfg := testConfig(t)
	cfg.Cloud = "azure"
	startWorker(t, c, cfg, app.WithProvider(provider), app.WithProber(&probe.Prober{Resolver: suffixResolver(".azure.internal"), Timeout: 2 * time.Second}))

	const account = "00000000-1111-2222-3333-444444444444"
	const custService = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-orders/providers/Microsoft.Network/privateLinkServices/pls-orders"

	// Port 443 is refused before any Azure call.
	bad := request.Request{Company: "Contoso", RequestedBy: "dana@platform.example", ProjectID: ref.Project, Environment: ref.Environment,
		Cloud: "azure", Region: ref.Region, CustomerAccount: account, ConnectionType: "unidirectional",
		Services: []request.Service{{Name: "web", Port: 443}}}
	data, _ := json.Marshal(bad)
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: bad.WorkflowID(), TaskQueue: workflows.TaskQueue}, workflows.EnablementWorkflow, json.RawMessage(data))
	require.NoError(t, err)
	err = run.Get(context.Background(), nil)
	require.ErrorContains(t, err, `services[0].port "443" is HTTPS`)
	calls, _ := summarize(tr.Calls)
	assert.Zero(t, calls, "no ARM call for a request with port 443")

	req := request.Request{
		Company: "Contoso", RequestedBy: "dana@platform.example", ProjectID: ref.Project, Environment: ref.Environment,
		Cloud: "azure", Region: ref.Region, CustomerAccount: account, ConnectionType: "bidirectional",
		Services:                []request.Service{{Name: "postgresql", Port: 5432}},
		CustomerEndpointService: custService, CustomerServicePorts: []int{port},
	}
	id := req.WorkflowID()
	run = start(t, c, req)

	st := waitFor(t, c, id, "the customer's turn", phase(workflows.PhaseAwaitingConnection))
	assert.Equal(t, plat.Alias, st.ServiceName, "the customer connects to the alias")
	_, err = m.CreateEndpoint(account, plat.Alias)
	require.NoError(t, err, "the subscription was made visible")
	signal(t, c, id, workflows.SignalCustomerEndpointCreated, nil)

	waitFor(t, c, id, "gate accept-connection", gate(workflows.GateAcceptConnection))
	_, err = update(c, id, workflows.Approve, workflows.Approval{Gate: workflows.GateAcceptConnection, Approver: alice})
	require.NoError(t, err)

	waitFor(t, c, id, "the customer's grant", phase(workflows.PhaseAwaitingGrant))
	require.NoError(t, m.Grant(account, custService, aztest.PlatformSubscription, nil))
	signal(t, c, id, workflows.SignalCustomerAccessGranted, nil)

	waitFor(t, c, id, "gate create-reverse-endpoint", gate(workflows.GateCreateReverseEndpoint))
	_, err = update(c, id, workflows.Approve, workflows.Approval{Gate: workflows.GateCreateReverseEndpoint, Approver: bob})
	require.NoError(t, err)

	st = waitFor(t, c, id, "the customer's approval", phase(workflows.PhaseAwaitingEndpoint))
	require.Equal(t, []string{st.ReverseEndpointID}, m.Pending(custService))
	require.NoError(t, m.AcceptEndpoint(account, st.ReverseEndpointID))
	signal(t, c, id, workflows.SignalCustomerConnectionAccepted, nil)

	waitFor(t, c, id, "the customer's confirmation", phase(workflows.PhaseAwaitingConfirmation))
	signal(t, c, id, workflows.SignalCustomerVerified, workflows.CustomerVerified{OK: true})
	var res workflows.Result
	require.NoError(t, run.Get(context.Background(), &res))
	assert.Equal(t, workflows.OutcomeCompleted, res.Outcome)
	require.Len(t, res.Status.Verification, 1)
	assert.True(t, res.Status.Verification[0].OK(), res.Status.Verification[0].Diagnosis)

	total, detail := summarize(tr.Calls)
	t.Logf("ARM calls for one bidirectional enablement (polls included): %d: %s", total, detail)
}
