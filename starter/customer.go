package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/converter"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/cloud/sim"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/request"
	"github.com/linkwright/linkwright/internal/ticket"
	"github.com/linkwright/linkwright/workflows"
)

// customerActs plays the customer of a request: it acts in the customer's
// account (on the simulated cloud, or on the moto stack of `make run-aws`),
// says so on the ticket, and sends the workflow the signal a support agent
// would relay.
type customerActs struct {
	req     request.Request
	side    customerSide
	tracker *ticket.File
	out     io.Writer
}

// customerSide is what a customer does in their own cloud account.
type customerSide interface {
	platform(ctx context.Context) (cloud.Environment, error)
	connect(service string) (cloud.Endpoint, error)
	grant(service, principal string, ports []int) error
	pending(service string) ([]string, error)
	decide(id string, accept bool) error
	// endpointsTo lists the customer's own endpoints to a (platform)
	// service that are not deleted; deleteEndpoint deletes one.
	endpointsTo(service string) ([]string, error)
	deleteEndpoint(id string) error
	// revoke removes a principal from the customer's own service.
	revoke(service, principal string) error
	// setZones puts the customer's own service in the availability zones
	// named (in the customer's naming), as subnets of its load balancer.
	setZones(service string, names []string) error
}

func cmdCustomer(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return usageError("customer needs an action: connect, grant, zones, accept, reject, delete-endpoint, revoke, break-port, repair-port, verify, show")
	}
	action := args[0]
	fs := newFlags("customer " + action)
	file := fs.String("f", "", "the request file naming the customer")
	portsFlag := fs.String("ports", "", "ports the customer's service answers on (grant), e.g. 5432,6379")
	port := fs.Int("port", 0, "the port (break-port, repair-port)")
	zonesFlag := fs.String("zones", "", "grant, zones: the availability zones of the customer's service, in the customer's naming, e.g. us-east-1a,us-east-1b (Alibaba Cloud: zone IDs, e.g. cn-hangzhou-h,cn-hangzhou-i)")
	regionFlag := fs.String("region", "", "connect (Alibaba Cloud, simulated cloud): the region the customer's endpoint is in, when not the platform service's (default: the request's customerRegion); the service must take consumers from it")
	regionsFlag := fs.String("regions", "", "grant (Alibaba Cloud, simulated cloud): the other regions the customer's service takes consumers from, e.g. cn-hangzhou, when the platform is in another region than the service")
	id := fs.String("id", "", "delete-endpoint: the endpoint to delete (default: every one of the customer's to the platform service)")
	ok := fs.Bool("ok", true, "verify: whether the link works")
	detail := fs.String("detail", "", "verify: what the customer saw")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *file == "" {
		return usageError("customer %s needs -f REQUEST.json (the request names the customer)", action)
	}
	req, err := readRequest(*file)
	if err != nil {
		return err
	}
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	cu := customerActs{req: req, tracker: ticket.NewFile(cfg.TicketDir()), out: out}
	var simSide *simCustomer
	switch cfg.Cloud {
	case "sim":
		c := sim.Open(cfg.SimDir())
		simSide = &simCustomer{req: req, cloud: c, cu: c.Customer(req.Cloud, req.CustomerAccount)}
		cu.side = simSide
	case "aws":
		side, err := newMotoCustomer(ctx, cfg, req)
		if err != nil {
			return err
		}
		cu.side = side
	default:
		return fmt.Errorf("customer actions work on the simulated cloud and the moto stack only; this config uses %q", cfg.Cloud)
	}
	if simSide == nil && (action == "break-port" || action == "repair-port" || action == "show") {
		return fmt.Errorf("customer %s works on the simulated cloud only", action)
	}
	if *regionFlag != "" && action != "connect" {
		return usageError("--region is for customer connect")
	}
	if *regionsFlag != "" && action != "grant" {
		return usageError("--regions is for customer grant")
	}
	if (*regionFlag != "" || *regionsFlag != "") && simSide == nil {
		return fmt.Errorf("--region and --regions work on the simulated cloud only")
	}
	if *regionFlag != "" {
		simSide.cu = simSide.cu.InRegion(*regionFlag)
	} else if action == "connect" && simSide != nil && req.CustomerRegion != "" {
		// The request says where the customer connects from.
		simSide.cu = simSide.cu.InRegion(req.CustomerRegion)
	}
	switch action {
	case "connect":
		return cu.connect(ctx)
	case "grant":
		ports, err := parsePorts(*portsFlag, req.CustomerServicePorts)
		if err != nil {
			return err
		}
		var regions func(service string) error
		if list := splitList(*regionsFlag); len(list) > 0 {
			regions = func(service string) error {
				if err := simSide.cu.SetSupportedRegions(service, list); err != nil {
					return err
				}
				fmt.Fprintf(out, "Customer %s's %s takes consumers from %s too.\n", req.CustomerAccount, service, strings.Join(list, ", "))
				return nil
			}
		}
		return cu.grant(ctx, ports, splitList(*zonesFlag), regions)
	case "zones":
		if *zonesFlag == "" {
			return usageError("customer zones needs --zones NAME,NAME (the customer's zone names; `customer show` lists them)")
		}
		return cu.setZones(ctx, splitList(*zonesFlag))
	case "accept":
		return cu.decideReverse(ctx, true)
	case "reject":
		return cu.decideReverse(ctx, false)
	case "delete-endpoint":
		return cu.deleteEndpoint(ctx, *id)
	case "revoke":
		return cu.revoke(ctx)
	case "break-port", "repair-port":
		if *port == 0 {
			return usageError("customer %s needs --port N", action)
		}
		return cu.setPort(ctx, simSide, *port, action == "break-port")
	case "verify":
		return cu.verify(ctx, *ok, *detail)
	case "show":
		return cu.show(simSide)
	}
	return usageError("unknown customer action %q", action)
}

