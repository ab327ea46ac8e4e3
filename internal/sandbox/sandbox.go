// Package sandbox is an in-process simulator of the Graph API endpoints MM
// Console uses (templates, WABA settings, phone numbers, MM API sends),
// served over real HTTP so the same internal/graph client talks to it as to
// Meta. It is a faithful model, not a stub that always says yes: it answers
// with Meta's documented response and error shapes, enforces the documented
// rules (marketing only, approved only, TTL ranges, the 10-minute sync window
// after creation and after 7 days unused, STRICT vs fallback, pair and
// throughput limits, edit limits) and delivers signed webhooks. Facts the
// reference marks as inferred are Options.
package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Clock is the time the sandbox's rules use (sync window, dormancy, limits),
// so tests can move it. Webhook delivery delays use real time.
type Clock interface{ Now() time.Time }

// RealClock is the wall clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// FakeClock is a settable clock for tests. Goroutine-safe.
type FakeClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewFakeClock starts a FakeClock at t.
func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{t: t} }

// Now returns the current fake time.
func (c *FakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock forward by d.
func (c *FakeClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Set moves the clock to t.
func (c *FakeClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// EditLimitSubcode is the error_subcode the sandbox uses when an approved
// template hits its edit limits. [I]: Meta documents the limits but not the
// error; a fixed subcode lets the console recognise the case.
const EditLimitSubcode = 2388299

// Options configures a Sandbox. Zero values get the documented defaults.
type Options struct {
	GraphVersion    string        // "v25.0"; webhooks carry conversation{} only for <= v23
	AppSecret       string        // signs webhook bodies (X-Hub-Signature-256)
	CallbackURL     string        // where webhooks go; empty keeps them in memory only
	Clock           Clock         // default RealClock
	EventDelay      time.Duration // real delay between sent/delivered/read (default 2s; negative = 0)
	ApproveAfter    time.Duration // PENDING -> APPROVED after this real delay (default 20s; negative = 0)
	StrictErrorCode int           // STRICT on a not-onboarded WABA; default 134102 ([I] undocumented)
	PhoneMPS        int           // sends per second per phone; default 80, above it 130429
	Logger          *slog.Logger
	HTTPClient      *http.Client // for webhook deliveries

	// PairLimit is the burst of the pair rate: how many messages one phone
	// may send to one recipient at once before 131056. Meta: 1 per 6 s with
	// bursts of up to 45 borrowed from future quota, so after a burst only
	// one more per 6 s passes until the quota has refilled. Default 45.
	PairLimit int
	// EnforceEditLimits applies Meta's approved-template edit limits
	// (10 per 30 days, 1 per 24 h). Default true (nil).
	EnforceEditLimits *bool
	// OptedOutNumbers answer accepted, then fail with 131050.
	// Default: the seeded 5215500000050.
	OptedOutNumbers []string
	// DeliveryMaxAttempts bounds webhook delivery attempts (default 5);
	// DeliveryRetryDelay is the first backoff delay, doubling (default 1s).
	DeliveryMaxAttempts int
	DeliveryRetryDelay  time.Duration
}

// Bool returns a pointer to v, for Options.EnforceEditLimits.
func Bool(v bool) *bool { return &v }

// OptedOutDemoNumber is the seeded recipient who stopped marketing messages.
const OptedOutDemoNumber = "5215500000050"

// Sandbox is the simulated Graph API. All state sits behind mu.
type Sandbox struct {
	opts        Options
	clock       Clock
	log         *slog.Logger
	enforceEdit bool
	versionMaj  int

	mu          sync.Mutex
	wabas       map[string]*waba
	phones      map[string]*phone
	templates   map[string]*tmpl
	tokens      map[string]string // token -> WABA ID
	optedOut    map[string]bool
	prefs       map[string]string // "wabaID|number" -> "stop" or "resume" (user_preferences)
	pairBuckets map[string]*bucket
	mpsSends    map[string][]time.Time
	nextID      int64
	seed        Seed

	// webhook scheduling
	queue      []*event
	seq        int64
	deliveries []*Delivery
	schedOn    bool
	closed     bool
	wake       chan struct{}
	ctx        context.Context
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	srv        *http.Server
}

type waba struct {
	ID, Name, Token, Onboarding, Namespace string
	DFS                                    map[string]string
	DisableCloudMarketing                  bool
	Insights                               bool // is_enabled_for_insights: template analytics answer
	PhoneIDs                               []string
	TemplateIDs                            []string // creation order
}

type phone struct {
	ID, WABAID, Display, VerifiedName, Quality, Throughput string
}

type editRec struct {
	at      time.Time
	content bool // components or category: the 1-per-24h rule applies
}

type tmpl struct {
	ID, WABAID, Name, Language, Status, Category, SubCategory, ParamFormat string
	PreviousCategory, RejectedReason, Quality                              string
	QualityDate                                                            time.Time
	Components                                                             json.RawMessage
	TTL                                                                    *int
	DFS                                                                    map[string]string
	CreatedAt, ApprovedAt, LastSentAt, SyncUntil                           time.Time
	Edits                                                                  []editRec
	// Sends per UTC day (unix of the day's start), as template analytics counts them.
	SentMM, SentCloud map[int64]int
}

// New builds a sandbox with its seed data; times are relative to Clock.
func New(o Options) *Sandbox {
	if o.GraphVersion == "" {
		o.GraphVersion = "v25.0"
	}
	if o.Clock == nil {
		o.Clock = RealClock{}
	}
	if o.EventDelay == 0 {
		o.EventDelay = 2 * time.Second
	} else if o.EventDelay < 0 {
		o.EventDelay = 0
	}
	if o.ApproveAfter == 0 {
		o.ApproveAfter = 20 * time.Second
	} else if o.ApproveAfter < 0 {
		o.ApproveAfter = 0
	}
	if o.StrictErrorCode == 0 {
		o.StrictErrorCode = 134102
	}
	if o.PhoneMPS <= 0 {
		o.PhoneMPS = 80
	}
	if o.PairLimit <= 0 {
		o.PairLimit = 45
	}
	if o.OptedOutNumbers == nil {
		o.OptedOutNumbers = []string{OptedOutDemoNumber}
	}
	if o.DeliveryMaxAttempts <= 0 {
		o.DeliveryMaxAttempts = 5
	}
	if o.DeliveryRetryDelay <= 0 {
		o.DeliveryRetryDelay = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sandbox{
		opts:        o,
		clock:       o.Clock,
		log:         o.Logger,
		enforceEdit: o.EnforceEditLimits == nil || *o.EnforceEditLimits,
		versionMaj:  majorVersion(o.GraphVersion),
		wabas:       map[string]*waba{},
		phones:      map[string]*phone{},
		templates:   map[string]*tmpl{},
		tokens:      map[string]string{},
		optedOut:    map[string]bool{},
		prefs:       map[string]string{},
		pairBuckets: map[string]*bucket{},
		mpsSends:    map[string][]time.Time{},
		nextID:      1500000000000000,
		wake:        make(chan struct{}, 1),
		ctx:         ctx,
		cancel:      cancel,
	}
	for _, n := range o.OptedOutNumbers {
		s.optedOut[digitsOnly(n)] = true
	}
	s.loadSeed(o.Clock.Now())
	return s
}

var versionRe = regexp.MustCompile(`^v(\d+)\.0$`)

func majorVersion(v string) int {
	m := versionRe.FindStringSubmatch(v)
	if m == nil {
		return 25
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// Handler serves the Graph routes under any /vNN.0/ prefix.
func (s *Sandbox) Handler() http.Handler { return http.HandlerFunc(s.serve) }

// Start listens on addr (e.g. "127.0.0.1:0"), serves Handler and starts the
// webhook deliverer. It returns the base URL for graph.Options.BaseURL.
func (s *Sandbox) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return "", errors.New("sandbox: closed")
	}
	s.srv = srv
	s.startSchedulerLocked()
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("sandbox: serve", "error", err)
		}
	}()
	return "http://" + ln.Addr().String(), nil
}

// Close stops the server and the deliverer; pending webhooks are dropped
// and in-flight deliveries cancelled. All goroutines have ended on return.
func (s *Sandbox) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	srv := s.srv
	s.mu.Unlock()
	s.cancel()
	var err error
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = srv.Shutdown(ctx)
		cancel()
	}
	s.wg.Wait()
	return err
}

