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
	driveBidirectional(t, c, req, m, plat.Alias, aztest.PlatformSubscription)

	total, detail := summarize(tr.Calls)
	t.Logf("ARM calls for one bidirectional enablement (polls included): %d: %s", total, detail)
}
