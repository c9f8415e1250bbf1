// Package activities adapts workflow calls to the ports in internal/: one
// side effect each, idempotent under retry (the ports read before they
// write), errors mapped to retryable or non-retryable application errors.
package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

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
	// Workflows reads what another workflow recorded about itself (the
	// reverse link's status, for its parent).
	Workflows MemoReader
	// Confirm are the pauses before a failing port is probed again (1s and
	// 3s by default): a failure is reported only when it lasts, so that a
	// blip is never told to the customer as the state of their service.
	Confirm []time.Duration
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
	// ErrTicketRefused is a tracker call refused for good (a bad token, a
	// missing permission, a malformed request): retrying cannot help.
	ErrTicketRefused = "TicketRefused"
	// ErrInconclusive is a check that could not be made now (a resolver
	// that could not answer): retried, never reported.
	ErrInconclusive = "Inconclusive"
)

// NonRetryable lists the error types that retrying cannot fix.
var NonRetryable = []string{string(cloud.NotFound), string(cloud.AccessDenied), string(cloud.Invalid), string(cloud.Conflict), ErrEndpointClosed, ErrTicketNotFound, ErrTicketConfig, ErrTicketRefused}

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

// trackerErr stops at once on what retrying cannot fix (the error names the
// fix); anything else is retried with backoff.
func trackerErr(err error) error {
	var r interface{ Retryable() bool }
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ticket.ErrNotFound):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTicketNotFound, err)
	case errors.Is(err, ticket.ErrConfig):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTicketConfig, err)
	case errors.As(err, &r) && !r.Retryable():
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTicketRefused, err)
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

