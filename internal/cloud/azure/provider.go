// Package azure implements cloud.Provider for Azure Private Link with
// armnetwork: the platform's Private Link service (found by tags), its load
// balancer rules and network security rules, the customers' private
// endpoint connections, and private endpoints into customers' services.
//
// Facts this code gets right: Visibility and AutoApproval are changed by
// read-modify-write with the resource's ETag, so concurrent changes are not
// lost; approving an approved connection is success; a private endpoint to
// a service in another tenant uses a manual connection whose request
// message is at most 140 characters; port 443 never reaches Azure here.
package azure

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/strictjson"
)

// Tags the platform sets on its Private Link services.
const (
	TagProject     = "linkwright:project"
	TagEnvironment = "linkwright:environment"
	TagPlan        = "linkwright:plan"
	// TagBackendPool names the load balancer backend pool that serves
	// every port Linkwright opens (default: the balancer's first pool).
	TagBackendPool = "linkwright:backend-pool"
	// TagNSG is the resource ID of the network security group that must
	// allow each opened port (optional).
	TagNSG = "linkwright:nsg"
	// TagCreated on the platform's private endpoints is when Linkwright
	// created them (RFC 3339): Azure's network API keeps no creation time,
	// and PlatformEndpoints lists newest first.
	TagCreated = "linkwright:created"
)

// Options configure the provider (the worker config's "azure" section).
type Options struct {
	// SubscriptionID is the platform's subscription: the principal
	// customers allow on their services.
	SubscriptionID string `json:"subscriptionId"`
	// ResourceGroups hold the platform's Private Link services.
	ResourceGroups []string `json:"resourceGroups"`
	// SubnetID is the platform subnet where private endpoints into
	// customers' services go; they are created in EndpointResourceGroup.
	SubnetID              string `json:"subnetId"`
	EndpointResourceGroup string `json:"endpointResourceGroup"`
	// AutoApprove also adds customers to the service's AutoApproval.
	AutoApprove bool `json:"autoApprove"`
	// Endpoint overrides the Azure Resource Manager endpoint.
	Endpoint string `json:"endpoint"`
	// MaxRetries is the SDK's own retry budget per call (3), honouring
	// Retry-After; activity retries take over beyond it.
	MaxRetries int32 `json:"maxRetries"`
}

// ParseOptions reads the "azure" section strictly and checks it.
func ParseOptions(raw []byte) (Options, error) {
	var o Options
	if err := strictjson.DecodeSection("azure", raw, &o); err != nil {
		return o, err
	}
	var p strictjson.Problems
	p.Add(o.SubscriptionID == "", "azure.subscriptionId is required: the platform's subscription")
	p.Add(len(o.ResourceGroups) == 0, "azure.resourceGroups is required: where the platform's Private Link services are")
	_, err := arm.ParseResourceID(o.SubnetID)
	p.Add(err != nil, "azure.subnetId must be a subnet's resource ID: where private endpoints into customers' services go")
	p.Add(o.EndpointResourceGroup == "", "azure.endpointResourceGroup is required: where those private endpoints are created")
	return o, p.Err()
}

// Provider is cloud.Provider on Azure.
type Provider struct {
	opts      Options
	cred      azcore.TokenCredential
	transport policy.Transporter // tests: the armnetwork fakes
	retry     policy.RetryOptions
	now       func() time.Time // the clock for TagCreated

	mu        sync.Mutex
	factories map[string]*armnetwork.ClientFactory // by subscription
}

var _ cloud.Provider = (*Provider)(nil)

// New authenticates with DefaultAzureCredential (environment, workload
// identity, managed identity, Azure CLI).
func New(opts Options) (*Provider, error) {
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		return nil, fmt.Errorf("azure credentials: %w", err)
	}
	return newProvider(opts, cred, nil), nil
}

// NewFor returns a provider with the given credential and HTTP transport:
// for emulators and tests (such as aztest's model behind the SDK's fakes).
func NewFor(opts Options, cred azcore.TokenCredential, transport policy.Transporter) *Provider {
	return newProvider(opts, cred, transport)
}

