// Package activities adapts workflow calls to the ports in internal/: one
// side effect each, idempotent under retry (the ports read before they
// write), errors mapped to retryable or non-retryable application errors.
package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/probe"
	"github.com/linkwright/linkwright/internal/ticket"
)

// Prober checks connectivity from the platform network.
type Prober interface {
	Probe(ctx context.Context, host string, ports []int) []probe.Result
}

// Activities holds the ports. Register a pointer to it; workflows call its
// methods through a nil *Activities.
type Activities struct {
	Cloud   cloud.Provider
	Tracker ticket.Tracker
	Prober  Prober
	// Policy returns the current policy (approvers, waiting); it is read on
	// every call so that a changed config reaches running workflows.
	Policy func() config.Policy
}

// Error types workflows branch on.
const (
	// ErrNotYet is a poll that found nothing yet: retried with backoff.
	ErrNotYet = "NotYet"
	// ErrEndpointClosed is a reverse endpoint the customer rejected, or
	// that failed or expired.
	ErrEndpointClosed = "EndpointClosed"
	// ErrTicketNotFound is a ticket key the tracker does not know.
	ErrTicketNotFound = "TicketNotFound"
	// ErrTicketConfig is a tracker call the tracker's configuration forbids.
	ErrTicketConfig = "TicketConfig"
)

// NonRetryable lists the error types that retrying cannot fix.
var NonRetryable = []string{string(cloud.NotFound), string(cloud.AccessDenied), string(cloud.Invalid), string(cloud.Conflict), ErrEndpointClosed, ErrTicketNotFound, ErrTicketConfig}

// notYet is a poll that found nothing yet: benign, so the SDK logs it at
// debug level and counts no failure, as it is the normal state of a wait.
func notYet(format string, args ...any) error {
	return temporal.NewApplicationErrorWithOptions(fmt.Sprintf(format, args...), ErrNotYet,
		temporal.ApplicationErrorOptions{Category: temporal.ApplicationErrorCategoryBenign})
}

// cloudErr turns a provider error into an application error whose type is
// its kind; only Retryable ones are retried.
func cloudErr(err error) error {
	if err == nil {
		return nil
	}
	kind := cloud.KindOf(err)
	if kind == cloud.Retryable {
		return temporal.NewApplicationErrorWithCause(err.Error(), string(kind), err)
	}
	return temporal.NewNonRetryableApplicationError(err.Error(), string(kind), err)
}

func trackerErr(err error) error {
	switch {
	case errors.Is(err, ticket.ErrNotFound):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTicketNotFound, err)
	case errors.Is(err, ticket.ErrConfig):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTicketConfig, err)
	}
	return err
}

// LoadPolicy returns the worker's current policy (a local activity).
func (a *Activities) LoadPolicy(_ context.Context) (config.Policy, error) {
	return a.Policy(), nil
}

// EnvLookup is an environment lookup's answer: Found is false when the
// project has no such environment on that cloud.
type EnvLookup struct {
	Found bool              `json:"found"`
	Env   cloud.Environment `json:"env"`
}

// LookupEnvironment finds the platform environment (read-only).
func (a *Activities) LookupEnvironment(ctx context.Context, ref cloud.EnvRef) (EnvLookup, error) {
	env, err := a.Cloud.Environment(ctx, ref)
	if cloud.IsNotFound(err) {
		return EnvLookup{}, nil
	}
	return EnvLookup{Found: err == nil, Env: env}, cloudErr(err)
}

// OpenTicket opens or finds the enablement's ticket.
func (a *Activities) OpenTicket(ctx context.Context, req ticket.OpenRequest) (ticket.Ticket, error) {
	t, err := a.Tracker.Open(ctx, req)
	return t, trackerErr(err)
}

// PostComment posts a public reply or an internal note. Its idempotency
// key is the activity's identity, the same across retries.
func (a *Activities) PostComment(ctx context.Context, c ticket.Comment) error {
	if c.IdempotencyKey == "" {
		info := activity.GetInfo(ctx)
		c.IdempotencyKey = info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID + "/" + info.ActivityID
	}
	return trackerErr(a.Tracker.Comment(ctx, c))
}

// TicketStatus sets a ticket's status.
type TicketStatus struct {
	Ticket string        `json:"ticket"`
	Status ticket.Status `json:"status"`
}

