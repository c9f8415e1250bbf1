package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/linkwright/linkwright/internal/ticket"
)

type jsmComment struct {
	Body   string `json:"body"`
	Public bool   `json:"public"`
}

type jsmRequest struct {
	key, summary, status, category string
	comments                       []jsmComment
}

// fakeJSM checks requests against the Service Management REST API.
type fakeJSM struct {
	t        *testing.T
	mu       sync.Mutex
	requests map[string]*jsmRequest
	order    []string
}

func (f *fakeJSM) view(r *jsmRequest) map[string]any {
	return map[string]any{"issueKey": r.key, "requestFieldValues": []map[string]any{{"fieldId": "summary", "value": r.summary}},
		"currentStatus": map[string]any{"status": r.status, "statusCategory": r.category}}
}

func (f *fakeJSM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u, p, ok := r.BasicAuth(); !ok || u != "ops@platform.example" || p != "jtok" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var in map[string]any
	_ = json.NewDecoder(r.Body).Decode(&in)
	path := strings.TrimPrefix(r.URL.Path, "/rest/servicedeskapi/request")
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case path == "" && r.Method == http.MethodGet:
		q := r.URL.Query()
		require.Equal(f.t, "10", q.Get("serviceDeskId"))
		require.Equal(f.t, "OPEN_REQUESTS", q.Get("requestStatus"))
		var values []map[string]any
		for _, k := range f.order {
			rq := f.requests[k]
			if rq.category != "DONE" && strings.Contains(rq.summary, q.Get("searchTerm")) {
				values = append(values, f.view(rq))
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"values": values, "isLastPage": true})
	case path == "" && r.Method == http.MethodPost:
		require.Equal(f.t, "10", in["serviceDeskId"])
		require.Equal(f.t, "25", in["requestTypeId"])
		fields := in["requestFieldValues"].(map[string]any)
		key := fmt.Sprintf("PL-%d", len(f.requests)+1)
		rq := &jsmRequest{key: key, summary: fields["summary"].(string), status: "Waiting for support", category: "NEW"}
		f.requests[key] = rq
		f.order = append(f.order, key)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(f.view(rq))
	default:
		rq := f.requests[parts[0]]
		if rq == nil {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		switch {
		case len(parts) == 1:
			json.NewEncoder(w).Encode(f.view(rq))
		case parts[1] == "comment" && r.Method == http.MethodGet:
			json.NewEncoder(w).Encode(map[string]any{"values": rq.comments, "isLastPage": true})
		case parts[1] == "comment" && r.Method == http.MethodPost:
			rq.comments = append(rq.comments, jsmComment{Body: in["body"].(string), Public: in["public"].(bool)})
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{}`)
		case parts[1] == "transition" && r.Method == http.MethodGet:
			json.NewEncoder(w).Encode(map[string]any{"values": []map[string]string{{"id": "11", "name": "Pending"}, {"id": "21", "name": "Resolve this issue"}}})
		case parts[1] == "transition" && r.Method == http.MethodPost:
			switch in["id"] {
			case "11":
				rq.status, rq.category = "Pending", "INDETERMINATE"
			case "21":
				rq.status, rq.category = "Resolved", "DONE"
			}
			w.WriteHeader(http.StatusNoContent)
		}
	}
}

func setup(t *testing.T, o Options) (*Tracker, *fakeJSM) {
	f := &fakeJSM{t: t, requests: map[string]*jsmRequest{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	o.URL, o.Email, o.Token, o.ServiceDeskID, o.RequestTypeID = srv.URL, "ops@platform.example", "jtok", "10", "25"
	return New(o), f
}

func TestRequestLifecycle(t *testing.T) {
	tr, f := setup(t, Options{})
	ctx := context.Background()
	tk, err := tr.Open(ctx, ticket.OpenRequest{Company: "Acme Corp"})
	require.NoError(t, err)
	assert.Equal(t, "PL-1", tk.Key)
	assert.True(t, strings.HasSuffix(tk.URL, "/browse/PL-1"))
	again, err := tr.Open(ctx, ticket.OpenRequest{Company: "Acme Corp"})
	require.NoError(t, err)
	assert.Equal(t, "PL-1", again.Key)
	assert.Len(t, f.requests, 1)

	require.NoError(t, tr.Comment(ctx, ticket.Comment{Ticket: "PL-1", Public: true, Body: "hello", IdempotencyKey: "k"}))
	require.NoError(t, tr.Comment(ctx, ticket.Comment{Ticket: "PL-1", Public: true, Body: "hello", IdempotencyKey: "k"}))
	require.NoError(t, tr.Comment(ctx, ticket.Comment{Ticket: "PL-1", Body: "note", IdempotencyKey: "k2"}))
	cs := f.requests["PL-1"].comments
	require.Len(t, cs, 2)
	assert.True(t, cs[0].Public)
	assert.False(t, cs[1].Public, "internal comments are not public")

	require.NoError(t, tr.SetStatus(ctx, "PL-1", ticket.StatusPending))
	assert.Equal(t, "Pending", f.requests["PL-1"].status)
	require.NoError(t, tr.SetStatus(ctx, "PL-1", ticket.StatusPending), "already there: no transition")
	require.NoError(t, tr.SetStatus(ctx, "PL-1", ticket.StatusSolved))
	assert.Equal(t, "DONE", f.requests["PL-1"].category)

	next, err := tr.Open(ctx, ticket.OpenRequest{Company: "Acme Corp"})
	require.NoError(t, err)
	assert.Equal(t, "PL-2", next.Key, "a resolved request is not reused")
	_, err = tr.Open(ctx, ticket.OpenRequest{Key: "PL-99"})
	assert.ErrorIs(t, err, ticket.ErrNotFound)
}

func TestMissingTransitionIsAConfigError(t *testing.T) {
	tr, _ := setup(t, Options{Transitions: map[string]string{"pending": "Wait for customer"}})
	tk, err := tr.Open(context.Background(), ticket.OpenRequest{Company: "Acme"})
	require.NoError(t, err)
	err = tr.SetStatus(context.Background(), tk.Key, ticket.StatusPending)
	assert.ErrorIs(t, err, ticket.ErrConfig)
	assert.Contains(t, err.Error(), `no transition "Wait for customer"`)
	assert.Contains(t, err.Error(), "it has Pending, Resolve this issue")
}

func TestParseOptions(t *testing.T) {
	t.Setenv("JIRA_API_TOKEN", "")
	_, err := ParseOptions([]byte(`{"url": "https://acme.atlassian.net", "email": "a@b"}`))
	assert.ErrorContains(t, err, "API token (JIRA_API_TOKEN) are required")
	assert.ErrorContains(t, err, "jira.serviceDeskId and jira.requestTypeId are required")
}
