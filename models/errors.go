package models

import (
	"errors"
	"sort"
	"strings"
)

// ErrNotFound: the thing does not exist, or the user may not see it (the two are not told apart,
// so another account's URLs reveal nothing).
var ErrNotFound = errors.New("not found")

// ErrForbidden: the user is signed in and may see the thing, but not do this to it.
var ErrForbidden = errors.New("forbidden")

// ValidationError carries one message per form field; the form is re-rendered with them.
type ValidationError struct {
	Fields map[string]string
}

func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Fields))
	for _, k := range e.fieldNames() {
		parts = append(parts, k+": "+e.Fields[k])
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Messages are the field messages in field order, for a person to read (Error adds the field
// names, for logs).
func (e *ValidationError) Messages() string {
	parts := make([]string, 0, len(e.Fields))
	for _, k := range e.fieldNames() {
		parts = append(parts, e.Fields[k])
	}
	return strings.Join(parts, " ")
}

// fieldNames are the fields with a message, sorted, so every rendering has one order.
func (e *ValidationError) fieldNames() []string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Add records a message for field (the first message for a field wins).
func (e *ValidationError) Add(field, msg string) {
	if e.Fields == nil {
		e.Fields = map[string]string{}
	}
	if _, ok := e.Fields[field]; !ok {
		e.Fields[field] = msg
	}
}

// OrNil returns e if it holds any message, else nil.
func (e *ValidationError) OrNil() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}
