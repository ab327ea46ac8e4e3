package templates

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"mmconsole/internal/accounts"
	"mmconsole/internal/database"
	"mmconsole/internal/graph"
	"mmconsole/internal/sandbox"
	"mmconsole/models"
)

// tokens maps WABA IDs to tokens; tests change it to simulate a revoked token.
type tokens map[string]string

func (t tokens) Token(_ context.Context, c models.WABAConnection) (string, error) {
	return t[c.WABAID], nil
}

type env struct {
	db      *gorm.DB
	svc     *Service
	clock   *sandbox.FakeClock
	tokens  tokens
	calls   *atomic.Int64 // Graph requests made
	store   models.WABAConnection
	pharma  models.WABAConnection
	other   models.Template // a template of another account
	accA    uint
	accB    uint
	sandbox *sandbox.Sandbox
}

func itoa(n uint) string { return strconv.FormatUint(uint64(n), 10) }

func newEnv(t *testing.T) *env {
	t.Helper()
	db := database.OpenTest(t, append(accounts.Migrations(), Migrations()...))
	clk := sandbox.NewFakeClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	sb := sandbox.New(sandbox.Options{Clock: clk, EventDelay: -1, ApproveAfter: time.Hour})
	t.Cleanup(func() { sb.Close() })
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		sb.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	gc := graph.New(graph.Options{BaseURL: srv.URL, MaxRetries: -1})
	e := &env{db: db, clock: clk, calls: &calls, sandbox: sb,
		tokens: tokens{sandbox.StoreWABAID: sandbox.StoreToken, sandbox.PharmaWABAID: sandbox.PharmaToken}}
	a, b := models.Account{Name: "Shop"}, models.Account{Name: "Other"}
	must(t, db.Create(&a).Error)
	must(t, db.Create(&b).Error)
	e.accA, e.accB = a.ID, b.ID
	e.store = models.WABAConnection{AccountID: a.ID, WABAID: sandbox.StoreWABAID, Name: "Demo Store", TokenSealed: []byte("x"), Sandbox: true}
	e.pharma = models.WABAConnection{AccountID: a.ID, WABAID: sandbox.PharmaWABAID, Name: "Demo Pharma", TokenSealed: []byte("x"), Sandbox: true}
	otherConn := models.WABAConnection{AccountID: b.ID, WABAID: "999", Name: "Elsewhere", TokenSealed: []byte("x")}
	must(t, db.Create(&e.store).Error)
	must(t, db.Create(&e.pharma).Error)
	must(t, db.Create(&otherConn).Error)
	e.other = models.Template{AccountID: b.ID, ConnectionID: otherConn.ID, WABAID: "999", TemplateID: "888000", Name: "summer_sale_other",
		Language: "en_US", Status: "APPROVED", Category: "MARKETING", FirstSeenAt: clk.Now()}
	must(t, db.Create(&e.other).Error)
	e.svc = New(db, gc, e.tokens, Options{Now: clk.Now, MinManualGap: -1})
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) byName(t *testing.T, name, lang string) models.Template {
	t.Helper()
	var tm models.Template
	must(t, e.db.Where("name = ? AND language = ?", name, lang).Take(&tm).Error)
	return tm
}