// SetTicketStatus sets the ticket's status.
func (a *Activities) SetTicketStatus(ctx context.Context, in TicketStatus) error {
	return trackerErr(a.Tracker.SetStatus(ctx, in.Ticket, in.Status))
}

// Ports names ports on an environment.
type Ports struct {
	Env   cloud.EnvRef `json:"env"`
	Ports []int        `json:"ports"`
}

// OpenPorts opens the requested ports on the platform environment.
func (a *Activities) OpenPorts(ctx context.Context, in Ports) error {
	return cloudErr(a.Cloud.OpenPorts(ctx, in.Env, in.Ports))
}

// ClosePorts closes them again (undo).
func (a *Activities) ClosePorts(ctx context.Context, in Ports) error {
	return cloudErr(a.Cloud.ClosePorts(ctx, in.Env, in.Ports))
}

// Accounts names customer accounts on an environment.
type Accounts struct {
	Env      cloud.EnvRef `json:"env"`
	Accounts []string     `json:"accounts"`
}

// AllowAccounts allows the customer's accounts on the platform service.
func (a *Activities) AllowAccounts(ctx context.Context, in Accounts) error {
	for _, acct := range in.Accounts {
		if err := a.Cloud.AllowAccount(ctx, in.Env, acct); err != nil {
			return cloudErr(err)
		}
	}
	return nil
}

// RevokeAccounts removes them (undo).
func (a *Activities) RevokeAccounts(ctx context.Context, in Accounts) error {
	for _, acct := range in.Accounts {
		if err := a.Cloud.RevokeAccount(ctx, in.Env, acct); err != nil {
			return cloudErr(err)
		}
	}
	return nil
}

// AwaitConnectionRequest polls for the customer's connection requests: it
// returns those pending acceptance, or fails with NotYet so that the retry
// policy polls again with backoff (retries add no history).
func (a *Activities) AwaitConnectionRequest(ctx context.Context, in Accounts) ([]cloud.Connection, error) {
	var pending []cloud.Connection
	for _, acct := range in.Accounts {
		conns, err := a.Cloud.Connections(ctx, in.Env, acct)
		if err != nil {
			return nil, cloudErr(err)
		}
		for _, c := range conns {
			if c.State == cloud.StatePendingAcceptance {
				pending = append(pending, c)
			}
		}
	}
	if len(pending) == 0 {
		return nil, notYet("no connection request from %s yet", strings.Join(in.Accounts, ", "))
	}
	return pending, nil
}

// Connections names connections on an environment; Reason says why they
// are rejected.
type Connections struct {
	Env    cloud.EnvRef `json:"env"`
	IDs    []string     `json:"ids"`
	Reason string       `json:"reason,omitempty"`
}

// AcceptConnections accepts the customer's connection requests.
func (a *Activities) AcceptConnections(ctx context.Context, in Connections) error {
	return cloudErr(a.Cloud.AcceptConnections(ctx, in.Env, in.IDs))
}

// RejectConnections rejects them (a rejection, or undo of an accept).
func (a *Activities) RejectConnections(ctx context.Context, in Connections) error {
	return cloudErr(a.Cloud.RejectConnections(ctx, in.Env, in.IDs, in.Reason))
}

// PlatformCheck asks whether the customer's side of the link works.
type PlatformCheck struct {
	Env      cloud.EnvRef `json:"env"`
	Accounts []string     `json:"accounts"`
	IDs      []string     `json:"ids"`
	Ports    []int        `json:"ports"`
}

// PlatformReport is what the check found; Problems is empty when all is well.
type PlatformReport struct {
	Connections []cloud.Connection `json:"connections"`
	Targets     []cloud.Target     `json:"targets"`
	Problems    []string           `json:"problems,omitempty"`
}

