// Package trackertest serves fakes of the ticket systems' APIs for tests:
// each checks authentication, methods, paths and body shapes as the
// vendor documents them, keeps tickets in memory, and shows each ticket's
// conversation for assertions.
package trackertest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Comment is one message on a fake ticket.
type Comment struct {
	Public bool
	Body   string
}

// Ticket is a fake ticket's conversation.
type Ticket struct {
	Key      string
	Subject  string
	Status   string
	Labels   []string
	Comments []Comment
	Fields   map[string]string // the last state change's fields (ServiceNow)
}

type base struct {
	t       testing.TB
	mu      sync.Mutex
	tickets []*Ticket
	// Throttle answers the next n requests with 429 and Retry-After: 0.
	Throttle int
	// Creates counts tickets created.
	Creates int
}

func (b *base) find(key string) *Ticket {
	for _, t := range b.tickets {
		if t.Key == key {
			return t
		}
	}
	return nil
}

// Tickets returns a copy of every ticket.
func (b *base) Tickets() []Ticket {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Ticket, len(b.tickets))
	for i, t := range b.tickets {
		out[i] = *t
		out[i].Comments = append([]Comment(nil), t.Comments...)
		out[i].Labels = append([]string(nil), t.Labels...)
	}
	return out
}

// Get returns one ticket by key.
func (b *base) Get(key string) (Ticket, bool) {
	for _, t := range b.Tickets() {
		if t.Key == key {
			return t, true
		}
	}
	return Ticket{}, false
}

func (b *base) throttled(w http.ResponseWriter) bool {
	if b.Throttle > 0 {
		b.Throttle--
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	}
	return false
}

func (b *base) unexpected(w http.ResponseWriter, r *http.Request) {
	b.t.Errorf("unexpected %s %s", r.Method, r.URL)
	w.WriteHeader(http.StatusNotFound)
}

func decode(b *base, r *http.Request, v any) {
	data, _ := io.ReadAll(r.Body)
	if len(data) == 0 {
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		b.t.Errorf("%s %s: Content-Type %q, want application/json", r.Method, r.URL.Path, ct)
	}
	if err := json.Unmarshal(data, v); err != nil {
		b.t.Errorf("%s %s: body %s: %v", r.Method, r.URL.Path, data, err)
	}
}

func notFound(w http.ResponseWriter) {
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprint(w, `{"error":"not found"}`)
}

// --- Zendesk (REST v2)

// Zendesk is a fake Zendesk account; agent Email with API token Token.
type Zendesk struct {
	base
	Email, Token string
	external     map[string]string // key -> external_id
}

// NewZendesk returns a fake Zendesk.
func NewZendesk(t testing.TB) *Zendesk {
	return &Zendesk{base: base{t: t}, Email: "ops@platform.example", Token: "zdtoken", external: map[string]string{}}
}

func (z *Zendesk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if u, p, ok := r.BasicAuth(); !ok || u != z.Email+"/token" || p != z.Token {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"Couldn't authenticate you"}`)
		return
	}
	if z.throttled(w) {
		return
	}
	type comment struct {
		Public bool   `json:"public"`
		Body   string `json:"body"`
	}
	var in struct {
		Ticket struct {
			Subject    string   `json:"subject"`
			Status     string   `json:"status"`
			ExternalID string   `json:"external_id"`
			Tags       []string `json:"tags"`
			Comment    *comment `json:"comment"`
		} `json:"ticket"`
	}
	decode(&z.base, r, &in)
	view := func(t *Ticket) map[string]any {
		id, _ := strconv.Atoi(t.Key)
		return map[string]any{"id": id, "subject": t.Subject, "status": t.Status, "external_id": z.external[t.Key], "tags": t.Labels}
	}
	p := r.URL.Path
	switch {
	case r.Method == http.MethodGet && p == "/api/v2/tickets.json":
		var out []map[string]any
		for _, t := range z.tickets {
			if z.external[t.Key] == r.URL.Query().Get("external_id") {
				out = append(out, view(t))
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"tickets": out})
	case r.Method == http.MethodPost && p == "/api/v2/tickets.json":
		z.Creates++
		t := &Ticket{Key: strconv.Itoa(100 + z.Creates), Subject: in.Ticket.Subject, Status: "new", Labels: in.Ticket.Tags}
		if in.Ticket.Comment != nil {
			t.Comments = append(t.Comments, Comment(*in.Ticket.Comment))
		}
		z.external[t.Key] = in.Ticket.ExternalID
		z.tickets = append(z.tickets, t)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"ticket": view(t)})
	case r.Method == http.MethodGet && strings.HasSuffix(p, "/comments.json"):
		t := z.find(strings.TrimSuffix(strings.TrimPrefix(p, "/api/v2/tickets/"), "/comments.json"))
		if t == nil {
			notFound(w)
			return
		}
		var out []comment
		for _, c := range t.Comments {
			out = append(out, comment(c))
		}
		json.NewEncoder(w).Encode(map[string]any{"comments": out, "meta": map[string]any{"has_more": false}})
	case strings.HasPrefix(p, "/api/v2/tickets/") && strings.HasSuffix(p, ".json"):
		t := z.find(strings.TrimSuffix(strings.TrimPrefix(p, "/api/v2/tickets/"), ".json"))
		if t == nil {
			notFound(w)
			return
		}
		if r.Method == http.MethodPut {
			if c := in.Ticket.Comment; c != nil {
				t.Comments = append(t.Comments, Comment(*c))
			}
			if in.Ticket.Status != "" {
				t.Status = in.Ticket.Status
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"ticket": view(t)})
	default:
		z.unexpected(w, r)
	}
}
