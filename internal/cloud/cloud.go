// Package cloud is the port the workflows need from a cloud: the platform's
// endpoint service on one side, an interface endpoint into the customer's
// service on the other. Types are cloud-neutral; each provider maps its
// cloud's vocabulary onto them and hides its SDK.
package cloud

import (
	"context"
	"slices"
	"time"
)

// Provider is what the runbook does to a cloud. Every mutating call is
// idempotent: providers read state first, so a retried activity does no harm.
type Provider interface {
	// Environment looks up the platform environment of a project. A missing
	// environment is a NotFound error.
	Environment(ctx context.Context, ref EnvRef) (Environment, error)

	// OpenPorts makes each port reachable through the platform's endpoint
	// service (listeners, target groups, security rules). ClosePorts undoes it.
	OpenPorts(ctx context.Context, ref EnvRef, ports []int) error
	ClosePorts(ctx context.Context, ref EnvRef, ports []int) error

	// AllowAccount lets a customer account connect to the platform's
	// endpoint service; RevokeAccount removes it.
	AllowAccount(ctx context.Context, ref EnvRef, account string) error
	RevokeAccount(ctx context.Context, ref EnvRef, account string) error

	// ServiceState reads what the platform's endpoint service allows now:
	// the ports that have a listener (AWS) or load-balancing rule (Azure) on
	// its load balancer, and the customer accounts allowed to connect.
	// Workflows read it before they change anything, so that undo removes
	// only what their own run added.
	ServiceState(ctx context.Context, ref EnvRef) (ServiceState, error)

	// Connections lists the connection requests to the platform service
	// from one customer account. The owner of each connection is checked
	// on the answer: a filter the cloud (or an emulator) ignores must not
	// let another account's connection through.
	Connections(ctx context.Context, ref EnvRef, account string) ([]Connection, error)
	// AcceptConnections accepts connection requests. One already accepted
	// is success, also when someone else accepted it between this call's
	// read and its write (EC2 then answers InvalidVpcEndpointState); one
	// that is gone (the customer deleted it) is NotFound; one rejected,
	// failed, expired or being deleted is Conflict.
	// RejectConnections rejects them, accepted or not; the
	// reason goes where the cloud keeps one (Azure's connection description).
	AcceptConnections(ctx context.Context, ref EnvRef, ids []string) error
	RejectConnections(ctx context.Context, ref EnvRef, ids []string, reason string) error

	// TargetHealth reports the health of the platform's targets per port.
	TargetHealth(ctx context.Context, ref EnvRef, ports []int) ([]Target, error)

	// ServiceVisible reports whether the platform may connect to a customer
	// service: false means the customer has not granted the platform yet.
	ServiceVisible(ctx context.Context, ref EnvRef, service string) (bool, error)
	// CreateEndpoint creates an interface endpoint from the platform network
	// into a customer service. The same token never creates two endpoints.
	CreateEndpoint(ctx context.Context, spec EndpointSpec) (Endpoint, error)
	DescribeEndpoint(ctx context.Context, ref EnvRef, id string) (Endpoint, error)
	// PlatformEndpoints lists the platform's own endpoints into a customer
	// service that are not deleted (whatever their state), newest first, so
	// that a re-run finds and adopts an endpoint an earlier run created.
	PlatformEndpoints(ctx context.Context, ref EnvRef, service string) ([]Endpoint, error)
	// DeleteEndpoint removes an endpoint; one already gone is success.
	DeleteEndpoint(ctx context.Context, ref EnvRef, id string) error

	// Zones reads, changing nothing, the availability zones of the
	// platform deployment (the zones of the subnets its endpoints into
	// customer services go in) and, when service is not empty, the zones
	// a customer's endpoint service is offered in, both as zone IDs: zone
	// names differ between accounts, IDs do not. A service the platform
	// cannot see is NotFound. Clouds whose services are regional (Azure
	// Private Link) answer Regional and no zones: there is nothing to check.
	Zones(ctx context.Context, ref EnvRef, service string) (Zones, error)

	// Inventory reads, changing nothing, what exists in the cloud for one
	// link: what the platform service allows (as ServiceState), every
	// connection to it whatever its owner (deleted ones left out), and the
	// platform's endpoints into the named customer services (deleted ones
	// left out). Health checks, changes and teardown plan from it, and
	// teardown reads it again to prove nothing is left.
	Inventory(ctx context.Context, ref EnvRef, services []string) (Inventory, error)
}

