package awstest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// PlatformAccount is the account moto runs as: the platform's.
const PlatformAccount = "210987654321"

// Extension sits in front of moto. It answers the calls moto lacks from its
// own model and passes every other call to moto.
type Extension struct {
	moto  string
	srv   *httptest.Server
	url   string
	proxy *httputil.ReverseProxy
	ec2   *ec2.Client // moto, directly: to read the platform services' permissions

	mu        sync.Mutex
	seq       int
	conns     map[string]*connection // customers' endpoints to platform services
	services  map[string]*service    // customers' own endpoint services
	endpoints map[string]*endpoint   // the platform's endpoints into them
	tokens    map[string]string      // ClientToken -> endpoint ID
	// Calls counts the EC2 and ELB API calls that reached the extension
	// or moto, by action.
	Calls map[string]int
	// Loopback gives each reverse endpoint a loopback address as its DNS
	// name and, once accepted, a listener on every port of its service.
	Loopback bool
	// race is what happens to the connections of the next accept call
	// just before it is answered (see RaceNextAccept).
	race *acceptRace

	zmu   sync.Mutex
	zones map[string][]zone // moto's zones by region, sorted by name
}

// zone is an availability zone: its ID, the same in every account, and
// its name in moto's naming, which is the platform account's.
type zone struct{ name, id string }

type acceptRace struct {
	state   string
	asError bool
}

type connection struct {
	id, owner, serviceID, serviceName, state string
	created, accepted                        time.Time
}

type service struct {
	name, owner string
	allowed     []string
	ports       []int
	zoneIDs     []string // where it is offered, sorted; nil: every zone of its region
}

type endpoint struct {
	id, service, vpcID, state, ip string
	created, accepted             time.Time
	listeners                     []net.Listener
}

// settle is how long an accepted endpoint stays "pending" before it is
// "available", as on AWS.
const settle = 200 * time.Millisecond

// NewExtension starts the extension in front of the moto at motoURL, for
// the length of the test.
func NewExtension(t testing.TB, motoURL string) *Extension {
	x, err := New(motoURL)
	if err != nil {
		t.Fatal(err)
	}
	x.srv = httptest.NewServer(x)
	x.url = x.srv.URL
	t.Cleanup(x.srv.Close)
	return x
}

// New returns an extension in front of the moto at motoURL; serve it with
// Serve.
func New(motoURL string) (*Extension, error) {
	target, err := url.Parse(motoURL)
	if err != nil {
		return nil, err
	}
	x := &Extension{
		moto: motoURL, proxy: httputil.NewSingleHostReverseProxy(target),
		conns: map[string]*connection{}, services: map[string]*service{}, endpoints: map[string]*endpoint{},
		tokens: map[string]string{}, Calls: map[string]int{}, zones: map[string][]zone{},
		ec2: ec2.New(ec2.Options{Region: "us-east-1", BaseEndpoint: aws.String(motoURL),
			Credentials: credentials.NewStaticCredentialsProvider("moto", "moto", "")}),
	}
	return x, nil
}

// Serve answers on ln until it is closed.
func (x *Extension) Serve(ln net.Listener) error {
	x.url = "http://" + ln.Addr().String()
	return http.Serve(ln, x)
}

// URL is where the provider under test sends its calls.
func (x *Extension) URL() string { return x.url }

// CallCount returns how many calls of an action were made.
func (x *Extension) CallCount(action string) int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.Calls[action]
}

// CallCounts returns how many calls of every action were made so far.
func (x *Extension) CallCounts() map[string]int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return maps.Clone(x.Calls)
}

