// Package alibaba implements cloud.Provider for Alibaba Cloud PrivateLink
// with github.com/aliyun/alibaba-cloud-sdk-go (services/privatelink, RPC API
// 2020-04-15, and services/nlb for the listeners of the Network Load
// Balancer behind the platform's endpoint service).
//
// Facts this code gets right:
//   - accounts are 16-digit UIDs; the service whitelist holds UIDs (or "*",
//     which Linkwright never adds); it is read before it is changed, since
//     AddUserToVpcEndpointService and RemoveUserFromVpcEndpointService take
//     no ClientToken;
//   - connections are Pending, Connecting, Connected, Disconnecting,
//     Disconnected, Deleting or ServiceDeleted; EnableVpcEndpointConnection
//     refuses a connection that no longer waits, so its state is read first
//     and again after a refusal (see cloud.CheckAccept);
//   - a service with AutoAcceptEnabled accepts connections without a
//     decision: it is used only where Options.AllowAutoAcceptServices says
//     so, and the workflow records that the service accepted;
//   - EnableVpcEndpointConnection's Bandwidth is in Mbps, within the range
//     of the service's resource type (NLB 100-50000, ALB 100-25000, CLB
//     100-10240), checked before the call;
//   - an endpoint goes in two or more zones the customer's service offers;
//     the service's zone affinity is kept on the endpoint; a service in
//     another region is reached with ServiceRegionId, which the typed SDK
//     lacks and so goes through its CommonRequest on the same client, as
//     the services' SupportedRegionSet is read;
//   - CreateVpcEndpoint takes a ClientToken, unique per run;
//   - Throttling, Throttling.User and ServiceUnavailable are retryable;
//     access errors name the RAM action to add to
//     deployments/alibaba/ram-policy.json.
package alibaba

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials/provider"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/nlb"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/strictjson"
)

// Tags the platform sets on its endpoint services for Linkwright to find
// them.
const (
	TagProject     = "linkwright:project"
	TagEnvironment = "linkwright:environment"
	TagPlan        = "linkwright:plan"
	// TagServerGroup names the NLB server group that serves every port
	// Linkwright opens on the service's load balancer.
	TagServerGroup = "linkwright:server-group"
)

// Zone is one zone the platform's endpoints into customers' services go
// in: the zone ID and the platform's vSwitch there.
type Zone struct {
	ZoneID    string `json:"zoneId"`
	VSwitchID string `json:"vSwitchId"`
}

// Options configure the provider (the worker config's "alibaba" section).
// Credentials are not here: they come from the SDK's usual chain
// (ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, the
// credentials file, the ECS instance role) and are never logged.
type Options struct {
	// AccountID is the platform's account UID: the principal customers
	// whitelist on their services.
	AccountID string `json:"accountId"`
	// Region is where VpcID, Zones and SecurityGroupIDs are: the platform
	// endpoints into customers' services of environments in this region.
	// Endpoint services of every region are served; endpoints only here.
	Region string `json:"region"`
	// VpcID, Zones and SecurityGroupIDs say where the platform's endpoints
	// into customers' services go.
	VpcID            string   `json:"vpcId"`
	Zones            []Zone   `json:"zones"`
	SecurityGroupIDs []string `json:"securityGroupIds"`
	// MinZones is how many zones an endpoint into a customer's service
	// needs (2, the high-availability advice).
	MinZones int `json:"minZones"`
	// AllowAutoAcceptServices lets the platform use an endpoint service
	// with AutoAcceptEnabled on, whose connections from whitelisted UIDs
	// are accepted without an approver. Off, such a service is refused.
	AllowAutoAcceptServices bool `json:"allowAutoAcceptServices"`
	// Endpoint overrides the API endpoint of every product (a model such
	// as alitest's: http://127.0.0.1:port). Also LINKWRIGHT_ALIBABA_ENDPOINT.
	Endpoint string `json:"endpoint"`
	// TimeoutSeconds bounds each API call (10).
	TimeoutSeconds int `json:"timeoutSeconds"`
}

