// Package jira is a ticket.Tracker on Jira Service Management (Cloud REST
// APIs): customer requests, public replies and internal comments, and
// statuses reached through the request's transitions.
package jira

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/linkwright/linkwright/internal/strictjson"
	"github.com/linkwright/linkwright/internal/ticket"
	"github.com/linkwright/linkwright/internal/ticket/rest"
)

// Options configure the tracker.
type Options struct {
	// URL is the site, e.g. https://acme.atlassian.net.
	URL string `json:"url"`
	// Email and Token authenticate an agent (token best as JIRA_API_TOKEN).
	Email string `json:"email"`
	Token string `json:"token"`
	// ServiceDeskID and RequestTypeID say where requests are raised.
	ServiceDeskID string `json:"serviceDeskId"`
	RequestTypeID string `json:"requestTypeId"`
	// Transitions names the transition that reaches each status
	// (defaults: pending "Pending", open "Respond to customer", solved
	// "Resolve this issue").
	Transitions map[string]string `json:"transitions"`
}

// ParseOptions reads the config's "jira" section strictly, then
// JIRA_API_TOKEN, and checks it.
func ParseOptions(raw []byte) (Options, error) {
	var o Options
	if err := strictjson.DecodeSection("jira", raw, &o); err != nil {
		return o, err
	}
	strictjson.FromEnv(&o.Token, "JIRA_API_TOKEN")
	var p strictjson.Problems
	p.Add(!strictjson.IsURL(o.URL), "jira.url must be the site's URL, e.g. https://acme.atlassian.net")
	p.Add(o.Email == "" || o.Token == "", "jira.email and the API token (JIRA_API_TOKEN) are required")
	p.Add(o.ServiceDeskID == "" || o.RequestTypeID == "", "jira.serviceDeskId and jira.requestTypeId are required: where PrivateLink requests are raised")
	return o, p.Err()
}

// Tracker is ticket.Tracker on Jira Service Management.
type Tracker struct {
	o   Options
	api *rest.Client
}

var _ ticket.Tracker = (*Tracker)(nil)

// New returns a tracker; it makes no call.
func New(o Options) *Tracker {
	o.URL = strings.TrimRight(o.URL, "/")
	return &Tracker{o: o, api: &rest.Client{Base: o.URL, Credentials: "jira.email and JIRA_API_TOKEN", Auth: func(r *http.Request) { r.SetBasicAuth(o.Email, o.Token) }}}
}

type request struct {
	IssueKey           string `json:"issueKey"`
	RequestFieldValues []struct {
		FieldID string `json:"fieldId"`
		Value   any    `json:"value"`
	} `json:"requestFieldValues"`
	CurrentStatus struct {
		Status         string `json:"status"`
		StatusCategory string `json:"statusCategory"`
	} `json:"currentStatus"`
}

func (r request) summary() string {
	for _, f := range r.RequestFieldValues {
		if f.FieldID == "summary" {
			s, _ := f.Value.(string)
			return s
		}
	}
	return ""
}

func status(category string) ticket.Status {
	switch strings.ToUpper(category) {
	case "DONE":
		return ticket.StatusSolved
	}
	return ticket.StatusOpen
}

func (t *Tracker) ticket(r request) ticket.Ticket {
	tk := ticket.Ticket{Key: r.IssueKey, Subject: r.summary(), URL: t.o.URL + "/browse/" + r.IssueKey, Status: status(r.CurrentStatus.StatusCategory)}
	if strings.EqualFold(r.CurrentStatus.Status, t.transition(ticket.StatusPending)) || strings.Contains(strings.ToLower(r.CurrentStatus.Status), "waiting for customer") {
		tk.Status = ticket.StatusPending
	}
	return tk
}

func (t *Tracker) transition(s ticket.Status) string {
	if name := t.o.Transitions[string(s)]; name != "" {
		return name
	}
	return map[ticket.Status]string{ticket.StatusPending: "Pending", ticket.StatusOpen: "Respond to customer", ticket.StatusSolved: "Resolve this issue"}[s]
}

func (t *Tracker) get(ctx context.Context, key string) (request, error) {
	var r request
	err := t.api.Do(ctx, "Jira get request", http.MethodGet, "/rest/servicedeskapi/request/"+url.PathEscape(key), nil, &r)
	return r, notFound(key, err)
}

