// Package zendesk is a ticket.Tracker on the Zendesk Support REST API v2:
// tickets, public replies and private notes, statuses, tags.
package zendesk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/linkwright/linkwright/internal/strictjson"
	"github.com/linkwright/linkwright/internal/ticket"
	"github.com/linkwright/linkwright/internal/ticket/rest"
)

// Options configure the tracker.
type Options struct {
	// URL is the Zendesk account, e.g. https://acme.zendesk.com.
	URL string `json:"url"`
	// Email and Token authenticate as an agent with an API token; the
	// token is best given as ZENDESK_API_TOKEN rather than in the file.
	Email string `json:"email"`
	Token string `json:"token"`
}

// Tracker is ticket.Tracker on Zendesk.
type Tracker struct {
	api  *rest.Client
	base string
}

var _ ticket.Tracker = (*Tracker)(nil)

// ParseOptions reads the config's "zendesk" section strictly, then
// ZENDESK_API_TOKEN, and checks it.
func ParseOptions(raw []byte) (Options, error) {
	var o Options
	if err := strictjson.DecodeSection("zendesk", raw, &o); err != nil {
		return o, err
	}
	strictjson.FromEnv(&o.Token, "ZENDESK_API_TOKEN")
	var p strictjson.Problems
	p.Add(!strictjson.IsURL(o.URL), "zendesk.url must be the account's URL, e.g. https://acme.zendesk.com")
	p.Add(o.Email == "", "zendesk.email is required: the agent Linkwright acts as")
	p.Add(o.Token == "", "the Zendesk API token is required: set ZENDESK_API_TOKEN")
	return o, p.Err()
}

// New returns a tracker; it makes no call.
func New(o Options) *Tracker {
	return &Tracker{base: strings.TrimRight(o.URL, "/"), api: &rest.Client{Base: o.URL, Credentials: "zendesk.email and ZENDESK_API_TOKEN", Auth: func(r *http.Request) {
		r.SetBasicAuth(o.Email+"/token", o.Token)
	}}}
}

type zTicket struct {
	ID         int64    `json:"id,omitempty"`
	Subject    string   `json:"subject,omitempty"`
	Status     string   `json:"status,omitempty"`
	ExternalID string   `json:"external_id,omitempty"`
	Tags       []string `json:"tags,omitempty"`
	Comment    *comment `json:"comment,omitempty"`
}

type comment struct {
	ID     int64  `json:"id,omitempty"`
	Body   string `json:"body"`
	Public bool   `json:"public"`
}

type one struct {
	Ticket zTicket `json:"ticket"`
}

// externalID names a company's PrivateLink ticket so that a retried open
// finds the ticket opened before (a lookup, not the search index).
func externalID(company string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(company))))
	return "linkwright-" + hex.EncodeToString(sum[:])[:16]
}

func (t *Tracker) ticket(z zTicket) ticket.Ticket {
	id := strconv.FormatInt(z.ID, 10)
	return ticket.Ticket{Key: id, Subject: z.Subject, URL: t.base + "/agent/tickets/" + id, Status: fromZendesk(z.Status)}
}

func fromZendesk(s string) ticket.Status {
	switch s {
	case "pending", "hold":
		return ticket.StatusPending
	case "solved", "closed":
		return ticket.StatusSolved
	}
	return ticket.StatusOpen
}

// Open implements ticket.Tracker.
func (t *Tracker) Open(ctx context.Context, req ticket.OpenRequest) (ticket.Ticket, error) {
	if req.Key != "" {
		var got one
		if err := t.api.Do(ctx, "Zendesk show ticket", http.MethodGet, "/api/v2/tickets/"+url.PathEscape(req.Key)+".json", nil, &got); err != nil {
			if rest.IsStatus(err, http.StatusNotFound) {
				return ticket.Ticket{}, fmt.Errorf("%w: Zendesk ticket %s", ticket.ErrNotFound, req.Key)
			}
			return ticket.Ticket{}, err
		}
		return t.ticket(got.Ticket), nil
	}
	ext := externalID(req.Company)
	var found struct {
		Tickets []zTicket `json:"tickets"`
	}
	if err := t.api.Do(ctx, "Zendesk find ticket", http.MethodGet, "/api/v2/tickets.json?external_id="+url.QueryEscape(ext), nil, &found); err != nil {
		return ticket.Ticket{}, err
	}
	for _, z := range found.Tickets {
		if z.Status != "solved" && z.Status != "closed" {
			return t.ticket(z), nil
		}
	}
	var created one
	err := t.api.Do(ctx, "Zendesk create ticket", http.MethodPost, "/api/v2/tickets.json", one{Ticket: zTicket{
		Subject: ticket.Subject(req.Company), ExternalID: ext, Tags: []string{"privatelink"},
		Comment: &comment{Body: orDefault(req.Body, ticket.Subject(req.Company)), Public: false},
	}}, &created)
	if err != nil {
		return ticket.Ticket{}, err
	}
	return t.ticket(created.Ticket), nil
}

// Comment implements ticket.Tracker: a comment whose reference is already
// on the ticket is not posted again.
func (t *Tracker) Comment(ctx context.Context, c ticket.Comment) error {
	body := c.Body
	if c.IdempotencyKey != "" {
		ref := ticket.Reference(c.IdempotencyKey)
		posted, err := t.hasComment(ctx, c.Ticket, ref)
		if err != nil || posted {
			return err
		}
		body += "\n\n" + ref
	}
	err := t.api.Do(ctx, "Zendesk add comment", http.MethodPut, "/api/v2/tickets/"+url.PathEscape(c.Ticket)+".json",
		one{Ticket: zTicket{Comment: &comment{Body: body, Public: c.Public}}}, nil)
	return notFound(c.Ticket, err)
}

func (t *Tracker) hasComment(ctx context.Context, key, ref string) (bool, error) {
	path := "/api/v2/tickets/" + url.PathEscape(key) + "/comments.json?page%5Bsize%5D=100"
	for {
		var page struct {
			Comments []comment `json:"comments"`
			Meta     struct {
				HasMore     bool   `json:"has_more"`
				AfterCursor string `json:"after_cursor"`
			} `json:"meta"`
		}
		if err := t.api.Do(ctx, "Zendesk list comments", http.MethodGet, path, nil, &page); err != nil {
			return false, notFound(key, err)
		}
		for _, c := range page.Comments {
			if strings.Contains(c.Body, ref) {
				return true, nil
			}
		}
		if !page.Meta.HasMore {
			return false, nil
		}
		path = "/api/v2/tickets/" + url.PathEscape(key) + "/comments.json?page%5Bsize%5D=100&page%5Bafter%5D=" + url.QueryEscape(page.Meta.AfterCursor)
	}
}

// SetStatus implements ticket.Tracker: waiting on the customer is pending.
func (t *Tracker) SetStatus(ctx context.Context, key string, s ticket.Status) error {
	status := map[ticket.Status]string{ticket.StatusOpen: "open", ticket.StatusPending: "pending", ticket.StatusSolved: "solved"}[s]
	err := t.api.Do(ctx, "Zendesk set status", http.MethodPut, "/api/v2/tickets/"+url.PathEscape(key)+".json", one{Ticket: zTicket{Status: status}}, nil)
	return notFound(key, err)
}

func notFound(key string, err error) error {
	if rest.IsStatus(err, http.StatusNotFound) {
		return fmt.Errorf("%w: Zendesk ticket %s", ticket.ErrNotFound, key)
	}
	return err
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
