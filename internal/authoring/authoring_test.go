package authoring_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"mmconsole/internal/accounts"
	"mmconsole/internal/audit"
	"mmconsole/internal/authoring"
	"mmconsole/internal/database"
	"mmconsole/internal/editbudget"
	"mmconsole/internal/graph"
	"mmconsole/internal/metarules"
	"mmconsole/internal/sandbox"
	"mmconsole/internal/templates"
	"mmconsole/internal/webhook"
	"mmconsole/models"
)

type tokens map[string]string

func (t tokens) Token(_ context.Context, c models.WABAConnection) (string, error) {
	return t[c.WABAID], nil
}

type recorder struct{ entries []audit.Entry }

func (r *recorder) Record(_ context.Context, e audit.Entry) error {
	r.entries = append(r.entries, e)
	return nil
}

type env struct {
	db      *gorm.DB
	sb      *sandbox.Sandbox
	svc     *authoring.Service
	catalog *templates.Service
	ledger  *editbudget.Ledger
	audit   *recorder
	conn    models.WABAConnection
	posts   *atomic.Int64
	scope   models.Scope
	actor   authoring.Actor
	now     time.Time
}

// newEnv serves the sandbox (its webhooks kept in memory) over loopback HTTP, with a fresh
// database holding the Store WABA's catalog.
func newEnv(t *testing.T) *env {
	t.Helper()
	db := database.OpenTest(t, append(append(append(accounts.Migrations(), templates.Migrations()...), audit.Migrations()...), webhook.Migrations()...))
	sb := sandbox.New(sandbox.Options{EventDelay: -1, ApproveAfter: -1})
	t.Cleanup(func() { sb.Close() })
	var posts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			posts.Add(1)
		}
		sb.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	acc := models.Account{Name: "Shop"}
	if err := db.Create(&acc).Error; err != nil {
		t.Fatal(err)
	}
	conn := models.WABAConnection{AccountID: acc.ID, WABAID: sandbox.StoreWABAID, Name: "Store", TokenSealed: []byte("x"), OnboardingStatus: "ONBOARDED"}
	if err := db.Create(&conn).Error; err != nil {
		t.Fatal(err)
	}
	g := graph.New(graph.Options{BaseURL: srv.URL, MaxRetries: -1})
	tk := tokens{sandbox.StoreWABAID: sandbox.StoreToken}
	ledger := editbudget.New(db, editbudget.Options{})
	cat := templates.New(db, g, tk, templates.Options{Edits: ledger, MinManualGap: -1})
	cat.RefreshAll(context.Background(), templates.TriggerStart)
	rec := &recorder{}
	a := acc.ID
	return &env{db: db, sb: sb, catalog: cat, ledger: ledger, audit: rec, conn: conn, posts: &posts,
		svc:   authoring.New(db, g, tk, authoring.Options{Edits: ledger, Audit: rec}),
		scope: models.Scope{AccountID: acc.ID},
		actor: authoring.Actor{User: models.User{ID: 7, AccountID: &a, Email: "m@shop.test", Role: models.RoleMarketer}, IP: "127.0.0.1"},
		now:   time.Now()}
}

// draft is a marketing template with an image header, a URL button and two optimizations off.
func draft(conn uint, name string) authoring.Draft {
	return authoring.Draft{
		ConnectionID: conn, Name: name, Language: "en_US", ParameterFormat: "POSITIONAL",
		HeaderFormat: authoring.HeaderImage, HeaderSample: "https://cdn.example/summer.jpg",
		Body:     "Hi {{1}}, the summer sale ends {{2}}. Enjoy!",
		Examples: map[string]string{"1": "Ana", "2": "Sunday"},
		Footer:   "Reply STOP to opt out",
		Buttons:  []authoring.Button{{Type: "URL", Text: "Shop now", URL: "https://shop.example/p/{{1}}", Example: "https://shop.example/p/summer"}},
		TTLValue: "3", TTLUnit: "days",
		Optimizations: map[string]string{"image_touchups": "OPT_OUT", "text_formatting_optimization": "OPT_OUT", "text_extraction_for_headline": "OPT_IN"},
	}
}

