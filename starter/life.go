package main

// A link's life after day one: test it, change it, tear it down, adopt one
// built by hand, and list them all. Each command checks what it can
// locally and prints every problem before it sends anything.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/request"
	"github.com/linkwright/linkwright/workflows"
)

// The parts of the Temporal client each command uses, so that what a
// command sends can be checked without a server.
type (
	linkUpdater interface {
		UpdateWorkflow(ctx context.Context, options client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error)
	}
	linkQuerier interface {
		QueryWorkflow(ctx context.Context, workflowID, runID, queryType string, args ...any) (converter.EncodedValue, error)
	}
	linkChanger interface {
		linkQuerier
		linkUpdater
	}
	workflowStarter interface {
		ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
	}
	workflowLister interface {
		ListWorkflow(ctx context.Context, request *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error)
	}
)

// linkFlags names a link without a request file (-f names another file).
func (t *target) linkFlags(fs *flag.FlagSet) {
	fs.StringVar(&t.id, "w", "", "the link's workflow ID")
	fs.StringVar(&t.project, "project", "", "the project ID")
	fs.StringVar(&t.environment, "environment", "", "production or staging")
	fs.StringVar(&t.cloud, "cloud", "", "aws, azure or alibaba")
}

// linkID resolves a target set by linkFlags.
func (t *target) linkID(cmd string) (string, error) {
	if t.id == "" && (t.project == "" || t.environment == "" || t.cloud == "") {
		return "", usageError("%s needs the link: -w WORKFLOW_ID, or --project, --environment and --cloud", cmd)
	}
	return t.workflowID()
}

// update executes an update on the link and decodes its answer into res.
func update(ctx context.Context, c linkUpdater, id, name string, arg, res any) error {
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: id, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, res)
	}
	if err != nil {
		return fmt.Errorf("%s on %s refused: %w", name, id, err)
	}
	return nil
}

// --- test

func cmdTest(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("test")
	var t target
	t.flags(fs)
	port := fs.Int("port", 0, "the port to test (default: every port)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *port < 0 || *port > 65535 {
		return usageError("test: --port %d is not a TCP port (1-65535, or 0 for every port)", *port)
	}
	id, c, err := t.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	return testLink(ctx, c, id, *port, out)
}

// testLink runs test-connection on the link and prints the result per
// port; it fails when any port or the platform side does.
func testLink(ctx context.Context, c linkUpdater, id string, port int, out io.Writer) error {
	var res workflows.TestResult
	if err := update(ctx, c, id, workflows.UpdateTestConnection, workflows.TestConnection{Port: port}, &res); err != nil {
		return err
	}
	fmt.Fprintf(out, "Tested %s at %s:\n", id, since(res.Checked))
	failing := 0
	if len(res.Results) > 0 {
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  PORT\tRESULT\tOUTCOME\tDIAGNOSIS")
		for _, r := range res.Results {
			verdict := "ok"
			if !r.OK() {
				verdict = "FAILING"
				failing++
			}
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\n", r.Port, verdict, r.Outcome, r.Diagnosis)
		}
		tw.Flush()
	} else {
		fmt.Fprintln(out, "  no port to dial from the platform side (the link has no reverse connection)")
	}
	// A failing port's diagnosis is also among the problems: shown once.
	shown := map[string]bool{}
	for _, r := range res.Results {
		shown[r.Diagnosis] = true
	}
	for _, p := range res.Problems {
		if !shown[p] {
			fmt.Fprintf(out, "Problem: %s\n", p)
		}
	}
	switch {
	case failing > 0:
		return fmt.Errorf("%d of %d %s failing on %s", failing, len(res.Results), plural("port", len(res.Results)), id)
	case !res.OK:
		return fmt.Errorf("%s is not healthy: %s", id, orDash(strings.Join(res.Problems, "; ")))
	}
	fmt.Fprintf(out, "OK: every port tested connects.\n")
	return nil
}

// --- change

func cmdChange(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("change")
	var t target
	t.linkFlags(fs)
	file := fs.String("f", "", "the change request file")
	plan := fs.Bool("plan", false, "only plan: return the plan and change nothing")
	if err := parse(fs, args); err != nil {
		return err
	}
	id, err := t.linkID("change")
	if err != nil {
		return err
	}
	if *file == "" {
		return usageError("change needs -f CHANGE.json")
	}
	ch, err := readChange(*file, *plan)
	if err != nil {
		return err
	}
	c, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	return changeLink(ctx, c, id, ch, out)
}

// readChange reads and decodes a change file; plan asks for a dry run
// whatever the file says.
func readChange(path string, plan bool) (request.Change, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return request.Change{}, err
	}
	ch, err := request.DecodeChange(data)
	if err != nil {
		return ch, &invalidErr{fmt.Errorf("%s: %w\n\nNothing was sent.", path, err)}
	}
	if plan {
		ch.DryRun = true
	}
	return ch, nil
}

