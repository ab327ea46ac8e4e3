package handlers

import (
	"context"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"

	"mmconsole/internal/accounts"
	"mmconsole/internal/audit"
	"mmconsole/internal/authoring"
	"mmconsole/internal/database"
	"mmconsole/internal/graph"
	"mmconsole/internal/i18n"
	"mmconsole/internal/sandbox"
	"mmconsole/internal/templates"
	"mmconsole/internal/webhook"
	"mmconsole/models"
)

type sandboxTokens map[string]string

func (t sandboxTokens) Token(_ context.Context, c models.WABAConnection) (string, error) {
	return t[c.WABAID], nil
}

type recordingAuditor struct{ events []audit.Entry }

func (r *recordingAuditor) Record(_ context.Context, e audit.Entry) error {
	r.events = append(r.events, e)
	return nil
}

type tplEnv struct {
	app    *fiber.App
	db     *gorm.DB
	clock  *sandbox.FakeClock
	posts  *atomic.Int64 // Graph POSTs (edits) that reached the sandbox
	audit  *recordingAuditor
	users  map[string]models.User
	other  models.Template
	tokens sandboxTokens
	graph  *graph.Client
	hist   *historyScopes
	lang   string // the Accept-Language of requests ("" = none, English)
}

// historyScopes records the scope each template history was read in.
type historyScopes struct{ scopes []models.Scope }

func (h *historyScopes) TemplateHistory(_ context.Context, scope models.Scope, _ string) ([]templates.HistoryItem, error) {
	h.scopes = append(h.scopes, scope)
	return nil, nil
}

// newTplEnv builds the template pages over the sandbox and a fresh database. The test
// middleware signs in the user named by the X-Test-User header (auth lands separately).
func newTplEnv(t *testing.T) *tplEnv {
	t.Helper()
	// The webhook tables too: the delete confirmation counts the dashboard's recent sends.
	db := database.OpenTest(t, append(append(accounts.Migrations(), templates.Migrations()...), webhook.Migrations()...))
	clk := sandbox.NewFakeClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	sb := sandbox.New(sandbox.Options{Clock: clk, EventDelay: -1, ApproveAfter: time.Hour})
	t.Cleanup(func() { sb.Close() })
	var posts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			posts.Add(1)
		}
		sb.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e := &tplEnv{db: db, clock: clk, posts: &posts, audit: &recordingAuditor{},
		tokens: sandboxTokens{sandbox.StoreWABAID: sandbox.StoreToken, sandbox.PharmaWABAID: sandbox.PharmaToken}}
	a, b := models.Account{Name: "Shop"}, models.Account{Name: "Other"}
	mustT(t, db.Create(&a).Error)
	mustT(t, db.Create(&b).Error)
	for _, c := range []*models.WABAConnection{
		{AccountID: a.ID, WABAID: sandbox.StoreWABAID, Name: "Demo Store", TokenSealed: []byte("x")},
		{AccountID: a.ID, WABAID: sandbox.PharmaWABAID, Name: "Demo Pharma", TokenSealed: []byte("x")},
	} {
		mustT(t, db.Create(c).Error)
	}
	oc := models.WABAConnection{AccountID: b.ID, WABAID: "999", Name: "Elsewhere", TokenSealed: []byte("x")}
	mustT(t, db.Create(&oc).Error)
	e.other = models.Template{AccountID: b.ID, ConnectionID: oc.ID, WABAID: "999", TemplateID: "888000", Name: "other_promo",
		Language: "en_US", Status: "APPROVED", Category: "MARKETING", FirstSeenAt: clk.Now()}
	mustT(t, db.Create(&e.other).Error)
	accA := a.ID
	e.users = map[string]models.User{
		"viewer":   {ID: 1, AccountID: &accA, Email: "v@shop.test", Role: models.RoleViewer},
		"marketer": {ID: 2, AccountID: &accA, Email: "m@shop.test", Role: models.RoleMarketer},
		"staff":    {ID: 3, Email: "s@hibot.test", Role: models.RoleViewer, Staff: true},
	}
	e.hist = &historyScopes{}
	e.graph = graph.New(graph.Options{BaseURL: srv.URL, MaxRetries: -1})
	svc := templates.New(db, e.graph, e.tokens, templates.Options{Now: clk.Now, MinManualGap: -1})
	svc.RefreshAll(context.Background(), templates.TriggerStart)
	shells := &Shells{}
	app := fiber.New(fiber.Config{ErrorHandler: ErrorHandler(shells)})
	cat, err := i18n.Load()
	mustT(t, err)
	app.Use(func(c *fiber.Ctx) error {
		if u, ok := e.users[c.Get("X-Test-User")]; ok {
			SetCurrentUser(c, u, "Shop")
		}
		return c.Next()
	}, Localize(cat))
	RegisterAuthoring(app, &Authoring{Shells: shells, Catalog: svc,
		Service: authoring.New(db, e.graph, e.tokens, authoring.Options{Audit: e.audit, Now: clk.Now})})
	RegisterTemplates(app, &Templates{Shells: shells, Catalog: svc, Audit: e.audit, History: e.hist})
	app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
	e.app = app
	return e
}