func TestFirstRefreshSyncWindowDormancyAndNotes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.svc.RefreshAll(ctx, TriggerStart)

	// The seed's template created 3 minutes ago: no ad yet, first seen now -> Syncing.
	na := e.byName(t, "new_arrivals", "en_US")
	st := SyncState(na, "", e.clock.Now())
	if st.Kind != KindSyncing || !st.ReadyAt.Equal(e.clock.Now().Add(SyncWindow)) {
		t.Fatalf("new_arrivals after first refresh = %+v, want Syncing until +10 min", st)
	}
	// A long-approved template of an onboarded WABA has its ad: not shown as syncing.
	if st := SyncState(e.byName(t, "summer_sale", "en_US"), "", e.clock.Now()); st.Kind != KindReady {
		t.Errorf("summer_sale = %+v, want Ready (ad_id present)", st)
	}
	e.clock.Advance(5 * time.Minute)
	if st := SyncState(na, "", e.clock.Now()); st.Kind != KindSyncing || st.MinutesLeft(e.clock.Now()) != 5 {
		t.Errorf("5 min later = %+v, want Syncing with 5 min left", st)
	}
	e.clock.Advance(5 * time.Minute)
	if st := SyncState(na, "", e.clock.Now()); st.Kind != KindReady {
		t.Errorf("10 min later = %+v, want Ready", st)
	}
	e.clock.Advance(8 * 24 * time.Hour)
	if st := SyncState(na, "", e.clock.Now()); st.Kind != KindDormant {
		t.Errorf("8 days unused = %+v, want Dormant", st)
	}
	must(t, e.svc.NoteSend(ctx, na.TemplateID, e.clock.Now()))
	na = e.byName(t, "new_arrivals", "en_US")
	if st := SyncState(na, "", e.clock.Now()); st.Kind != KindSyncing || st.Reason != ReasonDormantSend {
		t.Errorf("after a send to a dormant template = %+v, want Syncing (%s)", st, ReasonDormantSend)
	}
	e.clock.Advance(11 * time.Minute)
	must(t, e.svc.NoteSend(ctx, na.TemplateID, e.clock.Now()))
	if st := SyncState(e.byName(t, "new_arrivals", "en_US"), "", e.clock.Now()); st.Kind != KindReady {
		t.Errorf("a send to a ready template must not start a window: %+v", st)
	}
	must(t, e.svc.NoteSyncing(ctx, na.TemplateID, e.clock.Now()))
	if st := SyncState(e.byName(t, "new_arrivals", "en_US"), "", e.clock.Now()); st.Kind != KindSyncing || st.Reason != ReasonMeta134101 {
		t.Errorf("after 134101 = %+v, want Syncing (%s)", st, ReasonMeta134101)
	}
	if err := e.svc.NoteSend(ctx, "nope", e.clock.Now()); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("NoteSend of an unknown template = %v, want ErrNotFound", err)
	}
}

func TestFailedRefreshKeepsDataAndExplains(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.RefreshConnection(ctx, e.store, TriggerManual); err != nil {
		t.Fatal(err)
	}
	var before int64
	e.db.Model(&models.Template{}).Where("connection_id = ?", e.store.ID).Count(&before)
	e.tokens[sandbox.StoreWABAID] = "revoked"
	e.clock.Advance(time.Minute)
	r, err := e.svc.RefreshConnection(ctx, e.store, TriggerManual)
	if ge, ok := graph.AsGraphError(err); !ok || ge.Code != 190 {
		t.Fatalf("refresh with a wrong token = %v, want Graph 190", err)
	}
	if r.OK || r.ErrorCode != 190 || Explain(ctx, r).Title != graph.Explain(ctx, 190).Title {
		t.Errorf("history row = %+v, want the failure with code 190 explained", r)
	}
	var after, deleted int64
	e.db.Model(&models.Template{}).Where("connection_id = ?", e.store.ID).Count(&after)
	e.db.Model(&models.Template{}).Where("status = ?", "DELETED").Count(&deleted)
	if after != before || before == 0 || deleted != 0 {
		t.Errorf("templates %d -> %d, %d deleted: a failed refresh must keep the last good data", before, after, deleted)
	}
	sts, err := e.svc.Status(ctx, models.Scope{AccountID: e.accA})
	must(t, err)
	for _, s := range sts {
		if s.Conn.ID == e.store.ID && (s.Last == nil || s.Last.OK || s.LastOK == nil) {
			t.Errorf("status = %+v, want a failed last attempt and a last good one", s)
		}
	}
}

func TestHTTP500IsExplainedWithoutACode(t *testing.T) {
	db := database.OpenTest(t, append(accounts.Migrations(), Migrations()...))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<html>bad gateway</html>", 500)
	}))
	defer srv.Close()
	a := models.Account{Name: "A"}
	must(t, db.Create(&a).Error)
	c := models.WABAConnection{AccountID: a.ID, WABAID: "1", TokenSealed: []byte("x")}
	must(t, db.Create(&c).Error)
	svc := New(db, graph.New(graph.Options{BaseURL: srv.URL, MaxRetries: -1}), tokens{"1": "t"}, Options{})
	r, err := svc.RefreshConnection(context.Background(), c, TriggerManual)
	if err == nil || r.OK || !strings.Contains(r.ErrorText, "500") {
		t.Fatalf("refresh against a 500 = %+v, %v", r, err)
	}
	if x := Explain(context.Background(), r); !x.Transient || x.Title == graph.Explain(context.Background(), 0).Title {
		t.Errorf("explanation = %+v, want the generic transient one, not code 0's", x)
	}
}

