package handlers_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"mmconsole/handlers"
	"mmconsole/internal/accounts"
	"mmconsole/internal/database"
	"mmconsole/internal/graph"
	"mmconsole/internal/i18n"
	"mmconsole/internal/optimize"
	"mmconsole/internal/sandbox"
	"mmconsole/internal/templates"
	"mmconsole/models"

	"gorm.io/gorm"
)

type tokenMap map[string]string

func (t tokenMap) Token(_ context.Context, c models.WABAConnection) (string, error) {
	if tok, ok := t[c.WABAID]; ok {
		return tok, nil
	}
	return "", fmt.Errorf("no token")
}

type optFixture struct {
	app   *fiber.App
	db    *gorm.DB
	g     *graph.Client
	conn  models.WABAConnection
	other models.WABAConnection
	tpl   map[string]models.Template
}

// newOptApp builds the optimizations routes over the sandbox; the X-Test-User header picks the
// signed-in user (marketer, viewer or stranger from another account).
func newOptApp(t *testing.T, tok string) *optFixture {
	t.Helper()
	sb := sandbox.New(sandbox.Options{EventDelay: -1})
	t.Cleanup(func() { sb.Close() })
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	ms := append(accounts.Migrations(), templates.Migrations()...)
	db := database.OpenTest(t, append(ms, optimize.Migrations()...))
	f := &optFixture{g: graph.New(graph.Options{BaseURL: srv.URL, MaxRetries: -1}), tpl: map[string]models.Template{}, db: db}
	accA, accB := models.Account{Name: "A"}, models.Account{Name: "B"}
	db.Create(&accA)
	db.Create(&accB)
	f.conn = models.WABAConnection{AccountID: accA.ID, WABAID: sandbox.StoreWABAID, Name: "Store", TokenSealed: []byte("x")}
	f.other = models.WABAConnection{AccountID: accB.ID, WABAID: sandbox.PharmaWABAID, Name: "Pharma", TokenSealed: []byte("x")}
	db.Create(&f.conn)
	db.Create(&f.other)
	for _, w := range sb.Seed().WABAs {
		conn := f.conn
		if w.ID == sandbox.PharmaWABAID {
			conn = f.other
		}
		for _, st := range w.Templates {
			row := models.Template{AccountID: conn.AccountID, ConnectionID: conn.ID, WABAID: w.ID, TemplateID: st.ID, Name: st.Name,
				Language: st.Language, Status: st.Status, Category: st.Category, FirstSeenAt: time.Now(), RefreshedAt: time.Now()}
			if err := db.Create(&row).Error; err != nil {
				t.Fatal(err)
			}
			f.tpl[st.Name+"/"+st.Language] = row
		}
	}
	svc := optimize.New(db, f.g, tokenMap{sandbox.StoreWABAID: tok, sandbox.PharmaWABAID: sandbox.PharmaToken}, nil, optimize.Options{})
	users := map[string]models.User{
		"marketer": {ID: 1, AccountID: &accA.ID, Email: "m@a.example", Role: models.RoleMarketer},
		"viewer":   {ID: 2, AccountID: &accA.ID, Email: "v@a.example", Role: models.RoleViewer},
		"stranger": {ID: 3, AccountID: &accB.ID, Email: "s@b.example", Role: models.RoleMarketer},
	}
	shells := &handlers.Shells{}
	f.app = fiber.New(fiber.Config{ErrorHandler: handlers.ErrorHandler(shells)})
	f.app.Use(func(c *fiber.Ctx) error {
		if u, ok := users[c.Get("X-Test-User")]; ok {
			handlers.SetCurrentUser(c, u, "A")
		}
		return c.Next()
	})
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	f.app.Use(handlers.Localize(cat))
	handlers.RegisterOptimizations(f.app, &handlers.Optimizations{Shells: shells, Service: svc})
	return f
}

func (f *optFixture) do(t *testing.T, user, method, path string, form url.Values, htmx bool) (int, string) {
	t.Helper()
	return f.doIn(t, "", user, method, path, form, htmx)
}

