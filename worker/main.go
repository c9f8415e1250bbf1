// Command linkwright-worker runs the PrivateLink workflows and activities
// on the task queue "privatelink": config -> Temporal client -> register ->
// run. Temporal client settings come from the standard TEMPORAL_* variables
// and config profiles; Linkwright's own from LINKWRIGHT_CONFIG.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/linkwright/linkwright/internal/app"
	"github.com/linkwright/linkwright/internal/approval"
	"github.com/linkwright/linkwright/internal/cloud/aws"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/logging"
	"github.com/linkwright/linkwright/internal/webhook"
	"github.com/linkwright/linkwright/workflows"
)

func main() {
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
	opts, err := envconfig.LoadDefaultClientOptions()
	if err != nil {
		return fmt.Errorf("temporal client settings: %w", err)
	}
	opts.Logger = logging.Temporal(log)
	c, err := client.Dial(opts)
	if err != nil {
		return fmt.Errorf("cannot reach Temporal at %s (start it with `make run`, or set TEMPORAL_ADDRESS): %w", orDefault(opts.HostPort, client.DefaultHostPort), err)
	}
	defer c.Close()
	w, stop, err := app.NewWorker(c, cfg, log)
	if err != nil {
		return err
	}
	defer stop()
	log.Info("worker starting", zap.String("taskQueue", workflows.TaskQueue), zap.String("cloud", cfg.Cloud),
		zap.String("tracker", cfg.Tracker), zap.String("stateDir", cfg.StateDir), zap.Strings("approvers", cfg.Policy.Approvers))
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
	// Run stops on SIGINT or SIGTERM, letting running activities finish.
	return w.Run(worker.InterruptCh())
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