func mustT(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (e *tplEnv) do(t *testing.T, user, method, target string, form url.Values, htmx bool) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("X-Test-User", user)
	if e.lang != "" {
		req.Header.Set("Accept-Language", e.lang)
	}
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	resp, err := e.app.Test(req, -1)
	mustT(t, err)
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (e *tplEnv) row(t *testing.T, name, lang string) models.Template {
	t.Helper()
	var tm models.Template
	mustT(t, e.db.Where("name = ? AND language = ?", name, lang).Take(&tm).Error)
	return tm
}

func TestCatalogShowsSyncCountdownAndSearchAcrossWABAs(t *testing.T) {
	e := newTplEnv(t)
	st, body := e.do(t, "viewer", "GET", "/templates?q=new_arr", nil, false)
	if st != 200 || !strings.Contains(body, "new_arrivals") || !strings.Contains(body, "Syncing, ready in about 10 min") {
		t.Fatalf("catalog = %d, want new_arrivals syncing:\n%.3000s", st, body)
	}
	readyAt := e.clock.Now().Add(templates.SyncWindow).Format(time.RFC3339)
	if !strings.Contains(body, `data-countdown="`+readyAt+`"`) || !strings.Contains(body, `data-done="Ready"`) {
		t.Errorf("the badge must count down to %s in the browser", readyAt)
	}
	if !strings.Contains(body, "Worked out by the dashboard (inferred)") || !strings.Contains(body, `href="/glossary#sync"`) {
		t.Error("the page must say what the state is based on")
	}
	e.clock.Advance(10 * time.Minute)
	_, body = e.do(t, "viewer", "GET", "/templates?q=new_arr", nil, true)
	if strings.Contains(body, "<html") || !strings.Contains(body, `id="catalog"`) || !strings.Contains(body, "✓ Ready") {
		t.Errorf("htmx re-fetch after the window should be the catalog fragment showing Ready:\n%.2000s", body)
	}
	// One search spans both WABAs, and another account's templates never show.
	_, body = e.do(t, "viewer", "GET", "/templates?q=E", nil, true)
	for _, want := range []string{"summer_sale", "vitamin_offer", "Demo Store", "Demo Pharma"} {
		if !strings.Contains(body, want) {
			t.Errorf("search across WABAs misses %s", want)
		}
	}
	if strings.Contains(body, "other_promo") {
		t.Error("another account's template listed")
	}
	_, body = e.do(t, "viewer", "GET", "/templates?status=PAUSED&sort=status", nil, true)
	if !strings.Contains(body, "loyalty_reminder") || strings.Contains(body, "summer_sale") {
		t.Errorf("status filter:\n%.1500s", body)
	}
	e.clock.Advance(8 * 24 * time.Hour)
	_, body = e.do(t, "viewer", "GET", "/templates?q=new_arrivals", nil, true)
	if !strings.Contains(body, "Dormant") {
		t.Errorf("8 days unused should read Dormant:\n%.1500s", body)
	}
}

func TestWebhookUpdateShowsWithoutRefresh(t *testing.T) {
	e := newTplEnv(t)
	ss := e.row(t, "summer_sale", "en_US")
	// What the webhook ingest does: update the row's columns directly.
	mustT(t, e.db.Model(&models.Template{}).Where("id = ?", ss.ID).Updates(map[string]any{"status": "PAUSED", "quality": "RED"}).Error)
	st, body := e.do(t, "viewer", "GET", "/templates/"+ss.TemplateID, nil, false)
	if st != 200 || !strings.Contains(body, "PAUSED") || !strings.Contains(body, "Low (RED)") || !strings.Contains(body, "132015") {
		t.Fatalf("detail after a webhook update = %d:\n%.3000s", st, body)
	}
	if !strings.Contains(body, "No webhook history yet") {
		t.Error("with no history source wired the page says so")
	}
}

func TestFailedRefreshShowsExplainedErrorAndKeepsData(t *testing.T) {
	e := newTplEnv(t)
	e.tokens[sandbox.StoreWABAID] = "revoked"
	st, _ := e.do(t, "viewer", "POST", "/templates/sync", url.Values{"waba": {"1"}}, false)
	if st != http.StatusSeeOther {
		t.Fatalf("sync now = %d, want a redirect", st)
	}
	_, body := e.do(t, "viewer", "GET", "/templates", nil, false)
	for _, want := range []string{"Last refresh failed", "Error 190", graph.Explain(context.Background(), 190).Title, "last good refresh", "summer_sale"} {
		if !strings.Contains(body, want) {
			t.Errorf("catalog after a failed refresh misses %q", want)
		}
	}
}

func TestTTLEdit(t *testing.T) {
	e := newTplEnv(t)
	ss := e.row(t, "summer_sale", "es_MX")
	path := "/templates/" + strconv.FormatUint(uint64(ss.ID), 10) + "/ttl"

	_, body := e.do(t, "viewer", "GET", "/templates/"+ss.TemplateID, nil, false)
	if strings.Contains(body, `name="ttl_value"`) {
		t.Error("a viewer sees the TTL form")
	}
	if !strings.Contains(body, "30 days (default)") {
		t.Error("detail must show the TTL")
	}
	if strings.Contains(body, "/send?template=") {
		t.Error("a viewer sees the compose link, but may not send")
	}
	_, mbody := e.do(t, "marketer", "GET", "/templates/"+ss.TemplateID, nil, false)
	if !strings.Contains(mbody, "/send?template="+ss.TemplateID) {
		t.Error("a marketer must see the compose link")
	}
	// The budget is said before the click: a TTL change is one of Meta's edits. (The sentence
	// comes from the catalog, so its apostrophe is escaped in the HTML.)
	if !strings.Contains(html.UnescapeString(mbody), "A TTL change is one of Meta's edits of the template. 0 of 10 edits used in the last 30 days; this spends 1 edit, 9 left after it.") {
		t.Error("the TTL form does not say the edit budget before the click")
	}
	if st, _ := e.do(t, "viewer", "POST", path, url.Values{"ttl_value": {"2"}, "ttl_unit": {"days"}}, false); st != 403 {
		t.Errorf("viewer POST = %d, want 403", st)
	}
	for _, bad := range []url.Values{
		{"ttl_value": {"11"}, "ttl_unit": {"hours"}},
		{"ttl_value": {"31"}, "ttl_unit": {"days"}},
		{"ttl_value": {"abc"}, "ttl_unit": {"days"}},
		{"ttl_value": {"3"}, "ttl_unit": {"weeks"}},       // crafted unit: refused, not read as days
		{"ttl_value": {"3"}, "ttl_unit": {""}},            // no unit: refused, not read as days
		{"ttl_value": {"0.00001"}, "ttl_unit": {"hours"}}, // not a whole number of seconds
	} {
		st, body := e.do(t, "marketer", "POST", path, bad, true)
		if st != 422 || !strings.Contains(body, "field-error") || !strings.Contains(body, `value="`+bad.Get("ttl_value")+`"`) {
			t.Errorf("%v = %d, want 422 with the message and the user's value:\n%.1500s", bad, st, body)
		}
	}
	if e.posts.Load() != 0 {
		t.Fatalf("%d edits reached the sandbox for refused values", e.posts.Load())
	}
	// Fractions that make whole seconds are accepted, as in the composer: 1.5 days.
	st, _ := e.do(t, "marketer", "POST", path, url.Values{"ttl_value": {"1.5"}, "ttl_unit": {"days"}}, true)
	if st != 204 || e.posts.Load() != 1 {
		t.Fatalf("valid edit = %d with %d requests, want 204 (HX-Redirect) and one request", st, e.posts.Load())
	}
	if got := e.row(t, "summer_sale", "es_MX").TTLSeconds; got == nil || *got != 129600 {
		t.Errorf("stored TTL = %v", got)
	}
	if _, body := e.do(t, "marketer", "GET", "/templates/"+ss.TemplateID, nil, false); !strings.Contains(body, "1 of 10 edits used in the last 30 days") {
		t.Error("after a TTL edit the template page does not count it")
	}
	if len(e.audit.events) != 1 || e.audit.events[0].Action != "template.ttl.edit" || e.audit.events[0].ActorEmail != "m@shop.test" {
		t.Errorf("audit = %+v", e.audit.events)
	}
	// The sandbox has it: re-read the template through the Graph client.
	remote, err := e.graph.GetTemplate(context.Background(), sandbox.StoreToken, ss.TemplateID)
	mustT(t, err)
	if remote.MessageSendTTLSeconds == nil || *remote.MessageSendTTLSeconds != 129600 {
		t.Errorf("TTL at the sandbox = %v, want %d", remote.MessageSendTTLSeconds, 129600)
	}
}

func TestAnotherAccountsTemplateIs404(t *testing.T) {
	e := newTplEnv(t)
	for _, id := range []string{e.other.TemplateID, strconv.FormatUint(uint64(e.other.ID), 10)} {
		if st, _ := e.do(t, "viewer", "GET", "/templates/"+id, nil, false); st != 404 {
			t.Errorf("GET another account's template %s = %d, want 404", id, st)
		}
		if st, _ := e.do(t, "marketer", "POST", "/templates/"+id+"/ttl", url.Values{"ttl_value": {"2"}, "ttl_unit": {"days"}}, false); st != 404 {
			t.Errorf("POST TTL of another account's template %s = %d, want 404", id, st)
		}
	}
}

// A template's webhook history is read in the template's own account, even for staff who see
// every account: another account's events naming the same template id (ids are outside input)
// are not this template's history.
func TestTemplateHistoryIsReadInTheTemplatesAccount(t *testing.T) {
	e := newTplEnv(t)
	for _, user := range []string{"staff", "viewer"} {
		e.hist.scopes = nil
		tm := e.other
		if user == "viewer" {
			tm = e.row(t, "summer_sale", "en_US")
		}
		if st, body := e.do(t, user, "GET", "/templates/"+tm.TemplateID, nil, false); st != 200 {
			t.Fatalf("%s: GET template = %d: %.300s", user, st, body)
		}
		want := models.Scope{AccountID: tm.AccountID}
		if len(e.hist.scopes) != 1 || e.hist.scopes[0] != want {
			t.Errorf("%s: history read in %+v, want %+v", user, e.hist.scopes, want)
		}
	}
}

func TestSyncRightAfterAnotherSaysItWasJustRefreshed(t *testing.T) {
	store := models.WABAConnection{WABAID: "1", Name: "Demo Store"}
	pharma := models.WABAConnection{WABAID: "2", Name: "Demo Pharma"}
	soon := &templates.TooSoonError{WABA: "1", Wait: 41500 * time.Millisecond}
	cases := []struct {
		name    string
		outs    []templates.Outcome
		kind    string
		want    string
		mustNot string
	}{
		{"sync now after sync all", []templates.Outcome{{Conn: store, Err: soon}}, "info",
			"Demo Store was just refreshed; try again in 42 s.", "failed"},
		{"one fresh, one refreshed", []templates.Outcome{{Conn: store, Err: soon}, {Conn: pharma, Refresh: models.TemplateRefresh{Seen: 4}}}, "success",
			"Refreshed Demo Pharma: 4 templates. Demo Store was just refreshed; try again in 42 s.", "failed"},
		{"busy", []templates.Outcome{{Conn: store, Err: &templates.BusyError{WABA: "1"}}}, "info",
			"Demo Store is being refreshed right now", "failed"},
		{"a real failure stays an error", []templates.Outcome{{Conn: pharma, Err: errors.New("boom"), Refresh: models.TemplateRefresh{ErrorCode: 190}}, {Conn: store, Err: soon}}, "error",
			"Refresh failed for Demo Pharma", "moments ago"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kind, msg := syncFlash(context.Background(), tc.outs)
			if kind != tc.kind || !strings.Contains(msg, tc.want) || strings.Contains(strings.ToLower(msg), tc.mustNot) {
				t.Errorf("syncFlash = %s %q, want %s containing %q and not %q", kind, msg, tc.kind, tc.want, tc.mustNot)
			}
		})
	}
}