// FindTicket finds an existing ticket by its key; it never opens one.
func (a *Activities) FindTicket(ctx context.Context, key string) (ticket.Ticket, error) {
	if key == "" {
		return ticket.Ticket{}, temporal.NewNonRetryableApplicationError("no ticket key", ErrTicketNotFound, nil)
	}
	t, err := a.Tracker.Open(ctx, ticket.OpenRequest{Key: key})
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

// ServiceState reads what the platform's endpoint service allows now
// (read-only): the workflow records it before changing anything, so that
// undo removes only what its own run added.
func (a *Activities) ServiceState(ctx context.Context, ref cloud.EnvRef) (cloud.ServiceState, error) {
	st, err := a.Cloud.ServiceState(ctx, ref)
	return st, cloudErr(err)
}

// connections lists the connections of the given accounts, checking each
// one's owner against them: a provider's filter is not trusted alone.
func (a *Activities) connections(ctx context.Context, env cloud.EnvRef, accounts []string) ([]cloud.Connection, error) {
	var out []cloud.Connection
	for _, acct := range accounts {
		conns, err := a.Cloud.Connections(ctx, env, acct)
		if err != nil {
			return nil, cloudErr(err)
		}
		for _, c := range conns {
			if strings.EqualFold(c.Account, acct) {
				out = append(out, c)
			} else {
				activity.GetLogger(ctx).Warn("ignored a connection from an account that was not asked for", "connection", c.ID, "owner", c.Account, "asked", acct)
			}
		}
	}
	return out, nil
}

// AwaitConnectionRequest polls for the customer's connections: it returns
// those pending acceptance and those already accepted (pending or
// available: a re-run finds what an earlier run or a person accepted), or
// fails with NotYet so that the retry policy polls again with backoff
// (retries add no history).
func (a *Activities) AwaitConnectionRequest(ctx context.Context, in Accounts) ([]cloud.Connection, error) {
	conns, err := a.connections(ctx, in.Env, in.Accounts)
	if err != nil {
		return nil, err
	}
	var live []cloud.Connection
	for _, c := range conns {
		switch c.State {
		case cloud.StatePendingAcceptance, cloud.StateProvisioning, cloud.StateAvailable:
			live = append(live, c)
		}
	}
	if len(live) == 0 {
		return nil, notYet("no connection request from %s yet", strings.Join(in.Accounts, ", "))
	}
	return live, nil
}

// Connections names connections on an environment; Reason says why they
// are rejected.
type Connections struct {
	Env    cloud.EnvRef `json:"env"`
	IDs    []string     `json:"ids"`
	Reason string       `json:"reason,omitempty"`
	// BandwidthMbps limits each accepted connection where the cloud can
	// (Alibaba); 0 is the service's default.
	BandwidthMbps int `json:"bandwidthMbps,omitempty"`
}

// AcceptConnections accepts the customer's connection requests, with the
// request's bandwidth where it has one.
func (a *Activities) AcceptConnections(ctx context.Context, in Connections) error {
	if in.BandwidthMbps == 0 {
		return cloudErr(a.Cloud.AcceptConnections(ctx, in.Env, in.IDs))
	}
	bw, ok := a.Cloud.(cloud.BandwidthAccepter)
	if !ok {
		return cloudErr(cloud.Errorf(cloud.Invalid, "AcceptConnections", "%s connections take no bandwidth limit: remove bandwidthMbps from the request", in.Env.Cloud))
	}
	return cloudErr(bw.AcceptConnectionsWithBandwidth(ctx, in.Env, in.IDs, in.BandwidthMbps))
}

// RejectConnections rejects them (a rejection, or undo of an accept).
func (a *Activities) RejectConnections(ctx context.Context, in Connections) error {
	return cloudErr(a.Cloud.RejectConnections(ctx, in.Env, in.IDs, in.Reason))
}

// Withdrawal names the connections a run that ends without a link must
// not leave behind: those it accepted, those it saw waiting for
// acceptance, and any waiting from the accounts it allowed itself.
type Withdrawal struct {
	Env      cloud.EnvRef `json:"env"`
	Accounts []string     `json:"accounts"` // the request's accounts, to list connections
	Accepted []string     `json:"accepted,omitempty"`
	Seen     []string     `json:"seen,omitempty"`
	// AllowedByRun are accounts this run allowed: every connection request
	// from them waiting for acceptance was made for this run.
	AllowedByRun []string `json:"allowedByRun,omitempty"`
	Reason       string   `json:"reason"`
}

// WithdrawConnections rejects, with the reason, what w names and is not
// closed already, so that no customer endpoint is left waiting. It returns
// the connections it rejected.
func (a *Activities) WithdrawConnections(ctx context.Context, w Withdrawal) ([]string, error) {
	conns, err := a.connections(ctx, w.Env, w.Accounts)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range conns {
		ours := slices.Contains(w.Accepted, c.ID) && !c.State.Terminal()
		waiting := c.State == cloud.StatePendingAcceptance &&
			(slices.Contains(w.Seen, c.ID) || slices.ContainsFunc(w.AllowedByRun, func(acct string) bool { return strings.EqualFold(acct, c.Account) }))
		if ours || waiting {
			ids = append(ids, c.ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return ids, cloudErr(a.Cloud.RejectConnections(ctx, w.Env, ids, w.Reason))
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
	conns, err := a.connections(ctx, in.Env, in.Accounts)
	if err != nil {
		return rep, err
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

// Zones reads the platform deployment's availability zones and, when
// in.Service is set, those the customer's service is offered in (zone IDs).
func (a *Activities) Zones(ctx context.Context, in Service) (cloud.Zones, error) {
	z, err := a.Cloud.Zones(ctx, in.Env, in.Service)
	return z, cloudErr(err)
}

// AwaitZonesCovered polls until the customer's service is offered in every
// availability zone of the platform deployment. A service the platform
// cannot see (the customer withdrew the grant meanwhile) is waited on too.
func (a *Activities) AwaitZonesCovered(ctx context.Context, in Service) (cloud.Zones, error) {
	z, err := a.Cloud.Zones(ctx, in.Env, in.Service)
	if cloud.KindOf(err) == cloud.NotFound {
		return z, notYet("%s is not visible to the platform: the customer has withdrawn the platform's access", in.Service)
	}
	if err != nil {
		return z, cloudErr(err)
	}
	if missing := z.Missing(); len(missing) > 0 {
		return z, notYet("%s is not offered in zones %s of the platform deployment", in.Service, strings.Join(missing, ", "))
	}
	return z, nil
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

// PlatformEndpoints lists the platform's endpoints into a customer service
// that are not closed (pending acceptance, pending or available), newest
// first: one an earlier run created is adopted rather than made again.
func (a *Activities) PlatformEndpoints(ctx context.Context, in Service) ([]cloud.Endpoint, error) {
	eps, err := a.Cloud.PlatformEndpoints(ctx, in.Env, in.Service)
	if err != nil {
		return nil, cloudErr(err)
	}
	return slices.DeleteFunc(eps, func(ep cloud.Endpoint) bool { return ep.State.Terminal() }), nil
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

// Probe resolves the host and connects to every port; a port that fails is
// checked again before the failure is returned. A check that could not be
// made (the resolver could not answer) is a retryable error, not a result.
func (a *Activities) Probe(ctx context.Context, in ProbeTarget) ([]probe.Result, error) {
	res := slices.Clone(a.Prober.Probe(ctx, in.Host, in.Ports))
	confirm := a.Confirm
	if confirm == nil {
		confirm = []time.Duration{time.Second, 3 * time.Second}
	}
	for _, pause := range confirm {
		var failing []int
		for _, r := range res {
			if !r.OK() {
				failing = append(failing, r.Port)
			}
		}
		if len(failing) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pause):
		}
		again := a.Prober.Probe(ctx, in.Host, failing)
		for _, r := range again {
			res[slices.IndexFunc(res, func(p probe.Result) bool { return p.Port == r.Port })] = r
		}
	}
	for _, r := range res {
		if r.Inconclusive() {
			return nil, temporal.NewApplicationError("could not check "+in.Host+" now: "+r.Diagnosis, ErrInconclusive)
		}
	}
	return res, nil
}

// AwaitProbeOK probes until every port connects.
func (a *Activities) AwaitProbeOK(ctx context.Context, in ProbeTarget) ([]probe.Result, error) {
	res := a.Prober.Probe(ctx, in.Host, in.Ports)
	for _, r := range res {
		if !r.OK() {
			return res, notYet("%s", r.Diagnosis)
		}
	}
	return res, nil
}

// MemoReader reads a memo field of one run of a workflow: what that
// workflow recorded about itself on the server, which no one else can
// write.
type MemoReader interface {
	Memo(ctx context.Context, workflowID, runID, field string) (json.RawMessage, error)
}

// Run names one run of a workflow and a memo field of it.
type Run struct {
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
	Field      string `json:"field"`
}

// ReadMemo reads a memo field of a run (a local activity: the parent reads
// its child's status after the child says it changed).
func (a *Activities) ReadMemo(ctx context.Context, r Run) (json.RawMessage, error) {
	if a.Workflows == nil {
		return nil, temporal.NewNonRetryableApplicationError("this worker cannot read workflow memos", "NoMemoReader", nil)
	}
	return a.Workflows.Memo(ctx, r.WorkflowID, r.RunID, r.Field)
}
