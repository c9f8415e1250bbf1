// Command linkwright-motostack runs an AWS look-alike for trying Linkwright
// on its AWS provider without an AWS account: moto (EC2 and ELB), the
// extension for what moto lacks, and the platform environments of the
// walkthrough built in it. It writes a worker config pointing at it and
// serves until interrupted. `make run-aws` starts it.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/cloud/aws/awstest"
)

func main() {
	motoPort := flag.Int("moto-port", 4567, "moto's port on 127.0.0.1")
	extAddr := flag.String("listen", "127.0.0.1:4566", "where the AWS endpoint (the extension) listens")
	config := flag.String("config", ".state/aws/linkwright.json", "the worker config to write")
	flag.Parse()
	if err := run(*motoPort, *extAddr, *config); err != nil {
		fmt.Fprintln(os.Stderr, "linkwright-motostack:", err)
		os.Exit(1)
	}
}

func run(motoPort int, extAddr, configPath string) error {
	if err := awstest.MotoAvailable(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", extAddr)
	if err != nil {
		return fmt.Errorf("%s is taken (another stack running?): %w", extAddr, err)
	}
	motoURL, stopMoto, err := awstest.RunMoto(motoPort)
	if err != nil {
		return err
	}
	defer stopMoto()
	x, err := awstest.New(motoURL)
	if err != nil {
		return err
	}
	x.Loopback = true
	go x.Serve(ln)

	ctx := context.Background()
	var main awstest.Platform
	for i, e := range []struct{ project, env, region, plan string }{
		{"abcd1234efgh5", "production", "us-east-1", "pro"},
		{"abcd1234efgh5", "staging", "us-east-1", "pro"},
		{"start3r0000ab", "production", "us-east-1", "starter"},
	} {
		p, err := x.Build(ctx, cloud.EnvRef{Cloud: "aws", Region: e.region, Project: e.project, Environment: e.env}, e.plan)
		if err != nil {
			return fmt.Errorf("building %s/%s in moto: %w", e.project, e.env, err)
		}
		if i == 0 {
			main = p
		}
		fmt.Printf("platform %s/%s (%s, %s plan): endpoint service %s\n", e.project, e.env, e.region, e.plan, p.ServiceName)
	}
	cfg := map[string]any{
		"stateDir": filepath.Dir(configPath),
		"cloud":    "aws",
		"aws": map[string]any{
			"endpoint": x.URL(), "vpcId": main.VPCID, "subnetIds": main.SubnetIDs, "securityGroupIds": []string{main.SecurityGroupID},
		},
		"policy": map[string]any{
			"approvers":   []string{"oncall@platform.example", "netops@platform.example"},
			"pollInitial": "5s", "pollMax": "2m",
		},
	}
	data, _ := json.MarshalIndent(cfg, "", "  ")
	if err := os.MkdirAll(filepath.Dir(configPath), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(configPath, data, 0o644); err != nil {
		return err
	}
	fmt.Printf("AWS endpoint (moto + extension): %s\nworker config: %s\n", x.URL(), configPath)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	return nil
}
