package sandbox_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mmconsole/internal/graph"
	"mmconsole/internal/sandbox"
)

const secret = "app-secret"

// hook records webhook deliveries, verifying signatures; it answers fail
// times with HTTP 500 before accepting.
type hook struct {
	mu     sync.Mutex
	bodies [][]byte
	calls  int
	fail   int
	badSig int
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls++
	if r.Header.Get("X-Hub-Signature-256") != sandbox.Sign(secret, b) {
		h.badSig++
	}
	if h.calls <= h.fail {
		w.WriteHeader(500)
		return
	}
	h.bodies = append(h.bodies, b)
}

// statuses flattens all delivered statuses (and user actions) in order.
func (h *hook) events() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []map[string]any
	for _, b := range h.bodies {
		var p struct {
			Object string `json:"object"`
			Entry  []struct {
				ID      string `json:"id"`
				Changes []struct {
					Field string         `json:"field"`
					Value map[string]any `json:"value"`
				} `json:"changes"`
			} `json:"entry"`
		}
		if json.Unmarshal(b, &p) != nil || p.Object != "whatsapp_business_account" {
			continue
		}
		for _, e := range p.Entry {
			for _, c := range e.Changes {
				if st, ok := c.Value["statuses"].([]any); ok {
					for _, s := range st {
						m := s.(map[string]any)
						m["_waba"] = e.ID
						out = append(out, m)
					}
				}
				if ua, ok := c.Value["user_actions"].([]any); ok {
					for _, a := range ua {
						m := a.(map[string]any)
						m["status"] = "click"
						out = append(out, m)
					}
				}
				if c.Field == "message_template_status_update" {
					c.Value["status"] = "template:" + c.Value["event"].(string)
					out = append(out, c.Value)
				}
			}
		}
	}
	return out
}

type env struct {
	sb    *sandbox.Sandbox
	c     *graph.Client
	clock *sandbox.FakeClock
	hook  *hook
	store sandbox.SeedWABA
	pharm sandbox.SeedWABA
}

func newEnv(t *testing.T, mod func(*sandbox.Options)) *env {
	t.Helper()
	h := &hook{}
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	clock := sandbox.NewFakeClock(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
	o := sandbox.Options{AppSecret: secret, CallbackURL: hs.URL, Clock: clock, EventDelay: -1, ApproveAfter: -1,
		DeliveryRetryDelay: 5 * time.Millisecond}
	if mod != nil {
		mod(&o)
	}
	sb := sandbox.New(o)
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { srv.Close(); sb.Close() })
	seed := sb.Seed()
	return &env{sb: sb, c: graph.New(graph.Options{BaseURL: srv.URL, RetryBaseDelay: time.Millisecond}), clock: clock, hook: h,
		store: seed.WABAs[0], pharm: seed.WABAs[1]}
}

func (e *env) tmplID(t *testing.T, w sandbox.SeedWABA, name, lang string) string {
	for _, tp := range w.Templates {
		if tp.Name == name && tp.Language == lang {
			return tp.ID
		}
	}
	t.Fatalf("no seed template %s/%s", name, lang)
	return ""
}

func codeOf(err error) int {
	if ge, ok := graph.AsGraphError(err); ok {
		return ge.Code
	}
	return -1
}

// waitFor polls until cond holds on the recorded events.
func (e *env) waitFor(t *testing.T, cond func([]map[string]any) bool) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if ev := e.hook.events(); cond(ev) {
			return ev
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out; events: %v", e.hook.events())
	return nil
}

func send(e *env, w sandbox.SeedWABA, r graph.MarketingMessageRequest) (graph.SendResult, error) {
	if r.Components == nil {
		r.Components = fill(e.c, w.Token, w.ID, r.TemplateName, r.LanguageCode)
	}
	return e.c.SendMarketingMessage(context.Background(), w.Token, w.PhoneNumbers[0].ID, r)
}

