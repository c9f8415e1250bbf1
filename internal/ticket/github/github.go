// Package github is a ticket.Tracker on GitHub Issues (go-github): an
// issue per company's PrivateLink request, comments, labels, open and
// closed. GitHub has no internal notes: they go to a clearly marked
// comment, or are kept off GitHub, as configured.
package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v84/github"

	"github.com/linkwright/linkwright/internal/strictjson"
	"github.com/linkwright/linkwright/internal/ticket"
	"github.com/linkwright/linkwright/internal/ticket/rest"
)

// Labels Linkwright sets.
const (
	LabelPrivateLink = "privatelink"
	// LabelWaiting marks an issue waiting on the customer.
	LabelWaiting = "privatelink:waiting-on-customer"
)

// Options configure the tracker.
type Options struct {
	Owner string `json:"owner"`
	Repo  string `json:"repo"`
	// Token is best given as GITHUB_TOKEN.
	Token string `json:"token"`
	// APIURL is GitHub Enterprise's API root (https://ghe.example/api/v3/).
	APIURL string `json:"apiUrl"`
	// InternalNotes is "comment" (a comment marked as an internal note;
	// the default, for private repositories) or "omit" (kept off GitHub).
	InternalNotes string `json:"internalNotes"`
}

// ParseOptions reads the config's "github" section strictly, then
// GITHUB_TOKEN, and checks it.
func ParseOptions(raw []byte) (Options, error) {
	var o Options
	if err := strictjson.DecodeSection("github", raw, &o); err != nil {
		return o, err
	}
	strictjson.FromEnv(&o.Token, "GITHUB_TOKEN")
	var p strictjson.Problems
	p.Add(o.Owner == "" || o.Repo == "", "github.owner and github.repo are required: the repository holding the tickets")
	p.Add(o.Token == "", "the GitHub token is required: set GITHUB_TOKEN")
	p.Add(o.InternalNotes != "" && o.InternalNotes != "comment" && o.InternalNotes != "omit", `github.internalNotes must be "comment" or "omit"`)
	return o, p.Err()
}

// Tracker is ticket.Tracker on GitHub Issues.
type Tracker struct {
	o      Options
	issues *gh.IssuesService
}

var _ ticket.Tracker = (*Tracker)(nil)

// New returns a tracker; it makes no call.
func New(o Options) (*Tracker, error) {
	c := gh.NewClient(&http.Client{Timeout: 30 * time.Second, Transport: &rest.Transport{}}).WithAuthToken(o.Token)
	if o.APIURL != "" {
		var err error
		if c, err = c.WithEnterpriseURLs(o.APIURL, o.APIURL); err != nil {
			return nil, fmt.Errorf("github.apiUrl: %w", err)
		}
	}
	return &Tracker{o: o, issues: c.Issues}, nil
}

func (t *Tracker) fail(call string, err error, number string) error {
	var re *gh.ErrorResponse
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode == http.StatusNotFound && number != "" {
		return fmt.Errorf("%w: GitHub issue %s/%s#%s", ticket.ErrNotFound, t.o.Owner, t.o.Repo, number)
	}
	return &callError{msg: fmt.Sprintf("GitHub %s on %s/%s", call, t.o.Owner, t.o.Repo), err: err}
}

// callError is a failed GitHub call that knows whether retrying may help:
// rate limits, 5xx and dropped connections may; a refused token or a
// refused request will not, and the error says what to fix.
type callError struct {
	msg string
	err error
}

func (e *callError) Error() string {
	s := e.msg + ": " + e.err.Error()
	if !e.Retryable() {
		switch status(e.err) {
		case http.StatusUnauthorized:
			s += " (GitHub refused the token: check GITHUB_TOKEN)"
		case http.StatusForbidden:
			s += " (the token lacks a permission: it needs Issues read and write on the repository)"
		case http.StatusNotFound:
			s += " (check github.owner and github.repo, and that the token can see the repository)"
		}
	}
	return s
}

func (e *callError) Unwrap() error { return e.err }

// Retryable reports whether trying the call again later may succeed.
func (e *callError) Retryable() bool {
	var rl *gh.RateLimitError
	var abuse *gh.AbuseRateLimitError
	if errors.As(e.err, &rl) || errors.As(e.err, &abuse) {
		return true
	}
	code := status(e.err)
	return code == 0 || code == http.StatusTooManyRequests || code >= 500
}

func status(err error) int {
	var re *gh.ErrorResponse
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.StatusCode
	}
	return 0
}

func toTicket(i *gh.Issue) ticket.Ticket {
	tk := ticket.Ticket{Key: strconv.Itoa(i.GetNumber()), Subject: i.GetTitle(), URL: i.GetHTMLURL(), Status: ticket.StatusOpen}
	if i.GetState() == "closed" {
		tk.Status = ticket.StatusSolved
	}
	for _, l := range i.Labels {
		if l.GetName() == LabelWaiting && tk.Status == ticket.StatusOpen {
			tk.Status = ticket.StatusPending
		}
	}
	return tk
}