func newProvider(opts Options, cred azcore.TokenCredential, transport policy.Transporter) *Provider {
	if opts.MaxRetries <= 0 {
		opts.MaxRetries = 3
	}
	return &Provider{opts: opts, cred: cred, transport: transport, factories: map[string]*armnetwork.ClientFactory{},
		retry: policy.RetryOptions{MaxRetries: opts.MaxRetries}, now: time.Now}
}

func (p *Provider) clients(subscription string) (*armnetwork.ClientFactory, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f := p.factories[subscription]; f != nil {
		return f, nil
	}
	o := &arm.ClientOptions{ClientOptions: policy.ClientOptions{Retry: p.retry, Transport: p.transport}}
	if p.opts.Endpoint != "" {
		o.Cloud = azcloud.Configuration{Services: map[azcloud.ServiceName]azcloud.ServiceConfiguration{
			azcloud.ResourceManager: {Endpoint: p.opts.Endpoint, Audience: p.opts.Endpoint},
		}}
	}
	f, err := armnetwork.NewClientFactory(subscription, p.cred, o)
	if err != nil {
		return nil, err
	}
	p.factories[subscription] = f
	return f, nil
}

func (p *Provider) platform() *armnetwork.ClientFactory {
	f, err := p.clients(p.opts.SubscriptionID)
	if err != nil {
		panic(err) // only fails for malformed client options, fixed at build time
	}
	return f
}

// pollFreq is how often long-running operations are polled.
var pollFreq = 2 * time.Second

// classify turns an Azure error from the operation on a resource type into
// a cloud error whose message says what to fix.
func classify(op, permission string, err error) error {
	if err == nil {
		return nil
	}
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return &cloud.Error{Kind: cloud.Retryable, Op: op, Msg: "no answer from Azure", Err: err}
	}
	kind, msg := cloud.Retryable, fmt.Sprintf("Azure answered %d %s", re.StatusCode, re.ErrorCode)
	switch {
	case re.StatusCode == http.StatusTooManyRequests:
		msg = "throttled by Azure (429); retrying after Retry-After"
	case re.StatusCode == http.StatusConflict || re.StatusCode == http.StatusPreconditionFailed:
		msg = "changed concurrently (" + re.ErrorCode + "); reading again and retrying"
	case re.StatusCode >= 500:
		msg = "Azure is unavailable for now (" + re.ErrorCode + "); retrying"
	case re.StatusCode == http.StatusUnauthorized || re.StatusCode == http.StatusForbidden:
		kind, msg = cloud.AccessDenied, "the platform's Azure identity lacks "+permission+": add it to the Linkwright role (deployments/azure/role.json)"
	case re.StatusCode == http.StatusNotFound:
		kind, msg = cloud.NotFound, "not found ("+re.ErrorCode+")"
	case re.StatusCode >= 400:
		kind, msg = cloud.Invalid, "Azure refused the input ("+re.ErrorCode+"): check the resource IDs in the request and the config"
	}
	return &cloud.Error{Kind: kind, Op: op, Msg: msg, Err: err, Throttled: re.StatusCode == http.StatusTooManyRequests}
}

// withETag makes a write conditional on the resource being unchanged
// since it was read.
func withETag(ctx context.Context, etag *string) context.Context {
	if etag == nil || *etag == "" {
		return ctx
	}
	return policy.WithHTTPHeader(ctx, http.Header{"If-Match": []string{*etag}})
}

func endpointName(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "lw-pe-" + hex.EncodeToString(sum[:])[:16]
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// Zones answers Regional: an Azure Private Link service is regional, and an
// endpoint in any subnet of the region reaches it, so no zone check
// applies. It makes no ARM call.
func (p *Provider) Zones(ctx context.Context, ref cloud.EnvRef, service string) (cloud.Zones, error) {
	return cloud.Zones{Regional: true}, nil
}