// changeLink checks the change against the link as its status shows it,
// sends it, and prints the plan and what to do next. Nothing is sent when
// the change is invalid for the link.
func changeLink(ctx context.Context, c linkChanger, id string, ch request.Change, out io.Writer) error {
	st, err := queryStatus(ctx, c, id)
	if err != nil {
		return err
	}
	if st.Spec == nil {
		return fmt.Errorf("%s is not a live link (phase %s): a change is for a link whose enablement has completed; see `linkwright status -w %s`",
			id, orDash(string(st.Phase)), id)
	}
	link := st.Spec.Link()
	if err := ch.Validate(link).Of("change"); err != nil {
		return &invalidErr{fmt.Errorf("%w\n\nNothing was sent.", err)}
	}
	ch = ch.Normalize(link.Cloud)
	var res workflows.ChangeResult
	if err := update(ctx, c, id, workflows.UpdateChange, ch, &res); err != nil {
		return err
	}
	what := "Change"
	if res.WorkflowID != "" {
		what += " " + res.WorkflowID
	}
	fmt.Fprintf(out, "%s: %s\n", what, ch.Summary())
	printPlan(out, res.Plan)
	switch {
	case res.DryRun || ch.DryRun:
		fmt.Fprintf(out, "Dry run: nothing was changed. To make the change, send it again without --plan:\n  linkwright change -w %s -f CHANGE.json\n", id)
	case res.Outcome != "":
		fmt.Fprintf(out, "Outcome: %s%s\n", res.Outcome, why(res.Why))
	default:
		fmt.Fprintf(out, "Next: an approver other than %s applies it (gate %s):\n  linkwright approve -w %s --gate %s --approver EMAIL\n",
			ch.RequestedBy, workflows.GateApplyChange, id, workflows.GateApplyChange)
		fmt.Fprintf(out, "or rejects it:\n  linkwright reject -w %s --gate %s --approver EMAIL --reason TEXT\n", id, workflows.GateApplyChange)
		fmt.Fprintf(out, "Follow it: linkwright status -w %s\n", id)
	}
	return nil
}

func queryStatus(ctx context.Context, c linkQuerier, id string) (workflows.Status, error) {
	var st workflows.Status
	v, err := c.QueryWorkflow(ctx, id, "", workflows.QueryStatus)
	if err == nil {
		err = v.Get(&st)
	}
	if err != nil {
		return st, fmt.Errorf("%s: %w", id, err)
	}
	return st, nil
}

func printPlan(out io.Writer, plan []workflows.PlanStep) {
	if len(plan) == 0 {
		fmt.Fprintln(out, "Plan: nothing to do.")
		return
	}
	fmt.Fprintln(out, "Plan:")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for i, s := range plan {
		detail := s.Action
		if s.Detail != "" {
			detail += ": " + s.Detail
		}
		fmt.Fprintf(tw, "  %d.\t[%s]\t%s\n", i+1, orDash(s.Who), detail)
	}
	tw.Flush()
}

