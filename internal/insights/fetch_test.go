package insights_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"mmconsole/internal/accounts"
	"mmconsole/internal/database"
	"mmconsole/internal/graph"
	"mmconsole/internal/insights"
	"mmconsole/internal/sandbox"
	"mmconsole/internal/templates"
	"mmconsole/internal/webhook"
	"mmconsole/models"
)

type tokens map[string]string

func (t tokens) Token(_ context.Context, c models.WABAConnection) (string, error) {
	return t[c.WABAID], nil
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func migrations() []database.Migration {
	ms := append(accounts.Migrations(), templates.Migrations()...)
	ms = append(ms, webhook.Migrations()...)
	return append(ms, insights.Migrations()...)
}

// fakeMeta answers template_analytics from a function of the query, and records each call.
type fakeMeta struct {
	mu     sync.Mutex
	calls  []url
	answer func(q url) (int, string)
}

type url struct {
	ProductType string
	IDs         []string
	Metrics     []string
	Start, End  int64
}

func (f *fakeMeta) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var u url
	_ = json.Unmarshal([]byte(q.Get("template_ids")), &u.IDs)
	_ = json.Unmarshal([]byte(q.Get("metric_types")), &u.Metrics)
	u.ProductType = q.Get("product_type")
	fmt.Sscan(q.Get("start"), &u.Start)
	fmt.Sscan(q.Get("end"), &u.End)
	f.mu.Lock()
	f.calls = append(f.calls, u)
	f.mu.Unlock()
	code, body := f.answer(u)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

func (f *fakeMeta) taken() []url {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.calls
	f.calls = nil
	return out
}

// points answers one data point per template for the query's first day.
func points(u url, sent int) string {
	var pts []string
	for _, id := range u.IDs {
		pts = append(pts, fmt.Sprintf(`{"template_id":"%s","start":%d,"end":%d,"sent":%d,"delivered":%d,"read":%d,`+
			`"clicked":[{"type":"url_button","button_content":"Shop","count":3},{"type":"quick_reply_button","count":1}],`+
			`"cost":[{"type":"amount_spent","value":1.5},{"type":"cost_per_delivered","value":0.01}],"website_purchases":2}`,
			id, u.Start, u.Start+86400, sent, sent-1, sent/2))
	}
	return `{"data":[{"granularity":"DAILY","data_points":[` + strings.Join(pts, ",") + `]}]}`
}

type fetchEnv struct {
	db   *gorm.DB
	meta *fakeMeta
	svc  *insights.Service
	conn models.WABAConnection
	now  time.Time
}

func newFetchEnv(t *testing.T, templatesN int, answer func(u url) (int, string)) *fetchEnv {
	t.Helper()
	db := database.OpenTest(t, migrations())
	meta := &fakeMeta{answer: answer}
	srv := httptest.NewServer(meta)
	t.Cleanup(srv.Close)
	gc := graph.New(graph.Options{BaseURL: srv.URL, MaxRetries: -1})
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	acc := models.Account{Name: "Shop"}
	must(t, db.Create(&acc).Error)
	conn := models.WABAConnection{AccountID: acc.ID, WABAID: "5550001", Name: "Shop", TokenSealed: []byte("x"), OnboardingStatus: "ONBOARDED"}
	must(t, db.Create(&conn).Error)
	for i := range templatesN {
		must(t, db.Create(&models.Template{AccountID: acc.ID, ConnectionID: conn.ID, WABAID: conn.WABAID,
			TemplateID: fmt.Sprintf("9%04d", i), Name: fmt.Sprintf("t%d", i), Language: "en_US", Status: "APPROVED",
			Category: "MARKETING", FirstSeenAt: now}).Error)
	}
	// A utility template is not asked for.
	must(t, db.Create(&models.Template{AccountID: acc.ID, ConnectionID: conn.ID, WABAID: conn.WABAID, TemplateID: "80000",
		Name: "otp", Language: "en_US", Status: "APPROVED", Category: "UTILITY", FirstSeenAt: now}).Error)
	e := &fetchEnv{db: db, meta: meta, conn: conn, now: now}
	e.svc = insights.New(db, gc, tokens{conn.WABAID: "tok"}, insights.Options{Interval: time.Hour, BackoffBase: time.Hour, Now: func() time.Time { return e.now }})
	return e
}

func (e *fetchEnv) state(t *testing.T) models.InsightFetch {
	t.Helper()
	var st models.InsightFetch
	must(t, e.db.Where("connection_id = ?", e.conn.ID).Take(&st).Error)
	return st
}

// The fetch pages over template ids 10 at a time for both products, reaches back 90 days the
// first time and 7 days after, falls back to the analytics page's product_type spelling when
// Meta refuses the SDK's, remembers it, and stores clicks, cost and conversions.
func TestFetchPagesAndProductTypeFallback(t *testing.T) {
	e := newFetchEnv(t, 23, func(u url) (int, string) {
		if u.ProductType == graph.ProductTypeMMAPI {
			return 400, `{"error":{"message":"(#100) Param product_type must be one of {CLOUD_API, MARKETING_MESSAGES_API_FOR_WHATSAPP}","type":"OAuthException","code":100}}`
		}
		return 200, points(u, 10)
	})
	ctx := context.Background()
	res, err := e.svc.FetchConnection(ctx, e.conn, false)
	must(t, err)
	calls := e.meta.taken()
	var mmLite, mmNew, cloud int
	seen := map[string]int{}
	for _, c := range calls {
		if len(c.IDs) > 10 {
			t.Errorf("a call asked for %d templates", len(c.IDs))
		}
		switch c.ProductType {
		case graph.ProductTypeMMAPI:
			mmLite++
		case graph.ProductTypeMMAPIRenamed:
			mmNew++
			if !contains(c.Metrics, "WEBSITE_PURCHASES") {
				t.Errorf("MM API call without conversion metrics: %v", c.Metrics)
			}
			for _, id := range c.IDs {
				seen[id]++
			}
		case graph.ProductTypeCloudAPI:
			cloud++
			if contains(c.Metrics, "WEBSITE_PURCHASES") {
				t.Errorf("Cloud API call asked for conversion metrics")
			}
		}
		if c.Start != e.now.Add(-89*24*time.Hour).Truncate(24*time.Hour).Unix() {
			t.Errorf("first fetch starts at %s, want 89 days before today", time.Unix(c.Start, 0).UTC())
		}
	}
	if mmLite != 1 || mmNew != 3 || cloud != 3 || len(seen) != 23 || contains(keys(seen), "80000") {
		t.Fatalf("calls: lite %d, renamed %d, cloud %d, templates %d (%v)", mmLite, mmNew, cloud, len(seen), keys(seen))
	}
	if res.Points != 46 || res.Failed != 0 {
		t.Errorf("result = %+v, want 46 points", res)
	}
	if st := e.state(t); st.ProductType != graph.ProductTypeMMAPIRenamed || st.OKAt == nil || st.CoveredFrom == nil {
		t.Errorf("state = %+v, want the renamed product type remembered and the fetch OK", st)
	}
	var p models.InsightPoint
	must(t, e.db.Where("template_id = ? AND product = ?", "90000", models.ProductMMAPI).Take(&p).Error)
	if p.Sent != 10 || p.Delivered != 9 || p.Read != 5 || p.Clicked != 4 || p.Cost != 1.5 || !p.HasCost {
		t.Errorf("stored point = %+v", p)
	}
	var conv models.InsightConversion
	must(t, e.db.Where("template_id = ? AND metric = ?", "90000", "WEBSITE_PURCHASES").Take(&conv).Error)
	if conv.Value != 2 {
		t.Errorf("conversion = %+v", conv)
	}

	// Within the interval: not due. Later: 7 days back, the remembered spelling only, and
	// the re-fetched counts replace the stored ones.
	if _, err := e.svc.FetchConnection(ctx, e.conn, false); err != insights.ErrNotDue {
		t.Fatalf("second fetch at once: %v, want not due", err)
	}
	e.meta.answer = func(u url) (int, string) { return 200, points(u, 20) }
	e.now = e.now.Add(time.Hour)
	_, err = e.svc.FetchConnection(ctx, e.conn, false)
	must(t, err)
	for _, c := range e.meta.taken() {
		if c.ProductType == graph.ProductTypeMMAPI {
			t.Error("the refused spelling was tried again")
		}
		if want := e.now.Add(-7 * 24 * time.Hour).Truncate(24 * time.Hour).Unix(); c.Start != want {
			t.Errorf("later fetch starts at %s, want 7 days back", time.Unix(c.Start, 0).UTC())
		}
	}
	var n int64
	must(t, e.db.Model(&models.InsightPoint{}).Where("sent = ?", 20).Count(&n).Error)
	if n != 46 {
		t.Errorf("%d points re-fetched, want 46", n)
	}

	// Meta renames again and refuses the remembered spelling: the other one is tried and
	// remembered instead, rather than every later fetch failing.
	e.meta.answer = func(u url) (int, string) {
		if u.ProductType == graph.ProductTypeMMAPIRenamed {
			return 400, `{"error":{"message":"(#100) Param product_type must be one of {CLOUD_API, MARKETING_MESSAGE_LITE_API}","type":"OAuthException","code":100}}`
		}
		return 200, points(u, 30)
	}
	e.now = e.now.Add(time.Hour)
	res, err = e.svc.FetchConnection(ctx, e.conn, false)
	must(t, err)
	if res.Failed != 0 || res.Points != 46 {
		t.Errorf("fetch after Meta's rename = %+v, want 46 points and none failed", res)
	}
	if st := e.state(t); st.ProductType != graph.ProductTypeMMAPI {
		t.Errorf("remembered product type %q after the rename, want %q", st.ProductType, graph.ProductTypeMMAPI)
	}
}

// A batch that fails is counted and the others are stored; Meta's refusals (insights off, region)
// are stored per connection and stop the fetch; a rate limit backs the WABA off.
func TestFetchFailuresRefusalsAndRateLimits(t *testing.T) {
	cases := []struct {
		name        string
		answer      func(u url) (int, string)
		wantRefusal string
		wantFailed  int
		wantPoints  int
		wantBackoff bool
	}{
		{"one batch fails", func(u url) (int, string) {
			if contains(u.IDs, "90010") && u.ProductType == graph.ProductTypeCloudAPI {
				return 500, `{"error":{"message":"An unknown error occurred","code":1}}`
			}
			return 200, points(u, 5)
		}, "", 1, 40, false},
		{"insights off", func(u url) (int, string) {
			return 400, `{"error":{"message":"(#100) Invalid parameter","error_user_msg":"Template analytics is not enabled for this WhatsApp Business Account: set is_enabled_for_insights to true first","code":100}}`
		}, graph.RefusalNotEnabled, 0, 0, false},
		{"region", func(u url) (int, string) {
			return 400, `{"error":{"message":"(#200) Template analytics are not available for WhatsApp Business Accounts in this region","code":200}}`
		}, graph.RefusalRegion, 0, 0, false},
		{"rate limit", func(u url) (int, string) {
			if contains(u.IDs, "90000") {
				return 200, points(u, 5)
			}
			return 400, `{"error":{"message":"(#80007) Rate limit hit","code":80007}}`
		}, "", 0, 10, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newFetchEnv(t, 25, c.answer)
			res, err := e.svc.FetchConnection(context.Background(), e.conn, false)
			if err == nil {
				t.Fatal("fetch reported no error")
			}
			st := e.state(t)
			if st.Refusal != c.wantRefusal || res.Failed != c.wantFailed || res.Points != c.wantPoints {
				t.Errorf("refusal %q failed %d points %d (%v), want %q %d %d", st.Refusal, res.Failed, res.Points, err, c.wantRefusal, c.wantFailed, c.wantPoints)
			}
			if (st.BackoffUntil != nil) != c.wantBackoff {
				t.Errorf("backoff until %v, want backoff %v", st.BackoffUntil, c.wantBackoff)
			}
			if st.LastError == "" || st.OKAt != nil || st.LeaseUntil != nil {
				t.Errorf("state = %+v, want the error kept, not OK, lease released", st)
			}
			// Refused or backing off: not asked again when the interval is nearly over.
			e.now = e.now.Add(55 * time.Minute)
			e.meta.taken()
			_, err = e.svc.FetchConnection(context.Background(), e.conn, false)
			if again := len(e.meta.taken()) > 0; again != (c.wantRefusal == "" && !c.wantBackoff) {
				t.Errorf("fetch 55 minutes later called Meta = %v (%v)", again, err)
			}
		})
	}
}