// doIn is do with the browser asking for lang (Accept-Language; "" sends none).
func (f *optFixture) doIn(t *testing.T, lang, user, method, path string, form url.Values, htmx bool) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
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
	resp, err := f.app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func id(n uint) string { return fmt.Sprint(n) }

func TestOptimizationsPageShowsSwitchesOnlyToWriters(t *testing.T) {
	f := newOptApp(t, sandbox.StoreToken)
	if err := f.g.SetWABAOptimizations(context.Background(), sandbox.StoreToken, sandbox.StoreWABAID, map[string]string{"future_magic_feature": graph.OptIn}); err != nil {
		t.Fatal(err)
	}
	st, body := f.do(t, "marketer", "GET", "/optimizations", nil, false)
	if st != 200 || !strings.Contains(body, `name="value" value="OPT_IN"`) || !strings.Contains(body, `hx-post="/optimizations/waba/`+id(f.conn.ID)+`/image_touchups"`) {
		t.Fatalf("marketer page = %d, switches missing", st)
	}
	for _, want := range []string{"future_magic_feature", "Unknown to this console", "Paused by Meta", "YCloud key", "How we decide"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	st, body = f.do(t, "marketer", "GET", "/optimizations/matrix?conn="+id(f.conn.ID), nil, false)
	if st != 200 || !strings.Contains(body, `name="template"`) || !strings.Contains(body, "Legend") || strings.Contains(body, "order_update") {
		t.Errorf("matrix = %d; want marketing templates with checkboxes and a legend", st)
	}
	st, body = f.do(t, "marketer", "GET", "/optimizations/template/"+id(f.tpl["summer_sale/en_US"].ID), nil, false)
	if st != 200 || !strings.Contains(body, "0 of 10 edits used") {
		t.Errorf("template page = %d", st)
	}
	st, body = f.do(t, "viewer", "GET", "/optimizations", nil, false)
	if st != 200 || strings.Contains(body, `name="value"`) || !strings.Contains(body, "On (OPT_IN)") {
		t.Errorf("viewer page = %d; must show values as badges and no switch", st)
	}
}

func TestViewerPostsAreRefused(t *testing.T) {
	f := newOptApp(t, sandbox.StoreToken)
	form := url.Values{"value": {"OPT_OUT"}}
	for _, path := range []string{
		"/optimizations/waba/" + id(f.conn.ID) + "/image_touchups",
		"/optimizations/template/" + id(f.tpl["summer_sale/en_US"].ID) + "/apply",
		"/optimizations/waba/" + id(f.conn.ID) + "/all",
		"/optimizations/bulk/apply",
	} {
		if st, _ := f.do(t, "viewer", "POST", path, form, true); st != http.StatusForbidden {
			t.Errorf("viewer POST %s = %d, want 403", path, st)
		}
	}
}

func TestAnotherAccountGets404(t *testing.T) {
	f := newOptApp(t, sandbox.StoreToken)
	cases := []struct{ method, path string }{
		{"GET", "/optimizations?conn=" + id(f.conn.ID)},
		{"GET", "/optimizations/matrix?conn=" + id(f.conn.ID)},
		{"GET", "/optimizations/template/" + id(f.tpl["summer_sale/en_US"].ID)},
		{"POST", "/optimizations/waba/" + id(f.conn.ID) + "/image_touchups"},
		{"POST", "/optimizations/template/" + id(f.tpl["summer_sale/en_US"].ID) + "/apply"},
		{"POST", "/optimizations/waba/" + id(f.conn.ID) + "/all"},
	}
	for _, c := range cases {
		if st, _ := f.do(t, "stranger", c.method, c.path, url.Values{"value": {"OPT_OUT"}, "f_image_touchups": {"OPT_OUT"}}, false); st != http.StatusNotFound {
			t.Errorf("%s %s = %d, want 404", c.method, c.path, st)
		}
	}
}

func TestFailingSwitchRollsBackTheRowWithTheError(t *testing.T) {
	f := newOptApp(t, "wrong-token")
	// A seeded read so the row has a value to roll back to (the page read fails with this token).
	st, body := f.do(t, "marketer", "POST", "/optimizations/waba/"+id(f.conn.ID)+"/image_touchups", url.Values{"value": {"OPT_OUT"}}, true)
	if st != http.StatusBadGateway {
		t.Fatalf("status = %d", st)
	}
	for _, want := range []string{"<tr id=\"opt-waba-", "Meta error 190", "What to do:", "was not applied", `hx-swap-oob="beforeend:#toasts"`} {
		if !strings.Contains(body, want) {
			t.Errorf("fragment lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "<html") {
		t.Error("htmx answer must be a fragment")
	}
}

// TestTemplateChangesAreStagedAndAppliedAsOneEdit: two settings chosen on the template page go
// to Meta in one edit; the budget is said before the click, "all off" is one more edit, and the
// page warns when an action would spend the last edits.
func TestTemplateChangesAreStagedAndAppliedAsOneEdit(t *testing.T) {
	f := newOptApp(t, sandbox.StoreToken)
	tp := f.tpl["summer_sale/en_US"]
	path := "/optimizations/template/" + id(tp.ID)
	st, body := f.do(t, "marketer", "GET", path, nil, false)
	if st != 200 || !strings.Contains(body, "0 of 10 edits used in the last 30 days; this spends 1 edit, 9 left after it.") ||
		!strings.Contains(body, `name="f_image_touchups"`) || !strings.Contains(body, `value="all_off"`) || !strings.Contains(body, "Apply changes (one edit)") {
		t.Fatalf("template page = %d; want staged choices, all on/off and the budget before the click", st)
	}
	st, body = f.do(t, "marketer", "POST", path+"/apply", url.Values{"f_image_touchups": {"OPT_OUT"}, "f_product_extensions": {"OPT_IN"}}, true)
	if st != 200 {
		t.Fatalf("apply = %d %s", st, body)
	}
	for _, want := range []string{`id="tpl-opt-` + id(tp.ID) + `"`, "1 of 10 edits used", "2 settings changed in one edit", "Template setting", "m@a.example"} {
		if !strings.Contains(body, want) {
			t.Errorf("component after apply lacks %q", want)
		}
	}
	st, body = f.do(t, "marketer", "POST", path+"/apply", url.Values{"all": {"all_off"}}, true)
	if st != 200 || !strings.Contains(body, "2 of 10 edits used") {
		t.Fatalf("all off = %d; want one more edit", st)
	}
	var got models.Template
	if err := f.db.First(&got, tp.ID).Error; err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got.Optimizations, "OPT_IN") {
		t.Errorf("after all off Meta still reports an OPT_IN: %s", got.Optimizations)
	}
	// Nothing chosen differs: no edit spent.
	st, body = f.do(t, "marketer", "POST", path+"/apply", url.Values{"f_image_touchups": {"OPT_OUT"}}, true)
	if st != 200 || !strings.Contains(body, "No edit was spent") || !strings.Contains(body, "2 of 10 edits used") {
		t.Errorf("unchanged apply = %d; want no edit spent", st)
	}
	if st, _ := f.do(t, "marketer", "POST", path+"/apply", url.Values{"f_image_touchups": {"MAYBE"}}, true); st != http.StatusUnprocessableEntity {
		t.Errorf("apply with a bad value = %d, want 422", st)
	}
	for i := 0; i < 7; i++ { // 9 used: the next edit is the last one
		if err := f.db.Create(&models.TemplateEdit{AccountID: tp.AccountID, ConnectionID: tp.ConnectionID, TemplateID: tp.TemplateID,
			Kind: models.EditKindTTL, CreatedAt: time.Now()}).Error; err != nil {
			t.Fatal(err)
		}
	}
	_, body = f.do(t, "marketer", "GET", path, nil, false)
	if !strings.Contains(body, "this spends the last edit Meta allows this template in 30 days") {
		t.Errorf("page with 1 edit left lacks the last-edits warning")
	}
}

// TestWABAAllOnIsOneRequest: "All on" switches every WABA default in one POST.
func TestWABAAllOnIsOneRequest(t *testing.T) {
	f := newOptApp(t, sandbox.StoreToken)
	if st, _ := f.do(t, "marketer", "GET", "/optimizations", nil, false); st != 200 {
		t.Fatalf("page = %d", st)
	}
	st, body := f.do(t, "marketer", "POST", "/optimizations/waba/"+id(f.conn.ID)+"/all", url.Values{"value": {"OPT_IN"}}, true)
	if st != 200 || !strings.Contains(body, `id="opt-waba-table"`) {
		t.Fatalf("all on = %d %s", st, body)
	}
	w, err := f.g.GetWABA(context.Background(), sandbox.StoreToken, sandbox.StoreWABAID)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range w.DegreesOfFreedom.Features {
		if v != graph.OptIn {
			t.Errorf("after all on Meta reports %s = %s", k, v)
		}
	}
	if len(w.DegreesOfFreedom.Features) < 4 {
		t.Errorf("Meta reports %d WABA features, want every listed one set", len(w.DegreesOfFreedom.Features))
	}
}

func TestBulkPreviewThenApply(t *testing.T) {
	f := newOptApp(t, sandbox.StoreToken)
	form := url.Values{"conn": {id(f.conn.ID)}, "template": {id(f.tpl["summer_sale/en_US"].ID), id(f.tpl["spring_preview/en_US"].ID)},
		"set_image_touchups": {"OPT_OUT"}, "set_image_animation": {"leave"}}
	st, body := f.do(t, "marketer", "POST", "/optimizations/bulk/preview", form, true)
	if st != 200 || !strings.Contains(body, "nothing has been sent yet") || !strings.Contains(body, "Image touch-ups") {
		t.Fatalf("preview = %d %s", st, body)
	}
	st, body = f.do(t, "marketer", "POST", "/optimizations/bulk/apply", form, true)
	if st != 200 || !strings.Contains(body, "Sent, confirmed") || !strings.Contains(body, "Failed") || !strings.Contains(body, "Retry the one that did not go through") {
		t.Fatalf("apply = %d %s", st, body)
	}
	st, body = f.do(t, "marketer", "POST", "/optimizations/bulk/preview", url.Values{"conn": {id(f.conn.ID)}}, true)
	if st != http.StatusUnprocessableEntity || !strings.Contains(body, "Choose at least one template") {
		t.Errorf("empty bulk = %d %s", st, body)
	}
}

func TestWABAChoiceAppliesAtOnceAndIsRememberedPerUser(t *testing.T) {
	f := newOptApp(t, sandbox.StoreToken)
	// "Aardvark" sorts first but is not onboarded; Store is.
	aard := models.WABAConnection{AccountID: f.conn.AccountID, WABAID: "100200300", Name: "Aardvark", TokenSealed: []byte("x")}
	if err := f.db.Create(&aard).Error; err != nil {
		t.Fatal(err)
	}
	f.db.Model(&models.WABAConnection{}).Where("id = ?", f.conn.ID).Update("onboarding_status", "ONBOARDED")
	shows := func(user, query string) string {
		t.Helper()
		st, body := f.do(t, user, "GET", "/optimizations/matrix"+query, nil, false)
		if st != 200 {
			t.Fatalf("matrix%s as %s: %d %.300s", query, user, st, body)
		}
		// The chooser (shown while there is a choice) submits on change, with a button only
		// without JavaScript.
		if strings.Contains(body, `<select name="conn"`) && (!strings.Contains(body, `<select name="conn" data-submit-on-change>`) ||
			!strings.Contains(body, `<noscript><div class="filter-actions"><button`)) {
			t.Errorf("the WABA chooser does not apply at once")
		}
		for _, c := range []models.WABAConnection{f.conn, aard} {
			if strings.Contains(body, `href="/optimizations?conn=`+id(c.ID)+`"`) {
				return c.Name
			}
		}
		return "none"
	}
	if got := shows("marketer", ""); got != "Store" {
		t.Errorf("first visit shows %s, want the onboarded Store", got)
	}
	if _, body := f.do(t, "marketer", "GET", "/optimizations/matrix", nil, false); !strings.Contains(body, `<select name="conn" data-submit-on-change>`) {
		t.Error("no WABA chooser with two WABAs")
	}
	if got := shows("marketer", "?conn="+id(aard.ID)); got != "Aardvark" {
		t.Errorf("?conn=Aardvark shows %s", got)
	}
	if got := shows("marketer", ""); got != "Aardvark" {
		t.Errorf("next visit shows %s, want the last choice, Aardvark", got)
	}
	if got := shows("viewer", ""); got != "Store" {
		t.Errorf("another user sees %s: the choice is per user", got)
	}
	var n int64
	f.db.Model(&models.WABAChoice{}).Count(&n)
	if n != 1 {
		t.Errorf("stored choices = %d, want 1 (only the marketer chose)", n)
	}
	// A connection the user may not see is refused and not remembered.
	if st, _ := f.do(t, "stranger", "GET", "/optimizations/matrix?conn="+id(aard.ID), nil, false); st != 404 {
		t.Errorf("another account's WABA: %d", st)
	}
	// A remembered connection that was deleted falls back to the onboarded one.
	f.db.Delete(&aard)
	if got := shows("marketer", ""); got != "Store" {
		t.Errorf("after the chosen WABA was deleted: %s", got)
	}
}

func TestFeaturesThatDoNotActTodayAreGroupedBelowAndBulkPreviewFollowsTheCatalog(t *testing.T) {
	f := newOptApp(t, sandbox.StoreToken)
	for _, path := range []string{"/optimizations", "/optimizations/matrix", "/optimizations/template/" + id(f.tpl["summer_sale/en_US"].ID)} {
		st, body := f.do(t, "marketer", "GET", path, nil, false)
		if st != 200 {
			t.Fatalf("%s: %d %.300s", path, st, body)
		}
		more := strings.Index(body, `<details class="opt-more">`)
		if more < 0 || !strings.Contains(body, "9 more not acting today") {
			t.Fatalf("%s: no collapsed group of the 9 features that do not act today", path)
		}
		for _, feat := range optimize.Catalog() {
			// The feature's own name as a row heading or a bulk choice label.
			at := strings.Index(body, "<strong>"+feat.Name(context.Background())+"</strong>")
			if strings.HasSuffix(path, "/matrix") {
				at = strings.Index(body, `name="set_`+feat.Key+`"`)
			}
			if at < 0 {
				t.Errorf("%s: %s missing", path, feat.Key)
			} else if (at > more) != feat.Secondary() {
				t.Errorf("%s: %s (state %s, YCloud key %v) is on the wrong side of the collapsed group", path, feat.Key, feat.State, feat.ThirdPartyKey)
			}
		}
		if path == "/optimizations" && strings.Count(body, "21 Apr 2026") > 2 {
			t.Errorf("the WABA defaults repeat the 21 Apr 2026 sentence %d times", strings.Count(body, "21 Apr 2026"))
		}
	}
	if got := len(optimize.Catalog()) - 5; got != 9 {
		t.Fatalf("catalog changed: %d secondary features", got)
	}

	form := url.Values{"conn": {id(f.conn.ID)}, "template": {id(f.tpl["summer_sale/en_US"].ID)},
		"set_add_text_overlay": {"OPT_IN"}, "set_text_formatting_optimization": {"OPT_OUT"},
		"set_image_touchups": {"OPT_OUT"}, "set_image_brightness_and_contrast": {"OPT_OUT"}}
	for range 5 { // map order changes run to run: the preview's must not
		st, body := f.do(t, "marketer", "POST", "/optimizations/bulk/preview", form, true)
		if st != 200 {
			t.Fatalf("preview: %d %.300s", st, body)
		}
		last := -1
		for _, name := range []string{"Image filtering", "Image touch-ups", "Text formatting", "Text overlay"} {
			at := strings.Index(body, "</span> "+name+":")
			if at < last {
				t.Fatalf("preview lists %s out of the catalog order: %s", name, body)
			}
			last = at
		}
	}
}

// TestOptimizationPagesInSpanishAndPortuguese: the WABA page, a template's section, the matrix
// and the bulk form's messages are in the browser's language, with none of the English words.
func TestOptimizationPagesInSpanishAndPortuguese(t *testing.T) {
	f := newOptApp(t, sandbox.StoreToken)
	tp := f.tpl["summer_sale/en_US"]
	pagesOf := []struct{ name, path string }{
		{"waba", "/optimizations"},
		{"template", "/optimizations/template/" + id(tp.ID)},
		{"matrix", "/optimizations/matrix?conn=" + id(f.conn.ID)},
	}
	for _, tc := range []struct {
		lang        string
		want, unwan map[string][]string
		bulkErr     string
	}{
		{"es", map[string][]string{
			"waba":     {`<html lang="es"`, "Predeterminados de la WABA", "Cómo decidimos el valor efectivo", "Pausada por Meta", "Filtro de imagen", "Volver a leer de Meta", "Activada (OPT_IN)"},
			"template": {"Optimizaciones creativas", "0 de 10 ediciones usadas en los últimos 30 días", "Historial", "Aplicar cambios (una edición)", "Ajuste de la plantilla"},
			"matrix":   {"Matriz de optimizaciones", "Leyenda", "Ver vista previa", "Dejar sin cambios", "Retoques de imagen"},
		}, map[string][]string{
			"waba":     {"How we decide", "Paused by Meta", "Image filtering", "Re-read from Meta", "WABA defaults", "On (OPT_IN)"},
			"template": {"Creative optimizations", "edits used", "History", "Apply changes", "Template setting"},
			"matrix":   {"Optimizations matrix", "Legend:", "Preview changes", "Leave unchanged", "Image touch-ups"},
		}, "Elige al menos una plantilla."},
		{"pt-BR", map[string][]string{
			"waba":     {`<html lang="pt-BR"`, "Padrões da WABA", "Como decidimos o valor efetivo", "Pausada pela Meta", "Filtro de imagem", "Ler de novo da Meta", "Ativada (OPT_IN)"},
			"template": {"Otimizações criativas", "0 de 10 edições usadas nos últimos 30 dias", "Histórico", "Aplicar alterações (uma edição)", "Configuração do modelo"},
			"matrix":   {"Matriz de otimizações", "Legenda", "Ver prévia", "Deixar como está", "Retoques de imagem"},
		}, map[string][]string{
			"waba":     {"How we decide", "Paused by Meta", "Image filtering", "Re-read from Meta", "WABA defaults", "On (OPT_IN)"},
			"template": {"Creative optimizations", "edits used", "History", "Apply changes", "Template setting"},
			"matrix":   {"Optimizations matrix", "Legend:", "Preview changes", "Leave unchanged", "Image touch-ups"},
		}, "Escolha pelo menos um modelo."},
	} {
		for _, pg := range pagesOf {
			st, body := f.doIn(t, tc.lang, "marketer", "GET", pg.path, nil, false)
			if st != 200 {
				t.Fatalf("%s %s = %d", tc.lang, pg.path, st)
			}
			for _, w := range tc.want[pg.name] {
				if !strings.Contains(body, w) {
					t.Errorf("%s %s lacks %q", tc.lang, pg.path, w)
				}
			}
			for _, w := range tc.unwan[pg.name] {
				if strings.Contains(body, w) {
					t.Errorf("%s %s still says %q", tc.lang, pg.path, w)
				}
			}
		}
		st, body := f.doIn(t, tc.lang, "marketer", "POST", "/optimizations/bulk/preview", url.Values{"conn": {id(f.conn.ID)}, "set_image_touchups": {graph.OptOut}}, true)
		if st != http.StatusUnprocessableEntity || !strings.Contains(body, tc.bulkErr) || strings.Contains(body, "Choose at least one template") {
			t.Errorf("%s bulk form without templates = %d %s, want %q", tc.lang, st, body, tc.bulkErr)
		}
	}
}