func parsePorts(s string, def []int) ([]int, error) {
	if s == "" {
		return def, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		p, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || p < 1 || p > 65535 {
			return nil, usageError("--ports: %q is not a port", f)
		}
		out = append(out, p)
	}
	return out, nil
}

func envRef(r request.Request) cloud.EnvRef {
	return cloud.EnvRef{Cloud: r.Cloud, Region: r.Region, Project: r.ProjectID, Environment: r.Environment}
}

func (c customerActs) connect(ctx context.Context) error {
	env, err := c.side.platform(ctx)
	if err != nil {
		return err
	}
	ep, err := c.side.connect(env.ServiceName)
	if err != nil {
		return fmt.Errorf("as customer %s: %w", c.req.CustomerAccount, err)
	}
	from := ""
	if s, ok := c.side.(*simCustomer); ok && s.cu.Region != "" && s.cu.Region != env.Region {
		from = " from " + s.cu.Region
	}
	fmt.Fprintf(c.out, "Customer %s created endpoint %s to %s%s (%s).\n", c.req.CustomerAccount, ep.ID, env.ServiceName, from, ep.State)
	return c.tell(ctx, workflows.SignalCustomerEndpointCreated, workflows.CustomerEvent{Detail: ep.ID},
		"We created endpoint "+ep.ID+" to your service.")
}