// ParseOptions reads the "alibaba" section strictly, then
// LINKWRIGHT_ALIBABA_ENDPOINT, and checks it.
func ParseOptions(raw []byte) (Options, error) {
	var o Options
	if err := strictjson.DecodeSection("alibaba", raw, &o); err != nil {
		return o, fmt.Errorf("%w (fields: accountId, region, vpcId, zones, securityGroupIds, minZones, allowAutoAcceptServices, endpoint, timeoutSeconds)", err)
	}
	strictjson.FromEnv(&o.Endpoint, "LINKWRIGHT_ALIBABA_ENDPOINT")
	var p strictjson.Problems
	p.Add(!uidRe.MatchString(o.AccountID), "alibaba.accountId must be the platform's 16-digit account UID: the principal customers whitelist on their services")
	p.Add(!regionRe.MatchString(o.Region), "alibaba.region is required: the region of vpcId, zones and securityGroupIds, e.g. cn-hangzhou")
	p.Add(o.VpcID == "", "alibaba.vpcId is required: the platform VPC where endpoints into customers' services go")
	p.Add(len(o.Zones) == 0, `alibaba.zones is required: [{"zoneId": "cn-hangzhou-h", "vSwitchId": "vsw-..."}, ...], one vSwitch per zone of that VPC`)
	for i, z := range o.Zones {
		p.Add(z.ZoneID == "" || z.VSwitchID == "", fmt.Sprintf("alibaba.zones[%d] needs both zoneId and vSwitchId", i))
	}
	p.Add(len(o.SecurityGroupIDs) == 0, "alibaba.securityGroupIds is required: the security groups of the platform's endpoints")
	p.Add(o.MinZones < 0, "alibaba.minZones must be 1 or more (default 2)")
	if o.Endpoint != "" {
		u, err := url.Parse(o.Endpoint)
		p.Add(err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "", "alibaba.endpoint must be a URL such as https://privatelink.cn-hangzhou.aliyuncs.com or http://127.0.0.1:8090")
	}
	return o, p.Err()
}

var (
	uidRe    = regexp.MustCompile(`^[0-9]{16}$`)
	regionRe = regexp.MustCompile(`^[a-z]{2,3}-[a-z]+[0-9]*(-[a-z0-9]+){0,3}$`)
)

// Provider is cloud.Provider on Alibaba Cloud.
type Provider struct {
	opts Options
	cred provider.Provider
	now  func() time.Time

	mu      sync.Mutex
	regions map[string]*sync.Pool // of *clients
}

type clients struct {
	pl   *privatelink.Client
	nlb  *nlb.Client
	pool *sync.Pool
}

var (
	_ cloud.Provider          = (*Provider)(nil)
	_ cloud.BandwidthAccepter = (*Provider)(nil)
)

// New returns a provider whose credentials come from the SDK's default
// chain. Nothing is called until the first use.
func New(opts Options) (*Provider, error) {
	return NewWith(opts, provider.DefaultChain), nil
}

// NewWith returns a provider with the given credentials provider: for
// models and tests.
func NewWith(opts Options, cred provider.Provider) *Provider {
	if opts.MinZones <= 0 {
		opts.MinZones = 2
	}
	if opts.TimeoutSeconds <= 0 {
		opts.TimeoutSeconds = 10
	}
	return &Provider{opts: opts, cred: cred, now: time.Now, regions: map[string]*sync.Pool{}}
}

// StaticCredentials is a credentials provider with one access key.
func StaticCredentials(accessKeyID, secret string) provider.Provider {
	return staticCred{id: accessKeyID, secret: secret}
}

type staticCred struct{ id, secret string }

func (s staticCred) Resolve() (auth.Credential, error) {
	return credentials.NewAccessKeyCredential(s.id, s.secret), nil
}