// TestTemplatePagesInSpanishAndPortuguese: the catalog, a template's page, the TTL form's
// messages and the "Sync now" message follow the reader's language, with no English left.
func TestTemplatePagesInSpanishAndPortuguese(t *testing.T) {
	e := newTplEnv(t)
	ss := e.row(t, "summer_sale", "es_MX")
	ttlPath := "/templates/" + strconv.FormatUint(uint64(ss.ID), 10) + "/ttl"
	for _, tc := range []struct {
		lang                         string
		catalog, detail, ttl, synced []string
	}{
		{"es", []string{"<h1>Plantillas</h1>", "Sincronizando, lista en unos 10 min", "Calculado por el panel (inferido)", "Sincronizar ahora", "Estado en MM API", "Qué significa"},
			[]string{"Vista previa", "Tiempo de vida (TTL)", "30 días (predeterminado)", "Historial de estado y calidad", "Última lectura desde Meta"},
			[]string{"Escribe el TTL como un número de días", "Un TTL de marketing va de 12 horas a 30 días"},
			[]string{"Demo Store se acaba de actualizar; vuelve a intentarlo en 42 s."}},
		{"pt-BR", []string{"<h1>Modelos</h1>", "Sincronizando, pronto em cerca de 10 min", "Calculado pelo painel (inferido)", "Sincronizar agora", "Estado na MM API", "O que isso significa"},
			[]string{"Pré-visualização", "Tempo de vida (TTL)", "30 dias (padrão)", "Histórico de status e qualidade", "Última leitura da Meta"},
			[]string{"Informe o TTL como um número de dias", "Um TTL de marketing vai de 12 horas a 30 dias"},
			[]string{"Demo Store acabou de ser atualizada; tente de novo em 42 s."}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			e.lang = tc.lang
			defer func() { e.lang = "" }()
			check := func(what, body string, want, english []string) {
				t.Helper()
				body = html.UnescapeString(body)
				for _, w := range want {
					if !strings.Contains(body, w) {
						t.Errorf("%s lacks %q:\n%.3000s", what, w, body)
					}
				}
				for _, w := range english {
					if strings.Contains(body, w) {
						t.Errorf("%s still reads English %q", what, w)
					}
				}
			}
			_, body := e.do(t, "viewer", "GET", "/templates?q=new_arr", nil, false)
			check("catalog", body, tc.catalog, []string{"Syncing, ready in about", "Worked out by the dashboard", "Sync now", "MM API state", "What this means", "Recently updated"})
			_, body = e.do(t, "viewer", "GET", "/templates/"+ss.TemplateID, nil, false)
			check("template page", body, tc.detail, []string{"Time to live", "Preview", "Facts", "(default)", "Status and quality history", "Last read from Meta", "Message preview"})
			var msgs string
			for _, bad := range []url.Values{{"ttl_value": {"abc"}, "ttl_unit": {"days"}}, {"ttl_value": {"11"}, "ttl_unit": {"hours"}}} {
				st, body := e.do(t, "marketer", "POST", ttlPath, bad, true)
				if st != 422 {
					t.Errorf("%v = %d, want 422", bad, st)
				}
				msgs += body
			}
			check("TTL form", msgs, tc.ttl, []string{"Enter the TTL", "A marketing TTL", "Save TTL at Meta", "Unit"})
			soon := &templates.TooSoonError{WABA: "1", Wait: 41500 * time.Millisecond}
			cat, err := i18n.Load()
			mustT(t, err)
			_, msg := syncFlash(i18n.WithLocale(context.Background(), cat.Locale(tc.lang)),
				[]templates.Outcome{{Conn: models.WABAConnection{WABAID: "1", Name: "Demo Store"}, Err: soon}})
			check("sync message", msg, tc.synced, []string{"was just refreshed"})
		})
	}
	if e.posts.Load() != 0 {
		t.Errorf("%d edits reached the sandbox for refused values", e.posts.Load())
	}
}
