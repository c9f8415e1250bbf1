package aws

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/linkwright/linkwright/internal/cloud"
)

// Connections implements cloud.Provider. The owner filter narrows the
// answer; the owner is checked on it too, as the service ID is, so that a
// filter the API (or an emulator) ignores lets no other account's
// connection through.
func (p *Provider) Connections(ctx context.Context, ref cloud.EnvRef, account string) ([]cloud.Connection, error) {
	serviceID, err := p.serviceID(ctx, ref)
	if err != nil {
		return nil, err
	}
	all, err := p.connections(ctx, ref.Region, serviceID, ec2types.Filter{Name: aws.String("vpc-endpoint-owner"), Values: []string{account}})
	if err != nil {
		return nil, err
	}
	var out []cloud.Connection
	for _, c := range all {
		if c.Account == account {
			out = append(out, c)
		}
	}
	return out, nil
}

// connections lists the connections to a service, narrowed by the filters
// given (none: every connection, whatever its owner or state). The service
// is checked on the answer too.
func (p *Provider) connections(ctx context.Context, region, serviceID string, filters ...ec2types.Filter) ([]cloud.Connection, error) {
	pages := ec2.NewDescribeVpcEndpointConnectionsPaginator(p.in(region).ec2, &ec2.DescribeVpcEndpointConnectionsInput{
		Filters: append([]ec2types.Filter{{Name: aws.String("service-id"), Values: []string{serviceID}}}, filters...),
	})
	var out []cloud.Connection
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, classify(svcEC2, "DescribeVpcEndpointConnections", err)
		}
		for _, c := range page.VpcEndpointConnections {
			if aws.ToString(c.ServiceId) != "" && aws.ToString(c.ServiceId) != serviceID {
				continue
			}
			out = append(out, cloud.Connection{
				ID: aws.ToString(c.VpcEndpointId), Account: aws.ToString(c.VpcEndpointOwner),
				State: cloud.AWSState(string(c.VpcEndpointState)), Created: aws.ToTime(c.CreationTimestamp),
			})
		}
	}
	return out, nil
}

// byID reads the current state of the given connections.
func (p *Provider) byID(ctx context.Context, ref cloud.EnvRef, ids []string) (string, map[string]cloud.State, error) {
	id, err := p.serviceID(ctx, ref)
	if err != nil {
		return "", nil, err
	}
	states, err := p.states(ctx, ref.Region, id, ids)
	return id, states, err
}

func (p *Provider) states(ctx context.Context, region, serviceID string, ids []string) (map[string]cloud.State, error) {
	conns, err := p.connections(ctx, region, serviceID, ec2types.Filter{Name: aws.String("vpc-endpoint-id"), Values: ids})
	if err != nil {
		return nil, err
	}
	states := map[string]cloud.State{}
	for _, c := range conns {
		if slices.Contains(ids, c.ID) {
			states[c.ID] = c.State
		}
	}
	return states, nil
}

// endpointStateCode is EC2's answer to accepting a connection that no
// longer waits for acceptance: someone else accepted it, or the customer
// deleted it, between our read and our call. Only the code is matched;
// the message's wording is AWS's to change.
const endpointStateCode = "InvalidVpcEndpointState"

// AcceptConnections implements cloud.Provider. Connections already
// accepted are left alone; Unsuccessful items are errors, but for those
// whose state changed under the call, which are read again and judged as
// before the call (see cloud.CheckAccept).
func (p *Provider) AcceptConnections(ctx context.Context, ref cloud.EnvRef, ids []string) error {
	const op = "AcceptVpcEndpointConnections"
	serviceID, states, err := p.byID(ctx, ref, ids)
	if err != nil {
		return err
	}
	todo, err := toAccept(svcEC2+":"+op, ids, states)
	if err != nil || len(todo) == 0 {
		return err
	}
	out, err := p.in(ref.Region).ec2.AcceptVpcEndpointConnections(ctx, &ec2.AcceptVpcEndpointConnectionsInput{ServiceId: aws.String(serviceID), VpcEndpointIds: todo})
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == endpointStateCode {
		return p.afterRace(ctx, ref.Region, serviceID, todo, classify(svcEC2, op, err))
	}
	if err != nil {
		return classify(svcEC2, op, err)
	}
	var raced []string
	var failed []itemError
	for _, it := range items(out.Unsuccessful) {
		if it.code == endpointStateCode {
			raced = append(raced, it.id)
		} else {
			failed = append(failed, it)
		}
	}
	if err := unsuccessful(svcEC2+":"+op, failed); err != nil {
		return err
	}
	if len(raced) == 0 {
		return nil
	}
	return p.afterRace(ctx, ref.Region, serviceID, raced, unsuccessful(svcEC2+":"+op, items(out.Unsuccessful)))
}

