package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mmconsole/internal/config"
	"mmconsole/models"
)

// fixtureToken is the access token of the fixture's connection A.
const fixtureToken = "EAAGacmeTOKENvalue000001"

// fakeMeta is a Graph API that misbehaves on demand: a black hole (accepts, never answers),
// slow, 500, an HTML page, or an error that echoes the Authorization header. "ok" is the stub.
type fakeMeta struct {
	mode atomic.Value // string
	hits atomic.Int64
	stub http.Handler
	done chan struct{}
	slow time.Duration
}

func (m *fakeMeta) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.hits.Add(1)
	switch m.mode.Load().(string) {
	case "blackhole":
		select {
		case <-r.Context().Done():
		case <-m.done:
		}
	case "slow":
		select {
		case <-time.After(m.slow):
			m.stub.ServeHTTP(w, r)
		case <-r.Context().Done():
		case <-m.done:
		}
	case "500":
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
	case "html":
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "<html><body><h1>502 Bad Gateway</h1><p>upstream sent "+r.Header.Get("Authorization")+"</p></body></html>")
	case "echo":
		auth := r.Header.Get("Authorization")
		tok := strings.TrimPrefix(auth, "Bearer ")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":{"message":"Invalid OAuth access token - Cannot parse access token: %s","type":"OAuthException","code":190,
			"error_data":{"details":"header was %s"},"error_user_title":"Token %s","error_user_msg":"The token %s is invalid","fbtrace_id":"AbC%s"}}`,
			tok, auth, tok, tok, tok)
	default:
		m.stub.ServeHTTP(w, r)
	}
}

func newFaultFixture(t *testing.T, deadline time.Duration) (*fixture, *fakeMeta) {
	t.Helper()
	meta := &fakeMeta{stub: graphStub(t).Config.Handler, done: make(chan struct{}), slow: 3 * deadline}
	meta.mode.Store("ok")
	srv := httptest.NewServer(meta)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(meta.done) }) // runs first: frees the black hole's handlers
	f := newFixture(t, func(c *config.Config) {
		c.GraphBaseURL = srv.URL
		c.GraphDeadline = deadline
	})
	return f, meta
}

// htmx marks a request as htmx's, which gets a toast instead of a page.
func (f *fixture) htmxPost(role, path string, form url.Values) (*http.Response, string) {
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	req.AddCookie(f.sessions[role])
	return do(f.t, f.a, req)
}

func TestPagesThatNeedMetaAnswerWithinTheDeadlineAndNeverShowTheToken(t *testing.T) {
	// Long enough that a busy machine still gets the fake's instant 500 / HTML / JSON answers
	// within it (at 1 s one of them read as "did not answer" under load); short enough that the
	// black hole and slow modes end quickly.
	const deadline = 3 * time.Second
	// Generous: the point is "about the deadline", not a minute (61 s before), on a busy machine.
	const bound = 20 * time.Second
	f, meta := newFaultFixture(t, deadline)
	conn := f.connA.ID
	csrf := url.Values{"_csrf": {f.csrf["admin"]}}

	// Meta answers once: the connection remembers when.
	if resp, _ := f.post("admin", fmt.Sprintf("/settings/connections/%d/test", conn), csrf); resp.StatusCode != 303 {
		t.Fatalf("test connection with Meta up: %d", resp.StatusCode)
	}
	var seen []string // every page, toast and cookie, checked for the token at the end
	modes := []struct {
		mode, title, explains string
	}{
		{"blackhole", "Meta did not answer", "Try again in a minute"},
		{"slow", "Meta did not answer", "Try again in a minute"},
		{"500", "Meta answered with an error", "HTTP 500"},
		{"html", "Meta answered with an error", "HTML page instead of JSON"},
		{"echo", "Meta error 190", "Generate a new token"},
	}
	for _, m := range modes {
		t.Run(m.mode, func(t *testing.T) {
			meta.mode.Store(m.mode)
			start := time.Now()
			resp, body := f.get("admin", fmt.Sprintf("/optimizations?conn=%d", conn))
			if took := time.Since(start); took > bound {
				t.Errorf("/optimizations took %s", took)
			}
			if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, m.title) || !strings.Contains(body, m.explains) {
				t.Errorf("/optimizations: %d, want 502 %q with %q:\n%.2000s", resp.StatusCode, m.title, m.explains, body)
			}
			seen = append(seen, body)

			start = time.Now()
			resp, toast := f.htmxPost("admin", fmt.Sprintf("/optimizations/waba/%d/reread", conn), csrf)
			if took := time.Since(start); took > bound {
				t.Errorf("re-read took %s", took)
			}
			if resp.StatusCode != http.StatusBadGateway || resp.Header.Get("HX-Retarget") != "#toasts" || !strings.Contains(toast, m.title) {
				t.Errorf("re-read toast: %d %q %.500s", resp.StatusCode, resp.Header.Get("HX-Retarget"), toast)
			}
			seen = append(seen, toast)

			start = time.Now()
			resp, _ = f.post("admin", fmt.Sprintf("/settings/connections/%d/test", conn), csrf)
			if took := time.Since(start); took > bound {
				t.Errorf("test connection took %s", took)
			}
			if resp.StatusCode != 303 {
				t.Errorf("test connection: %d", resp.StatusCode)
			}
			for _, c := range resp.Cookies() {
				v, _ := url.QueryUnescape(c.Value)
				seen = append(seen, c.Name+"="+c.Value, v)
				if c.Name == "mmc_flash" && !strings.Contains(v, "Test of WABA 123456") {
					t.Errorf("flash does not explain: %q", v)
				}
			}
			var stored models.WABAConnection
			f.a.DB().First(&stored, conn)
			if stored.GraphFailedAt == nil || stored.GraphFailure == "" || stored.GraphOKAt == nil {
				t.Errorf("the connection does not remember Meta's last answer and failure: ok %v failed %v %q",
					stored.GraphOKAt, stored.GraphFailedAt, stored.GraphFailure)
			}
			seen = append(seen, stored.LastCheckError, stored.GraphFailure)
		})
	}

	// The pages that need Meta say when it last answered and how the last call failed.
	_, settings := f.get("admin", fmt.Sprintf("/settings?account=%d", f.accA.ID))
	_, composer := f.get("admin", fmt.Sprintf("/send?connection=%d", conn))
	for name, body := range map[string]string{"settings": settings, "composer": composer} {
		if !strings.Contains(body, "Meta last answered for this WABA") || !strings.Contains(body, "Last call failed") {
			t.Errorf("%s does not say when Meta last answered", name)
		}
		seen = append(seen, body)
	}
	meta.mode.Store("ok")
	if _, body := f.get("admin", fmt.Sprintf("/optimizations?conn=%d", conn)); !strings.Contains(body, "Meta last answered for this WABA") {
		t.Error("/optimizations does not say when Meta last answered")
	}

	// No token anywhere afterwards: pages, toasts, cookies, stored text, log, audit log.
	seen = append(seen, f.logs.String())
	var audited []models.AuditEntry
	f.a.DB().Find(&audited)
	for _, e := range audited {
		seen = append(seen, e.Target+e.Before+e.After)
	}
	var refreshes []models.TemplateRefresh
	f.a.DB().Find(&refreshes)
	for _, r := range refreshes {
		seen = append(seen, r.ErrorText)
	}
	for i, s := range seen {
		if strings.Contains(s, fixtureToken) || strings.Contains(s, "EAAGacme") || strings.Contains(s, url.QueryEscape(fixtureToken)) {
			j := strings.Index(s, "EAAGacme")
			if j < 0 {
				j = strings.Index(s, url.QueryEscape(fixtureToken))
			}
			t.Errorf("item %d holds the token: %s", i, s[max(0, j-400):min(len(s), j+100)])
		}
	}
	if len(audited) == 0 {
		t.Error("no audit entries: the check above proved nothing")
	}
}

func TestPagesThatReadTheDatabaseNeverWaitForMeta(t *testing.T) {
	f, meta := newFaultFixture(t, 5*time.Second)
	meta.mode.Store("blackhole")
	meta.hits.Store(0)
	for _, path := range []string{"/", "/templates", fmt.Sprintf("/templates/%d", f.tmplA.ID), "/log", "/sends",
		"/messages/" + stubWAMID, "/audit", fmt.Sprintf("/optimizations/matrix?conn=%d", f.connA.ID)} {
		start := time.Now()
		resp, body := f.get("admin", path)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d %.300s", path, resp.StatusCode, body)
		}
		if took := time.Since(start); took > 4*time.Second {
			t.Errorf("%s took %s with Meta down", path, took)
		}
	}
	if n := meta.hits.Load(); n != 0 {
		t.Errorf("database pages called the Graph API %d times", n)
	}
}

// A send left "Sending…" by a process that died is "outcome unknown" after the next start.
func TestRestartTurnsInterruptedSendsIntoOutcomeUnknown(t *testing.T) {
	cfg := testConfig(t)
	first, err := New(context.Background(), cfg, NewLogger(cfg, io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	long := time.Now().UTC().Add(-time.Hour)
	stuck := models.TestSend{AccountID: 1, ConnectionID: 1, MessageStatus: models.SendSending, IdempotencyKey: "stuck", CreatedAt: long, UpdatedAt: long}
	if err := first.DB().Create(&stuck).Error; err != nil {
		t.Fatal(err)
	}
	first.Close() // the process "dies" with the send in flight

	var logs bytes.Buffer
	second, err := New(context.Background(), cfg, NewLogger(cfg, &logs))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { second.Close() })
	var got models.TestSend
	if err := second.DB().First(&got, stuck.ID).Error; err != nil {
		t.Fatal(err)
	}
	if got.MessageStatus != models.SendUnknown || got.ErrorMessage == "" {
		t.Errorf("after restart: %q %q, want outcome unknown with a reason", got.MessageStatus, got.ErrorMessage)
	}
	if !strings.Contains(logs.String(), "outcome unknown") {
		t.Error("the start does not log what it recovered")
	}
}

// A restart seconds after a crash finds the interrupted send too young to be sure it is not in
// flight; the running dashboard must still settle it once it is old enough.
func TestQuickRestartStillSettlesTheInterruptedSend(t *testing.T) {
	cfg := testConfig(t)
	cfg.GraphDeadline = 200 * time.Millisecond // the sweep runs every second
	first, err := New(context.Background(), cfg, NewLogger(cfg, io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	crash := time.Now().UTC()
	stuck := models.TestSend{AccountID: 1, ConnectionID: 1, MessageStatus: models.SendSending, IdempotencyKey: "quick", CreatedAt: crash, UpdatedAt: crash}
	if err := first.DB().Create(&stuck).Error; err != nil {
		t.Fatal(err)
	}
	first.Close()

	var moved atomic.Int64
	second, err := build(context.Background(), cfg, NewLogger(cfg, io.Discard), func() time.Time { return time.Now().Add(time.Duration(moved.Load())) })
	if err != nil {
		t.Fatal(err)
	}
	status := func() string {
		var got models.TestSend
		if err := second.DB().First(&got, stuck.ID).Error; err != nil {
			t.Fatal(err)
		}
		return got.MessageStatus
	}
	if s := status(); s != models.SendSending {
		t.Fatalf("at start a send interrupted just now is already %q", s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- second.Serve(ctx, ln) }()
	defer func() { cancel(); <-served }()
	moved.Store(int64(time.Minute)) // the send is now older than any send in flight
	for range 100 {                 // at most 10 s
		if status() == models.SendUnknown {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the interrupted send is still %q a minute later", status())
}

// A Meta that answers with its own error is up: the page says Meta answered just now, and that
// the call failed, so a person looks at the WABA (here its token), not at Meta's status.
func TestMetasErrorAnswerCountsAsMetaAnswering(t *testing.T) {
	f, meta := newFaultFixture(t, 2*time.Second)
	meta.mode.Store("echo")
	csrf := url.Values{"_csrf": {f.csrf["admin"]}}
	if resp, _ := f.post("admin", fmt.Sprintf("/settings/connections/%d/test", f.connA.ID), csrf); resp.StatusCode != 303 {
		t.Fatalf("test connection: %d", resp.StatusCode)
	}
	var stored models.WABAConnection
	if err := f.a.DB().First(&stored, f.connA.ID).Error; err != nil {
		t.Fatal(err)
	}
	if stored.GraphOKAt == nil || stored.GraphFailedAt == nil || stored.GraphOKAt.Before(*stored.GraphFailedAt) {
		t.Fatalf("Meta answered error 190: answered %v, failed %v %q; want both at the call", stored.GraphOKAt, stored.GraphFailedAt, stored.GraphFailure)
	}
	_, body := f.get("admin", fmt.Sprintf("/send?connection=%d", f.connA.ID))
	if !strings.Contains(body, "Meta last answered for this WABA") || !strings.Contains(body, "Last call failed") || !strings.Contains(body, "#190") {
		t.Errorf("the composer does not say Meta answered and the call failed:\n%.3000s", body)
	}

	meta.mode.Store("blackhole") // no answer: the last answer stays where it was
	f.post("admin", fmt.Sprintf("/settings/connections/%d/test", f.connA.ID), csrf)
	var after models.WABAConnection
	if err := f.a.DB().First(&after, f.connA.ID).Error; err != nil {
		t.Fatal(err)
	}
	if !after.GraphOKAt.Equal(*stored.GraphOKAt) || !after.GraphFailedAt.After(*stored.GraphFailedAt) {
		t.Errorf("a black hole moved the last answer (%v → %v) or not the failure", stored.GraphOKAt, after.GraphOKAt)
	}
}
