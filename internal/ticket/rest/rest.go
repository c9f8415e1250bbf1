// Package rest is the small HTTP client the ticket trackers share (their Go
// libraries are not available here): JSON in and out, a timeout per call,
// retries with backoff on 429 and 5xx that honour Retry-After, and errors
// that say which call failed and why. Credentials are set on each request
// by an Auth function and never appear in errors or logs.
package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Client calls one API.
type Client struct {
	// Base is the API's root URL, e.g. https://acme.zendesk.com.
	Base string
	// Auth sets credentials on a request.
	Auth func(*http.Request)
	// HTTP is the client (a 30-second timeout and a retrying Transport by
	// default).
	HTTP *http.Client
	// Backoff is the retrying transport's first wait (500ms by default).
	Backoff time.Duration
	// Credentials names where the credentials come from, for the fix of an
	// authentication error, e.g. "zendesk.email and ZENDESK_API_TOKEN".
	Credentials string
}

// Error is a failed call: which call, the HTTP status and what the API said.
type Error struct {
	Call   string // e.g. "Zendesk create ticket: POST /api/v2/tickets.json"
	Status int
	Body   string
	// Fix says what to change when trying again cannot help.
	Fix string
}

func (e *Error) Error() string {
	s := e.Call + ": " + e.Body
	if e.Status != 0 {
		s = fmt.Sprintf("%s: HTTP %d: %s", e.Call, e.Status, e.Body)
	}
	if e.Fix != "" {
		s += " (" + e.Fix + ")"
	}
	return s
}

// fix is what to change for an answer that retrying cannot change.
func (c *Client) fix(status int) string {
	creds := c.Credentials
	if creds == "" {
		creds = "the tracker's credentials in the worker config"
	}
	switch {
	case status == http.StatusUnauthorized:
		return "the tracker refused Linkwright's credentials: check " + creds
	case status == http.StatusForbidden:
		return "the tracker's account lacks a permission for this call: grant it, or check " + creds
	case status == http.StatusNotFound:
		return "check the tracker's URL in the worker config and that the ticket exists"
	case status >= 400 && status < 500 && status != http.StatusTooManyRequests:
		return "the tracker refused the request as sent: see its answer above"
	}
	return ""
}

// Retryable reports whether trying the call again later may succeed.
func (e *Error) Retryable() bool {
	return e.Status == 0 || e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// IsStatus reports whether err is a call that failed with the status.
func IsStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}

// Do sends method path with in as JSON (if not nil) and decodes the JSON
// answer into out (if not nil). name says what the call is for, in errors.
func (c *Client) Do(ctx context.Context, name, method, path string, in, out any) error {
	call := name + ": " + method + " " + strings.SplitN(path, "?", 2)[0]
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return &Error{Call: call, Body: err.Error()}
		}
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second, Transport: &Transport{Backoff: c.Backoff}}
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.Base, "/")+path, bytes.NewReader(body))
	if err != nil {
		return &Error{Call: call, Body: err.Error()}
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Auth != nil {
		c.Auth(req)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return &Error{Call: call, Body: "no answer: " + err.Error()}
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		return &Error{Call: call, Status: resp.StatusCode, Body: summary(data), Fix: c.fix(resp.StatusCode)}
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &Error{Call: call, Status: resp.StatusCode, Body: "unexpected answer: " + err.Error()}
	}
	return nil
}

// Transport retries with backoff, honouring Retry-After: a 429 for any
// request (it was not processed), a 5xx or a failed connection only for
// reads (a write may have been applied; the activity retries it after
// reading first). A Retry-After beyond MaxWait is not waited for inside an
// activity: the answer goes back and the activity's retry policy waits.
type Transport struct {
	Next    http.RoundTripper
	Retries int           // 3 by default
	Backoff time.Duration // 500ms by default, doubled each time
	MaxWait time.Duration // 1 minute by default
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	next := t.Next
	if next == nil {
		next = http.DefaultTransport
	}
	retries, wait, maxWait := t.Retries, t.Backoff, t.MaxWait
	if retries == 0 {
		retries = 3
	}
	if wait == 0 {
		wait = 500 * time.Millisecond
	}
	if maxWait == 0 {
		maxWait = time.Minute
	}
	read := req.Method == http.MethodGet || req.Method == http.MethodHead
	for attempt := 0; ; attempt++ {
		if attempt > 0 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			req.Body = body
		}
		resp, err := next.RoundTrip(req)
		retry := attempt < retries && ((err != nil && read) ||
			(err == nil && (resp.StatusCode == http.StatusTooManyRequests || (read && resp.StatusCode >= 500))))
		if !retry {
			return resp, err
		}
		delay := wait
		if err == nil {
			if ra, ok := retryAfter(resp.Header.Get("Retry-After")); ok {
				if ra > maxWait {
					return resp, nil
				}
				delay = ra
			}
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
		}
		if !sleep(req.Context(), delay) {
			return nil, req.Context().Err()
		}
		wait *= 2
	}
}

// retryAfter reads Retry-After as seconds or an HTTP date.
func retryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// summary keeps an error answer short enough for a log line or a ticket.
func summary(data []byte) string {
	s := strings.Join(strings.Fields(string(data)), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