// in takes clients for a region from its pool, made when the pool is
// empty. The SDK's clients are not safe for concurrent use (each request
// rewrites the client's timeout and transport), so each call holds its
// own until done puts it back.
func (p *Provider) in(region string) (*clients, error) {
	p.mu.Lock()
	pool := p.regions[region]
	if pool == nil {
		pool = &sync.Pool{}
		p.regions[region] = pool
	}
	p.mu.Unlock()
	if c, ok := pool.Get().(*clients); ok {
		return c, nil
	}
	c, err := p.newClients(region)
	if err != nil {
		return nil, err
	}
	c.pool = pool
	return c, nil
}

// done puts the clients back in their pool.
func (c *clients) done() { c.pool.Put(c) }

func (p *Provider) newClients(region string) (*clients, error) {
	cfg := sdk.NewConfig().WithAutoRetry(false).WithTimeout(time.Duration(p.opts.TimeoutSeconds) * time.Second)
	host := ""
	if p.opts.Endpoint != "" {
		u, err := url.Parse(p.opts.Endpoint)
		if err != nil {
			return nil, fmt.Errorf("alibaba.endpoint: %w", err)
		}
		cfg = cfg.WithScheme(strings.ToUpper(u.Scheme))
		host = u.Host
	}
	cred, err := p.cred.Resolve()
	if err != nil {
		return nil, cloud.Errorf(cloud.AccessDenied, "credentials", "no Alibaba Cloud credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (or a credentials file or instance role) for the worker (%v)", err)
	}
	pl, err := privatelink.NewClientWithOptions(region, cfg, cred)
	if err != nil {
		return nil, fmt.Errorf("alibaba privatelink client: %w", err)
	}
	lb, err := nlb.NewClientWithOptions(region, cfg, cred)
	if err != nil {
		return nil, fmt.Errorf("alibaba nlb client: %w", err)
	}
	if host != "" {
		pl.Domain, lb.Domain = host, host
	}
	return &clients{pl: pl, nlb: lb}, nil
}

// clientToken turns a workflow-derived token into a ClientToken (at most
// 64 ASCII characters), the same for the same token.
func clientToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "linkwright-" + hex.EncodeToString(sum[:])[:40]
}

// retryDelay is the first wait before a throttled call is tried again;
// each retry doubles it.
var retryDelay = 200 * time.Millisecond

// attempts is how many times a call is tried when Alibaba Cloud throttles
// it or is unavailable (the other clouds' SDKs retry so on their own; this
// one's auto-retry covers only timeouts, so it is off and this does it).
// Temporal's activity retries take over beyond.
const attempts = 3

// call runs one SDK call, again after a backoff when the answer is
// throttling or unavailability: a throttled request was not carried out.
// The SDK takes no context: a call that has begun runs to its answer or
// its timeout (Options.TimeoutSeconds); none begins once ctx has ended.
func call[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	delay := retryDelay
	for i := 1; ; i++ {
		if err := ctx.Err(); err != nil {
			var zero T
			return zero, err
		}
		v, err := fn()
		if err == nil || i == attempts || !throttled(err) {
			return v, err
		}
		select {
		case <-time.After(delay + time.Duration(rand.Int64N(int64(delay/2)+1))):
		case <-ctx.Done():
			return v, err
		}
		delay *= 2
	}
}

// pages lists page by page: fetch gets each page's NextToken (the first
// page's is empty), takes the page's items, and gives the next token,
// until a page gives none. A token given twice is an error, not an
// endless loop. fetch's errors are the SDK's, classified here.
func pages(ctx context.Context, product, op string, fetch func(token string) (next string, err error)) error {
	seen := map[string]bool{}
	token := ""
	for {
		next, err := fetch(token)
		if err != nil {
			return classify(product, op, err)
		}
		if next == "" {
			return nil
		}
		if seen[next] {
			return cloud.Errorf(cloud.Retryable, product+":"+op, "the API gave NextToken %q twice; the listing stopped rather than loop", next)
		}
		seen[next] = true
		token = next
	}
}
