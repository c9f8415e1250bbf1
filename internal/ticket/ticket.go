// Package ticket is the port to the ticket that carries all communication
// with the customer during an enablement.
package ticket

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// Tracker opens tickets and talks on them. Every call is idempotent: Open
// finds the ticket it opened before, and a comment with an IdempotencyKey
// already posted is not posted again.
type Tracker interface {
	// Open finds the ticket named by req.Key, or the open ticket titled
	// Subject(req.Company), or opens one.
	Open(ctx context.Context, req OpenRequest) (Ticket, error)
	Comment(ctx context.Context, c Comment) error
	SetStatus(ctx context.Context, key string, s Status) error
}

// Subject is the title of a company's PrivateLink ticket.
func Subject(company string) string { return "PrivateLink support for " + company }

// OpenRequest opens or finds a ticket.
type OpenRequest struct {
	Key       string `json:"key,omitempty"` // an existing ticket, if the request named one
	Company   string `json:"company"`
	Requester string `json:"requester"`
	Project   string `json:"project"`
	Body      string `json:"body"`
}

// Ticket is an open ticket.
type Ticket struct {
	Key     string `json:"key"`
	Subject string `json:"subject"`
	URL     string `json:"url,omitempty"`
	Status  Status `json:"status"`
}

// Comment is a message on a ticket: a public reply the customer sees, or an
// internal note for the platform's engineers.
type Comment struct {
	Ticket string `json:"ticket"`
	Public bool   `json:"public"`
	Author string `json:"author,omitempty"`
	Body   string `json:"body"`
	// IdempotencyKey identifies the comment across retries.
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
}

// Status is where a ticket stands; trackers map it to their own states.
type Status string

// Ticket statuses.
const (
	StatusOpen    Status = "open"    // the platform is working on it
	StatusPending Status = "pending" // waiting for the customer
	StatusSolved  Status = "solved"
)

// ErrNotFound is returned for a ticket key the tracker does not know.
var ErrNotFound = errors.New("ticket not found")

// ErrConfig is a tracker call that cannot succeed until its configuration
// changes (a missing status transition, say): retrying it is pointless.
var ErrConfig = errors.New("ticket tracker configuration")

// RefID is a short, stable ID for a comment's idempotency key. Trackers put
// it in the comment ([ref lw-...], or an HTML comment where the markup
// allows) so that a retried step finds the comment it posted.
func RefID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "lw-" + hex.EncodeToString(sum[:])[:10]
}

// Reference is the visible form of RefID: "[ref lw-...]".
func Reference(key string) string { return "[ref " + RefID(key) + "]" }