func (x *Extension) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, CustomerPath) {
		x.serveCustomer(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	form, _ := url.ParseQuery(string(body))
	action := form.Get("Action")
	x.mu.Lock()
	x.Calls[action]++
	x.mu.Unlock()
	var status int
	var out string
	switch action {
	case "DescribeVpcEndpointConnections":
		status, out = x.describeConnections(form)
	case "AcceptVpcEndpointConnections", "RejectVpcEndpointConnections":
		status, out = x.decide(action, form)
	case "DescribeVpcEndpointServices":
		status, out = x.describeServices(form)
	case "CreateVpcEndpoint":
		status, out = x.createEndpoint(form)
	case "DescribeVpcEndpoints":
		status, out = x.describeEndpoints(form)
	case "DeleteVpcEndpoints":
		status, out = x.deleteEndpoints(form)
	default:
		x.proxy.ServeHTTP(w, r)
		return
	}
	if status == 0 {
		x.proxy.ServeHTTP(w, r) // not one of ours: moto's
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprint(w, out)
}

func list(form url.Values, prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := form[prefix+"."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, v...)
	}
}

func filters(form url.Values) map[string][]string {
	out := map[string][]string{}
	for i := 1; ; i++ {
		name := form.Get("Filter." + strconv.Itoa(i) + ".Name")
		if name == "" {
			return out
		}
		out[name] = list(form, "Filter."+strconv.Itoa(i)+".Value")
	}
}

func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func response(action, inner string) string {
	return fmt.Sprintf(`<%sResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>ext</requestId>%s</%sResponse>`, action, inner, action)
}

func apiError(status int, code, msg string) (int, string) {
	return status, fmt.Sprintf(`<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>ext</RequestID></Response>`, code, esc(msg))
}

// state answers the state now, moving accepted ones on to available.
func state(s string, accepted time.Time) string {
	if s == "pending" && time.Since(accepted) >= settle {
		return "available"
	}
	return s
}

func (x *Extension) describeConnections(form url.Values) (int, string) {
	f := filters(form)
	x.mu.Lock()
	defer x.mu.Unlock()
	var items strings.Builder
	ids := make([]string, 0, len(x.conns))
	for id := range x.conns {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		c := x.conns[id]
		c.state = state(c.state, c.accepted)
		if v := f["service-id"]; v != nil && !slices.Contains(v, c.serviceID) {
			continue
		}
		if v := f["vpc-endpoint-owner"]; v != nil && !slices.Contains(v, c.owner) {
			continue
		}
		if v := f["vpc-endpoint-id"]; v != nil && !slices.Contains(v, c.id) {
			continue
		}
		fmt.Fprintf(&items, `<item><serviceId>%s</serviceId><vpcEndpointId>%s</vpcEndpointId><vpcEndpointOwner>%s</vpcEndpointOwner><vpcEndpointState>%s</vpcEndpointState><creationTimestamp>%s</creationTimestamp></item>`,
			c.serviceID, c.id, c.owner, c.state, timestamp(c.created))
	}
	return 200, response("DescribeVpcEndpointConnections", "<vpcEndpointConnectionSet>"+items.String()+"</vpcEndpointConnectionSet>")
}

// RaceNextAccept makes the next AcceptVpcEndpointConnections lose a race,
// as it can on AWS between the provider's read and its call: just before
// the call is served, every connection it names that waits for acceptance
// moves to state, "available" as if another operator had accepted it or
// "deleted" as if the customer had deleted their endpoint. The call then
// finds them no longer waiting and answers as EC2 does:
// InvalidVpcEndpointState, per connection in Unsuccessful or, with
// asError, as the whole call's error.
func (x *Extension) RaceNextAccept(state string, asError bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.race = &acceptRace{state: state, asError: asError}
}

func (x *Extension) decide(action string, form url.Values) (int, string) {
	serviceID := form.Get("ServiceId")
	ids := list(form, "VpcEndpointId")
	x.mu.Lock()
	defer x.mu.Unlock()
	if race := x.race; race != nil && action == "AcceptVpcEndpointConnections" {
		x.race = nil
		var moved []string
		for _, id := range ids {
			if c := x.conns[id]; c != nil && c.serviceID == serviceID && c.state == "pendingAcceptance" {
				c.state, c.accepted = race.state, time.Now()
				moved = append(moved, id)
			}
		}
		if race.asError && len(moved) > 0 {
			return apiError(400, "InvalidVpcEndpointState", "Endpoint "+moved[0]+" is in "+race.state+" state")
		}
	}
	var failed strings.Builder
	for _, id := range ids {
		c := x.conns[id]
		fail := func(code, msg string) {
			fmt.Fprintf(&failed, `<item><error><code>%s</code><message>%s</message></error><resourceId>%s</resourceId></item>`, code, esc(msg), id)
		}
		switch {
		case c == nil || c.serviceID != serviceID:
			fail("InvalidVpcEndpointId.NotFound", "The VPC endpoint ID '"+id+"' does not exist")
		case action == "AcceptVpcEndpointConnections" && c.state == "pendingAcceptance":
			c.state, c.accepted = "pending", time.Now()
		case action == "AcceptVpcEndpointConnections":
			c.state = state(c.state, c.accepted)
			fail("InvalidVpcEndpointState", "Endpoint "+id+" is in "+c.state+" state")
		case c.state == "pendingAcceptance" || c.state == "pending" || c.state == "available":
			c.state = "rejected"
		default:
			fail("InvalidVpcEndpointState", "Endpoint "+id+" is in "+c.state+" state")
		}
	}
	return 200, response(action, "<unsuccessful>"+failed.String()+"</unsuccessful>")
}

// describeServices answers for customers' services. Their zones are
// listed by name in the caller's naming, the platform account's (moto's),
// and not by ID, as EC2 answered before it added AvailabilityZoneIds: the
// provider must map the names itself.
func (x *Extension) describeServices(form url.Values) (int, string) {
	names := list(form, "ServiceName")
	regions := map[string][]zone{}
	for _, name := range names {
		region := ServiceRegion(name)
		zones, err := x.regionZones(region)
		if err != nil {
			return apiError(500, "InternalError", "reading moto's zones of "+region+": "+err.Error())
		}
		regions[region] = zones
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	var items strings.Builder
	for _, name := range names {
		s := x.services[name]
		if s == nil || !s.visibleTo(PlatformAccount) {
			return apiError(400, "InvalidServiceName", "The Vpc Endpoint Service '"+name+"' does not exist")
		}
		var zones strings.Builder
		for _, z := range regions[ServiceRegion(name)] {
			if s.zoneIDs == nil || slices.Contains(s.zoneIDs, z.id) {
				fmt.Fprintf(&zones, `<item>%s</item>`, z.name)
			}
		}
		fmt.Fprintf(&items, `<item><serviceName>%s</serviceName><serviceType><item><serviceType>Interface</serviceType></item></serviceType><availabilityZoneSet>%s</availabilityZoneSet>`+
			`<owner>%s</owner><acceptanceRequired>true</acceptanceRequired></item>`, esc(name), zones.String(), s.owner)
	}
	return 200, response("DescribeVpcEndpointServices", "<serviceDetailSet>"+items.String()+"</serviceDetailSet>")
}

// ServiceRegion is the region in an endpoint service's name
// (com.amazonaws.vpce.<region>.vpce-svc-…); us-east-1 where it names none.
func ServiceRegion(name string) string {
	if parts := strings.Split(name, "."); len(parts) >= 5 && parts[0] == "com" && parts[1] == "amazonaws" && parts[2] == "vpce" {
		return parts[3]
	}
	return "us-east-1"
}

// regionZones reads moto's zones of a region, once.
func (x *Extension) regionZones(region string) ([]zone, error) {
	x.zmu.Lock()
	defer x.zmu.Unlock()
	if zs, ok := x.zones[region]; ok {
		return zs, nil
	}
	out, err := x.ec2.DescribeAvailabilityZones(context.Background(), &ec2.DescribeAvailabilityZonesInput{}, func(o *ec2.Options) { o.Region = region })
	if err != nil {
		return nil, err
	}
	var zs []zone
	for _, az := range out.AvailabilityZones {
		zs = append(zs, zone{name: aws.ToString(az.ZoneName), id: aws.ToString(az.ZoneId)})
	}
	if len(zs) == 0 {
		return nil, fmt.Errorf("moto knows no zones in %s", region)
	}
	slices.SortFunc(zs, func(a, b zone) int { return strings.Compare(a.name, b.name) })
	x.zones[region] = zs
	return zs, nil
}

// AccountZones is how an account names the zones of a region: zone name
// to zone ID. The platform account's naming is moto's (in us-east-1:
// us-east-1a is use1-az6, b use1-az1, c use1-az2, d use1-az4, e use1-az3,
// f use1-az5). Every other account, a customer's, names each zone as moto
// names the next one, so that no name means the same zone to the
// platform and to a customer (in us-east-1: the customer's us-east-1a is
// use1-az1, b use1-az2, c use1-az4, d use1-az3, e use1-az5, f use1-az6).
func (x *Extension) AccountZones(account, region string) (map[string]string, error) {
	zs, err := x.regionZones(region)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(zs))
	for i, z := range zs {
		if account == PlatformAccount {
			m[z.name] = z.id
		} else {
			m[z.name] = zs[(i+1)%len(zs)].id
		}
	}
	return m, nil
}

func (s *service) visibleTo(account string) bool {
	return slices.Contains(s.allowed, "arn:aws:iam::"+account+":root") || slices.Contains(s.allowed, "*")
}

func (x *Extension) nextID(prefix string) string {
	x.seq++
	sum := sha256.Sum256([]byte(prefix + strconv.Itoa(x.seq)))
	return prefix + hex.EncodeToString(sum[:])[:17]
}

func (x *Extension) createEndpoint(form url.Values) (int, string) {
	name := form.Get("ServiceName")
	// The subnets' zones matter only for a service offered in some zones.
	x.mu.Lock()
	zoned := x.services[name] != nil && x.services[name].zoneIDs != nil
	x.mu.Unlock()
	var subnetZones map[string]string // subnet ID -> zone ID
	if zoned {
		var err error
		if subnetZones, err = x.subnetZones(ServiceRegion(name), list(form, "SubnetId")); err != nil {
			return apiError(400, "InvalidSubnetID.NotFound", err.Error())
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	// The platform only ever creates endpoints into customers' services,
	// which moto does not know: a name not granted is InvalidServiceName,
	// as on AWS.
	if token := form.Get("ClientToken"); token != "" {
		if id, ok := x.tokens[token]; ok {
			return 200, response("CreateVpcEndpoint", x.endpoints[id].xml("vpcEndpoint"))
		}
	}
	s := x.services[name]
	if s == nil || !s.visibleTo(PlatformAccount) {
		return apiError(400, "InvalidServiceName", "The Vpc Endpoint Service '"+name+"' does not exist")
	}
	// As EC2: a subnet in a zone the service is not offered in is refused.
	for _, subnet := range list(form, "SubnetId") {
		if id, ok := subnetZones[subnet]; ok && s.zoneIDs != nil && !slices.Contains(s.zoneIDs, id) {
			return apiError(400, "InvalidParameter", "The VPC endpoint service "+name+" does not support the availability zone of the subnet: "+subnet+".")
		}
	}
	ep := &endpoint{id: x.nextID("vpce-"), service: name, vpcID: form.Get("VpcId"), state: "pendingAcceptance", created: time.Now()}
	if x.Loopback {
		ep.ip = fmt.Sprintf("127.78.%d.%d", x.seq/250, x.seq%250+1)
	}
	x.endpoints[ep.id] = ep
	if token := form.Get("ClientToken"); token != "" {
		x.tokens[token] = ep.id
	}
	return 200, response("CreateVpcEndpoint", ep.xml("vpcEndpoint"))
}

// subnetZones reads from moto the zone ID of each subnet.
func (x *Extension) subnetZones(region string, ids []string) (map[string]string, error) {
	out, err := x.ec2.DescribeSubnets(context.Background(), &ec2.DescribeSubnetsInput{SubnetIds: ids}, func(o *ec2.Options) { o.Region = region })
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, sn := range out.Subnets {
		m[aws.ToString(sn.SubnetId)] = aws.ToString(sn.AvailabilityZoneId)
	}
	return m, nil
}

func (ep *endpoint) xml(tag string) string {
	ep.state = state(ep.state, ep.accepted)
	dns := ep.id + "-ext." + ep.id + ".us-east-1.vpce.amazonaws.com"
	if ep.ip != "" {
		dns = ep.ip
	}
	return fmt.Sprintf(`<%s><vpcEndpointId>%s</vpcEndpointId><vpcEndpointType>Interface</vpcEndpointType><vpcId>%s</vpcId><serviceName>%s</serviceName><state>%s</state><ownerId>%s</ownerId>`+
		`<creationTimestamp>%s</creationTimestamp><dnsEntrySet><item><dnsName>%s</dnsName><hostedZoneId>Z7HUB22UULQXV</hostedZoneId></item></dnsEntrySet></%s>`,
		tag, ep.id, esc(ep.vpcID), esc(ep.service), ep.state, PlatformAccount, timestamp(ep.created), dns, tag)
}

func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// describeEndpoints answers for the platform's endpoints into customers'
// services, which only the extension knows: by ID, or by filters (the
// platform's own endpoints are all here, so a search needs no moto).
func (x *Extension) describeEndpoints(form url.Values) (int, string) {
	ids := list(form, "VpcEndpointId")
	f := filters(form)
	x.mu.Lock()
	defer x.mu.Unlock()
	if len(ids) > 0 && x.endpoints[ids[0]] == nil {
		return 0, ""
	}
	if len(ids) == 0 {
		for id := range x.endpoints {
			ids = append(ids, id)
		}
		slices.Sort(ids)
	}
	var items strings.Builder
	for _, id := range ids {
		ep := x.endpoints[id]
		if ep == nil {
			continue
		}
		if v := f["service-name"]; v != nil && !slices.Contains(v, ep.service) {
			continue
		}
		if v := f["vpc-id"]; v != nil && !slices.Contains(v, ep.vpcID) {
			continue
		}
		items.WriteString(ep.xml("item"))
	}
	return 200, response("DescribeVpcEndpoints", "<vpcEndpointSet>"+items.String()+"</vpcEndpointSet>")
}

func (x *Extension) deleteEndpoints(form url.Values) (int, string) {
	ids := list(form, "VpcEndpointId")
	x.mu.Lock()
	defer x.mu.Unlock()
	if len(ids) == 0 || x.endpoints[ids[0]] == nil {
		return 0, ""
	}
	for _, id := range ids {
		if ep := x.endpoints[id]; ep != nil {
			ep.state = "deleted"
			ep.closeListeners()
		}
	}
	return 200, response("DeleteVpcEndpoints", "<unsuccessful/>")
}

// --- the customer's side (cloudtest.Customer)

// CreateEndpoint connects a customer account to a platform service: it
// fails unless the service's permissions (in moto) allow the account.
func (x *Extension) CreateEndpoint(account, serviceName string) (string, error) {
	ctx := context.Background()
	configs, err := x.ec2.DescribeVpcEndpointServiceConfigurations(ctx, &ec2.DescribeVpcEndpointServiceConfigurationsInput{})
	if err != nil {
		return "", err
	}
	for _, c := range configs.ServiceConfigurations {
		if aws.ToString(c.ServiceName) != serviceName {
			continue
		}
		perms, err := x.ec2.DescribeVpcEndpointServicePermissions(ctx, &ec2.DescribeVpcEndpointServicePermissionsInput{ServiceId: c.ServiceId})
		if err != nil {
			return "", err
		}
		allowed := false
		for _, p := range perms.AllowedPrincipals {
			allowed = allowed || aws.ToString(p.Principal) == "arn:aws:iam::"+account+":root"
		}
		if !allowed {
			return "", fmt.Errorf("account %s is not allowed on %s", account, serviceName)
		}
		x.mu.Lock()
		defer x.mu.Unlock()
		conn := &connection{id: x.nextID("vpce-"), owner: account, serviceID: aws.ToString(c.ServiceId), serviceName: serviceName,
			state: "pendingAcceptance", created: time.Now()}
		x.conns[conn.id] = conn
		return conn.id, nil
	}
	return "", fmt.Errorf("no endpoint service %s", serviceName)
}

// DeleteEndpoint deletes a customer's endpoint to a platform service: its
// connection is "deleted" from then on, as EC2 shows one for a while.
func (x *Extension) DeleteEndpoint(account, id string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	c := x.conns[id]
	if c == nil || c.owner != account {
		return fmt.Errorf("account %s has no endpoint %s", account, id)
	}
	c.state = "deleted"
	return nil
}

// Grant creates the customer's endpoint service if needed and allows a
// principal on it; ports are where it answers (in loopback mode).
func (x *Extension) Grant(account, name, principal string, ports []int) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	s := x.services[name]
	if s == nil {
		s = &service{name: name, owner: account}
		x.services[name] = s
	}
	if s.owner != account {
		return fmt.Errorf("service %s belongs to %s", name, s.owner)
	}
	if !slices.Contains(s.allowed, principal) {
		s.allowed = append(s.allowed, principal)
	}
	for _, p := range ports {
		if !slices.Contains(s.ports, p) {
			s.ports = append(s.ports, p)
		}
	}
	return nil
}

// SetServiceZones offers the customer's endpoint service (made by Grant)
// in the zones named, in the customer's own naming (see AccountZones),
// instead of every zone of its region. The platform then sees the
// service in those zones, named in its own naming; its endpoints into the
// service can use subnets of those zones only.
func (x *Extension) SetServiceZones(account, serviceName string, zoneNames []string) error {
	region := ServiceRegion(serviceName)
	names, err := x.AccountZones(account, region)
	if err != nil {
		return err
	}
	if len(zoneNames) == 0 {
		return fmt.Errorf("name one zone at least: an endpoint service is offered in the zones of its load balancer")
	}
	var ids []string
	for _, n := range zoneNames {
		id, ok := names[n]
		if !ok {
			return fmt.Errorf("account %s has no zone %q in %s: its zones are %s", account, n, region, strings.Join(slices.Sorted(maps.Keys(names)), ", "))
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	x.mu.Lock()
	defer x.mu.Unlock()
	s := x.services[serviceName]
	if s == nil || s.owner != account {
		return fmt.Errorf("account %s has no endpoint service %s: grant the platform on it first", account, serviceName)
	}
	s.zoneIDs = slices.Compact(ids)
	return nil
}

// Endpoints lists a customer account's endpoints to a platform service
// (by name) that are not deleted, as the customer's console shows them.
func (x *Extension) Endpoints(account, serviceName string) []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := []string{}
	for id, c := range x.conns {
		if c.owner == account && c.serviceName == serviceName && c.state != "deleted" {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// Revoke removes a principal from the customer's endpoint service, as the
// customer does in their console; endpoints already made stay as they are.
func (x *Extension) Revoke(account, name, principal string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	s := x.services[name]
	if s == nil || s.owner != account {
		return fmt.Errorf("account %s has no endpoint service %s", account, name)
	}
	s.allowed = slices.DeleteFunc(s.allowed, func(p string) bool { return p == principal })
	return nil
}

// AcceptEndpoint accepts the platform's endpoint into the customer's service.
func (x *Extension) AcceptEndpoint(account, id string) error {
	return x.decideReverse(account, id, true)
}

// RejectEndpoint rejects it.
func (x *Extension) RejectEndpoint(account, id string) error {
	return x.decideReverse(account, id, false)
}

func (x *Extension) decideReverse(account, id string, accept bool) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	ep := x.endpoints[id]
	if ep == nil || x.services[ep.service] == nil || x.services[ep.service].owner != account {
		return fmt.Errorf("account %s has no endpoint %s into its services", account, id)
	}
	switch {
	case accept && ep.state == "pendingAcceptance":
		ep.state, ep.accepted = "pending", time.Now()
		x.serveLoopback(ep)
	case !accept && ep.state != "deleted":
		ep.state = "rejected"
		ep.closeListeners()
	}
	return nil
}

// Pending lists the platform's endpoints waiting for the
// customer on one of their services.
func (x *Extension) Pending(name string) []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []string
	for id, ep := range x.endpoints {
		if ep.service == name && ep.state == "pendingAcceptance" {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}
