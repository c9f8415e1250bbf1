package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/linkwright/linkwright/internal/cloud/sim"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/workflows"
)

// byHandActions are what a person does by hand on the platform's side,
// behind Linkwright's back. They are not the customer's: the customer acts
// in their own account (cmdCustomer).
var byHandActions = []string{"close-port", "revoke-account", "break-target", "repair-target"}

// cmdByHand implements
//
//	linkwright by-hand close-port|revoke-account|break-target|repair-target -f REQUEST.json [--port N] [--account A]
//
// on the simulated cloud: a person closes a port, revokes an account, or
// breaks (and repairs) the platform's targets behind a port, in the
// environment the request names, so that demos and tests show drift and
// failing health checks. Nobody tells the workflow, as nobody would.
func cmdByHand(_ context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return usageError("by-hand needs an action: %s", strings.Join(byHandActions, ", "))
	}
	action := args[0]
	known := false
	for _, a := range byHandActions {
		known = known || a == action
	}
	if !known {
		return usageError("unknown by-hand action %q: use %s", action, strings.Join(byHandActions, ", "))
	}
	fs := newFlags("by-hand " + action)
	file := fs.String("f", "", "the request file naming the platform environment")
	port := fs.Int("port", 0, "the port (close-port, break-target, repair-target)")
	account := fs.String("account", "", "revoke-account: the account to revoke (default: the request's customer account)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *file == "" {
		return usageError("by-hand %s needs -f REQUEST.json (the request names the environment)", action)
	}
	if action != "revoke-account" && (*port < 1 || *port > 65535) {
		return usageError("by-hand %s needs --port N (1-65535)", action)
	}
	req, err := readRequest(*file)
	if err != nil {
		return err
	}
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	if cfg.Cloud != "sim" {
		return fmt.Errorf("by-hand actions change the simulated cloud only: they stand in for what a person does in the cloud's console; this config uses %q, where you would do it in the console itself", cfg.Cloud)
	}
	ref := envRef(req)
	op := sim.Open(cfg.SimDir()).ByHand(ref)
	switch action {
	case "close-port":
		if err := op.ClosePort(*port); err != nil {
			return err
		}
		fmt.Fprintf(out, "Closed port %d on %s by hand: its listener is gone.\n", *port, ref)
	case "revoke-account":
		a := *account
		if a == "" {
			a = req.CustomerAccount
		}
		if a == "" {
			return usageError("by-hand revoke-account needs --account A: the request names no customer account")
		}
		if err := op.RevokeAccount(a); err != nil {
			return err
		}
		fmt.Fprintf(out, "Revoked account %s on %s by hand: it may no longer connect.\n", a, ref)
	case "break-target":
		if err := op.BreakTarget(*port); err != nil {
			return err
		}
		fmt.Fprintf(out, "The targets of port %d on %s now fail their health checks.\n", *port, ref)
	case "repair-target":
		if err := op.RepairTarget(*port); err != nil {
			return err
		}
		fmt.Fprintf(out, "The targets of port %d on %s are healthy again.\n", *port, ref)
	}
	id := req.WorkflowID()
	fmt.Fprintf(out, "Linkwright was not told: %s finds it at its next health check (to check now: temporal workflow signal --workflow-id %s --name %s).\n",
		id, id, workflows.SignalCheckNow)
	return nil
}