// CheckPlatformSide checks that the accepted connections are available and
// the load balancer's targets healthy. While a connection is still being
// provisioned it answers NotYet; anything else wrong is a Problem.
func (a *Activities) CheckPlatformSide(ctx context.Context, in PlatformCheck) (PlatformReport, error) {
	var rep PlatformReport
	for _, acct := range in.Accounts {
		conns, err := a.Cloud.Connections(ctx, in.Env, acct)
		if err != nil {
			return rep, cloudErr(err)
		}
		for _, c := range conns {
			if !slices.Contains(in.IDs, c.ID) {
				continue
			}
			rep.Connections = append(rep.Connections, c)
			switch c.State {
			case cloud.StateProvisioning:
				return rep, notYet("connection %s is still being provisioned", c.ID)
			case cloud.StateAvailable:
			default:
				rep.Problems = append(rep.Problems, fmt.Sprintf("connection %s is %s, not available: the customer must create a new endpoint", c.ID, c.State))
			}
		}
	}
	for _, id := range in.IDs {
		if !slices.ContainsFunc(rep.Connections, func(c cloud.Connection) bool { return c.ID == id }) {
			rep.Problems = append(rep.Problems, fmt.Sprintf("connection %s is gone: the customer deleted the endpoint", id))
		}
	}
	targets, err := a.Cloud.TargetHealth(ctx, in.Env, in.Ports)
	if err != nil {
		return rep, cloudErr(err)
	}
	rep.Targets = targets
	for _, t := range targets {
		if !t.Healthy {
			rep.Problems = append(rep.Problems, fmt.Sprintf("port %d: %s", t.Port, t.Reason))
		}
	}
	return rep, nil
}

// AwaitPlatformHealthy polls CheckPlatformSide until it finds no problem.
func (a *Activities) AwaitPlatformHealthy(ctx context.Context, in PlatformCheck) (PlatformReport, error) {
	rep, err := a.CheckPlatformSide(ctx, in)
	if err == nil && len(rep.Problems) > 0 {
		return rep, notYet("%s", strings.Join(rep.Problems, "; "))
	}
	return rep, err
}

// Service names a customer service from an environment.
type Service struct {
	Env     cloud.EnvRef `json:"env"`
	Service string       `json:"service"`
}

// AwaitServiceVisible polls until the customer has allowed the platform on
// their endpoint service.
func (a *Activities) AwaitServiceVisible(ctx context.Context, in Service) error {
	ok, err := a.Cloud.ServiceVisible(ctx, in.Env, in.Service)
	if err != nil {
		return cloudErr(err)
	}
	if !ok {
		return notYet("%s is not visible to the platform yet: the customer has not allowed the platform principal", in.Service)
	}
	return nil
}

// CreateEndpoint creates the platform's endpoint into the customer service.
func (a *Activities) CreateEndpoint(ctx context.Context, spec cloud.EndpointSpec) (cloud.Endpoint, error) {
	ep, err := a.Cloud.CreateEndpoint(ctx, spec)
	return ep, cloudErr(err)
}

// Endpoint names a platform endpoint.
type Endpoint struct {
	Env cloud.EnvRef `json:"env"`
	ID  string       `json:"id"`
}

// AwaitEndpointAvailable polls until the customer has accepted the
// platform's endpoint and it is available. A rejected, failed or expired
// endpoint is a non-retryable EndpointClosed error.
func (a *Activities) AwaitEndpointAvailable(ctx context.Context, in Endpoint) (cloud.Endpoint, error) {
	ep, err := a.Cloud.DescribeEndpoint(ctx, in.Env, in.ID)
	if err != nil {
		return ep, cloudErr(err)
	}
	switch {
	case ep.State == cloud.StateAvailable:
		return ep, nil
	case ep.State.Terminal():
		return ep, temporal.NewNonRetryableApplicationError(fmt.Sprintf("endpoint %s is %s", ep.ID, ep.State), ErrEndpointClosed, nil, ep)
	case ep.State == cloud.StatePendingAcceptance:
		return ep, notYet("endpoint %s waits for the customer to accept it", ep.ID)
	default:
		return ep, notYet("endpoint %s is %s", ep.ID, ep.State)
	}
}

// DeleteEndpoint deletes the platform's endpoint (undo, or after rejection).
func (a *Activities) DeleteEndpoint(ctx context.Context, in Endpoint) error {
	return cloudErr(a.Cloud.DeleteEndpoint(ctx, in.Env, in.ID))
}

// ProbeTarget names what to probe.
type ProbeTarget struct {
	Host  string `json:"host"`
	Ports []int  `json:"ports"`
}

// Probe resolves the host and connects to every port once.
func (a *Activities) Probe(ctx context.Context, in ProbeTarget) ([]probe.Result, error) {
	return a.Prober.Probe(ctx, in.Host, in.Ports), nil
}

// AwaitProbeOK probes until every port connects.
func (a *Activities) AwaitProbeOK(ctx context.Context, in ProbeTarget) ([]probe.Result, error) {
	res, _ := a.Probe(ctx, in)
	for _, r := range res {
		if !r.OK() {
			return res, notYet("%s", r.Diagnosis)
		}
	}
	return res, nil
}
