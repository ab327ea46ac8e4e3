package graph

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"mmconsole/internal/i18n"
)

// UnreachableError says the Graph API did not answer: the connection failed, or no answer came
// before the deadline. It is not a GraphError, because Meta said nothing; the central error
// handler shows it as "Meta did not answer" with what to do.
type UnreachableError struct {
	Method, Path string
	// Timeout is true when the deadline (or the request timeout) ended the wait.
	Timeout bool
	// Written is true when the whole request went out before the failure: Meta may have acted
	// on it (for a send, its outcome is unknown).
	Written bool
	// Gateway is true when a gateway between this server and the Graph API answered 504 Gateway
	// Timeout: it passed the request on and stopped waiting for Meta's answer.
	Gateway bool
	// Waited is how long the call waited in all, retries included.
	Waited time.Duration
	Err    error // the cause, scrubbed of tokens
}

func (e *UnreachableError) Error() string {
	what := "could not reach the Graph API"
	if e.Gateway {
		what = "a gateway answered 504 Gateway Timeout, with no answer from the Graph API behind it"
	} else if e.Timeout {
		what = "no answer from the Graph API within " + roundWait(e.Waited)
	}
	msg := fmt.Sprintf("graph: %s %s: %s", e.Method, e.Path, what)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// UserFacing is what the central error handler shows: a 502 that says Meta did not answer and
// what to do. A cause that explains itself (e.g. the sandbox is off) speaks instead.
func (e *UnreachableError) UserFacing(ctx context.Context) (int, string, string) {
	var inner interface {
		UserFacing(ctx context.Context) (int, string, string)
	}
	if errors.As(e.Err, &inner) {
		return inner.UserFacing(ctx)
	}
	title := i18n.T(ctx, "graph.unreachable.title")
	var msg string
	if e.Gateway {
		msg = i18n.T(ctx, "graph.unreachable.gateway")
	} else if e.Timeout {
		msg = i18n.T(ctx, "graph.unreachable.timeout", "Wait", roundWait(e.Waited))
	} else {
		msg = i18n.T(ctx, "graph.unreachable.no_connection")
	}
	if e.Written && e.Method == http.MethodPost {
		msg += " " + i18n.T(ctx, "graph.unreachable.maybe_applied")
	} else {
		msg += " " + i18n.T(ctx, "graph.unreachable.unchanged")
	}
	msg += " " + i18n.T(ctx, "graph.unreachable.todo")
	return http.StatusBadGateway, title, msg
}

// AsUnreachable finds an *UnreachableError in err's chain.
func AsUnreachable(err error) (*UnreachableError, bool) {
	var ue *UnreachableError
	if errors.As(err, &ue) {
		return ue, true
	}
	return nil, false
}

// OutcomeUnknown reports whether err means a write reached the network but no answer came back:
// Meta may or may not have acted on it, so it must not be reported as failed, nor repeated blindly.
func OutcomeUnknown(err error) bool {
	ue, ok := AsUnreachable(err)
	return ok && ue.Written
}

// isTimeout tells a deadline or timeout from other transport failures.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// ---- how long a call may take, and whom it was for ----

// callScope travels in a context. It says when the interactive work that makes Graph calls
// started (so that all of a request's calls share one deadline) or that the work is a
// background refresh, and it collects which connection each token belongs to, so the client can
// report per connection when Meta last answered.
type callScope struct {
	start      time.Time
	background bool
	mu         sync.Mutex
	conns      map[string]uint // token -> connection id
}

type scopeKey struct{}

// Interactive marks ctx as one person's request that started at start: every Graph call made
// with it shares one deadline (the client's Deadline, counted from start).
func Interactive(ctx context.Context, start time.Time) context.Context {
	return context.WithValue(ctx, scopeKey{}, &callScope{start: start})
}

// Background marks ctx as a background refresh: its calls are bounded by the request timeout
// and the retries, not by the interactive deadline.
func Background(ctx context.Context) context.Context {
	return context.WithValue(ctx, scopeKey{}, &callScope{background: true})
}

func scopeOf(ctx context.Context) *callScope {
	s, _ := ctx.Value(scopeKey{}).(*callScope)
	return s
}

// Attribute records that token belongs to connection id for the work ctx carries, so the
// client's Observer learns which connection a call was for. Without Interactive or Background
// on ctx it does nothing.
func Attribute(ctx context.Context, token string, connectionID uint) {
	s := scopeOf(ctx)
	if s == nil || token == "" || connectionID == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns == nil {
		s.conns = map[string]uint{}
	}
	s.conns[token] = connectionID
}

func connectionOf(ctx context.Context, token string) uint {
	s := scopeOf(ctx)
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[token]
}

// Contact is the outcome of one Graph call for a connection, as the Observer hears it.
type Contact struct {
	At time.Time
	OK bool
	// Answered is true when Meta answered, with the result or with its own error (a JSON Graph
	// error with a code): Meta is up, even if this WABA has a problem. A proxy's page or a
	// timeout is not an answer.
	Answered bool
	// Failure says in our own words (never Meta's text) what went wrong; empty when OK.
	Failure string
}

// Observer hears the outcome of every Graph call whose connection is known (see Attribute).
// It must be quick and must not call the Graph API.
type Observer interface {
	GraphContact(ctx context.Context, connectionID uint, c Contact)
}

// answeredByMeta tells Meta's own error answer (a well-formed Graph error with a code) from a
// failure on the way.
func answeredByMeta(err error) bool {
	ge, ok := AsGraphError(err)
	return ok && ge.Code != 0 && ge.Err == nil
}

// failureKind names what went wrong, for the per-connection "last failure".
func failureKind(err error) string {
	if ue, ok := AsUnreachable(err); ok {
		if ue.Gateway {
			return "gateway timeout (HTTP 504)"
		}
		if ue.Timeout {
			return "no answer within " + roundWait(ue.Waited)
		}
		return "could not connect"
	}
	if ge, ok := AsGraphError(err); ok {
		if ge.Code != 0 {
			// Stored on the connection and read later by whoever opens the page, so it is
			// written once, in English, like the rest of this record.
			return fmt.Sprintf("Graph error #%d (%s)", ge.Code, ge.Explain(context.Background()).Title)
		}
		if ge.HTTPStatus != 0 {
			if de, ok := ge.Err.(*DecodeError); ok && de != nil {
				return fmt.Sprintf("HTTP %d: %s", ge.HTTPStatus, ge.Title())
			}
			return fmt.Sprintf("HTTP %d", ge.HTTPStatus)
		}
		return ge.Title()
	}
	return "request failed"
}

// roundWait shows a wait as people read it: 0.8s, 10s.
func roundWait(d time.Duration) string {
	if d < time.Second {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
