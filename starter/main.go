// Command linkwright is the operator's CLI: start an enablement from a
// request file, approve, reject, cancel, read its status; and, on the
// simulated cloud, act as the customer.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

const usage = `linkwright: the PrivateLink runbook's operator CLI

Usage:
  linkwright request  -f REQUEST.json [--dry-run]
  linkwright status   TARGET [--json]
  linkwright approve  TARGET --gate GATE --approver EMAIL [--comment TEXT] [--id-token JWT]
  linkwright reject   TARGET --gate GATE --approver EMAIL --reason TEXT [--id-token JWT]
  linkwright cancel   TARGET --approver EMAIL --reason TEXT [--id-token JWT]
  linkwright customer ACTION -f REQUEST.json [flags]   (simulated cloud only)
  linkwright links    [--phase P] [--cloud C]
  linkwright test     TARGET [--port N]
  linkwright change   LINK -f CHANGE.json [--plan]
  linkwright teardown TARGET --requested-by EMAIL --reason TEXT
  linkwright adopt    -f ADOPT.json [--dry-run]
  linkwright by-hand close-port|revoke-account|break-target|repair-target -f REQUEST.json [--port N] [--account A]   act by hand on the simulated platform (drift demos)
  linkwright codec-server [-listen 127.0.0.1:8081] [-allow-origin ORIGIN]... [-auth-token-file FILE]
  linkwright codec-keygen   print a new payload encryption key line for the key file

TARGET is -f REQUEST.json, -w WORKFLOW_ID, or --project P --environment E --cloud C.
LINK is -w WORKFLOW_ID, or --project P --environment E --cloud C.
Gates: accept-connection, create-reverse-endpoint, apply-change, teardown, repair-drift, adopt.

The live link (after its enablement, or adopted):
  links     list running links: phase, health, last check, customer, cloud, type, ticket
  test      test the connection now and show each port (exit 1 when one fails)
  change    check CHANGE.json against the link, send it, show the plan (--plan: plan only)
  teardown  ask for the link's removal; nothing goes before an approver confirms (gate teardown)
  adopt     manage a link built by hand: Linkwright reads the cloud, an approver confirms (gate adopt)

Customer actions (act as the customer named in the request, then tell the workflow):
  connect       create an endpoint to the platform's service [--region R: from another region, Alibaba Cloud]
  grant         allow the platform on the customer's endpoint service [--ports 5432] [--zones A,B]
                [--regions R: the other regions it takes consumers from, Alibaba Cloud]
  zones         put the customer's service in the zones named (--zones A,B; Alibaba Cloud: zone IDs)
  accept        accept the platform's endpoint into the customer's service
  reject        reject it
  break-port    make a port of the platform's endpoint refuse (--port N)
  repair-port   undo break-port (--port N)
  delete-endpoint  delete the customer's endpoint to the platform's service [--id ID]
  revoke        remove the platform's access to the customer's endpoint service
  verify        confirm on the ticket that the link works (--ok=false --detail TEXT to report a problem)
  show          list the customer's endpoints

Temporal settings come from TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and profiles;
Linkwright's own from LINKWRIGHT_CONFIG (the same file as the worker's).
Payloads are encrypted (AES-256-GCM) when LINKWRIGHT_CODEC_KEYS_FILE names the
worker's key file; codec-server decodes them for the Web UI and the Temporal CLI.
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// exit codes
const (
	exitOK      = 0
	exitFailed  = 1
	exitInvalid = 2
)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "request":
		err = cmdRequest(ctx, rest, stdout)
	case "status":
		err = cmdStatus(ctx, rest, stdout)
	case "approve", "reject", "cancel":
		err = cmdDecide(ctx, cmd, rest, stdout)
	case "customer":
		err = cmdCustomer(ctx, rest, stdout)
	case "links":
		err = cmdLinks(ctx, rest, stdout)
	case "test":
		err = cmdTest(ctx, rest, stdout)
	case "change":
		err = cmdChange(ctx, rest, stdout)
	case "teardown":
		err = cmdTeardown(ctx, rest, stdout)
	case "adopt":
		err = cmdAdopt(ctx, rest, stdout)
	case "by-hand":
		err = cmdByHand(ctx, args[1:], stdout)
	case "codec-server":
		err = cmdCodecServer(ctx, rest, stdout, stderr)
	case "codec-keygen":
		err = cmdCodecKeygen(rest, stdout)
	default:
		err = usageError("unknown command %q", cmd)
	}
	var ue *usageErr
	var inv *invalidErr
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "linkwright: %v\nRun `linkwright help` for usage.\n", err)
		return exitInvalid
	case errors.As(err, &inv):
		fmt.Fprintln(stderr, inv.Error())
		return exitInvalid
	default:
		fmt.Fprintf(stderr, "linkwright %s: %v\n", cmd, err)
		return exitFailed
	}
}

type usageErr struct{ msg string }

func (e *usageErr) Error() string { return e.msg }

func usageError(format string, args ...any) error { return &usageErr{fmt.Sprintf(format, args...)} }

// invalidErr is a request that failed validation.
type invalidErr struct{ err error }

func (e *invalidErr) Error() string { return e.err.Error() }

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return usageError("%s: %v", fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return usageError("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

func required(name string, vals map[string]string) error {
	var missing []string
	for flagName, v := range vals {
		if strings.TrimSpace(v) == "" {
			missing = append(missing, "--"+flagName)
		}
	}
	if len(missing) > 0 {
		return usageError("%s needs %s", name, strings.Join(slices.Sorted(slices.Values(missing)), ", "))
	}
	return nil
}

func since(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("Mon 2 Jan 15:04:05 MST")
}
