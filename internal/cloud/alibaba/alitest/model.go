// Package alitest is a stateful model of the Alibaba Cloud PrivateLink API
// (RPC style, version 2020-04-15) and of the part of the NLB API
// (2022-04-30) a provider needs for listeners (and their server groups). It
// is served over plain HTTP on loopback and reached by the real SDK,
// github.com/aliyun/alibaba-cloud-sdk-go: its typed clients
// (services/privatelink, services/nlb) and sdk/requests.CommonRequest for
// the parameters and fields the typed SDK lacks. Answers are the SDK's own
// response structs marshalled with encoding/json, so their shapes cannot
// drift from what the SDK parses.
//
// # Pointing a client at the model
//
// The SDK's Client.Domain (a field of sdk.Client, embedded in every
// product client) overrides endpoint resolution for every request that does
// not set its own Domain, typed or CommonRequest alike:
//
//	host := m.Start(t) // or: host, stop := m.Serve()
//	cfg := sdk.NewConfig().WithScheme("HTTP").WithAutoRetry(false)
//	c, _ := privatelink.NewClientWithOptions(region, cfg, credentials.NewAccessKeyCredential(akID, secret))
//	c.Domain = host // "127.0.0.1:port"
//
// NewPrivateLinkClient and NewNLBClient do exactly that. The model routes on
// Version and Action, so PrivateLink and NLB clients share one host.
//
// Two facts of the SDK (v1.63.107) that tests against the model show and
// that hold against the real cloud too: an sdk.Client sets its
// http.Client's timeout and transport on every request, so one client
// shared by goroutines is a data race (use one per goroutine, or a lock);
// and a request object keeps the parameters it was sent with (RegionId
// included), so a request reused with another client goes to the first
// client's region.
//
// # Authentication
//
// AddAccount registers an account (its 16-digit UID) and an AccessKey
// pair. Every request must carry the RPC signature parameters (Action,
// Version, RegionId, Format, AccessKeyId, SignatureMethod,
// SignatureVersion, SignatureNonce, Timestamp, Signature) and be signed the
// RPC way (HMAC-SHA1 over METHOD&%2F&percentEncode(sorted query and form
// parameters), key secret+"&"). The caller's account is the UID behind the
// AccessKeyId: it decides who owns a service, who may see or connect to it
// and whose endpoint it is.
//
// # Transient states
//
// Asynchronous operations on the real cloud (accepting, rejecting, creating
// and deleting endpoints) go through a transient state. The model has no
// timers: a read shows each endpoint and connection as it is, then moves
// every transient state it showed one step on. After
// EnableVpcEndpointConnection the next read of that connection shows
// Connecting and the one after it Connected; likewise Disconnecting then
// Disconnected, Creating then Active, Deleting then gone. The reads that
// move a connection on are ListVpcEndpointConnections (the service
// owner's), GetVpcEndpointAttribute, ListVpcEndpoints and
// ListVpcEndpointZones (the endpoint owner's), for what they answered.
// Zone connections (EnableVpcEndpointZoneConnection and
// DisableVpcEndpointZoneConnection) flip at once.
//
// # Error answers
//
// Errors are an HTTP status and a JSON body {"RequestId", "HostId", "Code",
// "Message"}, which the SDK turns into *errors.ServerError (it decides
// from the status alone: anything outside 2xx). The codes are those of
// Alibaba's API reference where it documents one; most business errors of
// PrivateLink are HTTP 400 there, not-found ones included (EndpointNotFound,
// EndpointServiceNotFound, EndpointConnectionNotFound), so a provider
// must decide on the Code, never on the status. Error lists them all.
//
// # Customer side
//
// The customer acts directly on the model (CreateEndpoint, Grant,
// AcceptEndpoint, ...), through the same state transitions as the HTTP
// handlers; *Model satisfies cloudtest.Customer. Customer actions are not
// counted in Calls or Log, and they do not move transient states on.
package alitest