// grant allows the platform on the customer's service (creating it on the
// simulated cloud), puts it in the zones named, if any, and runs regions,
// if any, which sets the other regions it takes consumers from.
func (c customerActs) grant(ctx context.Context, ports []int, zones []string, regions func(service string) error) error {
	if c.req.CustomerEndpointService == "" {
		return usageError("the request has no customerEndpointService: grant is for bidirectional and outbound links")
	}
	env, err := c.side.platform(ctx)
	if err != nil {
		return err
	}
	if err := c.side.grant(c.req.CustomerEndpointService, env.Principal, ports); err != nil {
		return err
	}
	if regions != nil {
		if err := regions(c.req.CustomerEndpointService); err != nil {
			return err
		}
	}
	if len(zones) > 0 {
		if err := c.side.setZones(c.req.CustomerEndpointService, zones); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "Customer %s offers %s in zones %s.\n", c.req.CustomerAccount, c.req.CustomerEndpointService, strings.Join(zones, ", "))
	}
	fmt.Fprintf(c.out, "Customer %s allowed %s on %s (answering on ports %v).\n", c.req.CustomerAccount, env.Principal, c.req.CustomerEndpointService, ports)
	return c.tell(ctx, workflows.SignalCustomerAccessGranted, workflows.CustomerEvent{Detail: env.Principal},
		"Done: "+env.Principal+" is allowed on our service.")
}

// setZones moves the customer's service to the zones named (the customer's
// own zone names), and tells the workflow, which checks the zones again.
func (c customerActs) setZones(ctx context.Context, zones []string) error {
	if c.req.CustomerEndpointService == "" {
		return usageError("the request has no customerEndpointService: zones is for bidirectional and outbound links")
	}
	if err := c.side.setZones(c.req.CustomerEndpointService, zones); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "Customer %s offers %s in zones %s.\n", c.req.CustomerAccount, c.req.CustomerEndpointService, strings.Join(zones, ", "))
	return c.tell(ctx, workflows.SignalCustomerAccessGranted, workflows.CustomerEvent{Detail: "zones " + strings.Join(zones, ", ")},
		"Our load balancer now has subnets in "+strings.Join(zones, ", ")+".")
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func (c customerActs) decideReverse(ctx context.Context, accept bool) error {
	pending, err := c.side.pending(c.req.CustomerEndpointService)
	if err != nil {
		return err
	}
	if len(pending) == 0 {
		return fmt.Errorf("no endpoint waits for acceptance on %s yet: approve gate create-reverse-endpoint first (see `linkwright status`)", c.req.CustomerEndpointService)
	}
	verb := "accepted"
	if !accept {
		verb = "rejected"
	}
	for _, id := range pending {
		if err := c.side.decide(id, accept); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "Customer %s %s the platform's endpoint %s.\n", c.req.CustomerAccount, verb, id)
	}
	return c.tell(ctx, workflows.SignalCustomerConnectionAccepted, workflows.CustomerEvent{Detail: verb},
		"We "+verb+" your endpoint "+pending[0]+".")
}

// deleteEndpoint deletes the customer's endpoint (or endpoints) to the
// platform service, as a customer who gives up or cleans up would. Nobody
// tells the workflow: finding out is the live link's health check's job.
func (c customerActs) deleteEndpoint(ctx context.Context, id string) error {
	env, err := c.side.platform(ctx)
	if err != nil {
		return err
	}
	ids, err := c.side.endpointsTo(env.ServiceName)
	if err != nil {
		return fmt.Errorf("as customer %s: %w", c.req.CustomerAccount, err)
	}
	switch {
	case id != "" && !slices.Contains(ids, id):
		return fmt.Errorf("customer %s has no endpoint %s to %s (theirs: %s)", c.req.CustomerAccount, id, env.ServiceName, listOrNone(ids))
	case id != "":
		ids = []string{id}
	case len(ids) == 0:
		return fmt.Errorf("customer %s has no endpoint to %s: nothing to delete", c.req.CustomerAccount, env.ServiceName)
	}
	for _, id := range ids {
		if err := c.side.deleteEndpoint(id); err != nil {
			return fmt.Errorf("as customer %s: %w", c.req.CustomerAccount, err)
		}
		fmt.Fprintf(c.out, "Customer %s deleted endpoint %s to %s.\n", c.req.CustomerAccount, id, env.ServiceName)
	}
	fmt.Fprintf(c.out, "Linkwright was not told: %s finds it at its next health check.\n", c.req.WorkflowID())
	return nil
}