func why(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// --- teardown

func cmdTeardown(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("teardown")
	var t target
	t.flags(fs)
	by := fs.String("requested-by", "", "your email")
	reason := fs.String("reason", "", "why the link goes")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required("teardown", map[string]string{"requested-by": *by, "reason": *reason}); err != nil {
		return err
	}
	td := request.Teardown{RequestedBy: *by, Reason: *reason}.Normalize()
	if err := td.Validate().Of("teardown"); err != nil {
		return &invalidErr{fmt.Errorf("%w\n\nNothing was sent.", err)}
	}
	id, c, err := t.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	return teardownLink(ctx, c, id, td, out)
}

// teardownLink asks the link for its teardown and prints the plan and what
// to do next.
func teardownLink(ctx context.Context, c linkUpdater, id string, td request.Teardown, out io.Writer) error {
	var res workflows.ChangeResult
	if err := update(ctx, c, id, workflows.UpdateTeardown, td, &res); err != nil {
		return err
	}
	fmt.Fprintf(out, "Teardown of %s requested by %s: %s\n", id, td.RequestedBy, td.Reason)
	if res.WorkflowID != "" {
		fmt.Fprintf(out, "It runs as %s.\n", res.WorkflowID)
	}
	printPlan(out, res.Plan)
	if res.Outcome != "" {
		fmt.Fprintf(out, "Outcome: %s%s\n", res.Outcome, why(res.Why))
		return nil
	}
	fmt.Fprintf(out, "Next: an approver other than %s confirms it (gate %s); nothing is removed before:\n  linkwright approve -w %s --gate %s --approver EMAIL\n",
		td.RequestedBy, workflows.GateTeardown, id, workflows.GateTeardown)
	fmt.Fprintf(out, "or keeps the link:\n  linkwright reject -w %s --gate %s --approver EMAIL --reason TEXT\n", id, workflows.GateTeardown)
	fmt.Fprintf(out, "Follow it: linkwright status -w %s\n", id)
	return nil
}

// --- adopt

func cmdAdopt(ctx context.Context, args []string, out io.Writer) error {
	file, data, dry, err := startFlags("adopt", "ADOPT.json", args)
	if err != nil {
		return err
	}
	ad, err := request.DecodeAdopt(data)
	if err == nil {
		err = ad.Validate().Of("adopt request")
	}
	if err != nil {
		return &invalidErr{fmt.Errorf("%s: %w\n\nNothing was started.", file, err)}
	}
	if dry {
		fmt.Fprintf(out, "%s is valid (the cloud is read, and the platform environment checked, when the adoption starts).\n", file)
		return nil
	}
	c, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	return startAdopt(ctx, c, ad, data, out)
}

// startAdopt starts PrivateLinkLive on the adopt request (its file's bytes,
// which the workflow decodes and checks again), refusing when a workflow
// already runs for the link.
func startAdopt(ctx context.Context, c workflowStarter, ad request.Adopt, data []byte, out io.Writer) error {
	id := ad.WorkflowID()
	run, err := c.ExecuteWorkflow(ctx, adoptOptions(ad), workflows.LiveWorkflow, json.RawMessage(data))
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return fmt.Errorf("a workflow for %s/%s on %s is already running (%s): the link is managed already (an enablement or a live link), nothing was started; see `linkwright status -w %s`",
			ad.ProjectID, ad.Environment, ad.Cloud, id, id)
	}
	if err != nil {
		return err
	}
	cfg, _ := config.Load()
	fmt.Fprintf(out, "Started the adoption of %s (run %s).\n", run.GetID(), run.GetRunID())
	fmt.Fprintf(out, "Linkwright reads the cloud, changing nothing, and shows the link it found (linkwright status -w %s).\n", id)
	fmt.Fprintf(out, "Next: an approver other than %s confirms it (gate %s):\n  linkwright approve -w %s --gate %s --approver EMAIL\n",
		ad.RequestedBy, workflows.GateAdopt, id, workflows.GateAdopt)
	fmt.Fprintf(out, "Web UI: %s/workflows/%s\n", strings.TrimRight(cfg.Policy.WebUI, "/"), url.PathEscape(run.GetID()))
	return nil
}

func adoptOptions(ad request.Adopt) client.StartWorkflowOptions {
	sas := []temporal.SearchAttributeUpdate{
		workflows.SAProject.ValueSet(ad.ProjectID), workflows.SAEnvironment.ValueSet(ad.Environment),
		workflows.SACloud.ValueSet(ad.Cloud), workflows.SACustomerAccount.ValueSet(ad.CustomerAccount),
	}
	if ad.Ticket != "" {
		sas = append(sas, workflows.SATicket.ValueSet(ad.Ticket))
	}
	return client.StartWorkflowOptions{
		ID:            ad.WorkflowID(),
		TaskQueue:     workflows.TaskQueue,
		StaticSummary: fmt.Sprintf("Adopt the PrivateLink of %s: %s/%s on %s", ad.Company, ad.ProjectID, ad.Environment, ad.Cloud),
		StaticDetails: adoptDetails(ad),
		// One workflow per link: never a second one beside a running link.
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		TypedSearchAttributes:                    temporal.NewSearchAttributes(sas...),
	}
}

func adoptDetails(ad request.Adopt) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** · adopted link (built by hand) · requested by %s\n\n", ad.Company, ad.RequestedBy)
	fmt.Fprintf(&b, "- Platform: %s/%s on %s %s\n- Customer accounts: %s\n", ad.ProjectID, ad.Environment, ad.Cloud, ad.Region, strings.Join(ad.CustomerAccounts(), ", "))
	for _, s := range ad.Services {
		fmt.Fprintf(&b, "- Service %s: port %d\n", s.Name, s.Port)
	}
	for _, e := range ad.ReverseEndpoints {
		fmt.Fprintf(&b, "- Reverse endpoint %s, ports %v\n", e.EndpointID, e.Ports)
	}
	return b.String()
}

// --- links

func cmdLinks(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("links")
	phase := fs.String("phase", "", "only links in this phase (e.g. live, degraded)")
	cloud := fs.String("cloud", "", "only links on this cloud (aws, azure, alibaba)")
	if err := parse(fs, args); err != nil {
		return err
	}
	q, err := linksQuery(*phase, *cloud)
	if err != nil {
		return err
	}
	c, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	rows, err := listLinks(ctx, c, q)
	if err != nil {
		return err
	}
	printLinks(out, rows)
	return nil
}

var filterRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// linksQuery is the visibility query for running links, filtered.
func linksQuery(phase, cloud string) (string, error) {
	q := fmt.Sprintf("WorkflowType IN ('%s','%s') AND ExecutionStatus = 'Running'", workflows.EnablementWorkflow, workflows.LiveWorkflow)
	for _, f := range []struct{ flag, attr, v string }{
		{"phase", workflows.SAPhase.GetName(), phase},
		{"cloud", workflows.SACloud.GetName(), cloud},
	} {
		v := strings.ToLower(strings.TrimSpace(f.v))
		if v == "" {
			continue
		}
		if !filterRe.MatchString(v) {
			return "", usageError("links: --%s %q is not a %s (lowercase letters, digits and dashes)", f.flag, f.v, f.flag)
		}
		q += fmt.Sprintf(" AND %s = '%s'", f.attr, v)
	}
	return q, nil
}

// linkRow is one line of `linkwright links`; "" is shown as "-".
type linkRow struct {
	ID, Project, Environment, Phase, Health, LastCheck, Customer, Cloud, Type, Ticket string
}

func listLinks(ctx context.Context, c workflowLister, query string) ([]linkRow, error) {
	var rows []linkRow
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, PageSize: 500, NextPageToken: token})
		if err != nil {
			return nil, fmt.Errorf("listing the links: %w", err)
		}
		for _, info := range resp.GetExecutions() {
			rows = append(rows, rowOf(info))
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			break
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].ID < rows[j].ID })
	return rows, nil
}

// healthMemo is the live link's memo field "health".
type healthMemo struct {
	Healthy   *bool     `json:"healthy"`
	LastCheck time.Time `json:"lastCheck"`
	Problems  int       `json:"problems"`
	// Status is an outbound link's: running or failed.
	Status string `json:"status"`
}

// rowOf reads a link's row from its search attributes and memo; whatever
// is missing or unreadable stays empty.
func rowOf(info *workflowpb.WorkflowExecutionInfo) linkRow {
	sa := info.GetSearchAttributes().GetIndexedFields()
	r := linkRow{
		ID:          info.GetExecution().GetWorkflowId(),
		Project:     keyword(sa, workflows.SAProject),
		Environment: keyword(sa, workflows.SAEnvironment),
		Cloud:       keyword(sa, workflows.SACloud),
		Customer:    keyword(sa, workflows.SACustomerAccount),
		Phase:       keyword(sa, workflows.SAPhase),
		Ticket:      keyword(sa, workflows.SATicket),
		Type:        keyword(sa, workflows.SAConnectionType),
	}
	if p := info.GetMemo().GetFields()["health"]; p != nil {
		var h healthMemo
		if memoConverter.FromPayload(p, &h) == nil {
			if h.Healthy != nil {
				r.Health = "failing"
				if *h.Healthy {
					r.Health = "healthy"
				} else if h.Problems > 0 {
					r.Health = fmt.Sprintf("failing (%d)", h.Problems)
				}
			}
			if h.Status != "" { // an outbound link shows what the customer sees
				r.Health = h.Status
				if h.Status == workflows.LinkFailed && h.Problems > 0 {
					r.Health = fmt.Sprintf("%s (%d)", h.Status, h.Problems)
				}
			}
			if !h.LastCheck.IsZero() {
				r.LastCheck = since(h.LastCheck)
			}
		}
	}
	return r
}

func keyword(sa map[string]*commonpb.Payload, key temporal.SearchAttributeKeyKeyword) string {
	p := sa[key.GetName()]
	if p == nil {
		return ""
	}
	var v any
	if converter.GetDefaultDataConverter().FromPayload(p, &v) != nil {
		return ""
	}
	switch v := v.(type) {
	case string:
		return v
	case []any: // a keyword list
		s := make([]string, len(v))
		for i, x := range v {
			s[i] = fmt.Sprint(x)
		}
		return strings.Join(s, ",")
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func printLinks(out io.Writer, rows []linkRow) {
	if len(rows) == 0 {
		fmt.Fprintln(out, "No running links match.")
		return
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LINK\tPHASE\tHEALTH\tLAST CHECK\tCUSTOMER\tCLOUD\tTYPE\tTICKET")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", orDash(r.ID), orDash(r.Phase), orDash(r.Health), orDash(r.LastCheck),
			orDash(r.Customer), orDash(r.Cloud), orDash(r.Type), orDash(r.Ticket))
	}
	tw.Flush()
	fmt.Fprintf(out, "%d %s.\n", len(rows), plural("link", len(rows)))
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

func plural(noun string, n int) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}