func number(key string) (int, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(key, "#"))
	if err != nil {
		return 0, fmt.Errorf("%w: %q is not a GitHub issue number", ticket.ErrNotFound, key)
	}
	return n, nil
}

// Open implements ticket.Tracker: an open issue labelled privatelink with
// the ticket's title is reused (the list is read, not searched, so a
// retried open sees the issue it created).
func (t *Tracker) Open(ctx context.Context, req ticket.OpenRequest) (ticket.Ticket, error) {
	if req.Key != "" {
		n, err := number(req.Key)
		if err != nil {
			return ticket.Ticket{}, err
		}
		i, _, err := t.issues.Get(ctx, t.o.Owner, t.o.Repo, n)
		if err != nil {
			return ticket.Ticket{}, t.fail("get issue", err, req.Key)
		}
		return toTicket(i), nil
	}
	title := ticket.Subject(req.Company)
	opts := &gh.IssueListByRepoOptions{State: "open", Labels: []string{LabelPrivateLink}, ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		list, resp, err := t.issues.ListByRepo(ctx, t.o.Owner, t.o.Repo, opts)
		if err != nil {
			return ticket.Ticket{}, t.fail("list issues", err, "")
		}
		for _, i := range list {
			if strings.EqualFold(i.GetTitle(), title) && i.PullRequestLinks == nil {
				return toTicket(i), nil
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.ListOptions.Page = resp.NextPage
	}
	body := req.Body
	if body == "" {
		body = title
	}
	i, _, err := t.issues.Create(ctx, t.o.Owner, t.o.Repo, &gh.IssueRequest{Title: &title, Body: &body, Labels: &[]string{LabelPrivateLink}})
	if err != nil {
		return ticket.Ticket{}, t.fail("create issue", err, "")
	}
	return toTicket(i), nil
}

// marker is an HTML comment GitHub does not render: it carries the
// idempotency key so a retry can see the comment was posted.
func marker(key string) string { return "<!-- linkwright:" + ticket.RefID(key) + " -->" }

// Comment implements ticket.Tracker.
func (t *Tracker) Comment(ctx context.Context, c ticket.Comment) error {
	if !c.Public && t.o.InternalNotes == "omit" {
		return nil
	}
	n, err := number(c.Ticket)
	if err != nil {
		return err
	}
	body := c.Body
	if !c.Public {
		body = "**Internal note (Linkwright, not for the customer)**\n\n" + body
	}
	if c.IdempotencyKey != "" {
		m := marker(c.IdempotencyKey)
		opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
		for {
			list, resp, err := t.issues.ListComments(ctx, t.o.Owner, t.o.Repo, n, opts)
			if err != nil {
				return t.fail("list comments", err, c.Ticket)
			}
			for _, cm := range list {
				if strings.Contains(cm.GetBody(), m) {
					return nil
				}
			}
			if resp.NextPage == 0 {
				break
			}
			opts.Page = resp.NextPage
		}
		body += "\n\n" + m
	}
	if _, _, err := t.issues.CreateComment(ctx, t.o.Owner, t.o.Repo, n, &gh.IssueComment{Body: &body}); err != nil {
		return t.fail("create comment", err, c.Ticket)
	}
	return nil
}

// SetStatus implements ticket.Tracker: solved closes the issue; pending
// adds the waiting label, open removes it.
func (t *Tracker) SetStatus(ctx context.Context, key string, s ticket.Status) error {
	n, err := number(key)
	if err != nil {
		return err
	}
	i, _, err := t.issues.Get(ctx, t.o.Owner, t.o.Repo, n)
	if err != nil {
		return t.fail("get issue", err, key)
	}
	if toTicket(i).Status == s {
		return nil
	}
	state := "open"
	if s == ticket.StatusSolved {
		state = "closed"
	}
	if i.GetState() != state {
		if _, _, err := t.issues.Edit(ctx, t.o.Owner, t.o.Repo, n, &gh.IssueRequest{State: &state}); err != nil {
			return t.fail("edit issue", err, key)
		}
	}
	waiting := false
	for _, l := range i.Labels {
		waiting = waiting || l.GetName() == LabelWaiting
	}
	switch {
	case s == ticket.StatusPending && !waiting:
		_, _, err = t.issues.AddLabelsToIssue(ctx, t.o.Owner, t.o.Repo, n, []string{LabelWaiting})
	case s != ticket.StatusPending && waiting:
		_, err = t.issues.RemoveLabelForIssue(ctx, t.o.Owner, t.o.Repo, n, LabelWaiting)
	}
	if err != nil {
		return t.fail("label issue", err, key)
	}
	return nil
}