// toAccept judges each connection by its state: the ones that wait for
// acceptance, or the first error.
func toAccept(op string, ids []string, states map[string]cloud.State) ([]string, error) {
	var todo []string
	for _, id := range ids {
		st, ok := states[id]
		accept, err := cloud.CheckAccept(op, id, st, ok)
		if err != nil {
			return nil, err
		}
		if accept {
			todo = append(todo, id)
		}
	}
	return todo, nil
}

// afterRace reads again the connections whose accept EC2 refused for
// their state: accepted meanwhile (by another operator) is success, gone
// is NotFound, closed is Conflict. One that still waits for acceptance
// makes the refusal, whose cause is unknown, worth a retry.
func (p *Provider) afterRace(ctx context.Context, region, serviceID string, ids []string, refusal error) error {
	const op = svcEC2 + ":AcceptVpcEndpointConnections"
	states, err := p.states(ctx, region, serviceID, ids)
	if err != nil {
		return err
	}
	still, err := toAccept(op, ids, states)
	if err != nil || len(still) == 0 {
		return err
	}
	return &cloud.Error{Kind: cloud.Retryable, Op: op, Msg: fmt.Sprintf("EC2 refused to accept %s for its state, yet it still waits for acceptance; trying again", strings.Join(still, ", ")), Err: refusal}
}

// RejectConnections implements cloud.Provider. Connections gone or
// already closed are left alone. EC2 keeps no reason: it is on the ticket.
func (p *Provider) RejectConnections(ctx context.Context, ref cloud.EnvRef, ids []string, _ string) error {
	const op = "RejectVpcEndpointConnections"
	serviceID, states, err := p.byID(ctx, ref, ids)
	if err != nil {
		return err
	}
	var todo []string
	for _, id := range ids {
		if st, ok := states[id]; ok && !st.Terminal() {
			todo = append(todo, id)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	out, err := p.in(ref.Region).ec2.RejectVpcEndpointConnections(ctx, &ec2.RejectVpcEndpointConnectionsInput{ServiceId: aws.String(serviceID), VpcEndpointIds: todo})
	if err != nil {
		return classify(svcEC2, op, err)
	}
	return unsuccessful(svcEC2+":"+op, items(out.Unsuccessful))
}

func items(us []ec2types.UnsuccessfulItem) []itemError {
	var out []itemError
	for _, u := range us {
		it := itemError{id: aws.ToString(u.ResourceId)}
		if u.Error != nil {
			it.code, it.message = aws.ToString(u.Error.Code), aws.ToString(u.Error.Message)
		}
		out = append(out, it)
	}
	return out
}

// ServiceVisible implements cloud.Provider: a customer service the
// platform may not see answers InvalidServiceName, which means "not
// granted yet", a normal waiting state.
func (p *Provider) ServiceVisible(ctx context.Context, ref cloud.EnvRef, service string) (bool, error) {
	_, visible, err := p.serviceDetail(ctx, ref.Region, service)
	return visible, err
}

// serviceDetail describes a customer's endpoint service as the platform
// sees it. Not visible (EC2's InvalidServiceName, or an answer without
// the service) is false and no error: the customer has not granted the
// platform yet, or the service does not exist.
func (p *Provider) serviceDetail(ctx context.Context, region, service string) (ec2types.ServiceDetail, bool, error) {
	out, err := p.in(region).ec2.DescribeVpcEndpointServices(ctx, &ec2.DescribeVpcEndpointServicesInput{ServiceNames: []string{service}})
	if err != nil {
		err = classify(svcEC2, "DescribeVpcEndpointServices", err)
		if cloud.IsNotFound(err) {
			return ec2types.ServiceDetail{}, false, nil
		}
		return ec2types.ServiceDetail{}, false, err
	}
	for _, d := range out.ServiceDetails {
		if aws.ToString(d.ServiceName) == service {
			return d, true, nil
		}
	}
	return ec2types.ServiceDetail{}, false, nil
}

// CreateEndpoint implements cloud.Provider: an interface endpoint in the
// configured VPC, subnets and security groups, with a ClientToken derived
// from spec.Token so that a retry never makes two.
func (p *Provider) CreateEndpoint(ctx context.Context, spec cloud.EndpointSpec) (cloud.Endpoint, error) {
	const op = "CreateVpcEndpoint"
	if err := p.placement(op); err != nil {
		return cloud.Endpoint{}, err
	}
	tags := []ec2types.Tag{
		{Key: aws.String("Name"), Value: aws.String(spec.Description)},
		{Key: aws.String(TagProject), Value: aws.String(spec.Env.Project)},
		{Key: aws.String(TagEnvironment), Value: aws.String(spec.Env.Environment)},
	}
	out, err := p.in(spec.Env.Region).ec2.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{
		VpcEndpointType: ec2types.VpcEndpointTypeInterface, VpcId: aws.String(p.opts.VPCID), ServiceName: aws.String(spec.Service),
		SubnetIds: p.opts.SubnetIDs, SecurityGroupIds: p.opts.SecurityGroupIDs, ClientToken: aws.String(clientToken(spec.Token)),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeVpcEndpoint, Tags: tags}},
	})
	if err != nil {
		return cloud.Endpoint{}, classify(svcEC2, op, err)
	}
	if out.VpcEndpoint == nil {
		return cloud.Endpoint{}, cloud.Errorf(cloud.Retryable, op, "no endpoint in the answer")
	}
	return endpoint(*out.VpcEndpoint), nil
}

