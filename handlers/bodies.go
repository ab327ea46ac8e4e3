package handlers

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"mmconsole/internal/i18n"
)

// fasthttp used to read a whole body before any handler ran, reserving the announced
// Content-Length up front: 3,000 connections announcing 4 MiB and sending nothing held 12 GB.
// The server now runs with StreamRequestBody, which pre-reads at most 8 KiB and hands over the
// rest as a stream; ReadBody reads that stream with the route's limit enforced while reading, so
// memory grows only as bytes arrive, within the route's limit and within one budget shared by
// every request. It reads the body whole (or answers and closes the connection), so no handler
// ever sees the stream and no unread bytes are left on a kept-alive connection.

// Body refusal reasons: the label of the metrics, and of the webhook's rejection records.
const (
	RefusedTooLarge = "too large"
	RefusedSlow     = "slow body"
	// RefusedSlowHeader: the request line and headers did not arrive within the read timeout.
	RefusedSlowHeader = "slow header"
	RefusedBusy       = "body memory full"
	RefusedBroken     = "unreadable body"
)

// BodyGuard is the state the body limits share across requests: the memory budget (the body
// bytes held at once over all requests) and the requests whose body is being pre-read.
type BodyGuard struct {
	limit int64
	used  atomic.Int64

	// fasthttp resets a request whose first body bytes time out before its error handler runs,
	// so that handler could not tell a slow body from a slow header, nor which route it was for.
	// HeaderReceived notes each request with a body here; ReadBody or ServerRefusals takes it out.
	//
	// Some requests reach neither: the client resets the connection while fasthttp writes its
	// "100 Continue", or a middleware before ReadBody answers. Such a note keeps its request's
	// pooled context (buffers included) alive after the pool dropped it, so a client repeating
	// that would grow memory without bound: notes older than StaleAfter are swept out whenever
	// the map has doubled since the last sweep.
	mu       sync.Mutex
	pending  map[*fasthttp.RequestHeader]pendingBody
	sweepAt  int
	routeMax func(path string) int

	// StaleAfter is the age past which a note belongs to no live request: the server's read
	// timeout bounds how long a body's pre-read may take. Zero: one minute.
	StaleAfter time.Duration
}

type pendingBody struct {
	path      string
	announced int
	tooLarge  bool // announced more than the route's limit
	at        time.Time
}

// minSweep is the map size below which stale notes are left alone.
const minSweep = 1024

// note records p for h and sweeps stale notes once the map has doubled; the caller holds mu.
func (g *BodyGuard) note(h *fasthttp.RequestHeader, p pendingBody) {
	g.pending[h] = p
	if len(g.pending) < max(g.sweepAt, minSweep) {
		return
	}
	stale := g.StaleAfter
	if stale <= 0 {
		stale = time.Minute
	}
	for k, v := range g.pending {
		if p.at.Sub(v.at) > stale {
			delete(g.pending, k)
		}
	}
	g.sweepAt = 2 * len(g.pending)
}

// Pending is the number of requests whose body is noted as being pre-read (for the metrics and
// tests).
func (g *BodyGuard) Pending() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.pending)
}

// NewBodyGuard allows memory bytes of bodies at once; routeMax gives the body limit of a
// path, so that a body announced over it is refused before a byte of it is read.
func NewBodyGuard(memory int, routeMax func(path string) int) *BodyGuard {
	return &BodyGuard{limit: int64(memory), routeMax: routeMax, pending: map[*fasthttp.RequestHeader]pendingBody{}}
}

// Used is the body bytes held now (for the metrics).
func (g *BodyGuard) Used() int64 {
	if g == nil {
		return 0
	}
	return g.used.Load()
}

func (g *BodyGuard) take(n int) bool {
	if g == nil {
		return true
	}
	if g.used.Add(int64(n)) > g.limit {
		g.used.Add(-int64(n))
		return false
	}
	return true
}

func (g *BodyGuard) release(n int) {
	if g != nil && n > 0 {
		g.used.Add(-int64(n))
	}
}

