package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/converter"

	"github.com/linkwright/linkwright/internal/codec"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/request"
	"github.com/linkwright/linkwright/workflows"
)

// target names the enablement a command acts on.
type target struct {
	file, id, project, environment, cloud string
}

func (t *target) flags(fs *flag.FlagSet) {
	fs.StringVar(&t.file, "f", "", "the request file")
	fs.StringVar(&t.id, "w", "", "the workflow ID")
	fs.StringVar(&t.project, "project", "", "the project ID")
	fs.StringVar(&t.environment, "environment", "", "production or staging")
	fs.StringVar(&t.cloud, "cloud", "", "aws, azure or alibaba")
}

// workflowID resolves the target to the enablement's workflow ID.
func (t *target) workflowID() (string, error) {
	switch {
	case t.id != "":
		return t.id, nil
	case t.file != "":
		req, err := readRequest(t.file)
		if err != nil {
			return "", err
		}
		return req.WorkflowID(), nil
	case t.project != "" && t.environment != "" && t.cloud != "":
		return request.WorkflowID(t.project, strings.ToLower(t.environment), strings.ToLower(t.cloud)), nil
	}
	return "", usageError("name the enablement: -f REQUEST.json, -w WORKFLOW_ID, or --project, --environment and --cloud")
}

// connect resolves the target and dials Temporal.
func (t *target) connect() (string, client.Client, error) {
	id, err := t.workflowID()
	if err != nil {
		return "", nil, err
	}
	c, err := dial()
	return id, c, err
}

// readRequest reads and decodes a request file (without validating it).
func readRequest(path string) (request.Request, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return request.Request{}, err
	}
	req, err := request.Decode(data)
	if err != nil {
		return req, &invalidErr{err}
	}
	return req, nil
}

// memoConverter decodes the memos the CLI reads off listings (a live
// link's health): the client's converter, encrypted when keys are set.
var memoConverter = converter.GetDefaultDataConverter()

func dial() (client.Client, error) {
	opts, err := envconfig.LoadDefaultClientOptions()
	if err != nil {
		return nil, fmt.Errorf("temporal client settings: %w", err)
	}
	opts.Logger = quietLogger{}
	// Encrypted payloads: the worker's keys, when set (none: plaintext).
	cdc, err := codec.FromEnv()
	if err != nil {
		return nil, fmt.Errorf("payload encryption: %w", err)
	}
	if cdc != nil {
		opts.DataConverter = cdc.DataConverter()
		memoConverter = opts.DataConverter
	}
	c, err := client.Dial(opts)
	if err != nil {
		host := opts.HostPort
		if host == "" {
			host = client.DefaultHostPort
		}
		return nil, fmt.Errorf("cannot reach Temporal at %s (is `make run` running? or set TEMPORAL_ADDRESS): %w", host, err)
	}
	return c, nil
}

// startFlags parses the flags of a command that starts a workflow from a
// file (request, adopt): -f FILE and --dry-run; it reads the file.
func startFlags(name, file string, args []string) (path string, data []byte, dry bool, err error) {
	fs := newFlags(name)
	f := fs.String("f", "", "the "+name+" file")
	d := fs.Bool("dry-run", false, "validate only")
	if err := parse(fs, args); err != nil {
		return "", nil, false, err
	}
	if *f == "" {
		return "", nil, false, usageError("%s needs -f %s", name, file)
	}
	data, err = os.ReadFile(*f)
	return *f, data, *d, err
}

func cmdRequest(ctx context.Context, args []string, out io.Writer) error {
	file, data, dry, err := startFlags("request", "REQUEST.json", args)
	if err != nil {
		return err
	}
	req, err := request.Decode(data)
	if err == nil {
		err = req.Validate().Err()
	}
	if err != nil {
		return &invalidErr{fmt.Errorf("%w\n\nNothing was started.", err)}
	}
	if dry {
		fmt.Fprintf(out, "%s is valid (the platform environment's plan and region are checked when it starts).\n", file)
		return nil
	}
	c, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:            req.WorkflowID(),
		TaskQueue:     workflows.TaskQueue,
		StaticSummary: fmt.Sprintf("PrivateLink for %s: %s/%s on %s", req.Company, req.ProjectID, req.Environment, req.Cloud),
		StaticDetails: staticDetails(req),
		// One enablement per environment and cloud at a time.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, workflows.EnablementWorkflow, json.RawMessage(data))
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return alreadyRunning(ctx, c, req)
	}
	if err != nil {
		return err
	}
	cfg, _ := config.Load()
	fmt.Fprintf(out, "Started %s (run %s).\nWeb UI: %s/workflows/%s\nFollow it: linkwright status -w %s\n",
		run.GetID(), run.GetRunID(), strings.TrimRight(cfg.Policy.WebUI, "/"), url.PathEscape(run.GetID()), run.GetID())
	return nil
}

