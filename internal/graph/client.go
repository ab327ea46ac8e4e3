// Package graph is the client for the parts of Meta's Graph API that MM
// Console uses: message templates, WABA settings (including automatic
// creative optimizations), phone numbers and MM API sends.
//
// It owns transport concerns only: base URL and version, bearer token,
// timeouts, decoding Meta's response and error shapes into typed values, and
// retrying idempotent reads. Writes are never retried, because a repeated
// send or edit has effects a user did not ask for. Tokens never appear in
// errors or logs: every error the client builds is scrubbed of the call's
// token and of anything else that looks like one.
//
// Every call made for a person has one overall deadline, retries included
// (Options.Deadline); background refreshes are bounded by the request timeout
// and the retries instead. A call that gets no answer fails with an
// *UnreachableError, which also says whether a write may have reached Meta.
package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Options configures a Client. Zero values get the documented defaults.
type Options struct {
	BaseURL    string        // default "https://graph.facebook.com"
	Version    string        // default "v25.0"
	HTTPClient *http.Client  // default: one with Timeout
	Timeout    time.Duration // one request; default 15s
	// Deadline bounds all the Graph calls of one interactive request (see Interactive), retries
	// included; a call without Interactive or Background on its context gets it alone.
	// Default 10s.
	Deadline   time.Duration
	MaxRetries int          // reads only; default 3; negative disables retries
	Logger     *slog.Logger // never given tokens
	// RetryBaseDelay is the first backoff delay (doubling, with jitter,
	// capped by RetryMaxDelay). Defaults 300ms and 5s.
	RetryBaseDelay time.Duration
	RetryMaxDelay  time.Duration
	// Observer hears, per connection, whether each call was answered (may be nil).
	Observer Observer
}

// Client talks to one Graph API host and version. It is safe for concurrent
// use; the token is passed per call because one console manages many WABAs.
type Client struct {
	base       string
	version    string
	http       *http.Client
	maxRetries int
	baseDelay  time.Duration
	maxDelay   time.Duration
	deadline   time.Duration
	observer   Observer
	log        *slog.Logger
}

// maxBody bounds what we read from a response, so a misbehaving proxy
// cannot exhaust memory.
const maxBody = 16 << 20

// New builds a Client, filling in defaults.
func New(o Options) *Client {
	if o.BaseURL == "" {
		o.BaseURL = "https://graph.facebook.com"
	}
	if o.Version == "" {
		o.Version = "v25.0"
	}
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	if o.Deadline <= 0 {
		o.Deadline = 10 * time.Second
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: o.Timeout}
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 3
	} else if o.MaxRetries < 0 {
		o.MaxRetries = 0
	}
	if o.RetryBaseDelay <= 0 {
		o.RetryBaseDelay = 300 * time.Millisecond
	}
	if o.RetryMaxDelay <= 0 {
		o.RetryMaxDelay = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Client{
		base:       strings.TrimRight(o.BaseURL, "/"),
		version:    strings.Trim(o.Version, "/"),
		http:       o.HTTPClient,
		maxRetries: o.MaxRetries,
		baseDelay:  o.RetryBaseDelay,
		maxDelay:   o.RetryMaxDelay,
		deadline:   o.Deadline,
		observer:   o.Observer,
		log:        o.Logger,
	}
}

// Version is the Graph API version this client calls, e.g. "v25.0".
func (c *Client) Version() string { return c.version }

// BaseURL is the host the client calls (for display, e.g. sandbox mode).
func (c *Client) BaseURL() string { return c.base }

// ---- reads ----