func TestTemplatesGoneFromMetaAreMarkedDeleted(t *testing.T) {
	db := database.OpenTest(t, append(accounts.Migrations(), Migrations()...))
	body := `{"data":[{"id":"1","name":"a","language":"en_US","status":"APPROVED","category":"MARKETING"},{"id":"2","name":"b","language":"en_US","status":"PENDING","category":"MARKETING"}]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(body))
	}))
	defer srv.Close()
	a := models.Account{Name: "A"}
	must(t, db.Create(&a).Error)
	c := models.WABAConnection{AccountID: a.ID, WABAID: "10", TokenSealed: []byte("x")}
	must(t, db.Create(&c).Error)
	svc := New(db, graph.New(graph.Options{BaseURL: srv.URL}), tokens{"10": "t"}, Options{MinManualGap: -1})
	ctx := context.Background()
	if _, err := svc.RefreshConnection(ctx, c, TriggerManual); err != nil {
		t.Fatal(err)
	}
	body = `{"data":[{"id":"1","name":"a","language":"en_US","status":"APPROVED","category":"MARKETING"}]}`
	r, err := svc.RefreshConnection(ctx, c, TriggerManual)
	if err != nil || r.Gone != 1 {
		t.Fatalf("second refresh = %+v %v, want 1 gone", r, err)
	}
	var b models.Template
	must(t, db.Where("template_id = ?", "2").Take(&b).Error)
	if b.Status != "DELETED" || b.GoneAt == nil {
		t.Errorf("template gone from Meta = %s (gone %v), want DELETED and kept", b.Status, b.GoneAt)
	}
}

func TestListFiltersAndNameSearchAcrossWABAs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.svc.RefreshAll(ctx, TriggerStart)
	scope := models.Scope{AccountID: e.accA}
	tests := []struct {
		name string
		f    Filter
		want []string // name/language of every row, in order
	}{
		{"name search spans WABAs and escapes _", Filter{Name: "SUMMER_"}, []string{"summer_sale/en_US", "summer_sale/es_MX"}},
		{"offer in pharma", Filter{Name: "offer"}, []string{"vitamin_offer/es_MX"}},
		{"one WABA, utility", Filter{Connection: e.pharma.ID, Category: "UTILITY"}, []string{"prescription_ready/en_US"}},
		{"status paused", Filter{Status: "PAUSED"}, []string{"loyalty_reminder/es_MX"}},
		{"language pt_BR", Filter{Language: "pt_BR"}, []string{"flash_coupon/pt_BR", "refill_promo/pt_BR"}},
		{"quality red, not disabled", Filter{Quality: "RED", Status: "PAUSED"}, []string{"loyalty_reminder/es_MX"}},
		{"state syncing", Filter{State: string(KindSyncing), Connection: e.store.ID}, []string{"new_arrivals/en_US"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := e.svc.List(ctx, scope, tc.f)
			must(t, err)
			var got []string
			for _, r := range p.Rows {
				got = append(got, r.T.Name+"/"+r.T.Language)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("rows = %v, want %v", got, tc.want)
			}
		})
	}
	p, err := e.svc.List(ctx, scope, Filter{})
	must(t, err)
	sum := 0
	for _, k := range Kinds {
		sum += p.Counts[k]
	}
	if p.Total != 15 || sum != p.Total || p.Counts[KindNotForMMAPI] != 3 {
		t.Errorf("total %d, counts %v", p.Total, p.Counts)
	}
	for _, r := range p.Rows {
		if r.T.AccountID != e.accA {
			t.Errorf("another account's template listed: %s", r.T.Name)
		}
	}
}

func TestSetTTL(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.svc.RefreshAll(ctx, TriggerStart)
	scope := models.Scope{AccountID: e.accA}
	ss := e.byName(t, "summer_sale", "es_MX")
	for _, bad := range []int{43199, 2592001, 0, -1} {
		n := e.calls.Load()
		_, err := e.svc.SetTTL(ctx, scope, ss.TemplateID, bad)
		var ve *models.ValidationError
		if !errors.As(err, &ve) || !strings.Contains(ve.Fields["ttl"], "12 hours and 30 days") {
			t.Errorf("TTL %d = %v, want a validation error with the range", bad, err)
		}
		if e.calls.Load() != n {
			t.Errorf("TTL %d: a request reached the Graph API", bad)
		}
	}
	util := e.byName(t, "order_update", "en_US")
	if _, err := e.svc.SetTTL(ctx, scope, util.TemplateID, 86400); err == nil {
		t.Error("a utility template's TTL must be refused")
	}
	if _, err := e.svc.SetTTL(ctx, models.Scope{AccountID: e.accB}, ss.TemplateID, 86400); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("another account's template = %v, want ErrNotFound", err)
	}
	res, err := e.svc.SetTTL(ctx, scope, itoa(ss.ID), 3*86400)
	must(t, err)
	if res.Before != nil || res.After != 3*86400 {
		t.Errorf("result = %+v", res)
	}
	if got := e.byName(t, "summer_sale", "es_MX").TTLSeconds; got == nil || *got != 3*86400 {
		t.Errorf("stored TTL = %v", got)
	}
	// Saving the TTL it already has is refused before Meta: it would spend an edit on nothing.
	n := e.calls.Load()
	_, err = e.svc.SetTTL(ctx, scope, itoa(ss.ID), 3*86400)
	var same *models.ValidationError
	if !errors.As(err, &same) || !strings.Contains(same.Fields["ttl"], "already 3 days") {
		t.Errorf("unchanged TTL = %v, want a validation error saying it is already 3 days", err)
	}
	if e.calls.Load() != n {
		t.Error("an unchanged TTL reached the Graph API")
	}
	must(t, e.svc.RefreshTemplate(ctx, ss.TemplateID))
	// Re-read from the sandbox: RefreshTemplate overwrote the row with Meta's value.
	if got := e.byName(t, "summer_sale", "es_MX").TTLSeconds; got == nil || *got != 3*86400 {
		t.Errorf("TTL at the sandbox after the edit = %v, want %d", got, 3*86400)
	}
}

func TestGetIsScopedAndAcceptsBothIDs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.Get(ctx, models.Scope{AccountID: e.accA}, e.other.TemplateID); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("another account's template by Meta id = %v, want ErrNotFound", err)
	}
	if _, err := e.svc.Get(ctx, models.Scope{AccountID: e.accA}, itoa(e.other.ID)); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("another account's template by row id = %v, want ErrNotFound", err)
	}
	for _, id := range []string{e.other.TemplateID, itoa(e.other.ID)} {
		if _, err := e.svc.Get(ctx, models.Scope{AccountID: e.accB}, id); err != nil {
			t.Errorf("own template %s: %v", id, err)
		}
	}
}

func TestLeaseKeepsASecondInstanceOut(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	second := New(e.db, nil, e.tokens, Options{Now: e.clock.Now})
	ok, err := e.svc.claim(ctx, "w1")
	must(t, err)
	if !ok {
		t.Fatal("first claim refused")
	}
	if ok, _ := second.claim(ctx, "w1"); ok {
		t.Fatal("a second instance got a held lease")
	}
	e.clock.Advance(3 * time.Minute)
	if ok, _ := second.claim(ctx, "w1"); !ok {
		t.Fatal("an expired lease must be taken over")
	}
}

// Readiness is per template and WABA: an approved marketing template of a WABA that is not
// onboarded is its own state (never plain Ready, never syncing, whichever path saw the approval),
// the catalog's Ready filter leaves it out, and the WABA's onboarding starts its window.
func TestReadinessIsPerWABA(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	must(t, e.db.Model(&e.pharma).Update("onboarding_status", "ELIGIBLE").Error)
	must(t, e.db.Model(&e.store).Update("onboarding_status", "ONBOARDED").Error)
	e.svc.RefreshAll(ctx, TriggerStart)
	scope := models.Scope{AccountID: e.accA}

	wt := e.byName(t, "wellness_tips", "en_US")
	if st := SyncState(wt, "ELIGIBLE", e.clock.Now()); st.Kind != KindFallback || !strings.Contains(st.Text(ctx, e.clock.Now()), "fall back to Cloud API") {
		t.Errorf("wellness_tips on a not-onboarded WABA = %+v, want ready_fallback", st)
	}
	// A status webhook's approval (or REINSTATED) records approved_at: still no window there.
	now := e.clock.Now()
	must(t, e.db.Model(&models.Template{}).Where("id = ?", wt.ID).Update("approved_at", now).Error)
	if st := SyncState(e.byName(t, "wellness_tips", "en_US"), "ELIGIBLE", now); st.Kind != KindFallback {
		t.Errorf("approval by webhook on a not-onboarded WABA = %s, want ready_fallback", st.Kind)
	}
	// The onboarded WABA's template created minutes ago still shows its window.
	if st := SyncState(e.byName(t, "new_arrivals", "en_US"), "ONBOARDED", now); st.Kind != KindSyncing {
		t.Errorf("new_arrivals on the onboarded WABA = %+v, want Syncing", st)
	}

	ready, err := e.svc.List(ctx, scope, Filter{State: string(KindReady), PerPage: 500})
	must(t, err)
	for _, r := range ready.Rows {
		if r.T.ConnectionID == e.pharma.ID {
			t.Errorf("state=ready lists %s of the not-onboarded WABA", r.T.Name)
		}
	}
	fb, err := e.svc.List(ctx, scope, Filter{State: string(KindFallback), PerPage: 500})
	must(t, err)
	if fb.Matching == 0 || fb.Counts[KindFallback] != fb.Matching {
		t.Fatalf("state=ready_fallback matched %d (counts %v)", fb.Matching, fb.Counts)
	}
	for _, r := range fb.Rows {
		if r.T.ConnectionID != e.pharma.ID {
			t.Errorf("ready_fallback lists %s of WABA %s", r.T.Name, r.T.WABAID)
		}
	}

	// Onboarding completes later: the window starts then.
	e.clock.Advance(time.Hour)
	must(t, e.db.Model(&e.pharma).Update("onboarding_status", "ONBOARDED").Error)
	must(t, e.svc.NoteOnboarded(ctx, e.pharma, e.clock.Now()))
	st := SyncState(e.byName(t, "wellness_tips", "en_US"), "ONBOARDED", e.clock.Now())
	if st.Kind != KindSyncing || st.Reason != ReasonOnboarded || !st.ReadyAt.Equal(e.clock.Now().Add(SyncWindow)) {
		t.Errorf("after onboarding = %+v, want a window from now", st)
	}
	// Another account's templates are never touched by this WABA's onboarding.
	var other models.Template
	must(t, e.db.Where("id = ?", e.other.ID).Take(&other).Error)
	if other.SyncReason == ReasonOnboarded {
		t.Error("onboarding of one WABA started a window on another account's template")
	}
}

// A listing that names a template id another WABA's catalog holds must not move that row (and
// its account) into the refreshing WABA; the same WABA connected again does take its own back.
func TestRefreshNeverTakesAnotherWABAsTemplate(t *testing.T) {
	db := database.OpenTest(t, append(accounts.Migrations(), Migrations()...))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"data":[{"id":"777","name":"theirs","language":"en_US","status":"APPROVED","category":"MARKETING"},{"id":"778","name":"mine","language":"en_US","status":"APPROVED","category":"MARKETING"}]}`))
	}))
	defer srv.Close()
	a, b := models.Account{Name: "A"}, models.Account{Name: "B"}
	must(t, db.Create(&a).Error)
	must(t, db.Create(&b).Error)
	victim := models.WABAConnection{AccountID: b.ID, WABAID: "20", TokenSealed: []byte("x")}
	attacker := models.WABAConnection{AccountID: a.ID, WABAID: "10", TokenSealed: []byte("x")}
	must(t, db.Create(&victim).Error)
	must(t, db.Create(&attacker).Error)
	theirs := models.Template{AccountID: b.ID, ConnectionID: victim.ID, WABAID: "20", TemplateID: "777", Name: "theirs",
		Language: "en_US", Status: "APPROVED", Category: "MARKETING", FirstSeenAt: time.Now()}
	// A row of WABA 10 left behind by an earlier connection of the same WABA.
	orphan := models.Template{AccountID: b.ID, ConnectionID: victim.ID, WABAID: "10", TemplateID: "778", Name: "mine",
		Language: "en_US", Status: "APPROVED", Category: "MARKETING", FirstSeenAt: time.Now()}
	must(t, db.Create(&theirs).Error)
	must(t, db.Create(&orphan).Error)
	svc := New(db, graph.New(graph.Options{BaseURL: srv.URL}), tokens{"10": "t"}, Options{MinManualGap: -1})
	if _, err := svc.RefreshConnection(context.Background(), attacker, TriggerManual); err != nil {
		t.Fatal(err)
	}
	var got models.Template
	must(t, db.Where("template_id = ?", "777").Take(&got).Error)
	if got.AccountID != b.ID || got.ConnectionID != victim.ID {
		t.Errorf("another WABA's template moved to account %d connection %d", got.AccountID, got.ConnectionID)
	}
	var own models.Template
	must(t, db.Where("template_id = ?", "778").Take(&own).Error)
	if own.AccountID != a.ID || own.ConnectionID != attacker.ID {
		t.Errorf("the WABA's own template stayed with account %d connection %d", own.AccountID, own.ConnectionID)
	}
}