// revoke removes the platform principal from the customer's endpoint
// service, as a customer might by hand: the platform's endpoints into it
// stay as they are, but no new one can be made.
func (c customerActs) revoke(ctx context.Context) error {
	if c.req.CustomerEndpointService == "" {
		return usageError("the request has no customerEndpointService: revoke is for bidirectional links")
	}
	env, err := c.side.platform(ctx)
	if err != nil {
		return err
	}
	if err := c.side.revoke(c.req.CustomerEndpointService, env.Principal); err != nil {
		return fmt.Errorf("as customer %s: %w", c.req.CustomerAccount, err)
	}
	fmt.Fprintf(c.out, "Customer %s removed %s from %s.\n", c.req.CustomerAccount, env.Principal, c.req.CustomerEndpointService)
	fmt.Fprintf(c.out, "Linkwright was not told: %s finds it at its next health check.\n", c.req.WorkflowID())
	return nil
}

func listOrNone(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}

func (c customerActs) setPort(ctx context.Context, s *simCustomer, port int, broken bool) error {
	ids, err := s.reverseEndpoints()
	if err != nil {
		return err
	}
	for _, id := range ids {
		if broken {
			err = s.cu.BreakPort(id, port)
		} else {
			err = s.cu.RepairPort(id, port)
		}
		if err != nil {
			return err
		}
	}
	if broken {
		fmt.Fprintf(c.out, "Port %d of %s now refuses connections.\n", port, strings.Join(ids, ", "))
		return nil
	}
	fmt.Fprintf(c.out, "Port %d of %s answers again.\n", port, strings.Join(ids, ", "))
	return c.tell(ctx, workflows.SignalCustomerConnectionAccepted, workflows.CustomerEvent{Detail: "port " + strconv.Itoa(port) + " repaired"},
		fmt.Sprintf("We fixed port %d; please check again.", port))
}

// reverseEndpoints are the platform's live endpoints into the customer's service.
func (c *simCustomer) reverseEndpoints() ([]string, error) {
	eps, err := c.cu.Endpoints()
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, ep := range eps {
		if ep.Platform && !ep.State.Terminal() {
			ids = append(ids, ep.ID)
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("the platform has no endpoint into %s", c.req.CustomerEndpointService)
	}
	return ids, nil
}

func (c customerActs) verify(ctx context.Context, ok bool, detail string) error {
	msg := "Confirmed: the link works from our side."
	if !ok {
		msg = "The link does not work for us: " + detail
	}
	if detail != "" && ok {
		msg += " " + detail
	}
	return c.tell(ctx, workflows.SignalCustomerVerified, workflows.CustomerVerified{OK: ok, Detail: detail}, msg)
}

func (c customerActs) show(s *simCustomer) error {
	eps, err := s.cu.Endpoints()
	if err != nil {
		return err
	}
	if len(eps) == 0 {
		fmt.Fprintf(c.out, "Customer %s has no endpoints.\n", c.req.CustomerAccount)
	}
	for _, ep := range eps {
		var extra string
		if ep.Region != "" && ep.Region != c.req.Region && c.req.Region != "" {
			extra += "  in " + ep.Region
		}
		if ep.Bandwidth > 0 {
			extra += fmt.Sprintf("  bandwidth %d Mbps", ep.Bandwidth)
		}
		if ep.Platform {
			fmt.Fprintf(c.out, "%s  the platform's, into your %s  %s  %s (%s)%s\n", ep.ID, ep.Service, ep.State, ep.DNSName, strings.Join(ep.IPs, ", "), extra)
		} else {
			fmt.Fprintf(c.out, "%s  yours, to %s  %s%s\n", ep.ID, ep.Service, ep.State, extra)
		}
	}
	if c.req.Cloud == "alibaba" {
		return c.showAlibaba(s)
	}
	if names := s.cu.ZoneNames(c.req.Region); len(names) > 0 {
		keys := slices.Sorted(maps.Keys(names))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + names[k]
		}
		fmt.Fprintf(c.out, "Your availability zones in %s (name=ID): %s\n", c.req.Region, strings.Join(parts, " "))
	}
	return nil
}