// ListTemplates fetches one page of a WABA's message templates.
func (c *Client) ListTemplates(ctx context.Context, token, wabaID string, q TemplateQuery) (TemplatePage, error) {
	if err := needID("waba id", wabaID); err != nil {
		return TemplatePage{}, err
	}
	v := url.Values{}
	setList(v, "category", q.Category)
	setList(v, "status", q.Status)
	setList(v, "language", q.Language)
	setList(v, "quality_score", q.QualityScore)
	if q.Name != "" {
		v.Set("name", q.Name)
	}
	if len(q.Fields) > 0 {
		v.Set("fields", strings.Join(q.Fields, ","))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.After != "" {
		v.Set("after", q.After)
	}
	var resp struct {
		Data   []Template `json:"data"`
		Paging struct {
			Cursors struct {
				Before string `json:"before"`
				After  string `json:"after"`
			} `json:"cursors"`
			Next string `json:"next"`
		} `json:"paging"`
	}
	if err := c.read(ctx, token, "/"+url.PathEscape(wabaID)+"/message_templates", v, &resp); err != nil {
		return TemplatePage{}, fmt.Errorf("list templates of waba %s: %w", wabaID, err)
	}
	return TemplatePage{
		Data:   resp.Data,
		Before: resp.Paging.Cursors.Before,
		After:  resp.Paging.Cursors.After,
		Next:   resp.Paging.Next,
	}, nil
}

// maxPages stops ListAllTemplates if a server keeps handing out cursors;
// 6000 templates (the verified-portfolio maximum) at limit 25 is 240 pages.
const maxPages = 1000

// ListAllTemplates follows paging cursors until the last page.
func (c *Client) ListAllTemplates(ctx context.Context, token, wabaID string, q TemplateQuery) ([]Template, error) {
	var all []Template
	seen := map[string]bool{}
	for range maxPages {
		page, err := c.ListTemplates(ctx, token, wabaID, q)
		if err != nil {
			return all, err
		}
		all = append(all, page.Data...)
		if !page.HasNext() || len(page.Data) == 0 || seen[page.After] {
			return all, nil
		}
		seen[page.After] = true
		q.After = page.After
	}
	return all, fmt.Errorf("graph: list templates of waba %s: more than %d pages", wabaID, maxPages)
}

// templateFields are requested by GetTemplate: everything the console shows.
var templateFields = strings.Join([]string{
	"id", "name", "language", "status", "category", "sub_category", "parameter_format",
	"previous_category", "correct_category", "components", "quality_score", "rejected_reason",
	"message_send_ttl_seconds", "cta_url_link_tracking_opted_out", "degrees_of_freedom_spec",
	"ad_id", "ad_adset_id", "ad_campaign_id", "ad_account_id",
}, ",")

// GetTemplate reads one template with all the fields the console uses.
func (c *Client) GetTemplate(ctx context.Context, token, templateID string) (Template, error) {
	if err := needID("template id", templateID); err != nil {
		return Template{}, err
	}
	var t Template
	v := url.Values{"fields": {templateFields}}
	if err := c.read(ctx, token, "/"+url.PathEscape(templateID), v, &t); err != nil {
		return Template{}, fmt.Errorf("get template %s: %w", templateID, err)
	}
	return t, nil
}

var wabaFields = strings.Join([]string{
	"id", "name", "marketing_messages_onboarding_status", "degrees_of_freedom_spec",
	"disable_marketing_messages_on_cloud_api", "currency", "timezone_id", "message_template_namespace",
}, ",")

// GetWABA reads a WABA's MM API onboarding status and optimization defaults.
func (c *Client) GetWABA(ctx context.Context, token, wabaID string) (WABA, error) {
	if err := needID("waba id", wabaID); err != nil {
		return WABA{}, err
	}
	var w WABA
	if err := c.read(ctx, token, "/"+url.PathEscape(wabaID), url.Values{"fields": {wabaFields}}, &w); err != nil {
		return WABA{}, fmt.Errorf("get waba %s: %w", wabaID, err)
	}
	return w, nil
}

// ListPhoneNumbers lists a WABA's business phone numbers.
func (c *Client) ListPhoneNumbers(ctx context.Context, token, wabaID string) ([]PhoneNumber, error) {
	if err := needID("waba id", wabaID); err != nil {
		return nil, err
	}
	v := url.Values{"fields": {"id,display_phone_number,verified_name,quality_rating,throughput"}}
	path := "/" + url.PathEscape(wabaID) + "/phone_numbers"
	var all []PhoneNumber
	for range maxPages {
		var resp struct {
			Data   []PhoneNumber `json:"data"`
			Paging struct {
				Cursors struct {
					After string `json:"after"`
				} `json:"cursors"`
				Next string `json:"next"`
			} `json:"paging"`
		}
		if err := c.read(ctx, token, path, v, &resp); err != nil {
			return all, fmt.Errorf("list phone numbers of waba %s: %w", wabaID, err)
		}
		all = append(all, resp.Data...)
		after := resp.Paging.Cursors.After
		if resp.Paging.Next == "" || after == "" || after == v.Get("after") || len(resp.Data) == 0 {
			return all, nil
		}
		v.Set("after", after)
	}
	return all, nil
}

// ---- writes (never retried) ----

// EditTemplate changes TTL, optimizations or components of a template.
func (c *Client) EditTemplate(ctx context.Context, token, templateID string, e TemplateEdit) error {
	if err := needID("template id", templateID); err != nil {
		return err
	}
	var resp successResponse
	if err := c.write(ctx, token, "/"+url.PathEscape(templateID), e, &resp); err != nil {
		return fmt.Errorf("edit template %s: %w", templateID, err)
	}
	return resp.check("edit template " + templateID)
}

// CreateTemplate submits a new template for review; it starts PENDING.
func (c *Client) CreateTemplate(ctx context.Context, token, wabaID string, t TemplateCreate) (CreatedTemplate, error) {
	if err := needID("waba id", wabaID); err != nil {
		return CreatedTemplate{}, err
	}
	var out CreatedTemplate
	if err := c.write(ctx, token, "/"+url.PathEscape(wabaID)+"/message_templates", t, &out); err != nil {
		return CreatedTemplate{}, fmt.Errorf("create template %s/%s: %w", t.Name, t.Language, err)
	}
	return out, nil
}

// DeleteTemplate deletes a WABA's template by name: every language of it, or, with templateID
// (hsm_id), only that one (mm-api-reference §3.5). Never retried: a repeat could delete the
// name's other languages after one was re-created.
func (c *Client) DeleteTemplate(ctx context.Context, token, wabaID, name, templateID string) error {
	if err := needID("waba id", wabaID); err != nil {
		return err
	}
	if name == "" {
		return fmt.Errorf("graph: delete template of waba %s: no name", wabaID)
	}
	q := url.Values{"name": {name}}
	if templateID != "" {
		q.Set("hsm_id", templateID)
	}
	ctx, cancel, start := c.bound(ctx)
	defer cancel()
	var resp successResponse
	_, err := c.once(ctx, start, http.MethodDelete, token, "/"+url.PathEscape(wabaID)+"/message_templates", q, nil, &resp)
	c.observe(ctx, token, err)
	if err != nil {
		return fmt.Errorf("delete template %s of waba %s: %w", name, wabaID, err)
	}
	return resp.check("delete template " + name)
}

// SetWABAOptimizations sets WABA-level creative optimization defaults
// (feature key -> OPT_IN/OPT_OUT).
func (c *Client) SetWABAOptimizations(ctx context.Context, token, wabaID string, features map[string]string) error {
	if err := needID("waba id", wabaID); err != nil {
		return err
	}
	body := map[string]any{"degrees_of_freedom_spec": DegreesOfFreedom{Features: features}}
	var resp successResponse
	if err := c.write(ctx, token, "/"+url.PathEscape(wabaID), body, &resp); err != nil {
		return fmt.Errorf("set optimizations of waba %s: %w", wabaID, err)
	}
	return resp.check("set optimizations of waba " + wabaID)
}

// SendMarketingMessage sends one marketing template through MM API.
func (c *Client) SendMarketingMessage(ctx context.Context, token, phoneNumberID string, req MarketingMessageRequest) (SendResult, error) {
	if err := needID("phone number id", phoneNumberID); err != nil {
		return SendResult{}, err
	}
	var out SendResult
	if err := c.write(ctx, token, "/"+url.PathEscape(phoneNumberID)+"/marketing_messages", req, &out); err != nil {
		return SendResult{}, fmt.Errorf("send %s via %s: %w", req.TemplateName, phoneNumberID, err)
	}
	return out, nil
}

type successResponse struct {
	Success *flexBool `json:"success"`
}

// check treats an explicit "success": false as a failure; a missing field
// is accepted since some proxies answer {} or {"id": ...}.
func (s successResponse) check(what string) error {
	if s.Success != nil && !bool(*s.Success) {
		return &GraphError{HTTPStatus: 200, Message: what + ": Graph answered success=false"}
	}
	return nil
}

// ---- transport ----

func needID(what, id string) error {
	if strings.TrimSpace(id) == "" {
		return fmt.Errorf("graph: %s is empty", what)
	}
	return nil
}

// setList encodes a list filter: one value as a bare string (as in Meta's
// examples, e.g. status=approved), several as a JSON array as the SDKs do.
func setList(v url.Values, key string, vals []string) {
	switch len(vals) {
	case 0:
	case 1:
		v.Set(key, vals[0])
	default:
		b, _ := json.Marshal(vals)
		v.Set(key, string(b))
	}
}

func (c *Client) url(path string, q url.Values) string {
	u := c.base + "/" + c.version + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// Deadline is how long the Graph calls of one interactive request may take in all.
func (c *Client) Deadline() time.Duration { return c.deadline }

// bound applies the overall deadline: counted from the request's start for interactive work,
// from now for a call that says nothing, none for background work (the request timeout and
// the retries bound it). An earlier deadline already on ctx wins.
func (c *Client) bound(ctx context.Context) (context.Context, context.CancelFunc, time.Time) {
	start := time.Now()
	s := scopeOf(ctx)
	if s != nil && s.background {
		ctx, cancel := context.WithCancel(ctx)
		return ctx, cancel, start
	}
	if s != nil && !s.start.IsZero() {
		start = s.start
	}
	ctx, cancel := context.WithDeadline(ctx, start.Add(c.deadline))
	return ctx, cancel, start
}

// observe tells the Observer how the call for token ended.
func (c *Client) observe(ctx context.Context, token string, err error) {
	if c.observer == nil {
		return
	}
	id := connectionOf(ctx, token)
	if id == 0 {
		return
	}
	ct := Contact{At: time.Now().UTC(), OK: err == nil, Answered: err == nil || answeredByMeta(err)}
	if err != nil {
		ct.Failure = failureKind(err)
	}
	c.observer.GraphContact(context.WithoutCancel(ctx), id, ct)
}

// read performs an idempotent GET with retries, all within one deadline.
func (c *Client) read(ctx context.Context, token, path string, q url.Values, out any) (err error) {
	ctx, cancel, start := c.bound(ctx)
	defer cancel()
	defer func() { c.observe(ctx, token, err) }()
	var lastErr error
	for attempt := 0; ; attempt++ {
		retry, err := c.once(ctx, start, http.MethodGet, token, path, q, nil, out)
		if err == nil {
			return nil
		}
		lastErr = err
		if !retry || attempt >= c.maxRetries || ctx.Err() != nil {
			return lastErr
		}
		d := c.backoff(attempt)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
			// Waiting would use up the deadline: answer now with what Meta said.
			return lastErr
		}
		c.log.LogAttrs(ctx, slog.LevelWarn, "graph: retrying read",
			slog.String("path", path), slog.Int("attempt", attempt+1), slog.Duration("delay", d), slog.String("error", err.Error()))
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(lastErr, ctx.Err())
		case <-t.C:
		}
	}
}