// Open implements ticket.Tracker. Requests are found by searching their
// summary among open requests; Jira's search may lag a freshly created
// request by seconds, so the activity's retry waits longer than that.
func (t *Tracker) Open(ctx context.Context, req ticket.OpenRequest) (ticket.Ticket, error) {
	if req.Key != "" {
		r, err := t.get(ctx, req.Key)
		if err != nil {
			return ticket.Ticket{}, err
		}
		return t.ticket(r), nil
	}
	subject := ticket.Subject(req.Company)
	for start := 0; ; {
		var page struct {
			Values     []request `json:"values"`
			IsLastPage bool      `json:"isLastPage"`
		}
		q := url.Values{"serviceDeskId": {t.o.ServiceDeskID}, "requestStatus": {"OPEN_REQUESTS"}, "requestOwnership": {"ALL_REQUESTS"},
			"searchTerm": {subject}, "start": {fmt.Sprint(start)}, "limit": {"50"}}
		if err := t.api.Do(ctx, "Jira find request", http.MethodGet, "/rest/servicedeskapi/request?"+q.Encode(), nil, &page); err != nil {
			return ticket.Ticket{}, err
		}
		for _, r := range page.Values {
			if strings.EqualFold(r.summary(), subject) {
				return t.ticket(r), nil
			}
		}
		if page.IsLastPage || len(page.Values) == 0 {
			break
		}
		start += len(page.Values)
	}
	body := req.Body
	if body == "" {
		body = subject
	}
	var created request
	err := t.api.Do(ctx, "Jira create request", http.MethodPost, "/rest/servicedeskapi/request", map[string]any{
		"serviceDeskId": t.o.ServiceDeskID, "requestTypeId": t.o.RequestTypeID,
		"requestFieldValues": map[string]string{"summary": subject, "description": body},
	}, &created)
	if err != nil {
		return ticket.Ticket{}, err
	}
	return t.ticket(created), nil
}

// Comment implements ticket.Tracker: public replies and internal comments;
// one whose reference is already on the request is not posted again.
func (t *Tracker) Comment(ctx context.Context, c ticket.Comment) error {
	body := c.Body
	base := "/rest/servicedeskapi/request/" + url.PathEscape(c.Ticket) + "/comment"
	if c.IdempotencyKey != "" {
		ref := ticket.Reference(c.IdempotencyKey)
		for start := 0; ; {
			var page struct {
				Values []struct {
					Body string `json:"body"`
				} `json:"values"`
				IsLastPage bool `json:"isLastPage"`
			}
			if err := t.api.Do(ctx, "Jira list comments", http.MethodGet, fmt.Sprintf("%s?start=%d&limit=100", base, start), nil, &page); err != nil {
				return notFound(c.Ticket, err)
			}
			for _, v := range page.Values {
				if strings.Contains(v.Body, ref) {
					return nil
				}
			}
			if page.IsLastPage || len(page.Values) == 0 {
				break
			}
			start += len(page.Values)
		}
		body += "\n\n" + ref
	}
	return notFound(c.Ticket, t.api.Do(ctx, "Jira add comment", http.MethodPost, base, map[string]any{"body": body, "public": c.Public}, nil))
}

// SetStatus implements ticket.Tracker through the request's transitions.
func (t *Tracker) SetStatus(ctx context.Context, key string, s ticket.Status) error {
	r, err := t.get(ctx, key)
	if err != nil {
		return err
	}
	if t.ticket(r).Status == s {
		return nil
	}
	base := "/rest/servicedeskapi/request/" + url.PathEscape(key) + "/transition"
	var page struct {
		Values []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"values"`
	}
	if err := t.api.Do(ctx, "Jira list transitions", http.MethodGet, base, nil, &page); err != nil {
		return notFound(key, err)
	}
	want := t.transition(s)
	var names []string
	for _, v := range page.Values {
		if strings.EqualFold(v.Name, want) {
			return t.api.Do(ctx, "Jira transition request", http.MethodPost, base, map[string]string{"id": v.ID}, nil)
		}
		names = append(names, v.Name)
	}
	return fmt.Errorf("%w: Jira request %s has no transition %q from %q (it has %s): set jira.transitions.%s in the worker's config",
		ticket.ErrConfig, key, want, r.CurrentStatus.Status, strings.Join(names, ", "), s)
}

func notFound(key string, err error) error {
	if rest.IsStatus(err, http.StatusNotFound) {
		return fmt.Errorf("%w: Jira request %s", ticket.ErrNotFound, key)
	}
	return err
}
