// Command linkwright-worker runs the PrivateLink workflows and activities
// on the task queue "privatelink": config -> Temporal client -> register ->
// run. Temporal client settings come from the standard TEMPORAL_* variables
// and config profiles; Linkwright's own from LINKWRIGHT_CONFIG.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	ossignal "os/signal"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.uber.org/zap"

	"github.com/linkwright/linkwright/internal/admin"
	"github.com/linkwright/linkwright/internal/app"
	"github.com/linkwright/linkwright/internal/approval"
	"github.com/linkwright/linkwright/internal/buildinfo"
	"github.com/linkwright/linkwright/internal/cloud/aws"
	"github.com/linkwright/linkwright/internal/codec"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/logging"
	"github.com/linkwright/linkwright/internal/telemetry"
	"github.com/linkwright/linkwright/internal/webhook"
	"github.com/linkwright/linkwright/workflows"
)

// version is the release, stamped at link time by the Makefile and the
// Dockerfile (-ldflags "-X main.version=..."); else the Git commit.
var version string

func main() {
	showVersion := flag.Bool("version", false, "print the build (the Worker Deployment build ID) and exit")
	flag.Parse()
	if *showVersion {
		fmt.Printf("linkwright-worker %s (%s)\n", buildinfo.ID(version), buildinfo.GoVersion())
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "linkwright-worker:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	log := logging.New()
	defer log.Sync()
	build := buildinfo.ID(version)
	opts, err := envconfig.LoadDefaultClientOptions()
	if err != nil {
		return fmt.Errorf("temporal client settings: %w", err)
	}
	opts.Logger = logging.Temporal(log)
	if opts.Identity == "" {
		// Readiness looks for this identity among the task queue's pollers.
		host, _ := os.Hostname()
		opts.Identity = fmt.Sprintf("%d@%s@linkwright-worker", os.Getpid(), host)
	}
	// Keys are validated before anything starts: a bad key file stops
	// the worker here, not at its first payload.
	payloads, err := codec.FromEnv()
	if err != nil {
		return err
	}
	if payloads != nil {
		opts.DataConverter = payloads.DataConverter()
	}
	tel, err := telemetry.Setup(context.Background(), telemetry.Options{ServiceName: "linkwright-worker", ServiceVersion: build,
		Metrics: cfg.Telemetry.MetricsOn(), Tracing: cfg.Telemetry.TracingOn(), Logger: log})
	if err != nil {
		return err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tel.Shutdown(ctx)
	}()
	tel.ClientOptions(&opts)

	// The admin port comes up first, so that liveness holds while the
	// worker connects; readiness waits for the worker to poll.
	adm := &admin.Server{}
	if cfg.Telemetry.MetricsOn() {
		adm.Metrics = tel.MetricsHandler()
	}
	adm.SetChecks([]admin.Check{{Name: "worker", Run: func(context.Context) error { return errors.New("starting: connecting to Temporal") }}})
	if cfg.Admin.Listen != "off" {
		ln, err := net.Listen("tcp", cfg.Admin.Listen)
		if err != nil {
			return fmt.Errorf("admin.listen %s: %w (set LINKWRIGHT_ADMIN_LISTEN to another address, or \"off\")", cfg.Admin.Listen, err)
		}
		srv := &http.Server{Handler: adm.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
				log.Error("admin port stopped", zap.Error(err))
			}
		}()
		defer srv.Close()
		log.Info("admin port listening", zap.String("addr", ln.Addr().String()),
			zap.Strings("paths", []string{admin.HealthzPath, admin.ReadyzPath, admin.MetricsPath}))
	}

	c, err := client.Dial(opts)
	if err != nil {
		return fmt.Errorf("cannot reach Temporal at %s (start it with `make run`, or set TEMPORAL_ADDRESS): %w", orDefault(opts.HostPort, client.DefaultHostPort), err)
	}
	defer c.Close()
	wopts := []app.Option{app.WithTelemetry(tel)}
	if payloads != nil {
		wopts = append(wopts, app.WithDataConverter(opts.DataConverter))
	}
	if cfg.Deployment.Name != "" {
		wopts = append(wopts, app.WithDeployment(app.Deployment(cfg.Deployment.Name, build)))
	}
	w, stop, err := app.NewWorker(c, cfg, log, wopts...)
	if err != nil {
		return err
	}
	defer stop()
	log.Info("worker starting", zap.String("taskQueue", workflows.TaskQueue), zap.String("cloud", cfg.Cloud),
		zap.String("tracker", cfg.Tracker), zap.String("stateDir", cfg.StateDir), zap.Strings("approvers", cfg.Policy.Approvers),
		zap.String("build", build), zap.String("deployment", cfg.Deployment.Name), zap.Bool("encryption", payloads != nil),
		zap.Bool("metrics", cfg.Telemetry.MetricsOn()), zap.Bool("tracing", tel.Tracing()))
	if payloads != nil {
		log.Info("payloads are encrypted", zap.String("activeKey", payloads.ActiveKeyID()))
	}
	if len(cfg.Policy.Approvers) == 0 {
		log.Warn("no approvers configured: every approval will be refused until policy.approvers is set in LINKWRIGHT_CONFIG")
	}
	if cfg.Webhooks.Listen != "" {
		var signer *approval.Signer // nil without a key: approvals from tickets are relayed unsigned
		if cfg.Webhooks.ApprovalKeyFile != "" {
			if signer, err = approval.NewSigner(cfg.Webhooks.ApprovalKeyFile); err != nil {
				return err
			}
		}
		rc := &webhook.Receiver{Signaler: c, Log: log, ZendeskSecret: cfg.Webhooks.ZendeskSecret, GitHubSecret: cfg.Webhooks.GitHubSecret,
			JiraSecret: cfg.Webhooks.JiraSecret, ServiceNowSecret: cfg.Webhooks.ServiceNowSecret,
			Signer: signer, Agents: cfg.Webhooks.Agents}
		rc.SNSTopicARNs = cfg.Webhooks.SNSTopicARNs
		if len(rc.SNSTopicARNs) > 0 && cfg.Cloud == "aws" {
			// The connection notification names the endpoint; its owner,
			// the customer account the links are found by, is read back.
			awsOpts, err := aws.ParseOptions(cfg.AWS)
			if err != nil {
				return err
			}
			p, err := aws.New(context.Background(), awsOpts)
			if err != nil {
				return err
			}
			rc.SNSEndpointOwner = p.EndpointOwner
		}
		srv := &http.Server{Addr: cfg.Webhooks.Listen, Handler: rc.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
				log.Error("webhook receiver stopped", zap.Error(err))
			}
		}()
		defer srv.Close()
		log.Info("webhook receiver listening", zap.String("addr", cfg.Webhooks.Listen),
			zap.Bool("zendesk", cfg.Webhooks.ZendeskSecret != ""), zap.Bool("github", cfg.Webhooks.GitHubSecret != ""),
			zap.Bool("jira", cfg.Webhooks.JiraSecret != ""), zap.Bool("servicenow", cfg.Webhooks.ServiceNowSecret != ""),
			zap.Bool("signedApprovals", signer != nil), zap.Strings("snsTopics", rc.SNSTopicARNs))
	}
	ctx, cancel := ossignal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if err := w.Start(); err != nil {
		return err
	}
	r := app.NewReadiness(c, opts.Identity)
	r.Started()
	adm.SetChecks(r.Checks())
	if cfg.Deployment.Promote {
		go func() {
			if err := app.Promote(ctx, c, cfg.Deployment.Name, build, 2*time.Second, log); err != nil && ctx.Err() == nil {
				log.Error("promote", zap.Error(err))
			}
		}()
	}
	// SIGINT or SIGTERM: readiness fails at once, then the workers stop,
	// letting running activities finish (app.WorkerStopTimeout).
	<-ctx.Done()
	log.Info("stopping: finishing running activities", zap.Duration("upTo", app.WorkerStopTimeout))
	adm.Stopping()
	w.Stop()
	return nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