import (
	"crypto/sha1"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Versions of the two products the model serves.
const (
	PrivateLinkVersion = "2020-04-15"
	NLBVersion         = "2022-04-30"
)

// DefaultPageSize is the page size of list answers unless PageSize says
// otherwise: the default (and documented maximum) MaxResults of PrivateLink
// and NLB list actions.
const DefaultPageSize = 50

// Model is the Alibaba Cloud side of the tests. All of it is under one
// mutex: it is safe for concurrent use by many clients.
type Model struct {
	// PageSize caps every page of a list answer (DefaultPageSize when 0),
	// whatever MaxResults asks: set it low to force NextToken. Set it
	// before requests are made, or between them.
	PageSize int
	// IgnoreOwnerFilter makes ListVpcEndpointConnections ignore
	// EndpointOwnerId, as a buggy filter would, so that a provider's own
	// check of the owner on the answer can be tested.
	IgnoreOwnerFilter bool

	mu      sync.Mutex
	seq     int
	started time.Time // the logical clock's origin: see tick

	keys     map[string]accessKey // by AccessKeyId
	accounts map[string]bool      // UIDs
	nonces   map[string]bool

	services   map[string]*service  // by ServiceId
	endpoints  map[string]*endpoint // live ones, Deleting included
	tombstones map[string]*endpoint // deleted ones, for ClientToken replays
	tokens     map[string]string    // account, region, ClientToken -> endpoint ID

	lbs            map[string]*loadBalancer
	serverGroups   map[string]*serverGroup
	listeners      map[string]*listener
	listenerTokens map[string]string // account, ClientToken -> listener ID
	unhealthy      map[lbPort]string // reason code

	regionZones   map[string][]string
	customerZones map[string][]string

	faults []*fault
	calls  map[string]int
	log    []Call
}

type accessKey struct{ uid, secret string }

// service is an endpoint service.
type service struct {
	seq              int
	id, name         string
	owner, region    string
	tags             map[string]string
	zones            []string
	resourceType     string // nlb, alb, slb
	lbID, sgID       string
	autoAccept       bool
	zoneAffinity     bool
	supportedRegions []string
	users            []string // UIDs, or "*" for everyone, as added
	resources        []*resource
	created          time.Time
}

type resource struct {
	id, typ, zone      string
	vpc, vswitch, addr string
}

// endpoint is an interface endpoint and, on the service's side, its
// connection: the real cloud has one connection per endpoint.
type endpoint struct {
	seq                int
	id, name, desc     string
	owner, region, vpc string
	serviceID          string
	serviceName        string
	serviceRegion      string
	securityGroups     []string
	zones              []*endpointZone
	status             string // Creating, Active, Deleting
	conn               string // Pending, Connecting, Connected, Disconnecting, Disconnected, Deleting, ServiceDeleted
	bandwidth          int
	crossRegionBW      int // CrossRegionBandwidth, answered nowhere (the typed SDK has no field for it): see Log
	zoneAffinity       bool
	token              string
	created, modified  time.Time
	connectionID       int64
	serviceOwner       string
}

type endpointZone struct {
	zone, vswitch, eni, ip, domain string
	status                         string // Wait, Connecting, Connected, Disconnecting, Disconnected, Deleting
}

// Endpoint states, as PrivateLink names them.
const (
	statusCreating = "Creating"
	statusActive   = "Active"
	statusDeleting = "Deleting"

	connPending        = "Pending"
	connConnecting     = "Connecting"
	connConnected      = "Connected"
	connDisconnecting  = "Disconnecting"
	connDisconnected   = "Disconnected"
	connDeleting       = "Deleting"
	connServiceDeleted = "ServiceDeleted"

	zoneWait = "Wait"
)

// New returns an empty model.
func New() *Model {
	return &Model{
		started:        time.Now().UTC().Truncate(time.Second),
		keys:           map[string]accessKey{},
		accounts:       map[string]bool{},
		nonces:         map[string]bool{},
		services:       map[string]*service{},
		endpoints:      map[string]*endpoint{},
		tombstones:     map[string]*endpoint{},
		tokens:         map[string]string{},
		lbs:            map[string]*loadBalancer{},
		serverGroups:   map[string]*serverGroup{},
		listeners:      map[string]*listener{},
		listenerTokens: map[string]string{},
		unhealthy:      map[lbPort]string{},
		regionZones:    map[string][]string{},
		customerZones:  map[string][]string{},
		calls:          map[string]int{},
	}
}

var uidPattern = regexp.MustCompile(`^[1-9][0-9]{15}$`)

// AddAccount registers an Alibaba Cloud account by its 16-digit UID with an
// AccessKey pair; an account may have several. It panics on a malformed
// UID: that is a mistake in the test.
func (m *Model) AddAccount(uid, accessKeyID, secret string) {
	if !uidPattern.MatchString(uid) {
		panic(fmt.Sprintf("alitest: %q is not a 16-digit account UID", uid))
	}
	if accessKeyID == "" || secret == "" {
		panic("alitest: an AccessKey needs an ID and a secret")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.accounts[uid] = true
	m.keys[accessKeyID] = accessKey{uid: uid, secret: secret}
}

// ServiceSpec seeds an endpoint service.
type ServiceSpec struct {
	Owner  string // the owner's UID
	Region string
	// Name is optional: com.aliyuncs.privatelink.<region>.epsrv-<generated>
	// by default. The ServiceId is the part after its last dot.
	Name string
	Tags map[string]string
	// Zones are zone IDs ("cn-hangzhou-h"); the region's first two by
	// default.
	Zones []string
	// ResourceType is "nlb" (the default), "alb" or "slb".
	ResourceType string
	// LoadBalancerID is the load balancer behind the service (a generated
	// nlb-... by default), attached as a resource in every zone;
	// ServerGroupID its server group (a generated sgp-... by default).
	// Both belong to Owner and may be used with the NLB actions.
	LoadBalancerID, ServerGroupID string
	AutoAccept                    bool
	ZoneAffinity                  bool
	// SupportedRegions are the regions consumers may connect from besides
	// Region (cross-region PrivateLink).
	SupportedRegions []string
}

// AddService seeds an endpoint service and returns its ID and name. It
// panics on a spec the real cloud could not hold (no owner or region, a
// name taken): that is a mistake in the test.
func (m *Model) AddService(spec ServiceSpec) (id, name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.addService(spec)
	if err != nil {
		panic("alitest: " + err.Error())
	}
	return s.id, s.name
}

func (m *Model) addService(spec ServiceSpec) (*service, error) {
	if spec.Owner == "" || spec.Region == "" {
		return nil, fmt.Errorf("a service needs an owner and a region")
	}
	typ := strings.ToLower(spec.ResourceType)
	if typ == "" {
		typ = "nlb"
	}
	if _, ok := bandwidthRange[typ]; !ok {
		return nil, fmt.Errorf("resource type %q is not nlb, alb or slb", spec.ResourceType)
	}
	name := spec.Name
	if name == "" {
		name = serviceName(spec.Region, m.newID("epsrv"))
	}
	id := name[strings.LastIndex(name, ".")+1:]
	if !strings.HasPrefix(id, "epsrv-") {
		return nil, fmt.Errorf("service name %q does not end in an epsrv- ID", name)
	}
	for _, s := range m.services {
		if s.id == id || s.name == name {
			return nil, fmt.Errorf("service %s exists already", name)
		}
	}
	zones := slices.Clone(spec.Zones)
	if len(zones) == 0 {
		zones = firstN(m.zonesOf(spec.Region), 2)
	}
	lbID, sgID := spec.LoadBalancerID, spec.ServerGroupID
	if lbID == "" {
		lbID = m.newID(typ)
	}
	if sgID == "" {
		sgID = m.newID("sgp")
	}
	m.seq++
	s := &service{
		seq: m.seq, id: id, name: name, owner: spec.Owner, region: spec.Region,
		tags: maps.Clone(spec.Tags), zones: zones, resourceType: typ, lbID: lbID, sgID: sgID,
		autoAccept: spec.AutoAccept, zoneAffinity: spec.ZoneAffinity,
		supportedRegions: slices.Clone(spec.SupportedRegions), created: m.tick(),
	}
	s.setResources(m)
	m.services[id] = s
	if m.lbs[lbID] == nil {
		m.lbs[lbID] = &loadBalancer{id: lbID, owner: spec.Owner, region: spec.Region}
	}
	if m.serverGroups[sgID] == nil {
		m.serverGroups[sgID] = &serverGroup{id: sgID, owner: spec.Owner, region: spec.Region, lbID: lbID}
	}
	return s, nil
}

// setResources attaches the service's load balancer in each of its zones.
func (s *service) setResources(m *Model) {
	s.resources = nil
	vpc := "vpc-" + strings.TrimPrefix(m.newID("v"), "v-")
	for i, z := range s.zones {
		s.resources = append(s.resources, &resource{
			id: s.lbID, typ: s.resourceType, zone: z, vpc: vpc,
			vswitch: m.newID("vsw"), addr: fmt.Sprintf("192.168.%d.%d", i+1, 10+len(m.services)%200),
		})
	}
}

func serviceName(region, id string) string { return "com.aliyuncs.privatelink." + region + "." + id }

// allows reports whether account may see and connect to the service: its
// owner, an account on its whitelist, or anyone when "*" is on it.
func (s *service) allows(account string) bool {
	return account == s.owner || slices.Contains(s.users, account) || slices.Contains(s.users, "*")
}

func (s *service) domain() string { return s.id + "." + s.region + ".privatelink.aliyuncs.com" }

// tick is the model's clock: every creation and change is one second after
// the previous one, so that creation times order what was created, as a
// provider sorting on them expects.
func (m *Model) tick() time.Time {
	m.seq++
	return m.started.Add(time.Duration(m.seq) * time.Second)
}

const idAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

// newID makes an ID shaped like Alibaba's: a prefix and 20 lowercase
// letters and digits, deterministic in the model's sequence.
func (m *Model) newID(prefix string) string {
	m.seq++
	sum := sha1.Sum([]byte(fmt.Sprintf("%s/%d", prefix, m.seq)))
	var b strings.Builder
	for _, c := range sum[:20] {
		b.WriteByte(idAlphabet[int(c)%len(idAlphabet)])
	}
	return prefix + "-" + b.String()
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		s = s[:n]
	}
	return slices.Clone(s)
}

// knownZones are zone IDs of some regions, as DescribeZones lists them.
// They are illustrative: the model only needs them to be stable.
var knownZones = map[string][]string{
	"cn-hangzhou":    {"cn-hangzhou-b", "cn-hangzhou-g", "cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j", "cn-hangzhou-k"},
	"cn-shanghai":    {"cn-shanghai-b", "cn-shanghai-e", "cn-shanghai-f", "cn-shanghai-g", "cn-shanghai-l", "cn-shanghai-m"},
	"cn-beijing":     {"cn-beijing-a", "cn-beijing-c", "cn-beijing-f", "cn-beijing-g", "cn-beijing-h", "cn-beijing-i"},
	"cn-shenzhen":    {"cn-shenzhen-a", "cn-shenzhen-c", "cn-shenzhen-d", "cn-shenzhen-e", "cn-shenzhen-f"},
	"cn-hongkong":    {"cn-hongkong-b", "cn-hongkong-c", "cn-hongkong-d"},
	"ap-southeast-1": {"ap-southeast-1a", "ap-southeast-1b", "ap-southeast-1c"},
	"ap-northeast-1": {"ap-northeast-1a", "ap-northeast-1b", "ap-northeast-1c"},
	"eu-central-1":   {"eu-central-1a", "eu-central-1b", "eu-central-1c"},
	"eu-west-1":      {"eu-west-1a", "eu-west-1b"},
	"us-west-1":      {"us-west-1a", "us-west-1b"},
	"us-east-1":      {"us-east-1a", "us-east-1b"},
}

// SetRegionZones sets the zone IDs of a region (DescribeZones' answer and
// the defaults of AddService and CustomerZones).
func (m *Model) SetRegionZones(region string, zones []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.regionZones[region] = slices.Clone(zones)
}

// zonesOf is a region's zone IDs: set ones, known ones, or three made up.
func (m *Model) zonesOf(region string) []string {
	if z, ok := m.regionZones[region]; ok {
		return z
	}
	if z, ok := knownZones[region]; ok {
		return z
	}
	return []string{region + "-a", region + "-b", region + "-c"}
}

// inRegion reports whether a zone ID is one of the region's.
func (m *Model) inRegion(zone, region string) bool {
	return slices.Contains(m.zonesOf(region), zone) || strings.HasPrefix(zone, region+"-") ||
		(strings.HasPrefix(zone, region) && len(zone) == len(region)+1)
}

// CustomerZones are the zones Grant gives a customer's new service in a
// region: the region's first three zone IDs unless SetCustomerZones said
// otherwise.
func (m *Model) CustomerZones(region string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.customerZonesOf(region)
}

func (m *Model) customerZonesOf(region string) []string {
	if z, ok := m.customerZones[region]; ok {
		return slices.Clone(z)
	}
	return firstN(m.zonesOf(region), 3)
}

// SetCustomerZones sets the zones of the services Grant creates in a region.
func (m *Model) SetCustomerZones(region string, zones []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.customerZones[region] = slices.Clone(zones)
}

// ServiceID returns the ID of the service with this name.
func (m *Model) ServiceID(name string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.serviceByName(name); s != nil {
		return s.id, true
	}
	return "", false
}

// EndpointState returns an endpoint's status and connection status as they
// are now, without moving them on as a read through the API does.
func (m *Model) EndpointState(id string) (status, connection string, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ep := m.endpoints[id]
	if ep == nil {
		return "", "", false
	}
	return ep.status, ep.conn, true
}

// ZoneStates returns an endpoint's zone connection states by zone ID, as
// they are now.
func (m *Model) ZoneStates(id string) map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]string{}
	if ep := m.endpoints[id]; ep != nil {
		for _, z := range ep.zones {
			out[z.zone] = z.status
		}
	}
	return out
}

func (m *Model) serviceByName(name string) *service {
	for _, s := range m.services {
		if s.name == name {
			return s
		}
	}
	return nil
}

// sortedServices lists services oldest first.
func (m *Model) sortedServices() []*service {
	out := slices.Collect(maps.Values(m.services))
	slices.SortFunc(out, func(a, b *service) int { return a.seq - b.seq })
	return out
}

// sortedEndpoints lists live endpoints oldest first.
func (m *Model) sortedEndpoints() []*endpoint {
	out := slices.Collect(maps.Values(m.endpoints))
	slices.SortFunc(out, func(a, b *endpoint) int { return a.seq - b.seq })
	return out
}
