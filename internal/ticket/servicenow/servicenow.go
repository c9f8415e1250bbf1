// Package servicenow is a ticket.Tracker on the ServiceNow Table API: a
// record (incident by default, or a case table) per request, public
// `comments` versus internal `work_notes`, and its state.
package servicenow

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
	// URL is the instance, e.g. https://acme.service-now.com.
	URL  string `json:"url"`
	User string `json:"user"`
	// Password is best given as SERVICENOW_PASSWORD.
	Password string `json:"password"`
	// Table is "incident" (default) or a case table such as
	// "sn_customerservice_case".
	Table string `json:"table"`
	// States are the field values for each status; the defaults are the
	// incident table's: open "2" (In Progress), pending "3" (On Hold,
	// awaiting caller), solved "6" (Resolved).
	States map[string]map[string]string `json:"states"`
}

// ParseOptions reads the config's "servicenow" section strictly, then
// SERVICENOW_PASSWORD, and checks it.
func ParseOptions(raw []byte) (Options, error) {
	var o Options
	if err := strictjson.DecodeSection("servicenow", raw, &o); err != nil {
		return o, err
	}
	strictjson.FromEnv(&o.Password, "SERVICENOW_PASSWORD")
	var p strictjson.Problems
	p.Add(!strictjson.IsURL(o.URL), "servicenow.url must be the instance URL, e.g. https://acme.service-now.com")
	p.Add(o.User == "" || o.Password == "", "servicenow.user and the password (SERVICENOW_PASSWORD) are required")
	return o, p.Err()
}

// Tracker is ticket.Tracker on ServiceNow.
type Tracker struct {
	o   Options
	api *rest.Client
}

var _ ticket.Tracker = (*Tracker)(nil)

// New returns a tracker; it makes no call.
func New(o Options) *Tracker {
	o.URL = strings.TrimRight(o.URL, "/")
	if o.Table == "" {
		o.Table = "incident"
	}
	return &Tracker{o: o, api: &rest.Client{Base: o.URL, Credentials: "servicenow.user and SERVICENOW_PASSWORD", Auth: func(r *http.Request) { r.SetBasicAuth(o.User, o.Password) }}}
}

type record struct {
	SysID            string `json:"sys_id"`
	Number           string `json:"number"`
	ShortDescription string `json:"short_description"`
	State            string `json:"state"`
	Active           string `json:"active"`
}

func (t *Tracker) states(s ticket.Status) map[string]string {
	if v := t.o.States[string(s)]; v != nil {
		return v
	}
	return map[ticket.Status]map[string]string{
		ticket.StatusOpen:    {"state": "2"},
		ticket.StatusPending: {"state": "3", "hold_reason": "1"},
		ticket.StatusSolved:  {"state": "6", "close_code": "Solution provided", "close_notes": "PrivateLink is live and verified."},
	}[s]
}

func (t *Tracker) status(r record) ticket.Status {
	for _, s := range []ticket.Status{ticket.StatusSolved, ticket.StatusPending} {
		if r.State == t.states(s)["state"] {
			return s
		}
	}
	if r.Active == "false" {
		return ticket.StatusSolved
	}
	return ticket.StatusOpen
}

func (t *Tracker) ticket(r record) ticket.Ticket {
	return ticket.Ticket{Key: r.Number, Subject: r.ShortDescription, Status: t.status(r),
		URL: t.o.URL + "/nav_to.do?uri=" + url.QueryEscape(t.o.Table+".do?sys_id="+r.SysID)}
}

const fields = "sys_id,number,short_description,state,active"

func (t *Tracker) query(ctx context.Context, name, q string) ([]record, error) {
	var out struct {
		Result []record `json:"result"`
	}
	v := url.Values{"sysparm_query": {q}, "sysparm_fields": {fields}, "sysparm_limit": {"10"}}
	err := t.api.Do(ctx, name, http.MethodGet, "/api/now/table/"+t.o.Table+"?"+v.Encode(), nil, &out)
	return out.Result, err
}

func (t *Tracker) byNumber(ctx context.Context, number string) (record, error) {
	rs, err := t.query(ctx, "ServiceNow get record", "number="+number)
	if err != nil {
		return record{}, err
	}
	if len(rs) == 0 {
		return record{}, fmt.Errorf("%w: ServiceNow %s %s", ticket.ErrNotFound, t.o.Table, number)
	}
	return rs[0], nil
}

// Open implements ticket.Tracker: an active record with the ticket's short
// description is reused (a table query, so a retried open sees it).
func (t *Tracker) Open(ctx context.Context, req ticket.OpenRequest) (ticket.Ticket, error) {
	if req.Key != "" {
		r, err := t.byNumber(ctx, req.Key)
		if err != nil {
			return ticket.Ticket{}, err
		}
		return t.ticket(r), nil
	}
	subject := ticket.Subject(req.Company)
	rs, err := t.query(ctx, "ServiceNow find record", "short_description="+subject+"^active=true")
	if err != nil {
		return ticket.Ticket{}, err
	}
	for _, r := range rs {
		if r.ShortDescription == subject {
			return t.ticket(r), nil
		}
	}
	body := req.Body
	if body == "" {
		body = subject
	}
	var created struct {
		Result record `json:"result"`
	}
	if err := t.api.Do(ctx, "ServiceNow create record", http.MethodPost, "/api/now/table/"+t.o.Table+"?sysparm_fields="+fields,
		map[string]string{"short_description": subject, "description": body}, &created); err != nil {
		return ticket.Ticket{}, err
	}
	return t.ticket(created.Result), nil
}

// Comment implements ticket.Tracker: public replies go to comments,
// internal notes to work_notes; one whose reference is already in the
// record's journal is not posted again.
func (t *Tracker) Comment(ctx context.Context, c ticket.Comment) error {
	r, err := t.byNumber(ctx, c.Ticket)
	if err != nil {
		return err
	}
	body := c.Body
	if c.IdempotencyKey != "" {
		ref := ticket.Reference(c.IdempotencyKey)
		var journal struct {
			Result []struct {
				SysID string `json:"sys_id"`
			} `json:"result"`
		}
		q := url.Values{"sysparm_query": {"element_id=" + r.SysID + "^valueLIKE" + ref}, "sysparm_fields": {"sys_id"}, "sysparm_limit": {"1"}}
		if err := t.api.Do(ctx, "ServiceNow read journal", http.MethodGet, "/api/now/table/sys_journal_field?"+q.Encode(), nil, &journal); err != nil {
			return err
		}
		if len(journal.Result) > 0 {
			return nil
		}
		body += "\n\n" + ref
	}
	field := "work_notes"
	if c.Public {
		field = "comments"
	}
	return t.api.Do(ctx, "ServiceNow add "+field, http.MethodPatch, "/api/now/table/"+t.o.Table+"/"+r.SysID, map[string]string{field: body}, nil)
}

// SetStatus implements ticket.Tracker.
func (t *Tracker) SetStatus(ctx context.Context, key string, s ticket.Status) error {
	r, err := t.byNumber(ctx, key)
	if err != nil {
		return err
	}
	if t.status(r) == s {
		return nil
	}
	return t.api.Do(ctx, "ServiceNow set state", http.MethodPatch, "/api/now/table/"+t.o.Table+"/"+r.SysID, t.states(s), nil)
}
