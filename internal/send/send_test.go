package send_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"

	"mmconsole/handlers"
	"mmconsole/internal/accounts"
	"mmconsole/internal/database"
	"mmconsole/internal/graph"
	"mmconsole/internal/i18n"
	"mmconsole/internal/sandbox"
	"mmconsole/internal/send"
	"mmconsole/internal/templates"
	"mmconsole/models"
)

// ---- fakes ----

// hooks receives the sandbox's webhooks and answers as the webhook log would (MessageStatus).
type hooks struct {
	mu       sync.Mutex
	statuses map[string][]hookStatus
}

type hookStatus struct {
	Status   string
	Category string
	Code     int
	At       time.Time
}

func (h *hooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Entry []struct {
			Changes []struct {
				Value struct {
					Statuses []struct {
						ID        string `json:"id"`
						Status    string `json:"status"`
						Timestamp string `json:"timestamp"`
						Pricing   *struct {
							Category string `json:"category"`
						} `json:"pricing"`
						Errors []struct {
							Code int `json:"code"`
						} `json:"errors"`
					} `json:"statuses"`
				} `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	b, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(b, &body); err != nil {
		w.WriteHeader(400)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range body.Entry {
		for _, c := range e.Changes {
			for _, s := range c.Value.Statuses {
				hs := hookStatus{Status: s.Status, At: time.Now().UTC()}
				if s.Pricing != nil {
					hs.Category = s.Pricing.Category
				}
				if len(s.Errors) > 0 {
					hs.Code = s.Errors[0].Code
				}
				h.statuses[s.ID] = append(h.statuses[s.ID], hs)
			}
		}
	}
	w.WriteHeader(200)
}

func (h *hooks) of(wamid string) []hookStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookStatus(nil), h.statuses[wamid]...)
}

// Status implements send.MessageStatus from the received webhooks.
func (h *hooks) Status(_ context.Context, _ models.Scope, wamid string) (send.StatusView, error) {
	var v send.StatusView
	for _, s := range h.of(wamid) {
		at := s.At
		v.Status = s.Status
		switch s.Category {
		case "marketing_lite":
			v.Route = send.RouteMMAPI
		case "marketing":
			v.Route = send.RouteFallback
		}
		switch s.Status {
		case "sent":
			v.SentAt = &at
		case "delivered":
			v.DeliveredAt = &at
		case "read":
			v.ReadAt = &at
		case "failed":
			v.FailedAt, v.ErrorCode = &at, s.Code
		}
	}
	return v, nil
}

// waitFor polls the received webhooks until cond holds (the sandbox delivers asynchronously).
func (h *hooks) waitFor(t *testing.T, wamid string, cond func([]hookStatus) bool) []hookStatus {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if got := h.of(wamid); cond(got) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("webhooks for %s never satisfied the condition; got %+v", wamid, h.of(wamid))
	return nil
}

type notes struct {
	mu            sync.Mutex
	sent, syncing []string
}

func (n *notes) NoteSend(_ context.Context, id string, _ time.Time) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, id)
	return nil
}

func (n *notes) NoteSyncing(_ context.Context, id string, _ time.Time) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.syncing = append(n.syncing, id)
	return nil
}

type recorder struct {
	mu   sync.Mutex
	msgs []send.AcceptedMessage
}

func (r *recorder) RecordAccepted(_ context.Context, m send.AcceptedMessage) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, m)
	return nil
}

type auditEntry struct {
	Actor          string
	Action, Target string
}

type auditor struct {
	mu      sync.Mutex
	entries []auditEntry
}

func (a *auditor) Record(_ context.Context, u models.User, action, target string, _, _ any) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, auditEntry{u.Email, action, target})
	return nil
}

// ---- environment ----

type env struct {
	t        *testing.T
	db       *gorm.DB
	app      *fiber.App
	hooks    *hooks
	notes    *notes
	recorder *recorder
	audit    *auditor
	users    map[string]models.User
	conns    map[string]models.WABAConnection // by WABA id
	tmpls    map[string]models.Template       // by "name/lang"
	prefs    prefs                            // marketing preferences by "account/waba/recipient"

	mu     sync.Mutex
	sends  int      // POST /marketing_messages that reached the sandbox
	edits  int      // POST /{template_id}
	bodies []string // bodies of the sends

	// hang makes the Graph fake pass a send to the sandbox (which accepts it) and then never
	// answer: the answer is lost and the client's deadline ends the wait.
	hang atomic.Bool
	// gateway504 makes the Graph fake pass a send to the sandbox (which accepts it) and answer
	// as a proxy that gave up waiting: 504 Gateway Timeout with an HTML page.
	gateway504 atomic.Bool
}

// envDeadline is the Graph deadline of the environment: long for the sandbox's answers even on a
// busy machine, short enough for the test that waits it out.
const envDeadline = 4 * time.Second

func (e *env) sendCount() int { e.mu.Lock(); defer e.mu.Unlock(); return e.sends }

func (e *env) lastBody() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.bodies) == 0 {
		return ""
	}
	return e.bodies[len(e.bodies)-1]
}

func migrations() []database.Migration {
	ms := append(accounts.Migrations(), templates.Migrations()...)
	return append(ms, send.Migrations()...)
}

func newEnv(t *testing.T, templateTTLMode bool) *env {
	t.Helper()
	e := &env{t: t, hooks: &hooks{statuses: map[string][]hookStatus{}}, notes: &notes{}, recorder: &recorder{}, audit: &auditor{},
		users: map[string]models.User{}, conns: map[string]models.WABAConnection{}, tmpls: map[string]models.Template{}, prefs: prefs{}}
	hookSrv := httptest.NewServer(e.hooks)
	t.Cleanup(hookSrv.Close)
	sb := sandbox.New(sandbox.Options{EventDelay: 5 * time.Millisecond, CallbackURL: hookSrv.URL, AppSecret: "test-secret"})
	t.Cleanup(func() { sb.Close() })
	inner := sb.Handler()
	graphSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			e.mu.Lock()
			if strings.HasSuffix(r.URL.Path, "/marketing_messages") {
				b, _ := io.ReadAll(r.Body)
				r.Body = io.NopCloser(strings.NewReader(string(b)))
				e.sends++
				e.bodies = append(e.bodies, string(b))
			} else {
				e.edits++
			}
			e.mu.Unlock()
		}
		if e.hang.Load() && strings.HasSuffix(r.URL.Path, "/marketing_messages") {
			inner.ServeHTTP(httptest.NewRecorder(), r)
			<-r.Context().Done() // the client gave up
			return
		}
		if e.gateway504.Load() && strings.HasSuffix(r.URL.Path, "/marketing_messages") {
			inner.ServeHTTP(httptest.NewRecorder(), r)
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusGatewayTimeout)
			_, _ = io.WriteString(w, "<html><body><h1>504 Gateway Time-out</h1></body></html>")
			return
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(graphSrv.Close)
	gc := graph.New(graph.Options{BaseURL: graphSrv.URL, MaxRetries: -1, Deadline: envDeadline})

	e.db = database.OpenTest(t, migrations())
	ctx := context.Background()
	acctA := models.Account{Name: "Demo"}
	acctB := models.Account{Name: "Other"}
	must(t, e.db.Create(&acctA).Error)
	must(t, e.db.Create(&acctB).Error)
	for _, u := range []models.User{
		{AccountID: &acctA.ID, Email: "marketer@demo.test", Role: models.RoleMarketer},
		{AccountID: &acctA.ID, Email: "viewer@demo.test", Role: models.RoleViewer},
		{AccountID: &acctB.ID, Email: "marketer@other.test", Role: models.RoleMarketer},
	} {
		must(t, e.db.Create(&u).Error)
		e.users[u.Email] = u
	}
	tokens := map[string]string{}
	seed := sb.Seed()
	now := time.Now().UTC()
	for _, w := range seed.WABAs {
		tokens[w.ID] = w.Token
		api := models.APIHibotGateway
		if templateTTLMode {
			api = models.APIMeta
		}
		conn := models.WABAConnection{AccountID: acctA.ID, WABAID: w.ID, Name: w.Name, TokenSealed: []byte("x"),
			API: api, Sandbox: true, OnboardingStatus: w.OnboardingStatus}
		must(t, e.db.Create(&conn).Error)
		e.conns[w.ID] = conn
		for _, p := range w.PhoneNumbers {
			must(t, e.db.Create(&models.PhoneNumber{ConnectionID: conn.ID, AccountID: acctA.ID, PhoneNumberID: p.ID,
				DisplayPhoneNumber: p.DisplayPhoneNumber, VerifiedName: p.VerifiedName}).Error)
		}
		list, err := gc.ListAllTemplates(ctx, w.Token, w.ID, graph.TemplateQuery{})
		must(t, err)
		for _, gt := range list {
			comps, _ := json.Marshal(gt.Components)
			approved, lastSent := now.Add(-30*24*time.Hour), now.Add(-time.Hour)
			row := models.Template{AccountID: acctA.ID, ConnectionID: conn.ID, WABAID: w.ID, TemplateID: gt.ID,
				Name: gt.Name, Language: gt.Language, Status: gt.Status, Category: gt.Category, ParameterFormat: gt.ParameterFormat,
				TTLSeconds: gt.MessageSendTTLSeconds, RejectedReason: gt.RejectedReason, Components: string(comps), FirstSeenAt: approved, ApprovedAt: &approved,
				LastSentAt: &lastSent, RefreshedAt: now}
			switch gt.Name {
			case "new_arrivals": // created 3 minutes ago in the sandbox
				started := now.Add(-3 * time.Minute)
				row.ApprovedAt, row.LastSentAt, row.SyncStartedAt, row.FirstSeenAt = &started, nil, &started, started
			case "winter_clearance": // last used 9 days ago
				nine := now.Add(-9 * 24 * time.Hour)
				row.LastSentAt = &nine
			}
			must(t, e.db.Create(&row).Error)
			e.tmpls[row.Name+"/"+row.Language] = row
		}
	}
	// A template of the other account, for isolation tests.
	otherConn := models.WABAConnection{AccountID: acctB.ID, WABAID: "999000111", Name: "Other WABA", TokenSealed: []byte("x"), API: models.APIHibotGateway}
	must(t, e.db.Create(&otherConn).Error)
	e.conns["other"] = otherConn
	other := models.Template{AccountID: acctB.ID, ConnectionID: otherConn.ID, WABAID: "999000111", TemplateID: "888000111",
		Name: "other_promo", Language: "en_US", Status: "APPROVED", Category: "MARKETING", Components: `[{"type":"BODY","text":"Hi"}]`}
	must(t, e.db.Create(&other).Error)
	e.tmpls["other_promo/en_US"] = other

	svc := send.New(send.Deps{
		DB: e.db, Graph: gc,
		Tokens: send.TokenFunc(func(_ context.Context, c models.WABAConnection) (string, error) {
			if tok, ok := tokens[c.WABAID]; ok {
				return tok, nil
			}
			return "", fmt.Errorf("no token for %s", c.WABAID)
		}),
		Notes: e.notes, Recorder: e.recorder, Status: e.hooks, Audit: e.audit, Preferences: e.prefs,
		APIBase: graphSrv.URL + "/v25.0",
	})
	shells := &handlers.Shells{}
	e.app = fiber.New(fiber.Config{ErrorHandler: handlers.ErrorHandler(shells)})
	e.app.Use(func(c *fiber.Ctx) error {
		if u, ok := e.users[c.Get("X-Test-User")]; ok {
			handlers.SetCurrentUser(c, u, "")
		}
		return c.Next()
	})
	cat, err := i18n.Load()
	must(t, err)
	e.app.Use(handlers.Localize(cat)) // no Accept-Language: English, as the tests expect
	handlers.RegisterSend(e.app, &handlers.Send{Shells: shells, Service: svc})
	e.app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) do(user, method, target string, form url.Values, htmx bool) (int, string) {
	e.t.Helper()
	return e.doIn("", user, method, target, form, htmx)
}

// doIn is do with the browser's Accept-Language set to lang.
func (e *env) doIn(lang, user, method, target string, form url.Values, htmx bool) (int, string) {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("X-Test-User", user)
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	resp, err := e.app.Test(req, -1)
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const writer = "marketer@demo.test"

// form is a complete, valid send of template key ("name/lang") on its WABA.
func (e *env) form(key string, vars map[string]string) url.Values {
	t := e.tmpls[key]
	v := url.Values{
		"connection": {strconv.Itoa(int(t.ConnectionID))},
		"template":   {strconv.Itoa(int(t.ID))},
		"recipient":  {"+52 55 1234 5678"},
		"ttl_value":  {"24"},
		"ttl_unit":   {"hours"},
		"policy":     {"CLOUD_API_FALLBACK"},
		"sharing":    {"default"},
		"key":        {send.NewKey()},
	}
	for k, val := range vars {
		v.Set(k, val)
	}
	return v
}

var wamidRe = func(body string) string {
	i := strings.Index(body, "wamid.")
	if i < 0 {
		return ""
	}
	j := i
	for j < len(body) && body[j] != '<' && body[j] != '"' {
		j++
	}
	return body[i:j]
}

func (e *env) lastSend() models.TestSend {
	var row models.TestSend
	must(e.t, e.db.Order("id desc").First(&row).Error)
	return row
}

// ---- tests ----

func TestFallbackSendOnNotOnboardedWABAIsAcceptedAndRoutedThroughCloudAPI(t *testing.T) {
	e := newEnv(t, false)
	f := e.form("wellness_tips/en_US", map[string]string{"var.body.first_name": "Ana", "var.button.0": "week1"})
	code, body := e.do(writer, "POST", "/send", f, true)
	if code != 200 {
		t.Fatalf("POST /send = %d, want 200\n%s", code, body)
	}
	if !strings.Contains(body, "fall back to Cloud API") {
		t.Error("the not-onboarded warning is missing")
	}
	row := e.lastSend()
	if row.WAMID == "" || row.MessageStatus != "accepted" || row.UserEmail != writer || row.Recipient != "525512345678" {
		t.Fatalf("test_sends row = %+v", row)
	}
	if !strings.Contains(body, row.WAMID) || !strings.Contains(body, "/messages/") {
		t.Error("the result panel does not show the wamid and its timeline link")
	}
	var req map[string]any
	must(t, json.Unmarshal([]byte(row.RequestJSON), &req))
	if req["product_policy"] != "CLOUD_API_FALLBACK" || req["to"] != "525512345678" {
		t.Errorf("request = %s", row.RequestJSON)
	}
	if !strings.Contains(row.RequestJSON, `"parameter_name":"first_name"`) || !strings.Contains(row.RequestJSON, `"sub_type":"url"`) {
		t.Errorf("named body parameter or url button missing: %s", row.RequestJSON)
	}
	got := e.hooks.waitFor(t, row.WAMID, func(s []hookStatus) bool { return len(s) > 0 && s[0].Category != "" })
	if got[0].Category != "marketing" {
		t.Errorf("webhook pricing.category = %q, want marketing (fallback)", got[0].Category)
	}
	_, frag := e.do(writer, "GET", "/sends/"+strconv.Itoa(int(row.ID))+"/result", nil, true)
	if !strings.Contains(frag, "Cloud API fallback") {
		t.Errorf("result fragment does not show the fallback route:\n%s", frag)
	}
	// Clicks are tracked by MM API only: once a fallback message is read, polling stops.
	e.hooks.waitFor(t, row.WAMID, func(s []hookStatus) bool {
		for _, h := range s {
			if h.Status == "read" {
				return true
			}
		}
		return false
	})
	if _, frag := e.do(writer, "GET", "/sends/"+strconv.Itoa(int(row.ID))+"/result", nil, true); strings.Contains(frag, "every 2s") {
		t.Errorf("the result keeps polling after the fallback message was read:\n%s", frag)
	}
	if len(e.notes.sent) != 1 || e.notes.sent[0] != e.tmpls["wellness_tips/en_US"].TemplateID {
		t.Errorf("NoteSend calls = %v", e.notes.sent)
	}
	if len(e.recorder.msgs) != 1 || e.recorder.msgs[0].WAMID != row.WAMID || e.recorder.msgs[0].RequestJSON != row.RequestJSON {
		t.Errorf("RecordAccepted = %+v", e.recorder.msgs)
	}
	if len(e.audit.entries) != 1 || e.audit.entries[0].Action != "send.test" || e.audit.entries[0].Actor != writer {
		t.Errorf("audit = %+v", e.audit.entries)
	}
}

// A WABA that is not onboarded and has marketing on Cloud API disabled cannot fall back: the
// composer predicts 131063 before the send.
func TestFallbackBlockedByCloudMarketingOffIsPredicted(t *testing.T) {
	e := newEnv(t, false)
	conn := e.conns[sandbox.PharmaWABAID]
	must(t, e.db.Model(&models.WABAConnection{}).Where("id = ?", conn.ID).Update("disable_marketing_messages_on_cloud_api", true).Error)
	f := e.form("wellness_tips/en_US", map[string]string{"var.body.first_name": "Ana", "var.button.0": "week1"})
	_, page := e.do(writer, "POST", "/send/preview", f, true)
	if !strings.Contains(page, "131063") || !strings.Contains(page, "cannot fall back to Cloud API") {
		t.Errorf("the composer does not predict 131063 for a WABA that disabled marketing on Cloud API:\n%.3000s", page)
	}
}

func TestStrictOnNotOnboardedWABAFailsWithTheErrorExplained(t *testing.T) {
	e := newEnv(t, false)
	f := e.form("wellness_tips/en_US", map[string]string{"var.body.first_name": "Ana", "var.button.0": "week1", "policy": "STRICT"})
	_, pre := e.do(writer, "POST", "/send/preview", f, true)
	if !strings.Contains(pre, "with STRICT the send will fail") {
		t.Errorf("preview does not warn that STRICT will fail:\n%s", pre)
	}
	code, body := e.do(writer, "POST", "/send", f, true)
	if code != 422 {
		t.Fatalf("POST /send = %d, want 422", code)
	}
	for _, want := range []string{"134102", "Template unavailable for use", "not eligible or not onboarded", "CLOUD_API_FALLBACK", `value="+52 55 1234 5678"`, `value="Ana"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if e.sendCount() != 1 {
		t.Errorf("requests = %d, want 1", e.sendCount())
	}
	if row := e.lastSend(); row.ErrorCode != 134102 || row.MessageStatus != "error" || !strings.Contains(row.ResponseJSON, "134102") {
		t.Errorf("row = %+v", row)
	}
	if len(e.audit.entries) != 1 {
		t.Errorf("a refused send is audited too: %+v", e.audit.entries)
	}
}

func TestSyncingTemplateGets134101AndThePageExplainsIt(t *testing.T) {
	e := newEnv(t, false)
	tm := e.tmpls["new_arrivals/en_US"]
	_, page := e.do(writer, "GET", "/send?template="+tm.TemplateID, nil, false)
	if !strings.Contains(page, "Meta will answer 134101") {
		t.Errorf("composer does not warn about the sync before sending")
	}
	code, body := e.do(writer, "POST", "/send", e.form("new_arrivals/en_US", map[string]string{"var.body.1": "Ana"}), true)
	if code != 422 {
		t.Fatalf("POST /send = %d, want 422", code)
	}
	if !strings.Contains(body, "134101") || !strings.Contains(body, "Wait up to 10 minutes") {
		t.Errorf("page does not explain 134101:\n%s", body)
	}
	if len(e.notes.syncing) != 1 || e.notes.syncing[0] != tm.TemplateID {
		t.Errorf("NoteSyncing calls = %v", e.notes.syncing)
	}
	if len(e.notes.sent) != 0 {
		t.Errorf("NoteSend must not be called for a refused send: %v", e.notes.sent)
	}
}

func TestUSNumberIsAcceptedThenFailsWith131049(t *testing.T) {
	e := newEnv(t, false)
	f := e.form("summer_sale/en_US", map[string]string{"var.header_media": "https://example.com/a.jpg",
		"var.body.1": "Ana", "var.body.2": "Sunday", "var.button.0": "summer", "recipient": "+1 650 555 1234"})
	_, pre := e.do(writer, "POST", "/send/preview", f, true)
	if !strings.Contains(pre, "131049") {
		t.Error("preview does not warn about US recipients")
	}
	code, body := e.do(writer, "POST", "/send", f, true)
	if code != 200 {
		t.Fatalf("POST /send = %d\n%s", code, body)
	}
	row := e.lastSend()
	e.hooks.waitFor(t, row.WAMID, func(s []hookStatus) bool { return len(s) > 0 && s[len(s)-1].Status == "failed" })
	if got := e.hooks.of(row.WAMID); got[len(got)-1].Code != 131049 {
		t.Fatalf("failed webhook code = %d", got[len(got)-1].Code)
	}
	_, frag := e.do(writer, "GET", "/sends/"+strconv.Itoa(int(row.ID))+"/result", nil, true)
	for _, want := range []string{"131049", "Per-user marketing limit", "Never send marketing to US"} {
		if !strings.Contains(frag, want) {
			t.Errorf("result lacks %q:\n%s", want, frag)
		}
	}
	if strings.Contains(frag, `hx-trigger="every 2s"`) {
		t.Error("a failed message is final: polling must stop")
	}
}

func TestOutOfRangeTTLIsRefusedBeforeAnyRequest(t *testing.T) {
	for _, tc := range []struct{ value, unit string }{{"3600", "seconds"}, {"721", "hours"}, {"abc", "seconds"}, {"0.00001", "hours"}} {
		t.Run(tc.value+tc.unit, func(t *testing.T) {
			e := newEnv(t, false)
			f := e.form("new_arrivals/en_US", map[string]string{"var.body.1": "Ana", "ttl_value": tc.value, "ttl_unit": tc.unit})
			code, body := e.do(writer, "POST", "/send", f, true)
			if code != 422 || !strings.Contains(body, "TTL") {
				t.Fatalf("POST /send = %d, want 422 with a TTL message", code)
			}
			if !strings.Contains(body, `class="field-error" id="send-ttl-help"`) {
				t.Error("the TTL field has no message")
			}
			if e.sendCount() != 0 {
				t.Errorf("requests = %d, want 0", e.sendCount())
			}
			var n int64
			e.db.Model(&models.TestSend{}).Count(&n)
			if n != 0 {
				t.Errorf("a refused form must not be recorded as a send (%d rows)", n)
			}
		})
	}
}

func TestOnboardedSendGoesThroughMMAPI(t *testing.T) {
	e := newEnv(t, false)
	f := e.form("flash_coupon/pt_BR", map[string]string{"var.body.first_name": "Ana", "var.body.coupon": "SAVE20", "var.coupon.0": "SAVE20", "sharing": "on"})
	code, body := e.do(writer, "POST", "/send", f, true)
	if code != 200 {
		t.Fatalf("POST /send = %d\n%s", code, body)
	}
	row := e.lastSend()
	if !strings.Contains(row.RequestJSON, `"coupon_code":"SAVE20"`) || !strings.Contains(row.RequestJSON, `"message_activity_sharing":true`) {
		t.Errorf("request = %s", row.RequestJSON)
	}
	e.hooks.waitFor(t, row.WAMID, func(s []hookStatus) bool {
		for _, x := range s {
			if x.Status == "read" {
				return true
			}
		}
		return false
	})
	if got := e.hooks.of(row.WAMID); got[0].Category != "marketing_lite" {
		t.Errorf("category = %q, want marketing_lite", got[0].Category)
	}
	_, frag := e.do(writer, "GET", "/sends/"+strconv.Itoa(int(row.ID))+"/result", nil, true)
	if !strings.Contains(frag, ">MM API<") || !strings.Contains(frag, "Read") {
		t.Errorf("result lacks the MM API route or read state:\n%s", frag)
	}
	_, hist := e.do(writer, "GET", "/sends", nil, false)
	if !strings.Contains(hist, "flash_coupon") || !strings.Contains(hist, ">MM API<") || !strings.Contains(hist, "/messages/") {
		t.Errorf("history lacks the send with its route")
	}
}

func TestDoubleSubmitSendsOnce(t *testing.T) {
	e := newEnv(t, false)
	f := e.form("summer_sale/es_MX", map[string]string{"var.header_media": "https://example.com/v.jpg", "var.body.1": "Ana", "var.body.2": "domingo", "var.button.0": "verano"})
	code1, body1 := e.do(writer, "POST", "/send", f, true)
	code2, body2 := e.do(writer, "POST", "/send", f, true)
	if code1 != 200 || code2 != 200 {
		t.Fatalf("codes = %d, %d", code1, code2)
	}
	if e.sendCount() != 1 {
		t.Fatalf("requests = %d, want 1", e.sendCount())
	}
	if !strings.Contains(body2, "already sent") || wamidRe(body1) == "" || wamidRe(body1) != wamidRe(body2) {
		t.Errorf("second submit should show the first result")
	}
	var n int64
	e.db.Model(&models.TestSend{}).Count(&n)
	if n != 1 {
		t.Errorf("test_sends rows = %d", n)
	}
	if strings.Contains(body1, `value="`+f.Get("key")+`"`) {
		t.Error("after a send the form must carry a fresh key so the next send is a new one")
	}
}

func TestViewerCanReadButNotSend(t *testing.T) {
	e := newEnv(t, false)
	f := e.form("summer_sale/es_MX", map[string]string{"var.header_media": "https://example.com/v.jpg", "var.body.1": "Ana", "var.body.2": "domingo", "var.button.0": "verano"})
	code, _ := e.do("viewer@demo.test", "POST", "/send", f, false)
	if code != 403 {
		t.Errorf("viewer POST /send = %d, want 403", code)
	}
	if e.sendCount() != 0 {
		t.Errorf("requests = %d", e.sendCount())
	}
	_, page := e.do("viewer@demo.test", "GET", "/send", nil, false)
	if strings.Contains(page, "Send test message") {
		t.Error("viewers must not see the Send button")
	}
	if code, _ := e.do("viewer@demo.test", "GET", "/sends", nil, false); code != 200 {
		t.Errorf("viewer GET /sends = %d", code)
	}
	if code, _ := e.do("", "POST", "/send", f, false); code != 403 {
		t.Errorf("anonymous POST /send = %d", code)
	}
}

func TestTenantIsolation(t *testing.T) {
	e := newEnv(t, false)
	f := e.form("summer_sale/es_MX", map[string]string{"var.header_media": "https://example.com/v.jpg", "var.body.1": "Ana", "var.body.2": "domingo", "var.button.0": "verano"})
	e.do(writer, "POST", "/send", f, true)
	row := e.lastSend()
	other := "marketer@other.test"
	for _, target := range []string{
		"/send?connection=" + strconv.Itoa(int(e.conns[sandbox.StoreWABAID].ID)),
		"/send?template=" + strconv.Itoa(int(e.tmpls["summer_sale/en_US"].ID)),
		"/send?template=" + e.tmpls["summer_sale/en_US"].TemplateID,
		"/sends/" + strconv.Itoa(int(row.ID)) + "/result",
	} {
		if code, _ := e.do(other, "GET", target, nil, false); code != 404 {
			t.Errorf("other account GET %s = %d, want 404", target, code)
		}
	}
	if code, _ := e.do(other, "POST", "/send", f, true); code != 404 {
		t.Errorf("other account POST with this account's connection = %d, want 404", code)
	}
	_, hist := e.do(other, "GET", "/sends", nil, false)
	if strings.Contains(hist, "summer_sale") {
		t.Error("another account's sends are listed")
	}
	if _, page := e.do(writer, "GET", "/send?template="+strconv.Itoa(int(e.tmpls["other_promo/en_US"].ID)), nil, false); !strings.Contains(page, "Not found") {
		t.Error("this account reached another account's template")
	}
}

func TestTTLModesPutOrOmitTimeToLive(t *testing.T) {
	vars := map[string]string{"var.header_media": "https://example.com/v.jpg", "var.body.1": "Ana", "var.body.2": "domingo", "var.button.0": "verano", "ttl_value": "3", "ttl_unit": "days"}
	t.Run("per_send", func(t *testing.T) {
		e := newEnv(t, false)
		_, page := e.do(writer, "POST", "/send/preview", e.form("summer_sale/es_MX", vars), true)
		if !strings.Contains(page, "&#34;time_to_live&#34;: 259200") && !strings.Contains(page, `"time_to_live": 259200`) {
			t.Errorf("per-send mode: request preview lacks time_to_live:\n%s", page)
		}
		if code, body := e.do(writer, "POST", "/send", e.form("summer_sale/es_MX", vars), true); code != 200 {
			t.Fatalf("POST = %d\n%s", code, body)
		}
		if !strings.Contains(e.lastBody(), `"time_to_live":259200`) {
			t.Errorf("sent body = %s", e.lastBody())
		}
		if e.edits != 0 {
			t.Errorf("per-send mode must not edit the template (%d edits)", e.edits)
		}
	})
	t.Run("template", func(t *testing.T) {
		e := newEnv(t, true)
		_, page := e.do(writer, "GET", "/send?template="+strconv.Itoa(int(e.tmpls["summer_sale/es_MX"].ID)), nil, false)
		if !strings.Contains(page, "message_send_ttl_seconds") || !strings.Contains(page, "no time_to_live goes in the request") {
			t.Error("template mode is not explained")
		}
		// The send would edit the approved template: it is named, with the edits left, and
		// refused until confirmed for this exact TTL. Nothing is edited or sent meanwhile.
		code, body := e.do(writer, "POST", "/send", e.form("summer_sale/es_MX", vars), true)
		if code != 422 || !strings.Contains(body, "edits this template on Meta") || !strings.Contains(body, "0 of 10 edits used in the last 30 days; this spends 1 edit, 9 left after it.") ||
			!strings.Contains(body, `name="confirm_ttl_edit" value="259200"`) {
			t.Fatalf("unconfirmed template edit: POST = %d, want 422 naming the edit and the budget\n%.2000s", code, body)
		}
		if e.edits != 0 || e.sendCount() != 0 {
			t.Fatalf("unconfirmed: %d edits, %d sends; want none", e.edits, e.sendCount())
		}
		wrong := map[string]string{"confirm_ttl_edit": "86400"} // confirmed another value
		for k, v := range vars {
			wrong[k] = v
		}
		if code, _ := e.do(writer, "POST", "/send", e.form("summer_sale/es_MX", wrong), true); code != 422 || e.edits != 0 {
			t.Fatalf("confirmation of another TTL: POST = %d, %d edits; want 422 and none", code, e.edits)
		}
		vars["confirm_ttl_edit"] = "259200"
		if code, body := e.do(writer, "POST", "/send", e.form("summer_sale/es_MX", vars), true); code != 200 {
			t.Fatalf("POST = %d\n%s", code, body)
		}
		var counted int64
		must(t, e.db.Model(&models.TemplateEdit{}).Where("template_id = ? AND kind = ? AND via = ?", e.tmpls["summer_sale/es_MX"].TemplateID, models.EditKindTTL, "composer").Count(&counted).Error)
		if counted != 1 {
			t.Errorf("edit ledger holds %d composer TTL edits, want 1", counted)
		}
		if strings.Contains(e.lastBody(), "time_to_live") {
			t.Errorf("template mode must omit time_to_live: %s", e.lastBody())
		}
		if e.edits != 1 {
			t.Errorf("template edits = %d, want 1 (TTL changed from 30 days to 3 days)", e.edits)
		}
		var tm models.Template
		must(t, e.db.First(&tm, e.tmpls["summer_sale/es_MX"].ID).Error)
		if tm.TTLSeconds == nil || *tm.TTLSeconds != 259200 {
			t.Errorf("stored template TTL = %v", tm.TTLSeconds)
		}
	})
}

// On a WABA that is not onboarded the send falls back to Cloud API, where a template's TTL does
// not apply: the composer says so before an edit of the template's TTL is spent on it.
func TestTemplateTTLEditOnNotOnboardedWABASaysItDoesNotApply(t *testing.T) {
	e := newEnv(t, true)
	f := e.form("wellness_tips/en_US", map[string]string{"var.body.first_name": "Ana", "var.button.0": "week1", "ttl_value": "3", "ttl_unit": "days"})
	code, body := e.do(writer, "POST", "/send", f, true)
	if code != 422 || !strings.Contains(body, "edits this template on Meta") ||
		!strings.Contains(body, "goes through Cloud API, where a template&#39;s TTL does not apply") {
		t.Fatalf("POST = %d, want 422 naming the edit and that its TTL does not apply to a fallback\n%.3000s", code, body)
	}
	if e.edits != 0 || e.sendCount() != 0 {
		t.Fatalf("%d edits, %d sends; want none", e.edits, e.sendCount())
	}
}

func TestMissingVariablesBlockTheSend(t *testing.T) {
	e := newEnv(t, false)
	f := e.form("summer_sale/en_US", map[string]string{"var.body.1": "Ana"})
	_, pre := e.do(writer, "POST", "/send/preview", f, true)
	if !strings.Contains(pre, "disabled") {
		t.Error("the Send button must be disabled while blockers remain")
	}
	code, body := e.do(writer, "POST", "/send", f, true)
	if code != 422 {
		t.Fatalf("POST /send = %d, want 422", code)
	}
	for _, want := range []string{"Fill in body variable {{2}}", "Fill in image header", "Fill in link suffix", `value="Ana"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if e.sendCount() != 0 {
		t.Errorf("requests = %d, want 0", e.sendCount())
	}
}

func TestComposerListsUnavailableTemplatesWithTheReason(t *testing.T) {
	e := newEnv(t, false)
	_, page := e.do(writer, "GET", "/send?connection="+strconv.Itoa(int(e.conns[sandbox.StoreWABAID].ID)), nil, false)
	for _, want := range []string{
		"UTILITY: utility templates go through /messages, not MM API",
		"AUTHENTICATION: authentication templates go through /messages",
		"PENDING: not approved yet", "PAUSED: low quality", "DISABLED", "REJECTED (INVALID_FORMAT)",
		`name="_csrf"`, `hx-post="/send/preview"`, `hx-push-url="true"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("composer lacks %q", want)
		}
	}
	// Choosing an unavailable template is refused before any request.
	f := e.form("order_update/en_US", map[string]string{"var.body.1": "A-1"})
	if code, _ := e.do(writer, "POST", "/send", f, true); code != 422 || e.sendCount() != 0 {
		t.Errorf("utility template: code %d, requests %d", code, e.sendCount())
	}
	// An htmx template change returns only the composer region.
	_, frag := e.do(writer, "GET", "/send?template="+strconv.Itoa(int(e.tmpls["flash_coupon/pt_BR"].ID)), nil, true)
	if strings.Contains(frag, "<html") || !strings.Contains(frag, `id="composer"`) || !strings.Contains(frag, `placeholder="SAVE20"`) {
		t.Errorf("htmx re-render should be the composer with the template's examples:\n%.300s", frag)
	}
}

func TestHistoryFilters(t *testing.T) {
	e := newEnv(t, false)
	a := e.form("summer_sale/es_MX", map[string]string{"var.header_media": "https://example.com/v.jpg", "var.body.1": "Ana", "var.body.2": "domingo", "var.button.0": "verano"})
	b := e.form("flash_coupon/pt_BR", map[string]string{"var.body.first_name": "Ana", "var.body.coupon": "X", "var.coupon.0": "X", "recipient": "+55 11 99999 0000"})
	e.do(writer, "POST", "/send", a, true)
	e.do(writer, "POST", "/send", b, true)
	cases := []struct {
		query      string
		want, nope string
	}{
		{"template=flash", "flash_coupon", "summer_sale"},
		{"template=FLASH_Coupon", "flash_coupon", "summer_sale"}, // case-insensitive on both databases
		{"user=MARKETER%40demo", "flash_coupon", "No test sends match"},
		{"recipient=%2B55", "flash_coupon", "summer_sale"},
		{"user=viewer", "No test sends match", "flash_coupon"},
		{"", "summer_sale", "No test sends match"},
	}
	for _, tc := range cases {
		_, page := e.do("viewer@demo.test", "GET", "/sends?"+tc.query, nil, false)
		if !strings.Contains(page, tc.want) || strings.Contains(page, tc.nope) {
			t.Errorf("/sends?%s: want %q and not %q", tc.query, tc.want, tc.nope)
		}
	}
}

// TestCarouselTemplateIsRefusedWithTheComponentNamed: an approved carousel template is not sent
// under-filled: the composer names what it does not support and makes no request.
func TestCarouselTemplateIsRefusedWithTheComponentNamed(t *testing.T) {
	e := newEnv(t, false)
	base := e.tmpls["summer_sale/en_US"]
	row := base
	row.ID, row.TemplateID, row.Name = 0, "572279198459999", "carousel_sale"
	row.Components = `[{"type":"BODY","text":"Our picks"},{"type":"CAROUSEL","cards":[{"components":[{"type":"HEADER","format":"IMAGE"},{"type":"BUTTONS","buttons":[{"type":"URL","text":"Buy","url":"https://x/{{1}}"}]}]}]}]`
	must(t, e.db.Create(&row).Error)
	e.tmpls["carousel_sale/en_US"] = row
	code, body := e.do(writer, "POST", "/send", e.form("carousel_sale/en_US", nil), true)
	if code != 422 || !strings.Contains(body, "CAROUSEL component") || !strings.Contains(body, "cannot send it") {
		t.Fatalf("carousel send = %d, want 422 naming the CAROUSEL component", code)
	}
	if e.sendCount() != 0 {
		t.Errorf("requests = %d, want 0", e.sendCount())
	}
}