// ---- Graph error envelope ----

// apiErr is one Graph error as §2.1 shapes it.
type apiErr struct {
	status    int
	code      int
	subcode   int
	typ       string
	message   string // without the "(#code) " prefix
	details   string
	userTitle string
	userMsg   string
	transient bool
	noPrefix  bool // OAuth errors carry no "(#190)" prefix in their message
}

func (s *Sandbox) writeErr(w http.ResponseWriter, e apiErr) {
	if e.status == 0 {
		e.status = http.StatusBadRequest
	}
	if e.typ == "" {
		e.typ = "OAuthException"
	}
	msg := e.message
	if !e.noPrefix {
		msg = "(#" + strconv.Itoa(e.code) + ") " + e.message
	}
	body := map[string]any{
		"message":      msg,
		"type":         e.typ,
		"code":         e.code,
		"fbtrace_id":   randToken(23),
		"is_transient": e.transient,
	}
	if e.subcode != 0 {
		body["error_subcode"] = e.subcode
	}
	if e.details != "" {
		body["error_data"] = map[string]any{"messaging_product": "whatsapp", "details": e.details}
	}
	if e.userTitle != "" {
		body["error_user_title"] = e.userTitle
		body["error_user_msg"] = e.userMsg
	}
	writeJSON(w, e.status, map[string]any{"error": body})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func invalidParam(details string) apiErr {
	return apiErr{code: 100, message: "Invalid parameter", details: details}
}

// unsupported is Graph's answer for an object that does not exist or that
// the token may not see. Graph deliberately does not tell the two apart, so
// a token reaching another WABA's object gets this, not a 403/200 error.
func unsupported(method, id string) apiErr {
	return apiErr{
		code: 100, subcode: 33, typ: "GraphMethodException",
		message: "Unsupported " + strings.ToLower(method) + " request. Object with ID '" + id +
			"' does not exist, cannot be loaded due to missing permissions, or does not support this operation. " +
			"Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
	}
}

// ---- routing ----

func bearer(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(tok)
		}
		if tok, ok := strings.CutPrefix(h, "OAuth "); ok {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	return r.URL.Query().Get("access_token")
}

func (s *Sandbox) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 2 || !versionRe.MatchString(parts[0]) {
		s.writeErr(w, apiErr{code: 2500, message: "Unknown path components: " + r.URL.Path})
		return
	}
	version := majorVersion(parts[0])
	tok := bearer(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	wabaID, ok := s.tokens[tok]
	if tok == "" {
		s.writeErr(w, apiErr{status: http.StatusUnauthorized, code: 190, noPrefix: true,
			message: "An active access token must be used to query information about the current user."})
		return
	}
	if !ok {
		s.writeErr(w, apiErr{status: http.StatusUnauthorized, code: 190, noPrefix: true,
			message: "Invalid OAuth access token - Cannot parse access token"})
		return
	}
	id := parts[1]
	switch {
	case len(parts) == 2 && r.Method == http.MethodGet:
		s.getNode(w, r, wabaID, id, version)
	case len(parts) == 2 && r.Method == http.MethodPost:
		body, aerr := readBody(r)
		if aerr != nil {
			s.writeErr(w, *aerr)
			return
		}
		s.postNode(w, wabaID, id, body)
	case len(parts) == 3 && parts[2] == "message_templates" && r.Method == http.MethodGet:
		s.listTemplates(w, r, wabaID, id)
	case len(parts) == 3 && parts[2] == "message_templates" && r.Method == http.MethodPost:
		body, aerr := readBody(r)
		if aerr != nil {
			s.writeErr(w, *aerr)
			return
		}
		s.createTemplate(w, wabaID, id, body)
	case len(parts) == 3 && parts[2] == "message_templates" && r.Method == http.MethodDelete:
		s.deleteTemplates(w, r, wabaID, id)
	case len(parts) == 3 && parts[2] == "template_analytics" && r.Method == http.MethodGet:
		s.templateAnalytics(w, r, wabaID, id)
	case len(parts) == 3 && parts[2] == "phone_numbers" && r.Method == http.MethodGet:
		s.listPhones(w, wabaID, id)
	case len(parts) == 3 && parts[2] == "marketing_messages" && r.Method == http.MethodPost:
		body, aerr := readBody(r)
		if aerr != nil {
			s.writeErr(w, *aerr)
			return
		}
		s.send(w, wabaID, id, body)
	default:
		s.writeErr(w, unsupported(r.Method, id))
	}
}

// readBody accepts JSON (what the client sends) and form posts (what curl
// users and Meta's examples often send, with JSON-encoded values).
func readBody(r *http.Request) (map[string]json.RawMessage, *apiErr) {
	out := map[string]json.RawMessage{}
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data") {
		if err := r.ParseForm(); err != nil {
			e := invalidParam("could not parse form body")
			return nil, &e
		}
		for k, vs := range r.PostForm {
			v := vs[0]
			if json.Valid([]byte(v)) && (strings.HasPrefix(v, "{") || strings.HasPrefix(v, "[") || v == "true" || v == "false" || isInt(v)) {
				out[k] = json.RawMessage(v)
			} else {
				b, _ := json.Marshal(v)
				out[k] = b
			}
		}
		return out, nil
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	if err := dec.Decode(&out); err != nil {
		e := invalidParam("Request body is not a valid JSON object: " + err.Error())
		return nil, &e
	}
	return out, nil
}

func isInt(s string) bool { _, err := strconv.Atoi(s); return err == nil }

func digitsOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
