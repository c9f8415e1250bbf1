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
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/devtest"
	"github.com/linkwright/linkwright/internal/probe"
	"github.com/linkwright/linkwright/internal/request"
	"github.com/linkwright/linkwright/workflows"
)

// azureStack is a worker on the Azure provider against the armnetwork
// fakes and the test model, with a platform environment built in it and a
// customer service on loopback.
type azureStack struct {
	m        *aztest.Model
	tr       *aztest.Transport
	provider *azure.Provider
	ref      cloud.EnvRef
	plat     aztest.Platform
	custPort int
}

const (
	azureAccount     = "00000000-1111-2222-3333-444444444444"
	custServiceAzure = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-orders/providers/Microsoft.Network/privateLinkServices/pls-orders"
)

func startAzureWorker(t *testing.T, c client.Client, tune ...func(*config.Config)) azureStack {
	t.Helper()
	s := azureStack{m: aztest.New(), ref: cloud.EnvRef{Cloud: "azure", Region: "westeurope", Project: "azure1234abcd", Environment: "production"}}
	s.plat = s.m.Build(s.ref, "pro")
	s.tr = s.m.Transport()
	s.provider = azure.NewFor(azure.Options{
		SubscriptionID: aztest.PlatformSubscription, ResourceGroups: []string{s.plat.ResourceGroup},
		SubnetID:              "/subscriptions/" + aztest.PlatformSubscription + "/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/endpoints",
		EndpointResourceGroup: "rg-endpoints",
	}, &azfake.TokenCredential{}, s.tr)
	s.custPort = customerService(t)
	cfg := testConfig(t)
	cfg.Cloud = "azure"
	for _, f := range tune {
		f(&cfg)
	}
	startWorker(t, c, cfg, app.WithProvider(s.provider), app.WithProber(&probe.Prober{Resolver: suffixResolver(".azure.internal"), Timeout: 2 * time.Second}))
	return s
}

func (s azureStack) request() request.Request {
	return request.Request{
		Company: "Contoso", RequestedBy: "dana@platform.example", ProjectID: s.ref.Project, Environment: s.ref.Environment,
		Cloud: "azure", Region: s.ref.Region, CustomerAccount: azureAccount, ConnectionType: "bidirectional",
		Services:                []request.Service{{Name: "postgresql", Port: 5432}},
		CustomerEndpointService: custServiceAzure, CustomerServicePorts: []int{s.custPort},
	}
}

// A bidirectional enablement for an Azure request, through the real
// workflows and worker on a real dev server, against the armnetwork fakes
// and the test model.
func TestIntegrationAzureBidirectional(t *testing.T) {
	c := devtest.Client(t)
	s := startAzureWorker(t, c)

	// Port 443 is refused before any Azure call.
	bad := request.Request{Company: "Contoso", RequestedBy: "dana@platform.example", ProjectID: s.ref.Project, Environment: s.ref.Environment,
		Cloud: "azure", Region: s.ref.Region, CustomerAccount: azureAccount, ConnectionType: "unidirectional",
		Services: []request.Service{{Name: "web", Port: 443}}}
	data, _ := json.Marshal(bad)
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: bad.WorkflowID(), TaskQueue: workflows.TaskQueue}, workflows.EnablementWorkflow, json.RawMessage(data))
	require.NoError(t, err)
	err = run.Get(context.Background(), nil)
	require.ErrorContains(t, err, `services[0].port "443" is HTTPS`)
	calls, _ := summarize(s.tr.CallCounts())
	assert.Zero(t, calls, "no ARM call for a request with port 443")

	req := s.request()
	driveBidirectional(t, c, req, s.m, s.plat.Alias, aztest.PlatformSubscription)

	// The live link checks itself at once: the enablement's calls are the
	// total less that first check, which costs what any check costs.
	total, check := checkCost(t, c, req.WorkflowID(), s.tr.CallCounts)
	n, detail := summarize(minus(total, check))
	t.Logf("ARM calls for one bidirectional enablement (polls included): %d: %s", n, detail)
}
