package sim

import (
	"fmt"
	"slices"

	"github.com/linkwright/linkwright/internal/cloud"
)

// Operator is a person acting by hand on the platform's side of one
// environment, behind Linkwright's back: what makes drift (a port closed,
// an account revoked) and failing health (targets unhealthy) for demos and
// tests. Each action that would change nothing is an error saying so, so
// that a mistyped port or account is not taken for a change.
type Operator struct {
	c   *Cloud
	ref cloud.EnvRef
}

// ByHand acts by hand on the platform environment ref.
func (c *Cloud) ByHand(ref cloud.EnvRef) Operator { return Operator{c: c, ref: ref} }

// ClosePort removes the port's listener from the platform's load balancer.
func (o Operator) ClosePort(port int) error {
	return o.c.update(func(t *tx) error {
		e, err := t.env(o.ref)
		if err != nil {
			return err
		}
		if !slices.Contains(e.OpenPorts, port) {
			return cloud.Errorf(cloud.NotFound, "ClosePort", "port %d is not open on %s (open: %v): nothing to close", port, o.ref, e.OpenPorts)
		}
		e.OpenPorts = slices.DeleteFunc(e.OpenPorts, func(p int) bool { return p == port })
		return t.putEnv(e)
	})
}

// RevokeAccount removes a customer account from the platform service's
// allowed principals. Its connections stay as they are, as on the clouds.
func (o Operator) RevokeAccount(account string) error {
	return o.c.update(func(t *tx) error {
		_, svc, err := t.platformService(o.ref)
		if err != nil {
			return err
		}
		p := customerPrincipal(o.ref.Cloud, normalizeAccount(o.ref.Cloud, account))
		if !slices.Contains(svc.Allowed, p) {
			return cloud.Errorf(cloud.NotFound, "RevokeAccount", "account %s is not allowed on %s: nothing to revoke", account, o.ref)
		}
		svc.Allowed = slices.DeleteFunc(svc.Allowed, func(a string) bool { return a == p })
		return t.putService(svc)
	})
}

// BreakTarget makes the platform's targets behind an open port fail their
// health checks, as a stopped backend would; RepairTarget undoes it.
func (o Operator) BreakTarget(port int) error { return o.setUnhealthy(port, true) }

// RepairTarget makes the targets behind a port healthy again.
func (o Operator) RepairTarget(port int) error { return o.setUnhealthy(port, false) }

func (o Operator) setUnhealthy(port int, unhealthy bool) error {
	return o.c.update(func(t *tx) error {
		e, err := t.env(o.ref)
		if err != nil {
			return err
		}
		switch was := slices.Contains(e.UnhealthyPorts, port); {
		case unhealthy && !slices.Contains(e.OpenPorts, port):
			return cloud.Errorf(cloud.NotFound, "BreakTarget", "port %d is not open on %s (open: %v): no targets serve it", port, o.ref, e.OpenPorts)
		case unhealthy && was:
			return cloud.Errorf(cloud.Conflict, "BreakTarget", "the targets of port %d on %s are unhealthy already", port, o.ref)
		case !unhealthy && !was:
			return cloud.Errorf(cloud.Conflict, "RepairTarget", "the targets of port %d on %s are not broken%s", port, o.ref, brokenOnes(e.UnhealthyPorts))
		case unhealthy:
			e.UnhealthyPorts = append(e.UnhealthyPorts, port)
			slices.Sort(e.UnhealthyPorts)
		default:
			e.UnhealthyPorts = slices.DeleteFunc(e.UnhealthyPorts, func(p int) bool { return p == port })
		}
		return t.putEnv(e)
	})
}

func brokenOnes(ports []int) string {
	if len(ports) == 0 {
		return " (none is)"
	}
	return fmt.Sprintf(" (broken: %v)", ports)
}