// Dormancy reads the stored analytics: the background fetch of an onboarded WABA tells the
// catalog the latest day Meta counted MM API sends, so a template used by a campaign the
// console never saw is Ready with Meta as the source, one Meta counted no sends of for 7+ days
// is Dormant at once, and the templates of a WABA that is not onboarded get no Meta reading.
func TestDormancyFromStoredAnalytics(t *testing.T) {
	db := database.OpenTest(t, migrations())
	clk := sandbox.NewFakeClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	sb := sandbox.New(sandbox.Options{Clock: clk, EventDelay: -1, ApproveAfter: time.Hour})
	t.Cleanup(func() { sb.Close() })
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	gc := graph.New(graph.Options{BaseURL: srv.URL, MaxRetries: -1})
	tk := tokens{sandbox.StoreWABAID: sandbox.StoreToken, sandbox.PharmaWABAID: sandbox.PharmaToken}
	acc := models.Account{Name: "Shop"}
	must(t, db.Create(&acc).Error)
	store := models.WABAConnection{AccountID: acc.ID, WABAID: sandbox.StoreWABAID, Name: "Store", TokenSealed: []byte("x"), Sandbox: true, OnboardingStatus: "ONBOARDED"}
	pharma := models.WABAConnection{AccountID: acc.ID, WABAID: sandbox.PharmaWABAID, Name: "Pharma", TokenSealed: []byte("x"), Sandbox: true, OnboardingStatus: "ELIGIBLE"}
	must(t, db.Create(&store).Error)
	must(t, db.Create(&pharma).Error)
	ctx := context.Background()
	cat := templates.New(db, gc, tk, templates.Options{Now: clk.Now, MinManualGap: -1})
	cat.RefreshAll(ctx, templates.TriggerStart)
	svc := insights.New(db, gc, tk, insights.Options{Interval: time.Hour, Now: clk.Now})
	svc.FetchAll(ctx)
	now := clk.Now()
	byName := func(name string) models.Template {
		var tm models.Template
		must(t, db.Where("name = ? AND language = ?", name, "en_US").Take(&tm).Error)
		return tm
	}
	summer := byName("summer_sale")
	if summer.MetaSentReadAt == nil || summer.MetaLastSentAt == nil || now.Sub(*summer.MetaLastSentAt) > 48*time.Hour {
		t.Fatalf("summer_sale analytics not noted: read %v, last sent %v", summer.MetaSentReadAt, summer.MetaLastSentAt)
	}
	if st := templates.SyncState(summer, "ONBOARDED", now); st.Kind != templates.KindReady || !strings.Contains(st.Why(context.Background()), "Meta: sent on") {
		t.Errorf("summer_sale = %s (%s), want Ready from Meta's analytics", st.Kind, st.Why(context.Background()))
	}
	if st := templates.SyncState(byName("winter_clearance"), "ONBOARDED", now); st.Kind != templates.KindDormant || !strings.Contains(st.Why(context.Background()), "Meta: 0 sent in the last 7 days") {
		t.Errorf("winter_clearance = %s (%s), want Dormant decided by Meta", st.Kind, st.Why(context.Background()))
	}
	if wt := byName("wellness_tips"); wt.MetaSentReadAt != nil {
		t.Error("a WABA that is not onboarded got a Meta reading")
	}
	// The pharma WABA has insights off: the refusal is stored for the page.
	var st models.InsightFetch
	must(t, db.Where("connection_id = ?", pharma.ID).Take(&st).Error)
	if st.Refusal != graph.RefusalNotEnabled {
		t.Errorf("pharma fetch state = %+v, want insights not enabled", st)
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func keys(m map[string]int) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A WABA whose catalog has not been read yet is left due: no call, no state, so its first fetch
// (with the 90-day look-back) happens once its templates are known.
func TestFetchWaitsForTemplates(t *testing.T) {
	e := newFetchEnv(t, 0, func(u url) (int, string) { return 200, points(u, 1) })
	if _, err := e.svc.FetchConnection(context.Background(), e.conn, false); err != insights.ErrNotDue {
		t.Fatalf("fetch without templates: %v, want not due", err)
	}
	var n int64
	must(t, e.db.Model(&models.InsightFetch{}).Count(&n).Error)
	if calls := e.meta.taken(); len(calls) != 0 || n != 0 {
		t.Errorf("%d calls and %d fetch states without templates, want none", len(calls), n)
	}
}
