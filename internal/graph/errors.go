package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// GraphError is an error answered by the Graph API (the §2.1 envelope), or a
// response that could not be understood at all (Code 0, Message says what
// came back). Callers branch on Code and Details, never on the title text,
// as Meta advises.
type GraphError struct {
	HTTPStatus  int
	Code        int
	Subcode     int
	Type        string
	Message     string
	Details     string
	FBTraceID   string
	UserTitle   string
	UserMessage string
	IsTransient bool
	// Raw is the response body as received, for the webhook/error log.
	Raw []byte
	// Err is the underlying cause when the body could not be decoded
	// (a *DecodeError); nil for a well-formed Graph error.
	Err error
}

// Error renders "graph: (#134101) Your template is still syncing: <details>".
func (e *GraphError) Error() string {
	title := strings.TrimSpace(stripCodePrefix(e.Message))
	if title == "" {
		title = "unknown error"
	}
	var b strings.Builder
	b.WriteString("graph: ")
	if e.Code != 0 {
		fmt.Fprintf(&b, "(#%d) ", e.Code)
	} else if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, "HTTP %d: ", e.HTTPStatus)
	}
	b.WriteString(title)
	if e.Details != "" && e.Details != title {
		b.WriteString(": ")
		b.WriteString(e.Details)
	}
	return b.String()
}

// Unwrap exposes the decode failure behind a Code 0 error.
func (e *GraphError) Unwrap() error { return e.Err }

// Title is Meta's message without the "(#code) " prefix it usually carries.
func (e *GraphError) Title() string { return strings.TrimSpace(stripCodePrefix(e.Message)) }

// Explain gives the plain-words explanation of this error's code in the language of ctx (the
// subcode first when it has its own entry, e.g. 2388024).
func (e *GraphError) Explain(ctx context.Context) Explanation {
	if e.Subcode != 0 {
		if x, ok := explanations[e.Subcode]; ok {
			return x.in(ctx)
		}
	}
	return Explain(ctx, e.Code)
}

// stripCodePrefix removes "(#123) " which Meta puts in front of messages, so
// that Error() never shows the code twice.
func stripCodePrefix(s string) string {
	if strings.HasPrefix(s, "(#") {
		if i := strings.Index(s, ")"); i > 0 {
			return strings.TrimSpace(s[i+1:])
		}
	}
	return s
}

// AsGraphError finds a *GraphError in err's chain.
func AsGraphError(err error) (*GraphError, bool) {
	var ge *GraphError
	if errors.As(err, &ge) {
		return ge, true
	}
	return nil, false
}

// DecodeError says that a response body was not what the Graph API
// documents: not JSON (an HTML proxy page), truncated, or of the wrong shape.
// It is always wrapped in a GraphError with Code 0 so callers need one check.
type DecodeError struct {
	HTTPStatus  int
	ContentType string
	Snippet     string // start of the body, for the log
	Err         error
}