// tell posts the customer's reply on the ticket and signals the workflow.
// A reply that cannot be posted is never dropped silently: the signal still
// goes, and the command fails saying what to post by hand.
func (c customerActs) tell(ctx context.Context, signal string, payload any, reply string) error {
	id := c.req.WorkflowID()
	cl, err := dial()
	if err != nil {
		return fmt.Errorf("the cloud action is done, but the workflow was not told: %w", err)
	}
	defer cl.Close()
	key, replyErr := c.ticketKey(ctx, cl, id)
	if replyErr == nil {
		replyErr = c.tracker.Comment(ctx, ticket.Comment{Ticket: key, Public: true, Author: c.req.Company + " (customer)", Body: reply})
	}
	if err := cl.SignalWorkflow(ctx, id, "", signal, payload); err != nil {
		return fmt.Errorf("the cloud action is done, but signal %s to %s failed: %w", signal, id, err)
	}
	fmt.Fprintf(c.out, "Signalled %s to %s.\n", signal, id)
	if replyErr != nil {
		return fmt.Errorf("the customer's reply was not posted on the ticket (%w); post it by hand: %q", replyErr, reply)
	}
	fmt.Fprintf(c.out, "Replied on ticket %s.\n", key)
	return nil
}

// ticketKey finds the enablement's ticket: from its status (asked a few
// times, as a worker may be restarting), else the ticket the request names.
func (c customerActs) ticketKey(ctx context.Context, cl interface {
	QueryWorkflow(ctx context.Context, workflowID, runID, queryType string, args ...any) (converter.EncodedValue, error)
}, id string) (string, error) {
	var last error
	for attempt := range 3 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(time.Duration(attempt) * 500 * time.Millisecond):
			}
		}
		v, err := cl.QueryWorkflow(ctx, id, "", workflows.QueryStatus)
		var st workflows.Status
		if err == nil {
			err = v.Get(&st)
		}
		if err == nil && st.Ticket != "" {
			return st.Ticket, nil
		}
		if err == nil {
			err = fmt.Errorf("%s has no ticket yet", id)
		}
		last = err
	}
	if c.req.Ticket != "" {
		return c.req.Ticket, nil
	}
	return "", fmt.Errorf("cannot find the ticket of %s: %w", id, last)
}

// showAlibaba lists what an Alibaba Cloud customer sees of zones and of
// their own service: zone IDs, which every account shares.
func (c customerActs) showAlibaba(s *simCustomer) error {
	if svc := c.req.CustomerEndpointService; svc != "" {
		info, err := s.cu.Service(svc)
		switch {
		case err == nil:
			fmt.Fprintf(c.out, "Your service %s is offered in zones %s; it takes consumers from %s.\n", svc, strings.Join(info.Zones, ", "),
				strings.Join(append([]string{c.serviceRegion(svc)}, info.Regions...), ", "))
		case cloud.IsNotFound(err):
			fmt.Fprintf(c.out, "Your service %s does not exist yet: customer grant creates it.\n", svc)
		default:
			return err
		}
	}
	if zones := sim.AlibabaZones(c.req.Region); len(zones) > 0 {
		fmt.Fprintf(c.out, "Zones in %s (zone IDs, the same in every account): %s\n", c.req.Region, strings.Join(zones, ", "))
	}
	return nil
}

// serviceRegion is the region in an Alibaba Cloud service name
// (com.aliyuncs.privatelink.<region>.epsrv-…), else the request's.
func (c customerActs) serviceRegion(name string) string {
	parts := strings.Split(name, ".")
	if len(parts) == 5 && strings.HasPrefix(parts[4], "epsrv-") {
		return parts[3]
	}
	return c.req.Region
}
