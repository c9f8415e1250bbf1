package sim

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/linkwright/linkwright/internal/cloud"
)

// Per-call times of the simulated cloud with a fleet present: n
// environments besides the seeded ones, each with a customer's pending
// connection. Run with
//
//	go test -run NONE -bench . -benchtime 200x ./internal/cloud/sim/

const fleetAccount = "123456789012"

var fleetSizes = []int{100, 5000}

type fleet struct {
	dir  string
	refs []cloud.EnvRef
	envs []cloud.Environment
}

func fleetRef(i int) cloud.EnvRef {
	return cloud.EnvRef{Cloud: "aws", Region: "us-east-1", Project: fmt.Sprintf("fleet%08d", i), Environment: "production"}
}

// forFleets runs fn on a fleet of each size, each built once for the
// benchmark (the benchmark function runs more than once).
func forFleets(b *testing.B, fn func(b *testing.B, c *Cloud, f *fleet)) {
	root := b.TempDir()
	fleets := map[int]*fleet{}
	for _, n := range fleetSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			f := fleets[n]
			if f == nil {
				f = &fleet{dir: filepath.Join(root, fmt.Sprint(n))}
				if err := seedFleet(Open(f.dir), n); err != nil {
					b.Fatal(err)
				}
				for i := range n {
					e, _ := fleetEnv(i)
					f.refs, f.envs = append(f.refs, e.EnvRef), append(f.envs, e.Environment)
				}
				fleets[n] = f
			}
			c := Open(f.dir)
			c.Settle = 0
			if _, err := c.Environment(context.Background(), f.refs[0]); err != nil { // opened before timing
				b.Fatal(err)
			}
			fn(b, c, f)
		})
	}
}

func BenchmarkEnvironment(b *testing.B) {
	forFleets(b, func(b *testing.B, c *Cloud, f *fleet) {
		ctx := context.Background()
		b.ResetTimer()
		for i := range b.N {
			if _, err := c.Environment(ctx, f.refs[(i*7919)%len(f.refs)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkConnections(b *testing.B) {
	forFleets(b, func(b *testing.B, c *Cloud, f *fleet) {
		ctx := context.Background()
		b.ResetTimer()
		for i := range b.N {
			conns, err := c.Connections(ctx, f.refs[(i*7919)%len(f.refs)], fleetAccount)
			if err != nil || len(conns) == 0 {
				b.Fatal(err, len(conns))
			}
		}
	})
}

func BenchmarkCreateEndpoint(b *testing.B) {
	forFleets(b, func(b *testing.B, c *Cloud, f *fleet) {
		cu := c.Customer("aws", fleetAccount)
		b.ResetTimer()
		for i := range b.N {
			if _, err := cu.CreateEndpoint(f.envs[(i*7919)%len(f.envs)].ServiceName); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAcceptConnections(b *testing.B) {
	forFleets(b, func(b *testing.B, c *Cloud, f *fleet) {
		ctx := context.Background()
		cu := c.Customer("aws", fleetAccount)
		type pending struct {
			ref cloud.EnvRef
			id  string
		}
		todo := make([]pending, b.N)
		for i := range todo {
			j := (i * 7919) % len(f.envs)
			ep, err := cu.CreateEndpoint(f.envs[j].ServiceName)
			if err != nil {
				b.Fatal(err)
			}
			todo[i] = pending{f.refs[j], ep.ID}
		}
		b.ResetTimer()
		for _, p := range todo {
			if err := c.AcceptConnections(ctx, p.ref, []string{p.id}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// seedFleet adds n environments, each with its service allowing
// fleetAccount and a pending connection from it, in one transaction.
func seedFleet(c *Cloud, n int) error {
	now := time.Now()
	return c.update(func(t *tx) error {
		for i := range n {
			e, svc := fleetEnv(i)
			if err := t.insertEnv(e); err != nil {
				return err
			}
			if err := t.putService(svc); err != nil {
				return err
			}
			if _, err := t.newEndpoint("aws", "us-east-1", fleetAccount, svc, now, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

func fleetEnv(i int) (*environment, *service) {
	ref := fleetRef(i)
	id := fmt.Sprintf("vpce-svc-fleet%012d", i)
	name := "com.amazonaws.vpce.us-east-1." + id
	e := &environment{Environment: cloud.Environment{EnvRef: ref, Plan: "pro", ServiceName: name, ServiceID: id,
		Principal: "arn:aws:iam::" + PlatformAWSAccount + ":root"}, Account: PlatformAWSAccount, OpenPorts: []int{3306}}
	svc := &service{Name: name, ID: id, Cloud: "aws", Owner: PlatformAWSAccount, Platform: true,
		Allowed: []string{customerPrincipal("aws", fleetAccount)}}
	return e, svc
}
