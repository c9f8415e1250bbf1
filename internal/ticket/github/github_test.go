package github

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/linkwright/linkwright/internal/ticket"
)

type issue struct {
	Number int              `json:"number"`
	Title  string           `json:"title"`
	Body   string           `json:"body"`
	State  string           `json:"state"`
	Labels []map[string]any `json:"labels"`
	URL    string           `json:"html_url"`
}

// fakeGitHub checks requests against the REST API (under an enterprise
// /api/v3 root) and keeps issues in memory.
type fakeGitHub struct {
	t        *testing.T
	mu       sync.Mutex
	issues   map[int]*issue
	comments map[int][]string
	creates  int
}

func (f *fakeGitHub) labels(i *issue) []string {
	var out []string
	for _, l := range i.Labels {
		out = append(out, l["name"].(string))
	}
	return out
}

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer ghtok" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message": "Bad credentials"}`)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/api/v3/repos/acme/privatelink/issues")
	var raw json.RawMessage
	_ = json.NewDecoder(r.Body).Decode(&raw)
	var in map[string]any
	var labelList []any
	if json.Unmarshal(raw, &in) != nil {
		_ = json.Unmarshal(raw, &labelList) // AddLabelsToIssue sends a bare array
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case path == "" && r.Method == http.MethodGet:
		require.Equal(f.t, "open", r.URL.Query().Get("state"))
		require.Equal(f.t, "privatelink", r.URL.Query().Get("labels"))
		var out []*issue
		for n := 1; n <= len(f.issues); n++ {
			if i := f.issues[n]; i.State == "open" {
				out = append(out, i)
			}
		}
		json.NewEncoder(w).Encode(out)
	case path == "" && r.Method == http.MethodPost:
		f.creates++
		n := len(f.issues) + 1
		i := &issue{Number: n, Title: in["title"].(string), Body: in["body"].(string), State: "open", URL: fmt.Sprintf("https://github.example/acme/privatelink/issues/%d", n)}
		for _, l := range in["labels"].([]any) {
			i.Labels = append(i.Labels, map[string]any{"name": l})
		}
		f.issues[n] = i
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(i)
	default:
		n, _ := strconv.Atoi(parts[0])
		i := f.issues[n]
		if i == nil {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"message": "Not Found"}`)
			return
		}
		switch {
		case len(parts) == 1 && r.Method == http.MethodGet:
			json.NewEncoder(w).Encode(i)
		case len(parts) == 1 && r.Method == http.MethodPatch:
			i.State = in["state"].(string)
			json.NewEncoder(w).Encode(i)
		case parts[1] == "comments" && r.Method == http.MethodGet:
			var out []map[string]any
			for k, b := range f.comments[n] {
				out = append(out, map[string]any{"id": k, "body": b})
			}
			json.NewEncoder(w).Encode(out)
		case parts[1] == "comments" && r.Method == http.MethodPost:
			f.comments[n] = append(f.comments[n], in["body"].(string))
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{"id": 1}`)
		case parts[1] == "labels" && r.Method == http.MethodPost:
			require.NotEmpty(f.t, labelList, "labels are sent as a JSON array")
			for _, l := range labelList {
				i.Labels = append(i.Labels, map[string]any{"name": l})
			}
			json.NewEncoder(w).Encode(i.Labels)
		case parts[1] == "labels" && r.Method == http.MethodDelete:
			name := strings.Join(parts[2:], "/")
			var kept []map[string]any
			for _, l := range i.Labels {
				if l["name"] != name {
					kept = append(kept, l)
				}
			}
			i.Labels = kept
			json.NewEncoder(w).Encode(kept)
		default:
			f.t.Errorf("unexpected %s %s", r.Method, r.URL)
		}
	}
}

func setup(t *testing.T, notes string) (*Tracker, *fakeGitHub) {
	f := &fakeGitHub{t: t, issues: map[int]*issue{}, comments: map[int][]string{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	tr, err := New(Options{Owner: "acme", Repo: "privatelink", Token: "ghtok", APIURL: srv.URL + "/api/v3/", InternalNotes: notes})
	require.NoError(t, err)
	return tr, f
}

func TestIssueLifecycle(t *testing.T) {
	tr, f := setup(t, "")
	ctx := context.Background()
	tk, err := tr.Open(ctx, ticket.OpenRequest{Company: "Acme Corp", Body: "requested"})
	require.NoError(t, err)
	assert.Equal(t, "1", tk.Key)
	assert.Equal(t, "https://github.example/acme/privatelink/issues/1", tk.URL)
	again, err := tr.Open(ctx, ticket.OpenRequest{Company: "Acme Corp"})
	require.NoError(t, err)
	assert.Equal(t, "1", again.Key, "a retried open finds the issue")
	assert.Equal(t, 1, f.creates)
	assert.Equal(t, []string{LabelPrivateLink}, f.labels(f.issues[1]))

	require.NoError(t, tr.Comment(ctx, ticket.Comment{Ticket: "1", Public: true, Body: "Your service name is X", IdempotencyKey: "k1"}))
	require.NoError(t, tr.Comment(ctx, ticket.Comment{Ticket: "1", Public: true, Body: "Your service name is X", IdempotencyKey: "k1"}), "a retry")
	require.NoError(t, tr.Comment(ctx, ticket.Comment{Ticket: "1", Body: "approved by ops", IdempotencyKey: "k2"}))
	require.Len(t, f.comments[1], 2)
	assert.Contains(t, f.comments[1][0], "<!-- linkwright:")
	assert.True(t, strings.HasPrefix(f.comments[1][1], "**Internal note (Linkwright, not for the customer)**"))

	require.NoError(t, tr.SetStatus(ctx, "1", ticket.StatusPending))
	assert.Contains(t, f.labels(f.issues[1]), LabelWaiting)
	require.NoError(t, tr.SetStatus(ctx, "1", ticket.StatusOpen))
	assert.NotContains(t, f.labels(f.issues[1]), LabelWaiting)
	require.NoError(t, tr.SetStatus(ctx, "1", ticket.StatusSolved))
	assert.Equal(t, "closed", f.issues[1].State)

	next, err := tr.Open(ctx, ticket.OpenRequest{Company: "Acme Corp"})
	require.NoError(t, err)
	assert.Equal(t, "2", next.Key, "a closed issue is not reused")
	_, err = tr.Open(ctx, ticket.OpenRequest{Key: "99"})
	assert.ErrorIs(t, err, ticket.ErrNotFound)
}

func TestInternalNotesCanBeKeptOffGitHub(t *testing.T) {
	tr, f := setup(t, "omit")
	tk, err := tr.Open(context.Background(), ticket.OpenRequest{Company: "Acme Corp"})
	require.NoError(t, err)
	require.NoError(t, tr.Comment(context.Background(), ticket.Comment{Ticket: tk.Key, Body: "internal"}))
	assert.Empty(t, f.comments[1])
}

func TestBadTokenSaysWhichCall(t *testing.T) {
	f := &fakeGitHub{t: t, issues: map[int]*issue{}, comments: map[int][]string{}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	tr, err := New(Options{Owner: "acme", Repo: "privatelink", Token: "wrong", APIURL: srv.URL + "/api/v3/"})
	require.NoError(t, err)
	_, err = tr.Open(context.Background(), ticket.OpenRequest{Company: "Acme"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "GitHub list issues on acme/privatelink")
	assert.Contains(t, err.Error(), "401 Bad credentials")
}

func TestParseOptions(t *testing.T) {
	t.Setenv("GITHUB_TOKEN", "")
	_, err := ParseOptions([]byte(`{"owner": "acme", "internalNotes": "shout"}`))
	assert.ErrorContains(t, err, "github.owner and github.repo are required")
	assert.ErrorContains(t, err, "set GITHUB_TOKEN")
	assert.ErrorContains(t, err, `github.internalNotes must be "comment" or "omit"`)
	t.Setenv("GITHUB_TOKEN", "t")
	o, err := ParseOptions([]byte(`{"owner": "acme", "repo": "pl"}`))
	require.NoError(t, err)
	assert.Equal(t, "t", o.Token)
}
