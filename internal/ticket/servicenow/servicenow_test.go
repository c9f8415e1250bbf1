package servicenow

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

type snRecord struct {
	record
	fields   map[string]string
	comments []string
	notes    []string
}

// fakeSN checks requests against the Table API.
type fakeSN struct {
	t       *testing.T
	mu      sync.Mutex
	records []*snRecord
}

func (f *fakeSN) find(pred func(*snRecord) bool) []record {
	var out []record
	for _, r := range f.records {
		if pred(r) {
			out = append(out, r.record)
		}
	}
	return out
}

func (f *fakeSN) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u, p, ok := r.BasicAuth(); !ok || u != "linkwright" || p != "pw" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":{"message":"User Not Authenticated"}}`)
		return
	}
	var in map[string]string
	_ = json.NewDecoder(r.Body).Decode(&in)
	q := r.URL.Query().Get("sysparm_query")
	switch {
	case r.URL.Path == "/api/now/table/incident" && r.Method == http.MethodGet:
		require.Equal(f.t, fields, r.URL.Query().Get("sysparm_fields"))
		var out []record
		switch {
		case strings.HasPrefix(q, "number="):
			out = f.find(func(x *snRecord) bool { return x.Number == strings.TrimPrefix(q, "number=") })
		default:
			desc, _, _ := strings.Cut(strings.TrimPrefix(q, "short_description="), "^active=true")
			out = f.find(func(x *snRecord) bool { return x.ShortDescription == desc && x.Active == "true" })
		}
		json.NewEncoder(w).Encode(map[string]any{"result": out})
	case r.URL.Path == "/api/now/table/incident" && r.Method == http.MethodPost:
		n := len(f.records) + 1
		rec := &snRecord{record: record{SysID: fmt.Sprintf("sys%d", n), Number: fmt.Sprintf("INC%07d", n), ShortDescription: in["short_description"], State: "1", Active: "true"}}
		f.records = append(f.records, rec)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"result": rec.record})
	case r.URL.Path == "/api/now/table/sys_journal_field":
		id, ref, _ := strings.Cut(strings.TrimPrefix(q, "element_id="), "^valueLIKE")
		var out []map[string]string
		for _, x := range f.records {
			if x.SysID == id {
				for _, b := range append(append([]string{}, x.comments...), x.notes...) {
					if strings.Contains(b, ref) {
						out = append(out, map[string]string{"sys_id": "j1"})
					}
				}
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"result": out})
	case strings.HasPrefix(r.URL.Path, "/api/now/table/incident/") && r.Method == http.MethodPatch:
		id := strings.TrimPrefix(r.URL.Path, "/api/now/table/incident/")
		for _, x := range f.records {
			if x.SysID == id {
				if v, ok := in["comments"]; ok {
					x.comments = append(x.comments, v)
				}
				if v, ok := in["work_notes"]; ok {
					x.notes = append(x.notes, v)
				}
				if v, ok := in["state"]; ok {
					x.State = v
					x.fields = in
					if v == "6" {
						x.Active = "false"
					}
				}
			}
		}
		fmt.Fprint(w, `{"result":{}}`)
	default:
		f.t.Errorf("unexpected %s %s", r.Method, r.URL)
	}
}

func setup(t *testing.T) (*Tracker, *fakeSN) {
	f := &fakeSN{t: t}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return New(Options{URL: srv.URL, User: "linkwright", Password: "pw"}), f
}

func TestRecordLifecycle(t *testing.T) {
	tr, f := setup(t)
	ctx := context.Background()
	tk, err := tr.Open(ctx, ticket.OpenRequest{Company: "Acme Corp"})
	require.NoError(t, err)
	assert.Equal(t, "INC0000001", tk.Key)
	assert.Contains(t, tk.URL, "nav_to.do?uri=incident.do%3Fsys_id%3Dsys1")
	again, err := tr.Open(ctx, ticket.OpenRequest{Company: "Acme Corp"})
	require.NoError(t, err)
	assert.Equal(t, tk.Key, again.Key)
	require.Len(t, f.records, 1)

	require.NoError(t, tr.Comment(ctx, ticket.Comment{Ticket: tk.Key, Public: true, Body: "hello", IdempotencyKey: "k"}))
	require.NoError(t, tr.Comment(ctx, ticket.Comment{Ticket: tk.Key, Public: true, Body: "hello", IdempotencyKey: "k"}))
	require.NoError(t, tr.Comment(ctx, ticket.Comment{Ticket: tk.Key, Body: "approved", IdempotencyKey: "k2"}))
	assert.Len(t, f.records[0].comments, 1, "the public reply once, in comments")
	assert.Len(t, f.records[0].notes, 1, "the internal note in work_notes")

	require.NoError(t, tr.SetStatus(ctx, tk.Key, ticket.StatusPending))
	assert.Equal(t, map[string]string{"state": "3", "hold_reason": "1"}, f.records[0].fields, "On Hold, awaiting caller")
	require.NoError(t, tr.SetStatus(ctx, tk.Key, ticket.StatusSolved))
	assert.Equal(t, "Solution provided", f.records[0].fields["close_code"])

	next, err := tr.Open(ctx, ticket.OpenRequest{Company: "Acme Corp"})
	require.NoError(t, err)
	assert.Equal(t, "INC0000002", next.Key, "a resolved record is not reused")
	_, err = tr.Open(ctx, ticket.OpenRequest{Key: "INC9999999"})
	assert.ErrorIs(t, err, ticket.ErrNotFound)
}

func TestBadCredentials(t *testing.T) {
	tr, _ := setup(t)
	tr.o.Password = "wrong"
	bad := New(tr.o)
	_, err := bad.Open(context.Background(), ticket.OpenRequest{Company: "Acme"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ServiceNow find record: GET /api/now/table/incident: HTTP 401")
	assert.NotContains(t, err.Error(), "wrong")
}