var testVarRe = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_]+)\s*\}\}`)

// fill builds a text parameter for each variable of the template's body and text header, as a
// real send must (the sandbox answers 132000 otherwise); tests about other rules send it filled.
func fill(c *graph.Client, token, wabaID, name, lang string) []graph.Component {
	all, err := c.ListAllTemplates(context.Background(), token, wabaID, graph.TemplateQuery{})
	if err != nil {
		return nil
	}
	var out []graph.Component
	for _, t := range all {
		if t.Name != name || t.Language != lang {
			continue
		}
		for _, tc := range t.Components {
			typ := strings.ToLower(tc.Type)
			if typ != "body" && (typ != "header" || (tc.Format != "" && !strings.EqualFold(tc.Format, "TEXT"))) {
				continue
			}
			var ps []graph.Parameter
			seen := map[string]bool{}
			for _, m := range testVarRe.FindAllStringSubmatch(tc.Text, -1) {
				if !seen[m[1]] {
					seen[m[1]] = true
					p := graph.Parameter{Type: "text", Text: "x"}
					if _, err := strconv.Atoi(m[1]); err != nil {
						p.ParameterName = m[1]
					}
					ps = append(ps, p)
				}
			}
			if len(ps) > 0 {
				out = append(out, graph.Component{Type: typ, Parameters: ps})
			}
		}
	}
	return out
}

func TestSeedStates(t *testing.T) {
	e := newEnv(t, nil)
	if e.store.OnboardingStatus != "ONBOARDED" || e.pharm.OnboardingStatus != "ELIGIBLE" {
		t.Fatalf("seed onboarding: %+v %+v", e.store, e.pharm)
	}
	all, err := e.c.ListAllTemplates(context.Background(), e.store.Token, e.store.ID, graph.TemplateQuery{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	langs := map[string]bool{}
	for _, tp := range all {
		seen[tp.Status] = true
		seen[tp.Category] = true
		if tp.QualityScore != nil {
			seen["Q"+tp.QualityScore.Score] = true
		}
		langs[tp.Language] = true
	}
	for _, want := range []string{"APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED", "MARKETING", "UTILITY", "AUTHENTICATION", "QGREEN", "QYELLOW", "QRED", "QUNKNOWN"} {
		if !seen[want] {
			t.Errorf("seed lacks %s", want)
		}
	}
	if len(langs) < 3 {
		t.Errorf("want 3 languages, got %v", langs)
	}
}

func TestReads(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	w, err := e.c.GetWABA(ctx, e.store.Token, e.store.ID)
	if err != nil || w.Name != "Hibot Demo Store" || !w.Onboarded() || w.DegreesOfFreedom.Get("image_end_card") != "OPT_OUT" ||
		w.DegreesOfFreedom.Get("image_touchups") != "OPT_IN" {
		t.Fatalf("waba %+v err %v", w, err)
	}
	phones, err := e.c.ListPhoneNumbers(ctx, e.store.Token, e.store.ID)
	if err != nil || len(phones) != 1 || phones[0].Throughput.Level == "" || phones[0].ID != e.store.PhoneNumbers[0].ID {
		t.Fatalf("phones %+v err %v", phones, err)
	}
	tp, err := e.c.GetTemplate(ctx, e.store.Token, e.tmplID(t, e.store, "summer_sale", "en_US"))
	if err != nil || tp.DegreesOfFreedom.Get("image_end_card") != "OPT_IN" || !tp.HasURLButton() || *tp.MessageSendTTLSeconds != 86400 ||
		tp.AdID == "" || tp.QualityScore.Date.IsZero() {
		t.Fatalf("template %+v err %v", tp, err)
	}
	// The template GET uses the UPPER array shape on the wire.
	if !strings.Contains(string(tp.Raw), `"key":"IMAGE_END_CARD"`) {
		t.Fatalf("raw dfs not in template GET shape: %s", tp.Raw)
	}
	if !strings.Contains(string(w.Raw), `"data":[{"creative_features_spec":[{`) {
		t.Fatalf("raw WABA dfs not in data shape: %s", w.Raw)
	}
}

func TestListFiltersAndPaging(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	tests := []struct {
		q    graph.TemplateQuery
		want int
	}{
		{graph.TemplateQuery{}, 11},
		{graph.TemplateQuery{Status: []string{"approved"}}, 7},
		{graph.TemplateQuery{Category: []string{"MARKETING"}, Status: []string{"APPROVED"}}, 5},
		{graph.TemplateQuery{Language: []string{"es_MX", "pt_BR"}}, 3},
		{graph.TemplateQuery{QualityScore: []string{"red"}}, 2},
		{graph.TemplateQuery{Name: "summer"}, 2},
		{graph.TemplateQuery{Limit: 2}, 11},
		{graph.TemplateQuery{Limit: 3, Status: []string{"APPROVED"}}, 7},
	}
	for _, tc := range tests {
		all, err := e.c.ListAllTemplates(ctx, e.store.Token, e.store.ID, tc.q)
		if err != nil || len(all) != tc.want {
			t.Errorf("%+v: got %d err %v, want %d", tc.q, len(all), err, tc.want)
		}
		ids := map[string]bool{}
		for _, tp := range all {
			if ids[tp.ID] {
				t.Errorf("%+v: duplicate %s across pages", tc.q, tp.ID)
			}
			ids[tp.ID] = true
		}
	}
	page, err := e.c.ListTemplates(ctx, e.store.Token, e.store.ID, graph.TemplateQuery{Limit: 4, Fields: []string{"name", "status"}})
	if err != nil || len(page.Data) != 4 || !page.HasNext() || page.Data[0].Category != "" || page.Data[0].Name == "" {
		t.Fatalf("page %+v err %v", page, err)
	}
	if strings.Contains(page.Next, "access_token") {
		t.Fatal("next URL carries the token")
	}
}

func TestAuth(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	_, err := e.c.GetWABA(ctx, "wrong", e.store.ID)
	if ge, _ := graph.AsGraphError(err); ge == nil || ge.Code != 190 || ge.HTTPStatus != 401 || ge.Type != "OAuthException" {
		t.Fatalf("wrong token: %v", err)
	}
	if _, err := e.c.GetWABA(ctx, "", e.store.ID); codeOf(err) != 190 {
		t.Fatalf("no token: %v", err)
	}
	// Another WABA's token cannot see this WABA's objects.
	_, err = e.c.GetTemplate(ctx, e.pharm.Token, e.tmplID(t, e.store, "summer_sale", "en_US"))
	if ge, _ := graph.AsGraphError(err); ge == nil || ge.Code != 100 || ge.Subcode != 33 {
		t.Fatalf("cross-WABA read: %v", err)
	}
	_, err = send(e, sandbox.SeedWABA{Token: e.pharm.Token, PhoneNumbers: e.store.PhoneNumbers},
		graph.MarketingMessageRequest{To: "5215512345678", TemplateName: "summer_sale", LanguageCode: "en_US"})
	if codeOf(err) != 100 {
		t.Fatalf("cross-WABA send: %v", err)
	}
}

func TestSendErrors(t *testing.T) {
	e := newEnv(t, func(o *sandbox.Options) { o.PhoneMPS = 1000 })
	ttlBad, ttlOK := 3600, 86400
	mx := "5215512345678"
	tests := []struct {
		name   string
		waba   func(*env) sandbox.SeedWABA
		req    graph.MarketingMessageRequest
		code   int
		status int
	}{
		{"unknown template", st, graph.MarketingMessageRequest{To: mx, TemplateName: "nope", LanguageCode: "en_US"}, 132001, 404},
		{"wrong language", st, graph.MarketingMessageRequest{To: mx, TemplateName: "summer_sale", LanguageCode: "pt_BR"}, 132001, 404},
		{"pending", st, graph.MarketingMessageRequest{To: mx, TemplateName: "spring_preview", LanguageCode: "en_US"}, 132001, 404},
		{"rejected", st, graph.MarketingMessageRequest{To: mx, TemplateName: "black_friday_teaser", LanguageCode: "en_US"}, 132001, 404},
		{"paused", st, graph.MarketingMessageRequest{To: mx, TemplateName: "loyalty_reminder", LanguageCode: "es_MX"}, 132015, 400},
		{"disabled", st, graph.MarketingMessageRequest{To: mx, TemplateName: "old_promo", LanguageCode: "en_US"}, 132016, 400},
		{"utility", st, graph.MarketingMessageRequest{To: mx, TemplateName: "order_update", LanguageCode: "en_US"}, 134100, 400},
		{"authentication", st, graph.MarketingMessageRequest{To: mx, TemplateName: "login_code", LanguageCode: "en_US"}, 134100, 400},
		{"strict not onboarded", ph, graph.MarketingMessageRequest{To: mx, TemplateName: "wellness_tips", LanguageCode: "en_US", ProductPolicy: graph.PolicyStrict}, 134102, 500},
		{"ttl out of range", st, graph.MarketingMessageRequest{To: mx, TemplateName: "summer_sale", LanguageCode: "en_US", TimeToLive: &ttlBad}, 100, 400},
		{"bad recipient", st, graph.MarketingMessageRequest{To: "12ab", TemplateName: "summer_sale", LanguageCode: "en_US"}, 100, 400},
		{"no recipient", st, graph.MarketingMessageRequest{TemplateName: "summer_sale", LanguageCode: "en_US"}, 100, 400},
		{"syncing", st, graph.MarketingMessageRequest{To: mx, TemplateName: "new_arrivals", LanguageCode: "en_US"}, 134101, 400},
		{"newline in a variable", st, graph.MarketingMessageRequest{To: mx, TemplateName: "summer_sale", LanguageCode: "en_US", Components: bodyParams("Ana\nMaria", "Sunday")}, 132018, 400},
		{"tab in a variable", st, graph.MarketingMessageRequest{To: mx, TemplateName: "summer_sale", LanguageCode: "en_US", Components: bodyParams("Ana\tMaria", "Sunday")}, 132018, 400},
		{"five spaces in a variable", st, graph.MarketingMessageRequest{To: mx, TemplateName: "summer_sale", LanguageCode: "en_US", Components: bodyParams("Ana     Maria", "Sunday")}, 132018, 400},
		{"body too long once filled in", st, graph.MarketingMessageRequest{To: mx, TemplateName: "summer_sale", LanguageCode: "en_US", Components: bodyParams(strings.Repeat("a", 1100), "Sunday")}, 132005, 400},
		{"body under-filled", st, graph.MarketingMessageRequest{To: mx, TemplateName: "summer_sale", LanguageCode: "en_US", Components: bodyParams("Ana")}, 132000, 400},
		{"no parameters for a body with variables", st, graph.MarketingMessageRequest{To: mx, TemplateName: "summer_sale", LanguageCode: "en_US", Components: []graph.Component{}}, 132000, 400},
		{"body over-filled", st, graph.MarketingMessageRequest{To: mx, TemplateName: "summer_sale", LanguageCode: "en_US", Components: bodyParams("Ana", "Sunday", "extra")}, 132000, 400},
		{"ok four spaces", st, graph.MarketingMessageRequest{To: mx, TemplateName: "summer_sale", LanguageCode: "en_US", Components: bodyParams("Ana    Maria", "Sunday")}, 0, 200},
		{"ok strict onboarded", st, graph.MarketingMessageRequest{To: mx, TemplateName: "summer_sale", LanguageCode: "en_US", ProductPolicy: graph.PolicyStrict, TimeToLive: &ttlOK}, 0, 200},
		{"ok fallback", ph, graph.MarketingMessageRequest{To: mx, TemplateName: "wellness_tips", LanguageCode: "en_US"}, 0, 200},
		{"ok bsuid", st, graph.MarketingMessageRequest{Recipient: "MX.1234567890", TemplateName: "flash_coupon", LanguageCode: "pt_BR"}, 0, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := send(e, tc.waba(e), tc.req)
			if tc.code == 0 {
				if err != nil || !strings.HasPrefix(res.WAMID(), "wamid.") || res.Messages[0].MessageStatus != "accepted" || len(res.Contacts) != 1 {
					t.Fatalf("res %+v err %v", res, err)
				}
				return
			}
			ge, ok := graph.AsGraphError(err)
			if !ok || ge.Code != tc.code || ge.HTTPStatus != tc.status || ge.FBTraceID == "" || ge.Message == "" {
				t.Fatalf("got %#v, want code %d HTTP %d", err, tc.code, tc.status)
			}
		})
	}
}

func st(e *env) sandbox.SeedWABA { return e.store }
func ph(e *env) sandbox.SeedWABA { return e.pharm }

func TestNonTemplateSend(t *testing.T) {
	e := newEnv(t, nil)
	srv := httptest.NewServer(e.sb.Handler())
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/v25.0/"+e.store.PhoneNumbers[0].ID+"/marketing_messages",
		strings.NewReader(`{"messaging_product":"whatsapp","to":"5215512345678","type":"text","text":{"body":"hi"}}`))
	req.Header.Set("Authorization", "Bearer "+e.store.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), `"code":100`) || !strings.Contains(string(b), "Message must be a template message.") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}

func TestStrictErrorCodeOption(t *testing.T) {
	e := newEnv(t, func(o *sandbox.Options) { o.StrictErrorCode = 131055 })
	_, err := send(e, e.pharm, graph.MarketingMessageRequest{To: "5215512345678", TemplateName: "wellness_tips", LanguageCode: "en_US", ProductPolicy: "STRICT"})
	if codeOf(err) != 131055 {
		t.Fatalf("got %v", err)
	}
}

func TestRateLimits(t *testing.T) {
	e := newEnv(t, func(o *sandbox.Options) { o.PairLimit = 2; o.PhoneMPS = 3 })
	r := graph.MarketingMessageRequest{To: "5215512345678", TemplateName: "summer_sale", LanguageCode: "en_US"}
	for i := range 2 {
		if _, err := send(e, e.store, r); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if _, err := send(e, e.store, r); codeOf(err) != 131056 {
		t.Fatalf("pair limit: %v", err)
	}
	r.To = "5215512345679"
	if _, err := send(e, e.store, r); err != nil {
		t.Fatal(err)
	}
	r.To = "5215512345670"
	if _, err := send(e, e.store, r); codeOf(err) != 130429 {
		t.Fatalf("throughput: %v", err)
	}
	e.clock.Advance(7 * time.Second)
	r.To = "5215512345678"
	if _, err := send(e, e.store, r); err != nil {
		t.Fatalf("after window: %v", err)
	}
}

func TestSyncWindowAfterCreate(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	created, err := e.c.CreateTemplate(ctx, e.store.Token, e.store.ID, graph.TemplateCreate{
		Name: "fresh_drop", Language: "en_US", Category: "MARKETING",
		Components:    []graph.TemplateComponent{{Type: "BODY", Text: "New drop!"}},
		Optimizations: map[string]string{"image_touchups": "OPT_OUT"},
	})
	if err != nil || created.Status != "PENDING" || created.ID == "" || created.Category != "MARKETING" {
		t.Fatalf("create %+v %v", created, err)
	}
	e.waitFor(t, func(ev []map[string]any) bool { return len(ev) >= 2 })
	ev := e.hook.events()
	if ev[0]["status"] != "template:PENDING" || ev[1]["status"] != "template:APPROVED" {
		t.Fatalf("template webhooks %v", ev)
	}
	if _, isNum := ev[0]["message_template_id"].(float64); !isNum {
		t.Fatalf("message_template_id should be an integer: %v", ev[0])
	}
	r := graph.MarketingMessageRequest{To: "5215512345678", TemplateName: "fresh_drop", LanguageCode: "en_US"}
	if _, err := send(e, e.store, r); codeOf(err) != 134101 {
		t.Fatalf("fresh template: %v", err)
	}
	e.clock.Advance(10 * time.Minute)
	if _, err := send(e, e.store, r); err != nil {
		t.Fatalf("after 10 min: %v", err)
	}
	_, err = e.c.CreateTemplate(ctx, e.store.Token, e.store.ID, graph.TemplateCreate{Name: "fresh_drop", Language: "en_US", Category: "MARKETING",
		Components: []graph.TemplateComponent{{Type: "BODY", Text: "x"}}})
	if ge, _ := graph.AsGraphError(err); ge == nil || ge.Code != 100 || ge.Subcode != 2388024 {
		t.Fatalf("duplicate: %v", err)
	}
	for _, bad := range []graph.TemplateCreate{
		{Name: "Bad Name", Language: "en_US", Category: "MARKETING", Components: []graph.TemplateComponent{{Type: "BODY", Text: "x"}}},
		{Name: "ok_name", Language: "en_US", Category: "MARKETING", TTLSeconds: new(int), Components: []graph.TemplateComponent{{Type: "BODY", Text: "x"}}},
		{Name: "ok_name", Language: "en_US", Category: "PROMO", Components: []graph.TemplateComponent{{Type: "BODY", Text: "x"}}},
		{Name: "ok_name", Language: "en_US", Category: "MARKETING"},
	} {
		if _, err := e.c.CreateTemplate(ctx, e.store.Token, e.store.ID, bad); codeOf(err) != 100 {
			t.Errorf("create %+v: %v", bad, err)
		}
	}
}

func TestDormantTemplate(t *testing.T) {
	e := newEnv(t, nil)
	r := graph.MarketingMessageRequest{To: "5215512345678", TemplateName: "winter_clearance", LanguageCode: "en_US"}
	if _, err := send(e, e.store, r); err != nil {
		t.Fatalf("first send after 9 days: %v", err)
	}
	r.To = "5215512345679"
	if _, err := send(e, e.store, r); codeOf(err) != 134101 {
		t.Fatalf("second send: %v", err)
	}
	e.clock.Advance(10 * time.Minute)
	if _, err := send(e, e.store, r); err != nil {
		t.Fatalf("after resync: %v", err)
	}
}

func TestWebhookCategoriesAndVersions(t *testing.T) {
	tests := []struct {
		name         string
		version      string
		waba         func(*env) sandbox.SeedWABA
		template     string
		lang         string
		policy       string
		wantCategory string
		wantConv     bool
		wantClick    bool
	}{
		{"onboarded v25", "v25.0", st, "summer_sale", "en_US", "", "marketing_lite", false, true},
		{"onboarded v23", "v23.0", st, "summer_sale", "en_US", "STRICT", "marketing_lite", true, true},
		{"fallback explicit v25", "v25.0", ph, "vitamin_offer", "es_MX", "CLOUD_API_FALLBACK", "marketing", false, false},
		{"fallback default v22 (URL button, no clicks: MM API only)", "v22.0", ph, "wellness_tips", "en_US", "", "marketing", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(o *sandbox.Options) { o.GraphVersion = tc.version })
			res, err := send(e, tc.waba(e), graph.MarketingMessageRequest{To: "5215512345678", TemplateName: tc.template,
				LanguageCode: tc.lang, ProductPolicy: tc.policy, BizOpaqueCallbackData: "camp-7"})
			if err != nil {
				t.Fatal(err)
			}
			want := 3
			if tc.wantClick {
				want = 4
			}
			ev := e.waitFor(t, func(ev []map[string]any) bool { return len(ev) >= want })
			order := []string{"sent", "delivered", "read", "click"}
			for i, m := range ev[:want] {
				if m["status"] != order[i] {
					t.Fatalf("event %d = %v", i, m["status"])
				}
				if m["status"] == "click" {
					if m["action_type"] != "marketing_messages_link_click" {
						t.Fatalf("click %v", m)
					}
					continue
				}
				if m["id"] != res.WAMID() || m["biz_opaque_callback_data"] != "camp-7" || m["_waba"] != tc.waba(e).ID {
					t.Fatalf("status %v", m)
				}
				if _, ok := m["timestamp"].(string); !ok {
					t.Fatalf("timestamp not a string: %v", m)
				}
				pricing, hasPricing := m["pricing"].(map[string]any)
				if (m["status"] == "read") == hasPricing {
					t.Fatalf("pricing on %v: %v", m["status"], hasPricing)
				}
				if hasPricing && (pricing["category"] != tc.wantCategory || pricing["pricing_model"] != "PMP") {
					t.Fatalf("pricing %v", pricing)
				}
				conv, hasConv := m["conversation"].(map[string]any)
				if hasPricing && hasConv != tc.wantConv {
					t.Fatalf("conversation present=%v want %v", hasConv, tc.wantConv)
				}
				if hasConv && conv["origin"].(map[string]any)["type"] != tc.wantCategory {
					t.Fatalf("origin %v", conv)
				}
			}
			if e.hook.badSig != 0 {
				t.Fatal("bad signature")
			}
		})
	}
}

func bodyParams(vals ...string) []graph.Component {
	c := graph.Component{Type: "body"}
	for _, v := range vals {
		c.Parameters = append(c.Parameters, graph.Text(v))
	}
	return []graph.Component{c}
}

// Canada and the Caribbean share +1 with the US, but only US numbers are blocked (131049).
func TestNANPNumbersOutsideTheUSAreDelivered(t *testing.T) {
	for _, to := range []string{"+1 416 555 0123", "+1 876 555 0123"} {
		e := newEnv(t, nil)
		if _, err := send(e, e.store, graph.MarketingMessageRequest{To: to, TemplateName: "summer_sale", LanguageCode: "en_US"}); err != nil {
			t.Fatalf("%s: %v", to, err)
		}
		ev := e.waitFor(t, func(ev []map[string]any) bool {
			for _, x := range ev {
				if x["status"] == "delivered" || x["status"] == "failed" {
					return true
				}
			}
			return false
		})
		for _, x := range ev {
			if x["status"] == "failed" {
				t.Errorf("%s failed like a US number: %v", to, x)
			}
		}
	}
}

func TestWebhookFailures(t *testing.T) {
	tests := []struct {
		to   string
		code float64
	}{
		{"+1 650 555 1234", 131049},
		{sandbox.OptedOutDemoNumber, 131050},
	}
	for _, tc := range tests {
		e := newEnv(t, nil)
		if _, err := send(e, e.store, graph.MarketingMessageRequest{To: tc.to, TemplateName: "summer_sale", LanguageCode: "en_US"}); err != nil {
			t.Fatalf("%s: send should be accepted: %v", tc.to, err)
		}
		ev := e.waitFor(t, func(ev []map[string]any) bool { return len(ev) >= 1 })
		errs, _ := ev[0]["errors"].([]any)
		if ev[0]["status"] != "failed" || len(errs) != 1 || errs[0].(map[string]any)["code"] != tc.code {
			t.Fatalf("%s: %v", tc.to, ev)
		}
		ed := errs[0].(map[string]any)["error_data"].(map[string]any)
		if ed["details"] == "" || errs[0].(map[string]any)["href"] == nil {
			t.Fatalf("error shape %v", errs[0])
		}
	}
}

func TestWebhookRetries(t *testing.T) {
	e := newEnv(t, func(o *sandbox.Options) { o.DeliveryMaxAttempts = 4 })
	e.hook.fail = 2
	if _, err := send(e, e.store, graph.MarketingMessageRequest{To: "5215512345678", TemplateName: "flash_coupon", LanguageCode: "pt_BR"}); err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, func(ev []map[string]any) bool { return len(ev) >= 3 })
	ds := e.sb.Deliveries()
	if len(ds) == 0 || ds[0].Attempts != 3 || !ds[0].Delivered || ds[0].Status != 200 {
		t.Fatalf("deliveries %+v", ds)
	}
	// A delivery that never succeeds stops at the bound.
	e2 := newEnv(t, func(o *sandbox.Options) { o.DeliveryMaxAttempts = 3 })
	e2.hook.fail = 1000
	if _, err := send(e2, e2.store, graph.MarketingMessageRequest{To: "5215512345678", TemplateName: "flash_coupon", LanguageCode: "pt_BR"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if ds := e2.sb.Deliveries(); len(ds) > 0 && ds[0].Attempts == 3 {
			if ds[0].Delivered || ds[0].Status != 500 {
				t.Fatalf("%+v", ds[0])
			}
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("deliveries %+v", e2.sb.Deliveries())
}

func TestEditTemplate(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	id := e.tmplID(t, e.store, "summer_sale", "es_MX")
	ttl := 172800
	if err := e.c.EditTemplate(ctx, e.store.Token, id, graph.TemplateEdit{TTLSeconds: &ttl,
		Optimizations: map[string]string{"image_touchups": "OPT_OUT", "image_end_card": "OPT_IN"}}); err != nil {
		t.Fatal(err)
	}
	tp, err := e.c.GetTemplate(ctx, e.store.Token, id)
	if err != nil || *tp.MessageSendTTLSeconds != ttl || tp.DegreesOfFreedom.Get("image_touchups") != "OPT_OUT" || tp.DegreesOfFreedom.Get("image_end_card") != "OPT_IN" {
		t.Fatalf("after edit %+v %v", tp, err)
	}
	// Optimization-only edits are not held to 1 per 24 h.
	if err := e.c.EditTemplate(ctx, e.store.Token, id, graph.TemplateEdit{Optimizations: map[string]string{"image_touchups": "OPT_IN"}}); err != nil {
		t.Fatalf("second dfs edit: %v", err)
	}
	bad := []struct {
		name string
		id   string
		edit graph.TemplateEdit
	}{
		{"marketing TTL too short", id, graph.TemplateEdit{TTLSeconds: ptr(3600)}},
		{"marketing TTL -1", id, graph.TemplateEdit{TTLSeconds: ptr(-1)}},
		{"utility TTL too long", e.tmplID(t, e.store, "order_update", "en_US"), graph.TemplateEdit{TTLSeconds: ptr(86400)}},
		{"pending not editable", e.tmplID(t, e.store, "spring_preview", "en_US"), graph.TemplateEdit{TTLSeconds: ptr(86400)}},
		{"bad status value", id, graph.TemplateEdit{Optimizations: map[string]string{"image_touchups": "MAYBE"}}},
		{"empty edit", id, graph.TemplateEdit{}},
	}
	for _, tc := range bad {
		if err := e.c.EditTemplate(ctx, e.store.Token, tc.id, tc.edit); codeOf(err) != 100 {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if err := e.c.EditTemplate(ctx, e.store.Token, e.tmplID(t, e.store, "order_update", "en_US"), graph.TemplateEdit{TTLSeconds: ptr(-1)}); err != nil {
		t.Errorf("utility -1: %v", err)
	}
}

func ptr(n int) *int { return &n }

func TestEditLimits(t *testing.T) {
	e := newEnv(t, func(o *sandbox.Options) { o.ApproveAfter = time.Hour })
	ctx := context.Background()
	id := e.tmplID(t, e.store, "flash_coupon", "pt_BR")
	comps := json.RawMessage(`[{"type":"BODY","text":"Olá {{first_name}}!","example":{"body_text_named_params":[{"param_name":"first_name","example":"Ana"}]}}]`)
	if err := e.c.EditTemplate(ctx, e.store.Token, id, graph.TemplateEdit{Components: comps}); err != nil {
		t.Fatal(err)
	}
	tp, _ := e.c.GetTemplate(ctx, e.store.Token, id)
	if tp.Status != "PENDING" {
		t.Fatalf("edited content should go to review, status %s", tp.Status)
	}

	id = e.tmplID(t, e.store, "summer_sale", "en_US")
	for i := range 10 {
		if err := e.c.EditTemplate(ctx, e.store.Token, id, graph.TemplateEdit{TTLSeconds: ptr(43200 + i)}); err != nil {
			t.Fatalf("edit %d: %v", i, err)
		}
	}
	err := e.c.EditTemplate(ctx, e.store.Token, id, graph.TemplateEdit{TTLSeconds: ptr(50000)})
	if ge, _ := graph.AsGraphError(err); ge == nil || ge.Code != 100 || ge.Subcode != sandbox.EditLimitSubcode || !strings.Contains(ge.Details, "10 times") {
		t.Fatalf("11th edit: %v", err)
	}
	e.clock.Advance(31 * 24 * time.Hour)
	if err := e.c.EditTemplate(ctx, e.store.Token, id, graph.TemplateEdit{TTLSeconds: ptr(50000)}); err != nil {
		t.Fatalf("after 30 days: %v", err)
	}
	// With limits off, edits are unlimited.
	e2 := newEnv(t, func(o *sandbox.Options) { o.EnforceEditLimits = sandbox.Bool(false) })
	for i := range 12 {
		if err := e2.c.EditTemplate(ctx, e2.store.Token, id, graph.TemplateEdit{TTLSeconds: ptr(43200 + i)}); err != nil {
			t.Fatalf("limits off, edit %d: %v", i, err)
		}
	}
}

func TestWABAOptimizations(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	if err := e.c.SetWABAOptimizations(ctx, e.pharm.Token, e.pharm.ID, map[string]string{"image_touchups": "OPT_IN", "image_end_card": "opt_out"}); err != nil {
		t.Fatal(err)
	}
	w, err := e.c.GetWABA(ctx, e.pharm.Token, e.pharm.ID)
	if err != nil || w.DegreesOfFreedom.Get("image_touchups") != "OPT_IN" || w.DegreesOfFreedom.Get("image_end_card") != "OPT_OUT" || w.Onboarded() {
		t.Fatalf("%+v %v", w, err)
	}
	if err := e.c.SetWABAOptimizations(ctx, e.pharm.Token, e.store.ID, map[string]string{"image_touchups": "OPT_IN"}); codeOf(err) != 100 {
		t.Fatalf("cross-WABA: %v", err)
	}
}

func TestStartClose(t *testing.T) {
	sb := sandbox.New(sandbox.Options{ApproveAfter: time.Hour})
	base, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := graph.New(graph.Options{BaseURL: base, Version: "v24.0"})
	seed := sb.Seed()
	if _, err := c.GetWABA(context.Background(), seed.WABAs[0].Token, seed.WABAs[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTemplate(context.Background(), seed.WABAs[0].Token, seed.WABAs[0].ID, graph.TemplateCreate{
		Name: "later", Language: "en_US", Category: "MARKETING", Components: []graph.TemplateComponent{{Type: "BODY", Text: "x"}}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for len(sb.Deliveries()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	done := make(chan error, 1)
	go func() { done <- sb.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Close did not return")
	}
	if len(sb.Deliveries()) == 0 {
		t.Fatal("PENDING webhook should have been kept in memory")
	}
}

func TestContentEditOncePerDay(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	id := e.tmplID(t, e.store, "summer_sale", "es_MX")
	comps := json.RawMessage(`[{"type":"BODY","text":"Hola {{1}}, hoy hay ofertas.","example":{"body_text":[["Ana"]]}}]`)
	if err := e.c.EditTemplate(ctx, e.store.Token, id, graph.TemplateEdit{Components: comps}); err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, func(ev []map[string]any) bool { return len(ev) >= 2 }) // PENDING, APPROVED
	err := e.c.EditTemplate(ctx, e.store.Token, id, graph.TemplateEdit{Components: comps})
	if ge, _ := graph.AsGraphError(err); ge == nil || ge.Subcode != sandbox.EditLimitSubcode || !strings.Contains(ge.Details, "24 hours") {
		t.Fatalf("second content edit: %v", err)
	}
	e.clock.Advance(25 * time.Hour)
	if err := e.c.EditTemplate(ctx, e.store.Token, id, graph.TemplateEdit{Components: comps}); err != nil {
		t.Fatalf("next day: %v", err)
	}
}