// TestCreationRequestBodyPerComponentKind: each component kind is sent in Meta's shape, the TTL
// as message_send_ttl_seconds and the optimizations as degrees_of_freedom_spec keyed lowercase.
func TestCreationRequestBodyPerComponentKind(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(d *authoring.Draft)
		wants []string
	}{
		{"image header by sample URL", func(d *authoring.Draft) {}, []string{
			`{"type":"HEADER","format":"IMAGE","example":{"header_handle":["https://cdn.example/summer.jpg"]}}`}},
		{"video header by upload handle", func(d *authoring.Draft) { d.HeaderFormat, d.HeaderSample = authoring.HeaderVideo, "4::dmlkZW8=:ARb" }, []string{
			`{"type":"HEADER","format":"VIDEO","example":{"header_handle":["4::dmlkZW8=:ARb"]}}`}},
		{"document header", func(d *authoring.Draft) {
			d.HeaderFormat, d.HeaderSample = authoring.HeaderDocument, "https://cdn.example/a.pdf"
		}, []string{
			`"format":"DOCUMENT","example":{"header_handle":["https://cdn.example/a.pdf"]}`}},
		{"text header with a variable", func(d *authoring.Draft) {
			d.HeaderFormat, d.HeaderText, d.Examples["1"] = authoring.HeaderText, "Hello {{1}}", "Ana"
		}, []string{`{"type":"HEADER","format":"TEXT","text":"Hello {{1}}","example":{"header_text":["Ana"]}}`}},
		{"no header", func(d *authoring.Draft) { d.HeaderFormat = authoring.HeaderNone }, []string{`"components":[{"type":"BODY"`}},
		{"positional body", func(d *authoring.Draft) {}, []string{
			`{"type":"BODY","text":"Hi {{1}}, the summer sale ends {{2}}. Enjoy!","example":{"body_text":[["Ana","Sunday"]]}}`, `"parameter_format":"POSITIONAL"`}},
		{"named body", func(d *authoring.Draft) {
			d.ParameterFormat, d.Body = "NAMED", "Hi {{first_name}}, see you {{day}}."
			d.Examples = map[string]string{"first_name": "Ana", "day": "Sunday"}
		}, []string{`"example":{"body_text_named_params":[{"example":"Ana","param_name":"first_name"},{"example":"Sunday","param_name":"day"}]}`, `"parameter_format":"NAMED"`}},
		{"footer", func(d *authoring.Draft) {}, []string{`{"type":"FOOTER","text":"Reply STOP to opt out"}`}},
		{"URL button with a variable suffix", func(d *authoring.Draft) {}, []string{
			`{"type":"URL","text":"Shop now","url":"https://shop.example/p/{{1}}","example":["https://shop.example/p/summer"]}`}},
		{"quick reply", func(d *authoring.Draft) { d.Buttons = []authoring.Button{{Type: "QUICK_REPLY", Text: "Stop promos"}} }, []string{
			`"buttons":[{"type":"QUICK_REPLY","text":"Stop promos"}]`}},
		{"phone", func(d *authoring.Draft) {
			d.Buttons = []authoring.Button{{Type: "PHONE_NUMBER", Text: "Call us", Phone: "+52 55 1234 5678"}}
		}, []string{
			`{"type":"PHONE_NUMBER","text":"Call us","phone_number":"+525512345678"}`}},
		{"copy code", func(d *authoring.Draft) { d.Buttons = []authoring.Button{{Type: "COPY_CODE", Example: "SUMMER20"}} }, []string{
			`{"type":"COPY_CODE","example":"SUMMER20"}`}},
		{"TTL and optimizations", func(d *authoring.Draft) {}, []string{
			`"message_send_ttl_seconds":259200`, `"category":"MARKETING"`,
			`"degrees_of_freedom_spec":{"creative_features_spec":{"image_touchups":{"enroll_status":"OPT_OUT"},"text_extraction_for_headline":{"enroll_status":"OPT_IN"},"text_formatting_optimization":{"enroll_status":"OPT_OUT"}}}`}},
		{"WABA default: no TTL, no spec", func(d *authoring.Draft) { d.TTLValue, d.Optimizations = "", nil }, nil},
	}
	for _, c := range cases {
		d := draft(1, "summer_sale_x")
		c.edit(&d)
		if ve := d.Check(context.Background()); ve.OrNil() != nil {
			t.Errorf("%s: the draft is refused: %v", c.name, ve)
			continue
		}
		b, err := json.Marshal(d.Request())
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.wants {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s: request lacks %s:\n%s", c.name, w, b)
			}
		}
		if c.wants == nil && (strings.Contains(string(b), "message_send_ttl_seconds") || strings.Contains(string(b), "degrees_of_freedom_spec")) {
			t.Errorf("%s: nothing chosen must send neither TTL nor spec: %s", c.name, b)
		}
	}
}