// placement checks that the worker's config says where the platform's
// endpoints into customers' services go.
func (p *Provider) placement(op string) error {
	if p.opts.VPCID == "" || len(p.opts.SubnetIDs) == 0 {
		return cloud.Errorf(cloud.Invalid, op, "set aws.vpcId and aws.subnetIds in the worker's config: they say where the platform's endpoints into customers' services go")
	}
	return nil
}

func endpoint(v ec2types.VpcEndpoint) cloud.Endpoint {
	ep := cloud.Endpoint{ID: aws.ToString(v.VpcEndpointId), Service: aws.ToString(v.ServiceName), State: cloud.AWSState(string(v.State)),
		Created: aws.ToTime(v.CreationTimestamp)}
	// The first DNS entry is the regional name; the others are per zone.
	if len(v.DnsEntries) > 0 {
		ep.DNSName = strings.TrimSuffix(aws.ToString(v.DnsEntries[0].DnsName), ".")
	}
	return ep
}

// DescribeEndpoint implements cloud.Provider.
func (p *Provider) DescribeEndpoint(ctx context.Context, ref cloud.EnvRef, id string) (cloud.Endpoint, error) {
	const op = "DescribeVpcEndpoints"
	out, err := p.in(ref.Region).ec2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{id}})
	if err != nil {
		return cloud.Endpoint{}, classify(svcEC2, op, err)
	}
	for _, v := range out.VpcEndpoints {
		if aws.ToString(v.VpcEndpointId) == id {
			return endpoint(v), nil
		}
	}
	return cloud.Endpoint{}, cloud.Errorf(cloud.NotFound, op, "no endpoint %s", id)
}

// PlatformEndpoints implements cloud.Provider: the interface endpoints in
// the configured VPC into service, but for deleted ones (EC2 lists those
// for a while). The filters narrow the answer; the service and VPC are
// checked on it too, since emulators ignore filters.
func (p *Provider) PlatformEndpoints(ctx context.Context, ref cloud.EnvRef, service string) ([]cloud.Endpoint, error) {
	return p.platformEndpoints(ctx, ref.Region, []string{service})
}