// backoff is exponential with full jitter, so many console instances that
// failed together do not retry together.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.baseDelay << attempt
	if d <= 0 || d > c.maxDelay {
		d = c.maxDelay
	}
	return d/2 + rand.N(d/2+1)
}

// write performs a POST once; it is never retried.
func (c *Client) write(ctx context.Context, token, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("graph: encode request: %w", err)
	}
	ctx, cancel, start := c.bound(ctx)
	defer cancel()
	_, err = c.once(ctx, start, http.MethodPost, token, path, nil, b, out)
	c.observe(ctx, token, err)
	return err
}

// once does one HTTP exchange. retry says whether a read may try again.
// Every error it returns is scrubbed of token-like text.
func (c *Client) once(ctx context.Context, began time.Time, method, token, path string, q url.Values, body []byte, out any) (retry bool, err error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	// written tells a failure before the request left (nothing happened at Meta) from one after
	// it (Meta may have acted on it).
	// Atomic: net/http may call WroteRequest from its writing goroutine while Do returns on a
	// cancelled context.
	var written atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) { written.Store(i.Err == nil) }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), method, c.url(path, q), rd)
	if err != nil {
		return false, fmt.Errorf("graph: build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("User-Agent", "mmconsole")
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		ue := c.unreachable(err, began, method, path, token, written.Load())
		c.log.LogAttrs(ctx, slog.LevelWarn, "graph: request failed",
			slog.String("method", method), slog.String("path", path), slog.Bool("timeout", ue.Timeout),
			slog.Bool("written", ue.Written), slog.String("error", ue.Error()))
		return ctx.Err() == nil, ue
	}
	defer resp.Body.Close()
	raw, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if rerr != nil && method != http.MethodGet {
		// Meta answered but the answer was cut off: a write's effect is unknown.
		return false, c.unreachable(rerr, began, method, path, token, true)
	}
	ct := resp.Header.Get("Content-Type")
	c.log.LogAttrs(ctx, slog.LevelDebug, "graph: response",
		slog.String("method", method), slog.String("path", path),
		slog.Int("status", resp.StatusCode), slog.Duration("took", time.Since(start)))

	if ge, ok := parseErrorBody(resp.StatusCode, raw); ok {
		ge.scrub(token) // before anything, even the log line below, sees it
		c.log.LogAttrs(ctx, slog.LevelInfo, "graph: error response",
			slog.String("method", method), slog.String("path", path), slog.Int("status", resp.StatusCode),
			slog.Int("code", ge.Code), slog.Int("subcode", ge.Subcode), slog.String("fbtrace_id", ge.FBTraceID))
		return retryable(ge), ge
	}
	if resp.StatusCode == http.StatusGatewayTimeout && method != http.MethodGet {
		// Not Meta's answer (that is a JSON error, above) but a gateway's in between (an egress
		// proxy, a load balancer) that passed the request on and gave up waiting: Meta may have
		// acted on it, as after a timeout of our own. A send must not be called failed and
		// repeated.
		ge := decodeFailure(resp.StatusCode, ct, raw, rerr).scrub(token)
		return false, &UnreachableError{Method: method, Path: path, Timeout: true, Written: true, Gateway: true,
			Waited: time.Since(began), Err: scrubbedError{ge.Error()}}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ge := decodeFailure(resp.StatusCode, ct, raw, rerr)
		return retryable(ge), ge.scrub(token)
	}
	if rerr != nil {
		// A body cut off mid-read is a transport failure; a read may retry.
		return true, decodeFailure(resp.StatusCode, ct, raw, rerr).scrub(token)
	}
	if out == nil {
		return false, nil
	}
	if len(bytes.TrimSpace(raw)) == 0 || !json.Valid(raw) {
		return false, decodeFailure(resp.StatusCode, ct, raw, errors.New("body is not a JSON document")).scrub(token)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return false, decodeFailure(resp.StatusCode, ct, raw, err).scrub(token)
	}
	return false, nil
}

// unreachable builds the error of a call that got no (complete) answer. The cause's text is
// scrubbed: a proxy or a custom transport may put anything in it.
func (c *Client) unreachable(err error, start time.Time, method, path, token string, written bool) *UnreachableError {
	ue := &UnreachableError{Method: method, Path: path, Timeout: isTimeout(err), Written: written, Waited: time.Since(start)}
	var inner interface {
		UserFacing(ctx context.Context) (int, string, string)
	}
	if errors.As(err, &inner) {
		// A cause that explains itself (the sandbox router's) is kept as it is; it holds no secret.
		ue.Err = err
	} else if ue.Timeout {
		ue.Err = nil // "context deadline exceeded" and the URL add nothing to "no answer within"
	} else {
		ue.Err = scrubbedError{Scrub(rootCause(err).Error(), token)}
	}
	return ue
}

// rootCause drops the *url.Error wrapper, whose text repeats the URL.
func rootCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

// retryable: 5xx, 429, is_transient, or a code Meta documents as temporary.
func retryable(ge *GraphError) bool {
	return ge.HTTPStatus >= 500 || ge.HTTPStatus == http.StatusTooManyRequests ||
		ge.IsTransient || retryableCode(ge.Code)
}