// TestOneOddSpecDoesNotBreakTheRefresh: Meta answers a spec with value:{} for one template and
// [] for another; the refresh stores every template, those two with unknown settings and
// Meta's raw JSON, the rest with their settings.
func TestOneOddSpecDoesNotBreakTheRefresh(t *testing.T) {
	db := database.OpenTest(t, append(accounts.Migrations(), Migrations()...))
	body := `{"data":[
	{"id":"1","name":"a","language":"en_US","status":"APPROVED","category":"MARKETING","degrees_of_freedom_spec":{"creative_features_spec":[{"key":"IMAGE_TOUCHUPS","value":{}}]}},
	{"id":"2","name":"b","language":"en_US","status":"APPROVED","category":"MARKETING","degrees_of_freedom_spec":{"creative_features_spec":[{"key":"IMAGE_TOUCHUPS","value":{"enroll_status":"OPT_OUT"}}]}},
	{"id":"3","name":"c","language":"en_US","status":"APPROVED","category":"MARKETING","degrees_of_freedom_spec":[]}]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(body))
	}))
	defer srv.Close()
	a := models.Account{Name: "A"}
	must(t, db.Create(&a).Error)
	c := models.WABAConnection{AccountID: a.ID, WABAID: "10", TokenSealed: []byte("x")}
	must(t, db.Create(&c).Error)
	svc := New(db, graph.New(graph.Options{BaseURL: srv.URL}), tokens{"10": "t"}, Options{MinManualGap: -1})
	ctx := context.Background()
	// Twice: the first inserts rows, the second updates them; both paths must keep the spec unknown.
	for i := range 2 {
		r, err := svc.RefreshConnection(ctx, c, TriggerManual)
		if err != nil || r.Seen != 3 {
			t.Fatalf("refresh %d = %+v %v, want 3 templates seen", i, r, err)
		}
		var ts []models.Template
		must(t, db.Order("template_id").Find(&ts).Error)
		if len(ts) != 3 {
			t.Fatalf("stored %d templates, want 3", len(ts))
		}
		if ts[0].OptimizationsProblem == "" || !strings.Contains(ts[0].OptimizationsRaw, `"value":{}`) || ts[0].Optimizations != "{}" {
			t.Errorf("refresh %d: template 1 = problem %q raw %q opt %q, want unknown with raw kept", i, ts[0].OptimizationsProblem, ts[0].OptimizationsRaw, ts[0].Optimizations)
		}
		if ts[1].OptimizationsProblem != "" || ts[1].Optimizations != `{"image_touchups":"OPT_OUT"}` {
			t.Errorf("refresh %d: template 2 = problem %q opt %q, want its setting", i, ts[1].OptimizationsProblem, ts[1].Optimizations)
		}
		if ts[2].OptimizationsProblem == "" || ts[2].OptimizationsRaw != "[]" {
			t.Errorf("refresh %d: template 3 = problem %q raw %q, want unknown []", i, ts[2].OptimizationsProblem, ts[2].OptimizationsRaw)
		}
	}
	// Once Meta answers a readable spec again, the problem clears.
	body = `{"data":[{"id":"1","name":"a","language":"en_US","status":"APPROVED","category":"MARKETING","degrees_of_freedom_spec":{"creative_features_spec":[{"key":"IMAGE_TOUCHUPS","value":{"enroll_status":"OPT_IN"}}]}}]}`
	if _, err := svc.RefreshConnection(ctx, c, TriggerManual); err != nil {
		t.Fatal(err)
	}
	var one models.Template
	must(t, db.Where("template_id = ?", "1").Take(&one).Error)
	if one.OptimizationsProblem != "" || one.OptimizationsRaw != "" {
		t.Errorf("after a readable spec: problem %q raw %q, want cleared", one.OptimizationsProblem, one.OptimizationsRaw)
	}
}
