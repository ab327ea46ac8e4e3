package optimize_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

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

type tokens map[string]string

func (t tokens) Token(_ context.Context, c models.WABAConnection) (string, error) {
	if tok, ok := t[c.WABAID]; ok {
		return tok, nil
	}
	return "", fmt.Errorf("no token for %s", c.WABAID)
}

type auditLog struct {
	mu      sync.Mutex
	entries []optimize.AuditEntry
}

func (a *auditLog) Record(_ context.Context, e optimize.AuditEntry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, e)
	return nil
}

// recorder wraps the Graph client to see which templates were edited.
type recorder struct {
	optimize.Graph
	mu       sync.Mutex
	edited   []string
	sent     []map[string]string // degrees_of_freedom_spec of each template edit
	wabaSent []map[string]string // of each WABA POST
}

func (r *recorder) EditTemplate(ctx context.Context, tok, id string, e graph.TemplateEdit) error {
	r.mu.Lock()
	r.edited = append(r.edited, id)
	r.sent = append(r.sent, e.Optimizations)
	r.mu.Unlock()
	return r.Graph.EditTemplate(ctx, tok, id, e)
}

func (r *recorder) SetWABAOptimizations(ctx context.Context, tok, id string, f map[string]string) error {
	r.mu.Lock()
	r.wabaSent = append(r.wabaSent, f)
	r.mu.Unlock()
	return r.Graph.SetWABAOptimizations(ctx, tok, id, f)
}

type env struct {
	db       *gorm.DB
	sb       *sandbox.Sandbox
	g        *graph.Client
	rec      *recorder
	svc      *optimize.Service
	audit    *auditLog
	conn     models.WABAConnection
	other    models.WABAConnection
	tpl      map[string]models.Template // by "name/lang"
	marketer models.User
	viewer   models.User
	stranger models.User
}

func migrations() []database.Migration {
	ms := accounts.Migrations()
	ms = append(ms, templates.Migrations()...) // the catalog owns the templates table
	return append(ms, optimize.Migrations()...)
}