// TestCreateStoresPendingSendsSpecAndAudits: a created template is in the catalog at once as
// PENDING with what was sent, Meta has the TTL and the two optimizations off, and the audit log
// holds the request (no token).
func TestCreateStoresPendingSendsSpecAndAudits(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tm, err := e.svc.Create(ctx, e.scope, e.actor, draft(e.conn.ID, "summer_flash"))
	if err != nil {
		t.Fatal(err)
	}
	if tm.Status != "PENDING" || tm.TemplateID == "" || tm.Category != "MARKETING" || tm.TTLSeconds == nil || *tm.TTLSeconds != 259200 {
		t.Fatalf("stored %+v", tm)
	}
	got, err := e.catalog.Get(ctx, e.scope, tm.TemplateID)
	if err != nil || got.Status != "PENDING" {
		t.Fatalf("catalog: %+v %v", got, err)
	}
	if st := templates.SyncState(got, "ONBOARDED", time.Now()); st.Kind != templates.KindNotSendable {
		t.Errorf("pending template state %s, want not sendable", st.Kind)
	}
	remote, err := graph.New(graph.Options{BaseURL: baseOf(t, e)}).GetTemplate(ctx, sandbox.StoreToken, tm.TemplateID)
	if err != nil || remote.DegreesOfFreedom.Get("image_touchups") != "OPT_OUT" || remote.DegreesOfFreedom.Get("text_formatting_optimization") != "OPT_OUT" ||
		remote.MessageSendTTLSeconds == nil || *remote.MessageSendTTLSeconds != 259200 {
		t.Errorf("Meta's template: spec %+v, TTL %v, %v", remote.DegreesOfFreedom.Features, remote.MessageSendTTLSeconds, err)
	}
	if len(e.audit.entries) != 1 || e.audit.entries[0].Action != authoring.ActionCreate {
		t.Fatalf("audit %+v", e.audit.entries)
	}
	a, _ := json.Marshal(e.audit.entries[0].After)
	for _, w := range []string{`"degrees_of_freedom_spec"`, `"message_send_ttl_seconds":259200`, `"header_handle"`, "accepted: PENDING"} {
		if !strings.Contains(string(a), w) {
			t.Errorf("audit entry lacks %s: %s", w, a)
		}
	}
	if strings.Contains(string(a), sandbox.StoreToken) {
		t.Error("the audit entry holds the access token")
	}
}