// alreadyRunning explains why a request found its workflow ID taken: an
// enablement under way, or a live link that is changed rather than requested
// again.
func alreadyRunning(ctx context.Context, c client.Client, req request.Request) error {
	id := req.WorkflowID()
	if d, err := c.DescribeWorkflowExecution(ctx, id, ""); err == nil && d.GetWorkflowExecutionInfo().GetType().GetName() == workflows.LiveWorkflow {
		return fmt.Errorf("%s/%s on %s is already a live link (%s): change it with `linkwright change -w %s -f change.json`, or tear it down first with `linkwright teardown -w %s`",
			req.ProjectID, req.Environment, req.Cloud, id, id, id)
	}
	return fmt.Errorf("an enablement for %s/%s on %s is already running (%s): one at a time per environment and cloud; see `linkwright status -w %s`",
		req.ProjectID, req.Environment, req.Cloud, id, id)
}

func staticDetails(r request.Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** · %s link · requested by %s\n\n", r.Company, r.ConnectionType, r.RequestedBy)
	fmt.Fprintf(&b, "- Platform: %s/%s on %s %s\n- Customer account: %s\n", r.ProjectID, r.Environment, r.Cloud, r.Region, r.CustomerAccount)
	for _, s := range r.Services {
		fmt.Fprintf(&b, "- Service %s: port %d\n", s.Name, s.Port)
	}
	if r.Reaches() {
		fmt.Fprintf(&b, "- Customer service: %s, ports %v\n", r.CustomerEndpointService, r.CustomerServicePorts)
	}
	return b.String()
}