// BandwidthAccepter is implemented by clouds that cap a connection's
// bandwidth when it is accepted (Alibaba: EnableVpcEndpointConnection's
// Bandwidth, in Mbps). A provider that does not implement it cannot take a
// request with a bandwidth.
type BandwidthAccepter interface {
	// AcceptConnectionsWithBandwidth is AcceptConnections with each
	// accepted connection limited to mbps (0: the service's default).
	AcceptConnectionsWithBandwidth(ctx context.Context, ref EnvRef, ids []string, mbps int) error
}

// Inventory is what exists in the cloud for one link.
type Inventory struct {
	ServiceState
	// Connections are every connection to the platform service, from any
	// account, in any state but deleted, oldest first.
	Connections []Connection `json:"connections"`
	// Endpoints are the platform's endpoints into the customer services
	// asked about, in any state but deleted, newest first.
	Endpoints []Endpoint `json:"endpoints"`
}

// EnvRef names a platform environment.
type EnvRef struct {
	Cloud       string `json:"cloud"`
	Region      string `json:"region"`
	Project     string `json:"project"`
	Environment string `json:"environment"`
	// ServiceHint is the provider's ID of the environment's endpoint
	// service (Environment.ServiceID) as a run found it: a call that needs
	// only the ID uses it instead of finding the service by its tags
	// again, so a run finds its platform service once. Empty: look it up.
	// Workflows set it from their own lookup, never from a request.
	ServiceHint string `json:"serviceHint,omitempty"`
}

func (r EnvRef) String() string {
	return r.Cloud + "/" + r.Region + "/" + r.Project + "/" + r.Environment
}

// Environment is a platform environment and its endpoint service.
type Environment struct {
	EnvRef
	Plan string `json:"plan"`
	// ServiceName is what the customer connects to (AWS service name,
	// Azure Private Link service alias).
	ServiceName string `json:"serviceName"`
	// ServiceID is the provider's own ID of the endpoint service.
	ServiceID string `json:"serviceId"`
	// Principal is the platform identity customers allow on their services,
	// e.g. arn:aws:iam::<platform-account>:root.
	Principal string `json:"principal"`
	// AutoAccept is true when the cloud accepts connections to the
	// service without a decision (Alibaba AutoAcceptEnabled): the accept
	// gate then records that the service accepted, and nobody approves.
	AutoAccept bool `json:"autoAccept,omitempty"`
	// Regions are the other regions customers may connect from
	// (Alibaba's cross-region access); empty where only the service's own
	// region may.
	Regions []string `json:"regions,omitempty"`
}

// ServiceState is what the platform's endpoint service allows.
type ServiceState struct {
	// OpenPorts are the ports with a listener or load-balancing rule, sorted.
	OpenPorts []int `json:"openPorts"`
	// Accounts are the customer accounts (AWS account IDs, Azure
	// subscription IDs in lower case) allowed to connect, sorted.
	Accounts []string `json:"accounts"`
}

// Connection is a customer's connection to the platform service.
type Connection struct {
	ID      string    `json:"id"`
	Account string    `json:"account"`
	State   State     `json:"state"`
	Created time.Time `json:"created"`
}

// Target is the health of the platform's backend for one port.
type Target struct {
	Port    int    `json:"port"`
	Healthy bool   `json:"healthy"`
	Reason  string `json:"reason,omitempty"`
}

// EndpointSpec asks for an interface endpoint to a customer service.
type EndpointSpec struct {
	Env     EnvRef `json:"env"`
	Service string `json:"service"`
	// Token makes creation idempotent (AWS ClientToken, Azure endpoint
	// name): stable across retries of one run and unique per run, so a
	// retried activity finds its first endpoint and a new run never gets
	// an earlier run's (deleted) one back.
	Token string `json:"token"`
	// Description travels with the request to the customer (Azure request
	// message): at most 140 characters.
	Description string `json:"description"`
}

// Endpoint is the platform's interface endpoint into a customer service.
type Endpoint struct {
	ID      string   `json:"id"`
	Service string   `json:"service"`
	State   State    `json:"state"`
	DNSName string   `json:"dnsName"`
	IPs     []string `json:"ips,omitempty"`
	// Created is when the endpoint was created, where the cloud says.
	Created time.Time `json:"created,omitzero"`
}

// Zones are the availability zones of the platform deployment and of a
// customer service, as zone IDs (AWS "use1-az1"), sorted.
type Zones struct {
	// Regional is true where endpoint services are regional and no zone
	// check applies (Azure).
	Regional bool     `json:"regional,omitempty"`
	Platform []string `json:"platform,omitempty"`
	Service  []string `json:"service,omitempty"`
}

// Missing returns the platform's zone IDs the service is not offered in:
// an endpoint into the service cannot reach the platform deployment there.
func (z Zones) Missing() []string {
	var out []string
	for _, id := range z.Platform {
		if !slices.Contains(z.Service, id) {
			out = append(out, id)
		}
	}
	return out
}