func newEnv(t *testing.T, g optimize.Graph) *env {
	t.Helper()
	sb := sandbox.New(sandbox.Options{EventDelay: -1})
	t.Cleanup(func() { sb.Close() })
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	e := &env{db: database.OpenTest(t, migrations()), sb: sb, tpl: map[string]models.Template{}, audit: &auditLog{}}
	e.g = graph.New(graph.Options{BaseURL: srv.URL, MaxRetries: -1})
	if g == nil {
		g = e.g
	}
	e.rec = &recorder{Graph: g}
	accA, accB := models.Account{Name: "A"}, models.Account{Name: "B"}
	must(t, e.db.Create(&accA).Error)
	must(t, e.db.Create(&accB).Error)
	e.conn = models.WABAConnection{AccountID: accA.ID, WABAID: sandbox.StoreWABAID, Name: "Store", TokenSealed: []byte("x")}
	e.other = models.WABAConnection{AccountID: accB.ID, WABAID: sandbox.PharmaWABAID, Name: "Pharma", TokenSealed: []byte("x")}
	must(t, e.db.Create(&e.conn).Error)
	must(t, e.db.Create(&e.other).Error)
	for _, w := range sb.Seed().WABAs {
		conn := e.conn
		if w.ID == sandbox.PharmaWABAID {
			conn = e.other
		}
		for _, st := range w.Templates {
			row := models.Template{AccountID: conn.AccountID, ConnectionID: conn.ID, WABAID: w.ID, TemplateID: st.ID, Name: st.Name,
				Language: st.Language, Status: st.Status, Category: st.Category, FirstSeenAt: time.Now(), RefreshedAt: time.Now()}
			must(t, e.db.Create(&row).Error)
			e.tpl[st.Name+"/"+st.Language] = row
		}
	}
	e.svc = optimize.New(e.db, e.rec, tokens{sandbox.StoreWABAID: sandbox.StoreToken, sandbox.PharmaWABAID: sandbox.PharmaToken}, e.audit, optimize.Options{})
	e.marketer = models.User{ID: 7, AccountID: &accA.ID, Email: "m@a.example", Role: models.RoleMarketer}
	e.viewer = models.User{ID: 8, AccountID: &accA.ID, Email: "v@a.example", Role: models.RoleViewer}
	e.stranger = models.User{ID: 9, AccountID: &accB.ID, Email: "m@b.example", Role: models.RoleMarketer}
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var ctx = context.Background()

func findWABA(v optimize.WABAView, key string) optimize.WABARow {
	for _, r := range v.Rows {
		if r.Feature.Key == key {
			return r
		}
	}
	return optimize.WABARow{}
}

func findTpl(v optimize.TemplateView, key string) optimize.TemplateRow {
	for _, r := range v.Rows {
		if r.Feature.Key == key {
			return r
		}
	}
	return optimize.TemplateRow{}
}

func TestReadsWABAAndTemplateShapesAndKeepsUnknownKeys(t *testing.T) {
	e := newEnv(t, nil)
	// An unknown key, set at Meta, must come back and be shown with its raw key.
	must(t, e.g.SetWABAOptimizations(ctx, sandbox.StoreToken, sandbox.StoreWABAID, map[string]string{"future_magic_feature": graph.OptIn}))
	v, err := e.svc.WABA(ctx, e.marketer.Scope(), e.conn.ID) // WABA GET shape: data[0].creative_features_spec[0]
	must(t, err)
	if r := findWABA(v, "image_touchups"); r.MetaValue != graph.OptIn || r.Drift {
		t.Errorf("image_touchups = %+v, want OPT_IN without drift", r)
	}
	u := findWABA(v, "future_magic_feature")
	if u.MetaValue != graph.OptIn || u.Feature.Known || u.Feature.State != optimize.StateUnknown || u.Feature.State.Label(ctx) != "Unknown to this console" {
		t.Errorf("unknown key row = %+v", u)
	}
	if f := findWABA(v, "image_end_card").Feature; !f.ThirdPartyKey || !f.Known {
		t.Errorf("image_end_card should be a known YCloud-only key: %+v", f)
	}
	// Template GET shape: [{key: UPPER, value: {enroll_status}}].
	tv, err := e.svc.RereadTemplate(ctx, e.marketer.Scope(), e.tpl["summer_sale/en_US"].ID)
	must(t, err)
	if r := findTpl(tv, "image_brightness_and_contrast"); r.TemplateValue != graph.OptOut {
		t.Errorf("template value = %+v", r)
	}
	var stored models.Template
	must(t, e.db.First(&stored, e.tpl["summer_sale/en_US"].ID).Error)
	if optimize.TemplateValues(stored)["text_extraction_for_headline"] != graph.OptIn {
		t.Errorf("Optimizations column not updated: %s", stored.Optimizations)
	}
}

// The request (object-keyed) shape, answered by a proxy on a read, decodes too.
func TestReadsRequestShapeFromAProxy(t *testing.T) {
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"572279198452401","status":"APPROVED","degrees_of_freedom_spec":{"creative_features_spec":{"IMAGE_TOUCHUPS":{"enroll_status":"opt_in"}}}}`)
	}))
	defer fake.Close()
	e := newEnv(t, graph.New(graph.Options{BaseURL: fake.URL, MaxRetries: -1}))
	tv, err := e.svc.RereadTemplate(ctx, e.marketer.Scope(), e.tpl["summer_sale/en_US"].ID)
	must(t, err)
	if r := findTpl(tv, "image_touchups"); r.TemplateValue != graph.OptIn || r.Source != optimize.SourceTemplate {
		t.Errorf("object shape row = %+v", r)
	}
}

func TestPrecedenceShowsEachSource(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.svc.RereadWABA(ctx, e.marketer.Scope(), e.conn.ID)
	must(t, err)
	tv, err := e.svc.RereadTemplate(ctx, e.marketer.Scope(), e.tpl["summer_sale/en_US"].ID)
	must(t, err)
	cases := []struct {
		key    string
		value  string
		source optimize.Source
	}{
		{"image_brightness_and_contrast", graph.OptOut, optimize.SourceTemplate}, // template says OPT_OUT
		{"text_formatting_optimization", graph.OptIn, optimize.SourceWABA},       // only the WABA sets it
		{"image_animation", graph.OptOut, optimize.SourceMetaDefault},            // nobody sets it
		{"image_end_card", graph.OptIn, optimize.SourceTemplate},                 // template OPT_IN beats WABA OPT_OUT
	}
	for _, c := range cases {
		r := findTpl(tv, c.key)
		if r.Effective != c.value || r.Source != c.source {
			t.Errorf("%s: effective %s from %s, want %s from %s", c.key, r.Effective, r.Source, c.value, c.source)
		}
	}
	if optimize.SourceMetaDefault.Label(ctx) != "Meta's default" || optimize.SourceWABA.Label(ctx) != "WABA default" || optimize.SourceTemplate.Label(ctx) != "Template setting" {
		t.Error("source labels changed")
	}
}

func TestSetWABAConfirmsAndRecords(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.svc.WABA(ctx, e.marketer.Scope(), e.conn.ID)
	must(t, err)
	row, err := e.svc.SetWABA(ctx, optimize.Actor{User: e.marketer, IP: "127.0.0.1"}, e.conn.ID, "image_animation", graph.OptIn)
	must(t, err)
	if row.Err != nil || row.MetaValue != graph.OptIn || row.Pending != "" {
		t.Fatalf("row = %+v", row)
	}
	var ch models.OptimizationChange
	must(t, e.db.Where("feature = ?", "image_animation").First(&ch).Error)
	if ch.Status != models.OptChangeConfirmed || ch.MetaAnswer != "ok" || ch.ActorEmail != "m@a.example" || ch.Scope != models.OptScopeWABA || ch.NewValue != graph.OptIn {
		t.Errorf("change = %+v", ch)
	}
	if len(e.audit.entries) != 1 || e.audit.entries[0].Action != optimize.AuditAction {
		t.Errorf("audit = %+v", e.audit.entries)
	}
}

// lostAnswers passes writes on and loses Meta's answer, as a timeout after the request left.
type lostAnswers struct{ optimize.Graph }

func (l lostAnswers) SetWABAOptimizations(ctx context.Context, tok, id string, f map[string]string) error {
	if err := l.Graph.SetWABAOptimizations(ctx, tok, id, f); err != nil {
		return err
	}
	return &graph.UnreachableError{Method: http.MethodPost, Path: "/" + id, Timeout: true, Written: true, Waited: 10 * time.Second}
}

func TestAWriteWithoutAnAnswerIsNotCalledUnchanged(t *testing.T) {
	e := newEnv(t, nil)
	e.rec.Graph = lostAnswers{e.g}
	row, err := e.svc.SetWABA(ctx, optimize.Actor{User: e.marketer, IP: "127.0.0.1"}, e.conn.ID, "image_animation", graph.OptIn)
	must(t, err)
	if row.Err == nil {
		t.Fatal("a write whose answer was lost is shown as a success")
	}
	text := row.Err.Title + " " + row.Err.Meaning + " " + row.Err.Action
	if row.Err.Title != "Meta did not answer" || !strings.Contains(text, "may have applied it") || !strings.Contains(text, "Re-read from Meta") {
		t.Errorf("shown as %q", text)
	}
	if strings.Contains(text, "nothing was changed") {
		t.Errorf("claims nothing changed though the edit left: %q", text)
	}
}

// staleReads accepts writes but keeps answering the old WABA value, like a slow Meta.
type staleReads struct {
	optimize.Graph
	stale bool
}

func (s *staleReads) GetWABA(ctx context.Context, tok, id string) (graph.WABA, error) {
	w, err := s.Graph.GetWABA(ctx, tok, id)
	if s.stale && w.DegreesOfFreedom.Features != nil {
		w.DegreesOfFreedom.Features["image_touchups"] = graph.OptIn
	}
	return w, err
}

func TestPendingUntilMetaReportsTheValue(t *testing.T) {
	var sg *staleReads
	e := newEnv(t, nil)
	sg = &staleReads{Graph: e.g}
	e.svc = optimize.New(e.db, sg, tokens{sandbox.StoreWABAID: sandbox.StoreToken}, nil, optimize.Options{})
	_, err := e.svc.WABA(ctx, e.marketer.Scope(), e.conn.ID)
	must(t, err)
	sg.stale = true
	row, err := e.svc.SetWABA(ctx, optimize.Actor{User: e.marketer}, e.conn.ID, "image_touchups", graph.OptOut)
	must(t, err)
	if row.Pending != graph.OptOut || row.Notice != "Pending: Meta has not reported the new value yet." {
		t.Fatalf("want pending, got %+v", row)
	}
	sg.stale = false
	v, err := e.svc.RereadWABA(ctx, e.marketer.Scope(), e.conn.ID)
	must(t, err)
	if r := findWABA(v, "image_touchups"); r.Pending != "" || r.MetaValue != graph.OptOut || r.Drift {
		t.Errorf("after re-check = %+v", r)
	}
	var ch models.OptimizationChange
	must(t, e.db.Where("feature = ?", "image_touchups").First(&ch).Error)
	if ch.Status != models.OptChangeConfirmed {
		t.Errorf("change status = %s", ch.Status)
	}
}

func TestFailedWABAChangeRollsBackWithExplanation(t *testing.T) {
	cases := []struct {
		name string
		tok  string
		code int
	}{
		{"wrong token", "not-a-token", 190},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, nil)
			_, err := e.svc.WABA(ctx, e.marketer.Scope(), e.conn.ID)
			must(t, err)
			e.svc = optimize.New(e.db, e.g, tokens{sandbox.StoreWABAID: c.tok}, e.audit, optimize.Options{})
			row, err := e.svc.SetWABA(ctx, optimize.Actor{User: e.marketer}, e.conn.ID, "image_touchups", graph.OptOut)
			must(t, err)
			if row.Err == nil || row.Err.Code != c.code || row.Err.Action == "" || row.Err.Meaning == "" {
				t.Fatalf("want explained error %d, got %+v", c.code, row.Err)
			}
			if row.MetaValue != graph.OptIn || row.Pending != "" {
				t.Errorf("row should show the old value: %+v", row)
			}
			var ch models.OptimizationChange
			must(t, e.db.Where("feature = ?", "image_touchups").First(&ch).Error)
			if ch.Status != models.OptChangeFailed || ch.ErrorCode != c.code || ch.OldValue != graph.OptIn {
				t.Errorf("change = %+v", ch)
			}
		})
	}
}

func TestDriftAfterAChangeBehindTheConsolesBack(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.svc.WABA(ctx, e.marketer.Scope(), e.conn.ID)
	must(t, err)
	id := e.tpl["summer_sale/en_US"].ID
	_, err = e.svc.RereadTemplate(ctx, e.marketer.Scope(), id)
	must(t, err)
	must(t, e.g.SetWABAOptimizations(ctx, sandbox.StoreToken, sandbox.StoreWABAID, map[string]string{"image_touchups": graph.OptOut}))
	must(t, e.g.EditTemplate(ctx, sandbox.StoreToken, e.tpl["summer_sale/en_US"].TemplateID, graph.TemplateEdit{Optimizations: map[string]string{"text_extraction_for_headline": graph.OptOut}}))

	before, err := e.svc.WABA(ctx, e.marketer.Scope(), e.conn.ID)
	must(t, err)
	if before.DriftCount != 0 {
		t.Fatalf("no drift before re-reading: %d", before.DriftCount)
	}
	v, err := e.svc.RereadWABA(ctx, e.marketer.Scope(), e.conn.ID)
	must(t, err)
	if r := findWABA(v, "image_touchups"); !r.Drift || r.Stored != graph.OptIn || r.MetaValue != graph.OptOut || v.DriftCount != 1 {
		t.Errorf("WABA drift = %+v (count %d)", r, v.DriftCount)
	}
	tv, err := e.svc.RereadTemplate(ctx, e.marketer.Scope(), id)
	must(t, err)
	if r := findTpl(tv, "text_extraction_for_headline"); !r.Drift || r.Stored != graph.OptIn || r.TemplateValue != graph.OptOut {
		t.Errorf("template drift = %+v", r)
	}
	// Accepting Meta's values clears the drift.
	must(t, e.svc.AcceptMeta(ctx, optimize.Actor{User: e.marketer}, models.OptScopeWABA, e.conn.ID))
	v, err = e.svc.WABA(ctx, e.marketer.Scope(), e.conn.ID)
	must(t, err)
	if v.DriftCount != 0 {
		t.Errorf("drift after accept = %d", v.DriftCount)
	}
}

func TestTemplateChangeCountsEditsAndRefusesAtTheLimit(t *testing.T) {
	e := newEnv(t, nil)
	row := e.tpl["flash_coupon/pt_BR"]
	a := optimize.Actor{User: e.marketer}
	v, err := e.svc.SetTemplate(ctx, a, row.ID, "image_touchups", graph.OptOut)
	must(t, err)
	if v.Err != nil || v.EditsUsed != 1 || findTpl(v, "image_touchups").TemplateValue != graph.OptOut || len(v.History) != 1 {
		t.Fatalf("after one edit: err=%+v used=%d history=%d", v.Err, v.EditsUsed, len(v.History))
	}
	for i := 0; i < 9; i++ {
		val := graph.OptIn
		if i%2 == 1 {
			val = graph.OptOut
		}
		v, err = e.svc.SetTemplate(ctx, a, row.ID, "image_touchups", val)
		must(t, err)
		if v.Err != nil {
			t.Fatalf("edit %d: %+v", i+2, v.Err)
		}
	}
	if v.EditsUsed != 10 || !v.AtLimit() {
		t.Fatalf("used = %d", v.EditsUsed)
	}
	n := len(e.rec.edited)
	v, err = e.svc.SetTemplate(ctx, a, row.ID, "image_touchups", graph.OptOut)
	must(t, err)
	if v.Err == nil || !v.Err.EditLimit || len(e.rec.edited) != n {
		t.Fatalf("11th edit must be refused locally without calling Meta: %+v, calls %d->%d", v.Err, n, len(e.rec.edited))
	}
}

func TestMetaEditLimitErrorIsExplainedAsTheLimit(t *testing.T) {
	e := newEnv(t, nil)
	row := e.tpl["summer_sale/es_MX"]
	for i := 0; i < 10; i++ { // edits made elsewhere: the console does not count them
		must(t, e.g.EditTemplate(ctx, sandbox.StoreToken, row.TemplateID, graph.TemplateEdit{Optimizations: map[string]string{"image_touchups": graph.OptIn}}))
	}
	v, err := e.svc.SetTemplate(ctx, optimize.Actor{User: e.marketer}, row.ID, "image_touchups", graph.OptOut)
	must(t, err)
	if v.Err == nil || !v.Err.EditLimit || v.Err.Subcode != sandbox.EditLimitSubcode {
		t.Fatalf("want the edit-limit explanation, got %+v", v.Err)
	}
}

func TestBulkReportsEachTemplateAndRetriesOnlyTheFailed(t *testing.T) {
	e := newEnv(t, nil)
	ok, pending, limited := e.tpl["summer_sale/en_US"], e.tpl["spring_preview/en_US"], e.tpl["flash_coupon/pt_BR"]
	for i := 0; i < 10; i++ { // ten edits of any kind in the ledger
		must(t, e.db.Create(&models.TemplateEdit{AccountID: e.conn.AccountID, ConnectionID: e.conn.ID, TemplateID: limited.TemplateID,
			Kind: []string{models.EditKindOptimizations, models.EditKindTTL}[i%2], RequestKey: fmt.Sprint("k", i), CreatedAt: time.Now().Add(-time.Hour)}).Error)
	}
	ids := []uint{ok.ID, pending.ID, limited.ID}
	_, err := e.svc.RereadTemplate(ctx, e.marketer.Scope(), ok.ID) // summer_sale has image_brightness_and_contrast OPT_OUT
	must(t, err)
	settings := map[string]string{"image_touchups": graph.OptOut, "image_brightness_and_contrast": graph.OptOut, "auto_promotion_tag": optimize.Leave}

	plan, err := e.svc.BulkPreview(ctx, e.marketer.Scope(), e.conn.ID, ids, settings)
	must(t, err)
	if len(e.rec.edited) != 0 {
		t.Fatal("preview must not send anything")
	}
	for _, it := range plan.Items {
		if it.Template.ID == ok.ID && (len(it.Changes) != 1 || len(it.Unchanged) != 1 || it.Changes[0].Feature.Key != "image_touchups") {
			t.Errorf("summer_sale preview: changes %+v unchanged %+v", it.Changes, it.Unchanged)
		}
		if it.Template.ID == limited.ID && !it.AtLimit {
			t.Error("flash_coupon should be shown at the limit")
		}
	}

	res, err := e.svc.BulkApply(ctx, optimize.Actor{User: e.marketer}, e.conn.ID, ids, settings)
	must(t, err)
	want := map[uint]string{ok.ID: optimize.BulkOK, pending.ID: optimize.BulkFailed, limited.ID: optimize.BulkNotSentLimit}
	if len(res.Outcomes) != 3 {
		t.Fatalf("outcomes = %d", len(res.Outcomes))
	}
	for _, o := range res.Outcomes {
		if o.Status != want[o.Template.ID] {
			t.Errorf("%s: %s, want %s (%+v)", o.Template.Name, o.Status, want[o.Template.ID], o.Err)
		}
		if o.Status != optimize.BulkOK && o.Err == nil {
			t.Errorf("%s has no explanation", o.Template.Name)
		}
	}
	for _, o := range res.Outcomes {
		if o.Template.ID == pending.ID && (o.Err == nil || o.Err.Code != 100) {
			t.Errorf("PENDING template should fail with Meta's 100: %+v", o.Err)
		}
	}

	e.rec.edited = nil
	retry := res.RetryIDs()
	if len(retry) != 2 {
		t.Fatalf("retry ids = %v", retry)
	}
	res2, err := e.svc.BulkApply(ctx, optimize.Actor{User: e.marketer}, e.conn.ID, retry, settings)
	must(t, err)
	if len(res2.Outcomes) != 2 || len(e.rec.edited) != 1 || e.rec.edited[0] != pending.TemplateID {
		t.Errorf("retry must send only the failed ones: outcomes %d, edited %v", len(res2.Outcomes), e.rec.edited)
	}
}

func TestRolesAndTenants(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := e.svc.SetWABA(ctx, optimize.Actor{User: e.viewer}, e.conn.ID, "image_touchups", graph.OptOut); err != models.ErrForbidden {
		t.Errorf("viewer SetWABA = %v", err)
	}
	if _, err := e.svc.SetTemplate(ctx, optimize.Actor{User: e.viewer}, e.tpl["summer_sale/en_US"].ID, "image_touchups", graph.OptOut); err != models.ErrForbidden {
		t.Errorf("viewer SetTemplate = %v", err)
	}
	if _, err := e.svc.SetWABA(ctx, optimize.Actor{User: e.stranger}, e.conn.ID, "image_touchups", graph.OptOut); err != models.ErrNotFound {
		t.Errorf("other account SetWABA = %v", err)
	}
	if _, err := e.svc.Template(ctx, e.stranger.Scope(), e.tpl["summer_sale/en_US"].ID); err != models.ErrNotFound {
		t.Errorf("other account Template = %v", err)
	}
	if _, err := e.svc.Matrix(ctx, e.stranger.Scope(), e.conn.ID, 0); err != models.ErrNotFound {
		t.Errorf("other account Matrix = %v", err)
	}
}

func TestMatrixListsMarketingTemplatesWithSources(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.svc.RereadWABA(ctx, e.marketer.Scope(), e.conn.ID)
	must(t, err)
	m, err := e.svc.Matrix(ctx, e.marketer.Scope(), e.conn.ID, 0)
	must(t, err)
	for _, r := range m.Rows {
		if r.Template.Category != "MARKETING" {
			t.Errorf("non-marketing template in matrix: %s", r.Template.Name)
		}
		if len(r.Cells) != len(m.Features) {
			t.Fatalf("cells %d != features %d", len(r.Cells), len(m.Features))
		}
	}
	b, _ := json.Marshal(len(m.Rows))
	if string(b) != "9" {
		t.Errorf("marketing templates of the store = %s, want 9", b)
	}
}

// A bulk request names template row ids from the form: another account's id, mixed with the
// user's own, must refuse the whole request (404) and send nothing; so must a staff viewer; and
// an absurd number of ids is a form error, not a database failure.
func TestBulkRefusesForeignTemplatesAndOversizedLists(t *testing.T) {
	e := newEnv(t, nil)
	settings := map[string]string{"image_touchups": graph.OptOut}
	var foreign models.Template
	must(t, e.db.Where("connection_id = ?", e.other.ID).First(&foreign).Error)
	mine := e.tpl["summer_sale/en_US"].ID
	if _, err := e.svc.BulkPreview(ctx, e.marketer.Scope(), e.conn.ID, []uint{mine, foreign.ID}, settings); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("preview with a foreign template = %v, want ErrNotFound", err)
	}
	if _, err := e.svc.BulkApply(ctx, optimize.Actor{User: e.marketer}, e.conn.ID, []uint{mine, foreign.ID}, settings); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("apply with a foreign template = %v, want ErrNotFound", err)
	}
	// The foreign template through its own connection id: that connection is not the user's.
	if _, err := e.svc.BulkApply(ctx, optimize.Actor{User: e.marketer}, e.other.ID, []uint{foreign.ID}, settings); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("apply on another account's connection = %v, want ErrNotFound", err)
	}
	staffViewer := models.User{ID: 11, Staff: true, Role: models.RoleViewer}
	if _, err := e.svc.BulkApply(ctx, optimize.Actor{User: staffViewer}, e.conn.ID, []uint{mine}, settings); !errors.Is(err, models.ErrForbidden) {
		t.Errorf("staff viewer apply = %v, want ErrForbidden", err)
	}
	if len(e.rec.edited) != 0 {
		t.Fatalf("refused requests sent edits: %v", e.rec.edited)
	}
	many := make([]uint, 40000)
	for i := range many {
		many[i] = uint(i + 1)
	}
	var ve *models.ValidationError
	if _, err := e.svc.BulkPreview(ctx, e.marketer.Scope(), e.conn.ID, many, settings); !errors.As(err, &ve) || ve.Fields["templates"] == "" {
		t.Errorf("40000 ids = %v, want a validation error on templates", err)
	}
	// Repeating one id is one template, not a mismatch.
	if _, err := e.svc.BulkPreview(ctx, e.marketer.Scope(), e.conn.ID, []uint{mine, mine, mine}, settings); err != nil {
		t.Errorf("repeated id = %v", err)
	}
}

// TestChangesPostTheWholeMap: one switch sends every feature Meta reports for the target, read
// from Meta at the time of the change (our copy of summer_sale was never read here), with the
// switched one changed.
func TestChangesPostTheWholeMap(t *testing.T) {
	e := newEnv(t, nil)
	row := e.tpl["summer_sale/en_US"] // Meta: brightness OPT_OUT, headline OPT_IN, end card OPT_IN
	a := optimize.Actor{User: e.marketer}
	v, err := e.svc.SetTemplate(ctx, a, row.ID, "image_touchups", graph.OptOut)
	must(t, err)
	if v.Err != nil || len(e.rec.sent) != 1 {
		t.Fatalf("edit: err %+v, sent %d", v.Err, len(e.rec.sent))
	}
	want := map[string]string{"image_brightness_and_contrast": graph.OptOut, "text_extraction_for_headline": graph.OptIn,
		"image_end_card": graph.OptIn, "image_touchups": graph.OptOut}
	if fmt.Sprint(e.rec.sent[0]) != fmt.Sprint(want) {
		t.Errorf("template POST sent %v, want the whole map %v", e.rec.sent[0], want)
	}

	_, err = e.svc.SetWABA(ctx, a, e.conn.ID, "product_extensions", graph.OptIn)
	must(t, err)
	wantW := map[string]string{"image_touchups": graph.OptIn, "text_formatting_optimization": graph.OptIn,
		"product_extensions": graph.OptIn, "image_end_card": graph.OptOut}
	if len(e.rec.wabaSent) != 1 || fmt.Sprint(e.rec.wabaSent[0]) != fmt.Sprint(wantW) {
		t.Errorf("WABA POST sent %v, want the whole map %v", e.rec.wabaSent, wantW)
	}
}

// oddSpec answers an unreadable spec for every template read.
type oddSpec struct{ optimize.Graph }

func (o oddSpec) GetTemplate(ctx context.Context, tok, id string) (graph.Template, error) {
	t, err := o.Graph.GetTemplate(ctx, tok, id)
	t.DegreesOfFreedom = graph.DegreesOfFreedom{Unknown: true, Problem: "missing enroll_status", Raw: json.RawMessage(`{"creative_features_spec":[{"key":"IMAGE_TOUCHUPS","value":{}}]}`)}
	return t, err
}

// TestUnreadableSpecIsUnknownAndNotEdited: a template whose spec Meta answers unreadable shows
// unknown settings with the raw JSON, and a change is refused without a POST (no whole map can
// be built from it).
func TestUnreadableSpecIsUnknownAndNotEdited(t *testing.T) {
	e := newEnv(t, nil)
	e.rec.Graph = oddSpec{e.g}
	row := e.tpl["summer_sale/en_US"]
	v, err := e.svc.RereadTemplate(ctx, e.marketer.Scope(), row.ID)
	must(t, err)
	if v.Unknown == "" || !strings.Contains(v.UnknownRaw, `"value":{}`) {
		t.Fatalf("reread: unknown %q raw %q, want unknown with raw", v.Unknown, v.UnknownRaw)
	}
	v, err = e.svc.SetTemplate(ctx, optimize.Actor{User: e.marketer}, row.ID, "image_touchups", graph.OptOut)
	must(t, err)
	if v.Err == nil || len(e.rec.edited) != 0 {
		t.Fatalf("edit of an unknown spec: err %+v, POSTs %d; want refused without a POST", v.Err, len(e.rec.edited))
	}
	if v.EditsUsed != 0 {
		t.Errorf("a refused edit counted: %d", v.EditsUsed)
	}
}

// TestEditBudgetCountsEveryKindOfEdit: a template-page switch, a bulk change and a TTL edit each
// spend one edit of the same budget; at the limit the TTL edit is refused before Meta is called.
func TestEditBudgetCountsEveryKindOfEdit(t *testing.T) {
	e := newEnv(t, nil)
	row := e.tpl["summer_sale/en_US"]
	a := optimize.Actor{User: e.marketer}
	cat := templates.New(e.db, catalogGraph{e.g, e.rec}, tokens{sandbox.StoreWABAID: sandbox.StoreToken}, templates.Options{})
	used := func() int {
		n, err := e.svc.EditsUsed(ctx, row.TemplateID)
		must(t, err)
		return n
	}
	_, err := e.svc.SetTemplate(ctx, a, row.ID, "image_touchups", graph.OptOut)
	must(t, err)
	if used() != 1 {
		t.Fatalf("after a switch: %d edits, want 1", used())
	}
	// Two features in one bulk request are one edit.
	res, err := e.svc.BulkApply(ctx, a, e.conn.ID, []uint{row.ID}, map[string]string{"image_touchups": graph.OptIn, "product_extensions": graph.OptIn})
	must(t, err)
	if res.Outcomes[0].Status != optimize.BulkOK && res.Outcomes[0].Status != optimize.BulkPending {
		t.Fatalf("bulk: %+v", res.Outcomes[0])
	}
	if used() != 2 {
		t.Fatalf("after a bulk change of 2 features: %d edits, want 2", used())
	}
	if _, err := cat.SetTTL(ctx, e.marketer.Scope(), row.TemplateID, 3*86400); err != nil {
		t.Fatal(err)
	}
	if used() != 3 {
		t.Fatalf("after a TTL edit: %d edits, want 3", used())
	}
	for i := 3; i < 10; i++ {
		must(t, e.db.Create(&models.TemplateEdit{AccountID: e.conn.AccountID, ConnectionID: e.conn.ID, TemplateID: row.TemplateID,
			Kind: models.EditKindOptimizations, CreatedAt: time.Now()}).Error)
	}
	n := len(e.rec.edited)
	_, err = cat.SetTTL(ctx, e.marketer.Scope(), row.TemplateID, 4*86400)
	var ve *models.ValidationError
	if !errors.As(err, &ve) || !strings.Contains(ve.Fields["ttl"], "10 edits") || len(e.rec.edited) != n {
		t.Fatalf("TTL edit at the limit: err %v, POSTs %d->%d; want refused without a POST", err, n, len(e.rec.edited))
	}
	v, err := e.svc.SetTemplate(ctx, a, row.ID, "image_touchups", graph.OptOut)
	must(t, err)
	if v.Err == nil || !v.Err.EditLimit || len(e.rec.edited) != n {
		t.Fatalf("switch at the limit: %+v", v.Err)
	}
}

// catalogGraph lets the catalog's TTL edits go through the recorder.
type catalogGraph struct {
	*graph.Client
	rec *recorder
}

func (c catalogGraph) EditTemplate(ctx context.Context, tok, id string, e graph.TemplateEdit) error {
	return c.rec.EditTemplate(ctx, tok, id, e)
}

// TestAllOnLeavesOutKeysMetaNeitherDocumentsNorReports: "All on" sends every key Meta documents
// and every key Meta reports for the template, but not a key known only from a BSP that Meta
// does not report: one refused key would fail the whole edit. The WABA's All on does the same.
func TestAllOnLeavesOutKeysMetaNeitherDocumentsNorReports(t *testing.T) {
	e := newEnv(t, nil)
	row := e.tpl["summer_sale/en_US"] // Meta reports image_end_card (a YCloud key) OPT_IN
	a := optimize.Actor{User: e.marketer}
	_, err := e.svc.RereadTemplate(ctx, e.marketer.Scope(), row.ID)
	must(t, err)
	v, err := e.svc.ApplyTemplate(ctx, a, row.ID, nil, optimize.AllOn)
	must(t, err)
	if v.Err != nil || len(e.rec.sent) != 1 {
		t.Fatalf("all on: err %+v, sent %d", v.Err, len(e.rec.sent))
	}
	sent := e.rec.sent[0]
	for _, k := range []string{"image_touchups", "product_extensions", "image_animation", "image_end_card"} {
		if sent[k] != graph.OptIn {
			t.Errorf("all on sent %s = %q, want OPT_IN", k, sent[k])
		}
	}
	for _, k := range []string{"image_banner", "dynamic_cta_text", "hyperlink_formatting"} {
		if _, ok := sent[k]; ok {
			t.Errorf("all on sent %s, a YCloud-only key Meta does not report", k)
		}
	}
	_, err = e.svc.RereadWABA(ctx, e.marketer.Scope(), e.conn.ID)
	must(t, err)
	_, err = e.svc.SetWABAAll(ctx, a, e.conn.ID, graph.OptIn)
	must(t, err)
	if len(e.rec.wabaSent) != 1 {
		t.Fatalf("WABA all on: %d POSTs", len(e.rec.wabaSent))
	}
	w := e.rec.wabaSent[0]
	if w["image_end_card"] != graph.OptIn || w["text_extraction_for_headline"] != graph.OptIn {
		t.Errorf("WABA all on sent %v; want reported and documented keys on", w)
	}
	if _, ok := w["image_banner"]; ok {
		t.Errorf("WABA all on sent image_banner, a YCloud-only key Meta does not report: %v", w)
	}
}

// TestStoredAnswersAreWordsInTheReadersLanguage: a change record keeps a reason, Meta's codes
// and Meta's details; the history says them in each reader's language, and records written
// before reasons were stored read as they were written.
func TestStoredAnswersAreWordsInTheReadersLanguage(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	es := i18n.WithLocale(context.Background(), cat.Locale("es"))
	pt := i18n.WithLocale(context.Background(), cat.Locale("pt-BR"))
	en := context.Background()
	limit := optimize.ErrorInfo{Reason: optimize.ReasonEditLimit}
	for _, tc := range []struct {
		ctx  context.Context
		ch   models.OptimizationChange
		want string
	}{
		{en, models.OptimizationChange{MetaAnswer: "ok"}, "accepted"},
		{es, models.OptimizationChange{MetaAnswer: "ok"}, "aceptado"},
		{en, models.OptimizationChange{MetaAnswer: limit.Stored(true)}, "not sent: Edit limit reached"},
		{es, models.OptimizationChange{MetaAnswer: limit.Stored(true)}, "no enviado: Se alcanzó el límite de ediciones"},
		{pt, models.OptimizationChange{MetaAnswer: limit.Stored(true)}, "não enviada: Limite de edições atingido"},
		{es, models.OptimizationChange{MetaAnswer: "edit_limit: Too many edits", ErrorCode: 100, ErrorSubcode: 2388299},
			"Error 100 de Meta (subcódigo 2388299): Se alcanzó el límite de ediciones (Too many edits)"},
		{pt, models.OptimizationChange{MetaAnswer: "unreachable_sent"}, "A Meta não respondeu depois do envio da alteração"},
		{en, models.OptimizationChange{MetaAnswer: "not sent: edit limit (10 of 10 used)"}, "not sent: edit limit (10 of 10 used)"},
	} {
		if got := optimize.AnswerWords(tc.ctx, tc.ch); got != tc.want {
			t.Errorf("%q in %s: %q, want %q", tc.ch.MetaAnswer, i18n.LangCode(tc.ctx), got, tc.want)
		}
	}
	// Meta's own details are kept as Meta sent them, next to the words in the reader's language.
	ch := models.OptimizationChange{MetaAnswer: "meta_error: Template status is PENDING", ErrorCode: 100}
	if got := optimize.AnswerWords(es, ch); !strings.HasPrefix(got, "Error 100 de Meta: ") || !strings.HasSuffix(got, "(Template status is PENDING)") {
		t.Errorf("Meta's error in Spanish: %q", got)
	}
}