// baseOf serves the env's sandbox on another loopback server, to read what Meta holds.
func baseOf(t *testing.T, e *env) string {
	t.Helper()
	srv := httptest.NewServer(e.sb.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestRefusalsNextToTheirField: bad input is refused before Meta is called, each on its field;
// Meta's own refusal (a duplicate the catalog did not know) comes back on the name, explained.
func TestRefusalsNextToTheirField(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	bad := draft(e.conn.ID, "Summer Sale")
	bad.Body = "{{1}} sale"
	bad.TTLValue, bad.TTLUnit = "2", "hours"
	before := e.posts.Load()
	_, err := e.svc.Create(ctx, e.scope, e.actor, bad)
	var ve *models.ValidationError
	if !errors.As(err, &ve) || ve.Fields[metarules.FieldName] == "" || ve.Fields[metarules.FieldBody] == "" || ve.Fields["ttl"] == "" {
		t.Fatalf("bad draft: %v", err)
	}
	if e.posts.Load() != before {
		t.Error("a refused draft reached Meta")
	}
	// summer_sale/en_US is in the catalog: refused locally, on the name.
	_, err = e.svc.Create(ctx, e.scope, e.actor, draft(e.conn.ID, "summer_sale"))
	if !errors.As(err, &ve) || !strings.Contains(ve.Fields[metarules.FieldName], "2388024") {
		t.Fatalf("known duplicate: %v", err)
	}
	// Meta has it but the catalog lost it: Meta's 2388024 lands on the name, explained.
	if err := e.db.Where("name = ? AND language = ?", "summer_sale", "en_US").Delete(&models.Template{}).Error; err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Create(ctx, e.scope, e.actor, draft(e.conn.ID, "summer_sale"))
	var re *authoring.RefusedError
	if !errors.As(err, &re) || re.Field != metarules.FieldName || !strings.Contains(re.Explain(context.Background()), "2388024") || !strings.Contains(re.Explain(context.Background()), "already exists") {
		t.Fatalf("Meta's duplicate: %v", err)
	}
	// Another account's WABA is not the user's to create in.
	_, err = e.svc.Create(ctx, models.Scope{AccountID: 999}, e.actor, draft(e.conn.ID, "other_one"))
	if !errors.As(err, &ve) || ve.Fields["waba"] == "" {
		t.Fatalf("another account's WABA: %v", err)
	}
}

// TestCountdownStartsOnApproval: the template created PENDING starts its 10-minute MM API sync
// window when Meta's APPROVED webhook is ingested, not at creation.
func TestCountdownStartsOnApproval(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	hooks := webhook.New(e.db, webhook.NewMetrics(), webhook.Options{})
	t.Cleanup(func() { hooks.Close() })
	tm, err := e.svc.Create(ctx, e.scope, e.actor, draft(e.conn.ID, "approved_soon"))
	if err != nil {
		t.Fatal(err)
	}
	// The review's webhooks (PENDING, APPROVED), possibly batched in one delivery.
	var bodies [][]byte
	approved := false
	for i := 0; i < 300 && !approved; i++ {
		time.Sleep(10 * time.Millisecond)
		bodies = bodies[:0]
		for _, d := range e.sb.Deliveries() {
			if strings.Contains(string(d.Body), `"approved_soon"`) {
				bodies = append(bodies, d.Body)
				approved = approved || strings.Contains(string(d.Body), `"APPROVED"`)
			}
		}
	}
	if !approved {
		t.Fatalf("no APPROVED webhook from the sandbox: %d deliveries", len(bodies))
	}
	time.Sleep(20 * time.Millisecond) // the approval is later than the creation
	approvedFrom := time.Now()
	for _, b := range bodies {
		if _, err := hooks.Ingest(ctx, webhook.Delivery{Body: b}); err != nil {
			t.Fatal(err)
		}
	}
	approvedTo := time.Now()
	got, err := e.catalog.Get(ctx, e.scope, tm.TemplateID)
	if err != nil || got.Status != "APPROVED" {
		t.Fatalf("after the webhooks: %+v %v", got, err)
	}
	st := templates.SyncState(got, "ONBOARDED", approvedTo)
	if st.Kind != templates.KindSyncing || st.Since.Before(approvedFrom.Add(-time.Second)) || st.Since.After(approvedTo.Add(time.Second)) {
		t.Fatalf("state %s since %v; want syncing since the approval (%v–%v), created %v", st.Kind, st.Since, approvedFrom, approvedTo, tm.CreatedAt)
	}
	if !st.ReadyAt.Equal(st.Since.Add(templates.SyncWindow)) {
		t.Errorf("ready at %v, want 10 minutes after %v", st.ReadyAt, st.Since)
	}
	if s := templates.SyncState(got, "ONBOARDED", st.ReadyAt.Add(time.Second)); s.Kind != templates.KindReady {
		t.Errorf("after the window: %s", s.Kind)
	}
}

// TestEditSharesTheBudgetAndGoesBackToReview: a content edit is refused without calling Meta once
// TTL and optimization edits used the 10, and otherwise spends one of the same 10, sends the
// template back to review, and blocks another content edit for 24 hours.
func TestEditSharesTheBudgetAndGoesBackToReview(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var tm models.Template
	if err := e.db.Where("name = ? AND language = ?", "summer_sale", "en_US").Take(&tm).Error; err != nil {
		t.Fatal(err)
	}
	d := authoring.FromTemplate(tm)
	d.Body = "Summer sale: up to {{1}} off this week, come by."
	d.Examples = map[string]string{"1": "30%"}
	d.HeaderFormat = authoring.HeaderNone
	d.Buttons = nil
	for i := range 9 {
		kind := models.EditKindOptimizations
		if i%2 == 1 {
			kind = models.EditKindTTL
		}
		if err := e.ledger.Record(ctx, editbudget.Edit{Template: tm, Kind: kind}); err != nil {
			t.Fatal(err)
		}
	}
	info, err := e.svc.EditInfo(ctx, tm)
	if err != nil || info.Budget.Used != 9 || info.Blocked(context.Background(), time.Now()) != "" {
		t.Fatalf("budget before: %+v %v", info, err)
	}
	// A crafted format is ignored: an edit sends components only, the variables keep their kind.
	d.ParameterFormat = "NAMED"
	got, err := e.svc.Edit(ctx, e.scope, e.actor, tm.ID, d)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "PENDING" || !strings.Contains(got.Components, "come by") || got.ParameterFormat != tm.ParameterFormat {
		t.Errorf("after the edit: %s %s %s", got.Status, got.ParameterFormat, got.Components)
	}
	if b, _ := e.catalog.EditBudget(ctx, tm); b.Used != 10 || !b.AtLimit() {
		t.Errorf("the TTL editor's budget after a content edit: %+v, want 10 used", b)
	}
	// At the limit: refused before Meta, on the edit.
	if err := e.db.Model(&models.Template{}).Where("id = ?", tm.ID).Update("status", "APPROVED").Error; err != nil {
		t.Fatal(err)
	}
	before := e.posts.Load()
	_, err = e.svc.Edit(ctx, e.scope, e.actor, tm.ID, d)
	var ve *models.ValidationError
	if !errors.As(err, &ve) || !strings.Contains(ve.Fields["edit"], "10 edits") || e.posts.Load() != before {
		t.Fatalf("edit at the limit: %v (posts %d→%d)", err, before, e.posts.Load())
	}
	// With budget left, the 24-hour rule still blocks a second content edit.
	if err := e.db.Where("template_id = ? AND kind <> ?", tm.TemplateID, models.EditKindComponents).Delete(&models.TemplateEdit{}).Error; err != nil {
		t.Fatal(err)
	}
	if _, err = e.svc.Edit(ctx, e.scope, e.actor, tm.ID, d); !errors.As(err, &ve) || !strings.Contains(ve.Fields["edit"], "24 hours") {
		t.Fatalf("second content edit within 24 h: %v", err)
	}
	if n := len(e.audit.entries); n != 1 || e.audit.entries[0].Action != authoring.ActionEdit {
		t.Errorf("audit %+v", e.audit.entries)
	}
}

// TestDeleteOneOrAllLanguages: the impact names what goes; deleting one language leaves the
// other, deleting by name removes the rest; Meta no longer has them.
func TestDeleteOneOrAllLanguages(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var es models.Template
	if err := e.db.Where("name = ? AND language = ?", "summer_sale", "es_MX").Take(&es).Error; err != nil {
		t.Fatal(err)
	}
	imp, err := e.svc.Impact(ctx, e.scope, es.ID, true)
	if err != nil || len(imp.Removed) != 2 {
		t.Fatalf("impact of all languages: %+v %v", imp, err)
	}
	if _, err := e.svc.Delete(ctx, e.scope, e.actor, es.ID, false); err != nil {
		t.Fatal(err)
	}
	var rows []models.Template
	e.db.Where("name = ?", "summer_sale").Order("language").Find(&rows)
	if len(rows) != 2 || rows[0].Status != "APPROVED" || rows[1].Status != "DELETED" || rows[1].GoneAt == nil {
		t.Fatalf("after deleting es_MX: %+v", rows)
	}
	if _, err := e.svc.Delete(ctx, e.scope, e.actor, rows[0].ID, true); err != nil {
		t.Fatal(err)
	}
	e.db.Where("name = ? AND status = ?", "summer_sale", "DELETED").Find(&rows)
	if len(rows) != 2 {
		t.Errorf("after deleting by name: %d deleted", len(rows))
	}
	if _, err := e.catalog.RefreshConnection(ctx, e.conn, templates.TriggerManual); err != nil {
		t.Fatal(err)
	}
	var n int64
	e.db.Model(&models.Template{}).Where("name = ? AND gone_at IS NULL", "summer_sale").Count(&n)
	if n != 0 {
		t.Errorf("Meta still lists summer_sale: %d", n)
	}
	if len(e.audit.entries) != 2 || e.audit.entries[1].Action != authoring.ActionDelete {
		t.Errorf("audit %+v", e.audit.entries)
	}
	// Another account cannot delete it.
	if _, err := e.svc.Delete(ctx, models.Scope{AccountID: 999}, e.actor, rows[0].ID, true); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("another account's delete: %v", err)
	}
}

// TestDeleteNamesOnlyWhatGoes: the confirmation counts the sends of this WABA's template only
// (another WABA of the account with the same name keeps sending), and a template already deleted
// cannot be deleted again, by id or by name, without a call to Meta.
func TestDeleteNamesOnlyWhatGoes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var en models.Template
	if err := e.db.Where("name = ? AND language = ?", "summer_sale", "en_US").Take(&en).Error; err != nil {
		t.Fatal(err)
	}
	name, lang, acc, now := "summer_sale", "en_US", en.AccountID, time.Now().UTC()
	for i, waba := range []string{en.WABAID, en.WABAID, "another_waba"} {
		m := models.Message{WAMID: fmt.Sprintf("wamid.del%d", i), AccountID: &acc, WABAID: waba, TemplateName: &name, TemplateLanguage: &lang, AcceptedAt: &now}
		if err := e.db.Create(&m).Error; err != nil {
			t.Fatal(err)
		}
	}
	imp, err := e.svc.Impact(ctx, e.scope, en.ID, false)
	if err != nil || imp.RecentSends != 2 {
		t.Fatalf("recent sends = %d (%v), want this WABA's 2", imp.RecentSends, err)
	}
	if _, err := e.svc.Delete(ctx, e.scope, e.actor, en.ID, false); err != nil {
		t.Fatal(err)
	}
	before := e.posts.Load()
	for _, all := range []bool{false, true} {
		if _, err := e.svc.Delete(ctx, e.scope, e.actor, en.ID, all); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("deleting a deleted template again (all=%v): %v, want not found", all, err)
		}
	}
	if e.posts.Load() != before {
		t.Error("a second delete reached Meta")
	}
}

