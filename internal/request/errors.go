package request

import (
	"fmt"
	"strings"
)

// FieldError is one problem with one field: what is wrong and how to fix it.
type FieldError struct {
	Field   string `json:"field"`
	Value   string `json:"value,omitempty"`
	Problem string `json:"problem"`
	Fix     string `json:"fix"`
}

func (e FieldError) String() string {
	var b strings.Builder
	b.WriteString(e.Field)
	if e.Value != "" {
		fmt.Fprintf(&b, " %q", e.Value)
	}
	b.WriteString(" ")
	b.WriteString(e.Problem)
	if e.Fix != "" {
		b.WriteString(": ")
		b.WriteString(e.Fix)
	}
	return b.String()
}

// Errors is every problem found in a request. A nil Errors means none.
type Errors []FieldError

func (es Errors) Error() string { return es.message("request") }

// Of returns es as an error headed with what was invalid ("change",
// "teardown", "adopt request"), or nil when there are none; errors.As
// still finds the Errors.
func (es Errors) Of(what string) error {
	if len(es) == 0 {
		return nil
	}
	return invalid{what, es}
}

type invalid struct {
	what string
	es   Errors
}

func (e invalid) Error() string { return e.es.message(e.what) }
func (e invalid) Unwrap() error { return e.es }

func (es Errors) message(what string) string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = "- " + e.String()
	}
	noun := "problems"
	if len(es) == 1 {
		noun = "problem"
	}
	return fmt.Sprintf("invalid PrivateLink %s, %d %s:\n%s", what, len(es), noun, strings.Join(lines, "\n"))
}

// Err returns es as an error, or nil when there are none.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

func (es *Errors) add(field, value, problem, fix string) {
	*es = append(*es, FieldError{Field: field, Value: value, Problem: problem, Fix: fix})
}