// HeaderReceived is the server's hook between a request's header and its body: it notes the
// path of each request that announces a body. It changes none of the server's limits.
//
// A body announced over its route's limit gets a read deadline already past: fasthttp's
// pre-read then fails at once and ServerRefusals answers 413, instead of the connection
// waiting for bytes that would be refused anyway.
func (g *BodyGuard) HeaderReceived(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	cl := h.ContentLength()
	if cl <= 0 {
		return fasthttp.RequestConfig{}
	}
	path, _, _ := strings.Cut(string(h.RequestURI()), "?")
	p := pendingBody{path: path, announced: cl, at: time.Now()}
	p.tooLarge = g.routeMax != nil && cl > g.routeMax(p.path)
	g.mu.Lock()
	g.note(h, p)
	g.mu.Unlock()
	if p.tooLarge {
		return fasthttp.RequestConfig{ReadTimeout: time.Nanosecond}
	}
	return fasthttp.RequestConfig{}
}

// arrived forgets the note of a request whose body reached the handlers (or failed).
func (g *BodyGuard) arrived(h *fasthttp.RequestHeader) (pendingBody, bool) {
	if g == nil {
		return pendingBody{}, false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	p, ok := g.pending[h]
	if ok {
		delete(g.pending, h)
	}
	return p, ok
}

// BodyLimit configures ReadBody.
type BodyLimit struct {
	Max   int        // largest body accepted, in bytes
	Guard *BodyGuard // shared by all routes; nil = no memory budget
	// Skip leaves requests to a later ReadBody with another limit (the webhook's group).
	Skip func(c *fiber.Ctx) bool
	// Refused is told of every refusal before the answer: one of the Refused* reasons and the
	// body's size as far as known (announced or read).
	Refused func(c *fiber.Ctx, reason string, size int)
}

// bodyRefusal is the answer to a body that was not read whole; it carries its reason, and the
// central error handler asks it for words in the reader's language.
type bodyRefusal struct {
	status int
	reason string // one of the Refused* reasons
}

func (e *bodyRefusal) Error() string { return "request body refused: " + e.reason }

// UserFacing is the refusal in the language of ctx.
func (e *bodyRefusal) UserFacing(ctx context.Context) (int, string, string) {
	switch e.reason {
	case RefusedTooLarge:
		return e.status, i18n.T(ctx, "errors.too_large.title"), i18n.T(ctx, "errors.too_large.message")
	case RefusedSlow:
		return e.status, i18n.T(ctx, "limits.slow.title"), i18n.T(ctx, "limits.slow.message")
	case RefusedBusy:
		return e.status, i18n.T(ctx, "limits.busy.title"), i18n.T(ctx, "limits.busy.message")
	}
	return e.status, i18n.T(ctx, "limits.broken.title"), i18n.T(ctx, "limits.broken.message")
}

var (
	errBodyTooLarge = errors.New("body over the limit")
	errBodyBudget   = errors.New("body memory budget exhausted")
)

// ReadBody is middleware that reads the request body into memory with l's limits and hands it
// to the next handlers as an ordinary body. Too large: 413; not received within the server's
// read timeout: 408; no memory left in the budget: 503 (Meta retries); the connection is
// closed after each of these.
func ReadBody(l BodyLimit) fiber.Handler {
	return func(c *fiber.Ctx) error {
		req := c.Request()
		l.Guard.arrived(&req.Header)
		if l.Skip != nil && l.Skip(c) {
			return c.Next()
		}
		announced := req.Header.ContentLength() // -1 chunked, -2 none
		if announced > l.Max {
			return l.refuse(c, RefusedTooLarge, announced)
		}
		stream := req.BodyStream()
		if announced == 0 {
			return c.Next() // nothing to read: the stream is at its end already
		}
		if stream == nil {
			// Already in memory: no body, or a server that does not stream (handler tests).
			if n := len(req.Body()); n > l.Max {
				return l.refuse(c, RefusedTooLarge, n)
			}
			return c.Next()
		}
		body, held, err := l.read(stream)
		defer l.Guard.release(held)
		if err != nil {
			size := max(announced, len(body))
			switch {
			case errors.Is(err, errBodyTooLarge):
				return l.refuse(c, RefusedTooLarge, size)
			case errors.Is(err, errBodyBudget):
				return l.refuse(c, RefusedBusy, size)
			case isTimeout(err):
				return l.refuse(c, RefusedSlow, size)
			default:
				return l.refuse(c, RefusedBroken, size)
			}
		}
		// Our own slice, not a fasthttp buffer: nothing pooled keeps its size after the request.
		req.SetBodyRaw(body)
		return c.Next()
	}
}

// read takes the body from the stream, growing the buffer only as bytes arrive and taking each
// growth from the budget. held is what it took; the caller releases it.
func (l BodyLimit) read(r io.Reader) (body []byte, held int, err error) {
	var buf []byte
	for {
		if len(buf) == cap(buf) {
			if len(buf) > l.Max {
				return buf, held, errBodyTooLarge
			}
			grow := min(max(cap(buf), 4096), l.Max+1-cap(buf))
			if !l.Guard.take(grow) {
				return buf, held, errBodyBudget
			}
			held += grow
			next := make([]byte, len(buf), cap(buf)+grow)
			copy(next, buf)
			buf = next
		}
		n, rerr := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > l.Max {
			return buf, held, errBodyTooLarge
		}
		if errors.Is(rerr, io.EOF) {
			return buf, held, nil
		}
		if rerr != nil {
			return buf, held, rerr
		}
	}
}

func (l BodyLimit) refuse(c *fiber.Ctx, reason string, size int) error {
	if l.Refused != nil {
		l.Refused(c, reason, size)
	}
	// Whatever of the body is unread must not be parsed as the next request.
	c.Context().SetConnectionClose()
	return refusal(reason)
}

func refusal(reason string) *bodyRefusal {
	switch reason {
	case RefusedTooLarge:
		return &bodyRefusal{http.StatusRequestEntityTooLarge, reason}
	case RefusedSlow:
		return &bodyRefusal{http.StatusRequestTimeout, reason}
	case RefusedBusy:
		return &bodyRefusal{http.StatusServiceUnavailable, reason}
	default:
		return &bodyRefusal{http.StatusBadRequest, RefusedBroken}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// ServerRefusals wraps the server's error handler, which answers requests whose header or
// first body bytes (the up to 8 KiB fasthttp reads before any handler) did not arrive within
// the read timeout, so that those are counted like ReadBody's refusals. refused gets the path
// (empty for a slow header), the client's address, the reason and the announced size.
func (g *BodyGuard) ServerRefusals(next func(*fasthttp.RequestCtx, error), refused func(ctx context.Context, path, ip, reason string, size int)) func(*fasthttp.RequestCtx, error) {
	return func(fctx *fasthttp.RequestCtx, err error) {
		p, hadBody := g.arrived(&fctx.Request.Header)
		reason := ""
		switch {
		case hadBody && p.tooLarge:
			reason, err = RefusedTooLarge, fasthttp.ErrBodyTooLarge // answered 413, not 408
		case errors.Is(err, fasthttp.ErrBodyTooLarge):
			reason = RefusedTooLarge
		case isTimeout(err) || strings.Contains(err.Error(), "timeout"):
			reason = RefusedSlowHeader
			if hadBody {
				reason = RefusedSlow
			}
		}
		if reason != "" && refused != nil {
			refused(context.Background(), p.path, fctx.RemoteIP().String(), reason, p.announced)
		}
		next(fctx, err)
	}
}

// IsWebhookPath tells the webhook callback's paths (their body limit is the webhook's).
func IsWebhookPath(path string) bool {
	const prefix = "/webhooks"
	return len(path) >= len(prefix) && strings.EqualFold(path[:len(prefix)], prefix) &&
		(len(path) == len(prefix) || path[len(prefix)] == '/')
}