func cmdStatus(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("status")
	var t target
	t.flags(fs)
	asJSON := fs.Bool("json", false, "print the status as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	id, c, err := t.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	v, err := c.QueryWorkflow(ctx, id, "", workflows.QueryStatus)
	if err != nil {
		return fmt.Errorf("%s: %w", id, err)
	}
	var st workflows.Status
	if err := v.Get(&st); err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	printStatus(out, st)
	return nil
}

func printStatus(out io.Writer, st workflows.Status) {
	fmt.Fprintf(out, "%s  %s  %s\n", st.WorkflowID, st.Company, st.ConnectionType)
	fmt.Fprintf(out, "Phase:      %s (waiting on %s since %s)\n", st.Phase, st.WaitingOn, since(st.Since))
	fmt.Fprintf(out, "Next:       %s\n", st.Next)
	if st.Gate != "" {
		fmt.Fprintf(out, "Open gate:  %s\n", st.Gate)
	}
	esc := "no"
	if st.Escalated {
		esc = "yes"
	}
	if !st.Deadline.IsZero() {
		fmt.Fprintf(out, "Target:     %s (escalated: %s)\n", since(st.Deadline), esc)
	}
	if st.Activity != "" {
		fmt.Fprintf(out, "Under way:  %s\n", st.Activity)
	}
	if st.LinkStatus != "" {
		fmt.Fprintf(out, "Status:     %s", st.LinkStatus)
		if st.LinkStatusReason != "" {
			fmt.Fprintf(out, ": %s", st.LinkStatusReason)
		}
		fmt.Fprintln(out)
	}
	if h := st.Health; h != nil {
		state := "healthy"
		if !h.Healthy {
			state = fmt.Sprintf("degraded since %s", since(h.Since))
		}
		fmt.Fprintf(out, "Health:     %s (last check %s, %d checks this run)\n", state, since(h.LastCheck), h.Checks)
		for _, p := range h.Problems {
			fmt.Fprintf(out, "  problem:  %s\n", p)
		}
		for _, d := range h.Drift {
			fmt.Fprintf(out, "  drift:    %s (repair: %s)\n", d.What, d.Repair)
		}
		for _, r := range h.Verification {
			fmt.Fprintf(out, "  port %-6d %-10s %s\n", r.Port, r.Outcome, r.Diagnosis)
		}
	}
	if sp := st.Spec; sp != nil {
		var svcs []string
		for _, v := range sp.Services {
			svcs = append(svcs, fmt.Sprintf("%s:%d", v.Name, v.Port))
		}
		if sp.ConnectionType == request.Outbound {
			fmt.Fprintf(out, "Spec:       outbound; customer %s\n", strings.Join(sp.Customer, ", "))
		} else {
			fmt.Fprintf(out, "Spec:       ports %s; accounts %s\n", strings.Join(svcs, ", "), strings.Join(sp.Accounts, ", "))
		}
		for _, r := range sp.Reverse {
			fmt.Fprintf(out, "            reverse %s -> %s on %v\n", r.EndpointID, r.Service, r.Ports)
		}
	}
	if st.Ticket != "" {
		fmt.Fprintf(out, "Ticket:     %s %s\n", st.Ticket, st.TicketURL)
	}
	if st.ServiceName != "" && st.ConnectionType != request.Outbound { // an outbound link offers no service
		fmt.Fprintf(out, "Service:    %s\n", st.ServiceName)
	}
	if len(st.CustomerEndpoints) > 0 {
		fmt.Fprintf(out, "Customer endpoints: %s\n", strings.Join(st.CustomerEndpoints, ", "))
	}
	if st.ReverseEndpointID != "" {
		fmt.Fprintf(out, "Reverse endpoint:   %s (%s)\n", st.ReverseEndpointID, st.ReverseDNSName)
	}
	for _, p := range st.PlatformProblems {
		fmt.Fprintf(out, "Problem:    %s\n", p)
	}
	if len(st.Verification) > 0 {
		fmt.Fprintln(out, "Verification:")
		for _, r := range st.Verification {
			fmt.Fprintf(out, "  %-6d %-10s %s\n", r.Port, r.Outcome, r.Diagnosis)
		}
	}
	for _, p := range st.Problems {
		fmt.Fprintf(out, "Invalid:    %s\n", p)
	}
	if st.Outcome != "" {
		fmt.Fprintf(out, "Outcome:    %s\n", st.Outcome)
	}
	fmt.Fprintln(out, "Audit:")
	for _, a := range st.Audit {
		line := fmt.Sprintf("  %s  %-28s %s", a.At.UTC().Format("01-02 15:04:05"), a.Actor, a.Action)
		if a.Detail != "" {
			line += ": " + a.Detail
		}
		fmt.Fprintln(out, line)
	}
}

func cmdDecide(ctx context.Context, kind string, args []string, out io.Writer) error {
	fs := newFlags(kind)
	var t target
	t.flags(fs)
	gate := fs.String("gate", "", "the gate")
	approver := fs.String("approver", "", "your email")
	comment := fs.String("comment", "", "a comment (approve)")
	reason := fs.String("reason", "", "the reason (reject, cancel)")
	token := fs.String("id-token", os.Getenv("LINKWRIGHT_ID_TOKEN"), "your OIDC ID token, when the worker requires signed approvals (default $LINKWRIGHT_ID_TOKEN)")
	if err := parse(fs, args); err != nil {
		return err
	}
	// With a token the approver is its verified e-mail: --approver may be left out.
	who := *approver
	if *token != "" && who == "" {
		who = "-"
	}
	var payload any
	switch kind {
	case workflows.Approve:
		if err := required(kind, map[string]string{"gate": *gate, "approver": who}); err != nil {
			return err
		}
		payload = workflows.Approval{Gate: *gate, Approver: *approver, Comment: *comment, IDToken: *token}
	case workflows.Reject:
		if err := required(kind, map[string]string{"gate": *gate, "approver": who, "reason": *reason}); err != nil {
			return err
		}
		payload = workflows.Rejection{Gate: *gate, Approver: *approver, Reason: *reason, IDToken: *token}
	case workflows.Cancel:
		if err := required(kind, map[string]string{"approver": who, "reason": *reason}); err != nil {
			return err
		}
		payload = workflows.Cancellation{Approver: *approver, Reason: *reason, IDToken: *token}
	}
	id, c, err := t.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: id, UpdateName: kind, Args: []any{payload}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return fmt.Errorf("%s refused: %w", kind, err)
	}
	var st workflows.Status
	if err := h.Get(ctx, &st); err != nil {
		return fmt.Errorf("%s refused: %w", kind, err)
	}
	fmt.Fprintf(out, "%s accepted for %s.\n", kind, id)
	printStatus(out, st)
	return nil
}