// platformEndpoints is PlatformEndpoints for several services at once, in
// one listing: a filter's values are alternatives.
func (p *Provider) platformEndpoints(ctx context.Context, region string, services []string) ([]cloud.Endpoint, error) {
	const op = "DescribeVpcEndpoints"
	if p.opts.VPCID == "" {
		return nil, cloud.Errorf(cloud.Invalid, op, "set aws.vpcId in the worker's config: it says where the platform's endpoints into customers' services are")
	}
	pages := ec2.NewDescribeVpcEndpointsPaginator(p.in(region).ec2, &ec2.DescribeVpcEndpointsInput{Filters: []ec2types.Filter{
		{Name: aws.String("service-name"), Values: services},
		{Name: aws.String("vpc-id"), Values: []string{p.opts.VPCID}},
	}})
	out := []cloud.Endpoint{}
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, classify(svcEC2, op, err)
		}
		for _, v := range page.VpcEndpoints {
			ep := endpoint(v)
			asked := slices.ContainsFunc(services, func(s string) bool { return strings.EqualFold(ep.Service, s) })
			if asked && aws.ToString(v.VpcId) == p.opts.VPCID && ep.State != cloud.StateDeleted {
				out = append(out, ep)
			}
		}
	}
	cloud.NewestFirst(out)
	return out, nil
}

// Inventory implements cloud.Provider. It costs, whatever the number of
// accounts and services: the service's lookup (DescribeVpcEndpointService-
// Configurations) once; its load balancer and listeners and its
// permissions, as ServiceState reads them; one listing of every connection
// to the service (DescribeVpcEndpointConnections filtered by service ID
// only); and, when services are asked about, one DescribeVpcEndpoints for
// all of them. Every call is a Describe: nothing changes.
func (p *Provider) Inventory(ctx context.Context, ref cloud.EnvRef, services []string) (cloud.Inventory, error) {
	svc, err := p.service(ctx, ref)
	if err != nil {
		return cloud.Inventory{}, err
	}
	state, err := p.serviceState(ctx, ref.Region, svc)
	if err != nil {
		return cloud.Inventory{}, err
	}
	all, err := p.connections(ctx, ref.Region, aws.ToString(svc.ServiceId))
	if err != nil {
		return cloud.Inventory{}, err
	}
	out := cloud.Inventory{ServiceState: state, Connections: []cloud.Connection{}, Endpoints: []cloud.Endpoint{}}
	for _, c := range all {
		if c.State != cloud.StateDeleted { // EC2 lists deleted ones for a while
			out.Connections = append(out.Connections, c)
		}
	}
	oldestFirst(out.Connections)
	if len(services) > 0 {
		if out.Endpoints, err = p.platformEndpoints(ctx, ref.Region, services); err != nil {
			return cloud.Inventory{}, err
		}
	}
	return out, nil
}

// oldestFirst orders connections by creation, then by ID, so that the
// order is stable.
func oldestFirst(conns []cloud.Connection) {
	slices.SortFunc(conns, func(a, b cloud.Connection) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// DeleteEndpoint implements cloud.Provider: an endpoint already gone is
// success.
func (p *Provider) DeleteEndpoint(ctx context.Context, ref cloud.EnvRef, id string) error {
	const op = "DeleteVpcEndpoints"
	ep, err := p.DescribeEndpoint(ctx, ref, id)
	if cloud.IsNotFound(err) || (err == nil && (ep.State == cloud.StateDeleted || ep.State == cloud.StateDeleting)) {
		return nil
	}
	if err != nil {
		return err
	}
	out, err := p.in(ref.Region).ec2.DeleteVpcEndpoints(ctx, &ec2.DeleteVpcEndpointsInput{VpcEndpointIds: []string{id}})
	if err != nil {
		return ignoreNotFound(classify(svcEC2, op, err))
	}
	return ignoreNotFound(unsuccessful(svcEC2+":"+op, items(out.Unsuccessful)))
}

// EndpointOwner is the account that owns endpoint endpointID, connected or
// connecting to the platform's endpoint service serviceID in region: what
// the SNS receiver needs to find the links an endpoint connection
// notification is about. An endpoint the service does not know is "".
func (p *Provider) EndpointOwner(ctx context.Context, region, serviceID, endpointID string) (string, error) {
	conns, err := p.connections(ctx, region, serviceID, ec2types.Filter{Name: aws.String("vpc-endpoint-id"), Values: []string{endpointID}})
	if err != nil {
		return "", err
	}
	for _, c := range conns {
		if c.ID == endpointID {
			return c.Account, nil
		}
	}
	return "", nil
}