func TestCloneNameAndFromTemplate(t *testing.T) {
	e := newEnv(t)
	var tm models.Template
	if err := e.db.Where("name = ? AND language = ?", "summer_sale", "en_US").Take(&tm).Error; err != nil {
		t.Fatal(err)
	}
	taken, err := e.svc.TakenNames(context.Background(), e.conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	taken["summer_sale_copy"] = true
	if n := authoring.CloneName("summer_sale", taken); n != "summer_sale_copy2" {
		t.Errorf("clone name %s", n)
	}
	d := authoring.FromTemplate(tm)
	d.Name = "summer_sale_copy2"
	if ve := d.Check(context.Background()); ve.OrNil() != nil {
		t.Errorf("a seed template read back into the form is refused: %v\n%s", ve, tm.Components)
	}
	if d.Body == "" || len(d.BodyVars()) > 0 && d.Examples[d.BodyVars()[0]] == "" {
		t.Errorf("clone lost the body or its examples: %+v", d)
	}
}

// TestMetaRefusalFieldMapping: Meta's template subcodes and the sandbox's field prefix name the
// field; other details words name the field they speak of, or none.
func TestMetaRefusalFieldMapping(t *testing.T) {
	cases := []struct {
		ge    graph.GraphError
		field string
	}{
		{graph.GraphError{Code: 100, Subcode: 2388024}, metarules.FieldName},
		{graph.GraphError{Code: 100, Subcode: metarules.SubcodeBodyFormat}, metarules.FieldBody},
		{graph.GraphError{Code: 100, Subcode: metarules.SubcodeHeaderFormat}, metarules.FieldHeader},
		{graph.GraphError{Code: 100, Subcode: metarules.SubcodeButtons}, metarules.FieldButtons},
		{graph.GraphError{Code: 100, Details: "button_url_1: Button 2's link starts with https://."}, "button_url_1"},
		{graph.GraphError{Code: 100, Details: "Template name can only contain lowercase letters"}, metarules.FieldName},
		{graph.GraphError{Code: 100, Details: "The category MARKETING does not match the content"}, metarules.FieldCategory},
		{graph.GraphError{Code: 100, Details: "message_send_ttl_seconds for MARKETING templates must be between"}, "ttl"},
		{graph.GraphError{Code: 100, Details: "Error: something else"}, ""},
		{graph.GraphError{Code: 190, Message: "Invalid OAuth access token"}, ""},
		// The field the details name wins over a subcode several fields share.
		{graph.GraphError{Code: 100, Subcode: metarules.SubcodeMissingExample, Details: "header_sample: A image header needs a sample for review"}, metarules.FieldHeaderSample},
		{graph.GraphError{Code: 100, Subcode: metarules.SubcodeButtons, Details: "button_example_0: Button 1: give an example offer code"}, "button_example_0"},
	}
	for _, c := range cases {
		ge := c.ge
		re := authoring.AsRefused(&ge)
		if re.Field != c.field {
			t.Errorf("%+v: field %q, want %q", c.ge, re.Field, c.field)
		}
	}
}

// TestRefusalLandsOnAFieldTheDraftHas: a subcode that names the header or the examples lands on
// the media header's sample, the text header's example, or above the form when the draft has no
// such field, never on an input the form does not show.
func TestRefusalLandsOnAFieldTheDraftHas(t *testing.T) {
	header := graph.GraphError{Code: 100, Subcode: metarules.SubcodeHeaderFormat}
	example := graph.GraphError{Code: 100, Subcode: metarules.SubcodeMissingExample}
	image := draft(1, "x") // image header, body with {{1}} {{2}}
	noVarsImage := image
	noVarsImage.Body = "Our summer sale is on."
	textHeader := image
	textHeader.HeaderFormat, textHeader.HeaderText, textHeader.Body = authoring.HeaderText, "Hi {{1}}", "Our sale is on."
	none := noVarsImage
	none.HeaderFormat = authoring.HeaderNone
	cases := []struct {
		name  string
		ge    graph.GraphError
		d     authoring.Draft
		field string
	}{
		{"header subcode, image header", header, image, metarules.FieldHeaderSample},
		{"header subcode, text header", header, textHeader, metarules.FieldHeader},
		{"header subcode, no header", header, none, ""},
		{"example subcode, body has variables", example, image, metarules.FieldBodyExamples},
		{"example subcode, only the image header needs one", example, noVarsImage, metarules.FieldHeaderSample},
		{"example subcode, only the text header has a variable", example, textHeader, metarules.FieldHeaderExample},
		{"example subcode, nothing needs one", example, none, ""},
	}
	for _, c := range cases {
		ge := c.ge
		if got := authoring.AsRefusedFor(&ge, c.d).Field; got != c.field {
			t.Errorf("%s: field %q, want %q", c.name, got, c.field)
		}
	}
}