func (e *DecodeError) Error() string {
	msg := fmt.Sprintf("graph: cannot decode HTTP %d response", e.HTTPStatus)
	if e.ContentType != "" {
		msg += " (" + e.ContentType + ")"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Snippet != "" {
		msg += fmt.Sprintf(": %q", e.Snippet)
	}
	return msg
}

func (e *DecodeError) Unwrap() error { return e.Err }

// snippet returns the first bytes of a body as printable text.
func snippet(b []byte) string {
	const max = 160
	b = bytes.TrimSpace(b)
	if len(b) > max {
		b = b[:max]
		for len(b) > 0 && !utf8.Valid(b) {
			b = b[:len(b)-1]
		}
	}
	return string(b)
}

// decodeFailure builds the Code 0 error for a body we could not understand.
func decodeFailure(status int, contentType string, body []byte, cause error) *GraphError {
	de := &DecodeError{HTTPStatus: status, ContentType: contentType, Snippet: snippet(body), Err: cause}
	what := "unexpected response"
	switch {
	case len(bytes.TrimSpace(body)) == 0:
		what = "empty response body"
	case !json.Valid(body) && looksLikeHTML(body):
		what = "HTML page instead of JSON"
	case !json.Valid(body):
		what = "response is not valid JSON"
	case cause != nil:
		what = "response JSON has an unexpected shape"
	}
	return &GraphError{
		HTTPStatus: status,
		Message:    what,
		Details:    de.Error(),
		Raw:        body,
		Err:        de,
	}
}

func looksLikeHTML(b []byte) bool {
	s := strings.ToLower(string(bytes.TrimSpace(b)))
	return strings.HasPrefix(s, "<!doctype") || strings.HasPrefix(s, "<html") || strings.Contains(s, "<body")
}

// flexInt accepts a JSON number or a numeric string; anything else decodes
// to 0 rather than failing, because an odd subcode must not hide the error.
type flexInt int

func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return nil
		}
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err == nil {
			*f = flexInt(n)
		}
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return nil
	}
	if i, err := n.Int64(); err == nil {
		*f = flexInt(i)
	} else if fl, err := n.Float64(); err == nil {
		*f = flexInt(int(fl))
	}
	return nil
}

// flexBool accepts true/false, "true"/"false" and 0/1.
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	switch strings.Trim(string(bytes.TrimSpace(b)), `"`) {
	case "true", "1":
		*f = true
	default:
		*f = false
	}
	return nil
}

// flexString accepts a string, or a number (Graph IDs arrive both ways).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*f = ""
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("want string or number, got %s", snippet(b))
	}
	*f = flexString(n.String())
	return nil
}

// lenientString decodes strings, and numbers/bools as their text; objects and
// arrays become their JSON text. Used for free-text error fields.
type lenientString string

func (l *lenientString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err == nil {
			*l = lenientString(s)
		}
		return nil
	}
	*l = lenientString(b)
	return nil
}

// errorEnvelope is the §2.1 shape, decoded leniently: every field tolerates a
// wrong JSON type so that a malformed error still becomes a GraphError.
type errorEnvelope struct {
	Error *struct {
		Message     lenientString   `json:"message"`
		Type        lenientString   `json:"type"`
		Code        flexInt         `json:"code"`
		Subcode     flexInt         `json:"error_subcode"`
		ErrorData   json.RawMessage `json:"error_data"`
		FBTraceID   lenientString   `json:"fbtrace_id"`
		IsTransient flexBool        `json:"is_transient"`
		UserTitle   lenientString   `json:"error_user_title"`
		UserMessage lenientString   `json:"error_user_msg"`
	} `json:"error"`
}

// parseErrorBody turns a Graph error body into a GraphError. ok is false when
// the body has no "error" object.
func parseErrorBody(status int, body []byte) (*GraphError, bool) {
	var env errorEnvelope
	if err := json.Unmarshal(body, &env); err != nil || env.Error == nil {
		return nil, false
	}
	e := env.Error
	ge := &GraphError{
		HTTPStatus:  status,
		Code:        int(e.Code),
		Subcode:     int(e.Subcode),
		Type:        string(e.Type),
		Message:     string(e.Message),
		FBTraceID:   string(e.FBTraceID),
		UserTitle:   string(e.UserTitle),
		UserMessage: string(e.UserMessage),
		IsTransient: bool(e.IsTransient),
		Raw:         body,
		Details:     errorDataDetails(e.ErrorData),
	}
	return ge, true
}

// errorDataDetails reads error_data, which Graph sends either as an object
// {"details": "..."} or as a plain string.
func errorDataDetails(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			// Some endpoints put a JSON object inside the string.
			if inner := strings.TrimSpace(s); strings.HasPrefix(inner, "{") {
				if d := errorDataDetails(json.RawMessage(inner)); d != "" {
					return d
				}
			}
			return s
		}
	case '{':
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) == nil {
			var d lenientString
			if v, ok := obj["details"]; ok {
				_ = json.Unmarshal(v, &d)
			}
			return string(d)
		}
	}
	return ""
}
