package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/cloud/sim"
	"github.com/linkwright/linkwright/internal/devtest"
	"github.com/linkwright/linkwright/internal/request"
	"github.com/linkwright/linkwright/internal/ticket/trackertest"
	"github.com/linkwright/linkwright/workflows"
)

// A whole enablement's conversation lands on each ticket system, with the
// worker configured for it and pointed at a test server.
func TestIntegrationConversationOnEachTracker(t *testing.T) {
	c := devtest.Client(t)
	type fake interface {
		http.Handler
		Tickets() []trackertest.Ticket
	}
	zd, jira, sn, gh := trackertest.NewZendesk(t), trackertest.NewJira(t), trackertest.NewServiceNow(t), trackertest.NewGitHub(t)
	cases := []struct {
		tracker string
		fake    fake
		config  func(url string) []byte
		env     map[string]string
		solved  string
	}{
		{"zendesk", zd, func(u string) []byte { return []byte(`{"url": "` + u + `", "email": "` + zd.Email + `"}`) },
			map[string]string{"ZENDESK_API_TOKEN": zd.Token}, "solved"},
		{"jira", jira, func(u string) []byte {
			return []byte(`{"url": "` + u + `", "email": "` + jira.Email + `", "serviceDeskId": "10", "requestTypeId": "25"}`)
		}, map[string]string{"JIRA_API_TOKEN": jira.Token}, "Resolved"},
		{"servicenow", sn, func(u string) []byte { return []byte(`{"url": "` + u + `", "user": "` + sn.User + `"}`) },
			map[string]string{"SERVICENOW_PASSWORD": sn.Password}, "6"},
		{"github", gh, func(u string) []byte {
			return []byte(`{"owner": "` + gh.Owner + `", "repo": "` + gh.Repo + `", "apiUrl": "` + u + `/api/v3/"}`)
		}, map[string]string{"GITHUB_TOKEN": gh.Token}, "closed"},
	}
	for _, tc := range cases {
		t.Run(tc.tracker, func(t *testing.T) {
			srv := httptest.NewServer(tc.fake)
			defer srv.Close()
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			cfg := testConfig(t)
			cfg.Tracker = tc.tracker
			switch tc.tracker {
			case "zendesk":
				cfg.Zendesk = tc.config(srv.URL)
			case "jira":
				cfg.Jira = tc.config(srv.URL)
			case "servicenow":
				cfg.ServiceNow = tc.config(srv.URL)
			case "github":
				cfg.GitHub = tc.config(srv.URL)
			}
			stop := startWorker(t, c, cfg)
			defer stop()

			req := request.Request{
				Company: "Umbrella " + tc.tracker, RequestedBy: "sam@platform.example", ProjectID: "abcd1234efgh5", Environment: "staging",
				Cloud: "aws", Region: "us-east-1", CustomerAccount: "510000000001", ConnectionType: "unidirectional",
				Services: []request.Service{{Name: "mqtt", Port: 8883}},
			}
			id := req.WorkflowID()
			run := start(t, c, req)
			st := waitFor(t, c, id, "the customer's turn", phase(workflows.PhaseAwaitingConnection))
			env := platformService(t, cfg, cloud.EnvRef{Cloud: "aws", Project: req.ProjectID, Environment: req.Environment})
			_, err := sim.Open(cfg.SimDir()).Customer("aws", req.CustomerAccount).CreateEndpoint(env.ServiceName)
			require.NoError(t, err)
			signal(t, c, id, workflows.SignalCustomerEndpointCreated, nil)
			waitFor(t, c, id, "the gate", gate(workflows.GateAcceptConnection))
			_, err = update(c, id, workflows.Approve, workflows.Approval{Gate: workflows.GateAcceptConnection, Approver: alice})
			require.NoError(t, err)
			waitFor(t, c, id, "the customer's confirmation", phase(workflows.PhaseAwaitingConfirmation))
			signal(t, c, id, workflows.SignalCustomerVerified, workflows.CustomerVerified{OK: true})
			res, _ := completed(t, c, run)
			require.Equal(t, workflows.OutcomeCompleted, res.Outcome)

			tickets := tc.fake.Tickets()
			require.Len(t, tickets, 1, "one ticket for the enablement")
			tk := tickets[0]
			assert.Equal(t, st.Ticket, tk.Key)
			assert.Equal(t, "PrivateLink support for Umbrella "+tc.tracker, tk.Subject)
			assert.Equal(t, tc.solved, tk.Status, "solved at completion")
			var public, internal []string
			for _, cm := range tk.Comments {
				if cm.Public {
					public = append(public, cm.Body)
				} else {
					internal = append(internal, cm.Body)
				}
			}
			all := strings.Join(public, "\n---\n")
			assert.Contains(t, all, env.ServiceName, "the customer is told the service name")
			assert.Contains(t, all, "is live and verified")
			assert.Contains(t, strings.Join(internal, "\n"), "Decision needed (gate accept-connection)", "engineers get internal notes")
			assert.Contains(t, strings.Join(internal, "\n"), "/workflows/privatelink%2Fabcd1234efgh5%2Fstaging%2Faws", "with the Web UI link")
			for _, body := range tk.Comments {
				assert.NotContains(t, body.Body, tc.env[firstKey(tc.env)], "no credential on the ticket")
			}
		})
	}
}

func firstKey(m map[string]string) string {
	for k := range m {
		return k
	}
	return ""
}
