package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"

	"mmconsole/internal/accounts"
	"mmconsole/internal/database"
	"mmconsole/models"
)

func testDB(t testing.TB) *gorm.DB {
	t.Helper()
	return database.OpenTest(t, append(accounts.Migrations(), Migrations()...))
}

func newService(t testing.TB, db *gorm.DB) *Service {
	s := New(db, NewMetrics(), Options{})
	t.Cleanup(func() { s.Close() })
	return s
}

// connect creates an account owning waba and returns the account's id.
func connect(t testing.TB, db *gorm.DB, name, waba string) uint {
	t.Helper()
	a := models.Account{Name: name}
	if err := db.Create(&a).Error; err != nil {
		t.Fatal(err)
	}
	c := models.WABAConnection{AccountID: a.ID, WABAID: waba, TokenSealed: []byte("x")}
	if err := db.Create(&c).Error; err != nil {
		t.Fatal(err)
	}
	return a.ID
}

func statusBody(waba, phone, wamid, status string, ts any, pricing, origin string, extra string) string {
	tsJSON := fmt.Sprintf("%v", ts)
	if s, ok := ts.(string); ok {
		tsJSON = `"` + s + `"`
	}
	conv, pr := "", ""
	if origin != "" {
		conv = `,"conversation":{"id":"c1","expiration_timestamp":"1750116480","origin":{"type":"` + origin + `"}}`
	}
	if pricing != "" {
		pr = `,"pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"` + pricing + `"}`
	}
	return `{"object":"whatsapp_business_account","entry":[{"id":"` + waba + `","changes":[{"field":"messages","value":{
	"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"` + phone + `"},
	"statuses":[{"id":"` + wamid + `","status":"` + status + `","timestamp":` + tsJSON + `,"recipient_id":"16505551234"` + conv + pr + extra + `}]}}]}]}`
}

func ingest(t testing.TB, s *Service, body string) Result {
	t.Helper()
	r, err := s.Ingest(context.Background(), Delivery{Body: []byte(body), RemoteAddr: "127.0.0.1"})
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	return r
}

func message(t testing.TB, db *gorm.DB, wamid string) models.Message {
	t.Helper()
	var m models.Message
	if err := db.Where("wamid = ?", wamid).Take(&m).Error; err != nil {
		t.Fatalf("message %s: %v", wamid, err)
	}
	return m
}

func TestRouteAttribution(t *testing.T) {
	cases := []struct {
		name, pricing, origin, wantRoute, wantCategory string
		ts                                             any
	}{
		{"v23 MM API with conversation", "marketing_lite", "marketing_lite", models.RouteMMAPI, "marketing_lite", "1750030073"},
		{"v24 MM API without conversation", "marketing_lite", "", models.RouteMMAPI, "marketing_lite", 1750030073},
		// Not sent by the dashboard to /marketing_messages: an ordinary Cloud API send, inferred.
		{"v23 marketing not sent by the dashboard", "marketing", "marketing", models.RouteCloudAPI, "marketing", "1750030073"},
		{"v24 marketing not sent by the dashboard", "marketing", "", models.RouteCloudAPI, "marketing", 1750030073},
		{"origin only where pricing is absent", "", "marketing_lite", models.RouteMMAPI, "marketing_lite", "1750030073"},
		{"utility shown as it is", "utility", "", models.RouteUnknown, "utility", "1750030073"},
	}
	db := testDB(t)
	s := newService(t, db)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wamid := fmt.Sprintf("wamid.route%d", i)
			r := ingest(t, s, statusBody("100", "200", wamid, "sent", c.ts, c.pricing, c.origin, ""))
			if r.Events != 1 || r.ParseError != "" {
				t.Fatalf("result %+v", r)
			}
			m := message(t, db, wamid)
			if m.Route != c.wantRoute || m.PricingCategory != c.wantCategory {
				t.Errorf("route %q category %q, want %q %q", m.Route, m.PricingCategory, c.wantRoute, c.wantCategory)
			}
			if m.SentAt == nil || m.SentAt.Unix() != 1750030073 {
				t.Errorf("sent_at %v", m.SentAt)
			}
		})
	}
}

func TestStatusNeverMovesBackwards(t *testing.T) {
	db := testDB(t)
	s := newService(t, db)
	steps := []struct{ status, want string }{
		{"sent", "sent"}, {"read", "read"}, {"delivered", "read"}, {"sent", "read"}, {"failed", "failed"}, {"read", "failed"},
	}
	for i, st := range steps {
		ingest(t, s, statusBody("100", "200", "wamid.order", st.status, 1750030000+i, "marketing_lite", "", ""))
		if m := message(t, db, "wamid.order"); m.Status != st.want {
			t.Fatalf("after %s: status %q, want %q", st.status, m.Status, st.want)
		}
	}
	m := message(t, db, "wamid.order")
	if m.DeliveredAt == nil || m.ReadAt == nil || m.FailedAt == nil {
		t.Errorf("timestamps not all kept: %+v", m)
	}
}

func TestDuplicatesStoredOnceAndCounted(t *testing.T) {
	db := testDB(t)
	s := newService(t, db)
	body := statusBody("100", "200", "wamid.dup", "delivered", "1750030073", "marketing_lite", "", "")
	if r := ingest(t, s, body); r.Events != 1 || r.Duplicates != 0 {
		t.Fatalf("first: %+v", r)
	}
	r := ingest(t, s, body)
	if r.Events != 0 || r.Duplicates != 1 {
		t.Fatalf("redelivery: %+v", r)
	}
	var n int64
	db.Model(&models.WebhookEvent{}).Count(&n)
	if n != 1 {
		t.Errorf("events stored %d, want 1", n)
	}
	var d models.WebhookDelivery
	db.Where("id = ?", r.DeliveryID).Take(&d)
	if d.DuplicateCount != 1 {
		t.Errorf("delivery duplicate_count %d, want 1", d.DuplicateCount)
	}
	var deliveries int64
	db.Model(&models.WebhookDelivery{}).Count(&deliveries)
	if deliveries != 2 {
		t.Errorf("deliveries %d, want 2 (every delivery is kept raw)", deliveries)
	}
}

func TestUnparseableBodiesAreStored(t *testing.T) {
	cases := []struct{ name, body string }{
		{"bad JSON", `{"object":`},
		{"wrong shape", `{"hello":"world"}`},
		{"array", `[1,2,3]`},
	}
	db := testDB(t)
	s := newService(t, db)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ingest(t, s, c.body)
			if r.ParseError == "" || r.DeliveryID == 0 {
				t.Fatalf("want a stored delivery with a parse error, got %+v", r)
			}
			d, err := s.Delivery(context.Background(), models.Scope{AllAccounts: true}, r.DeliveryID)
			if err != nil || d.Body != c.body {
				t.Errorf("body %q not kept raw", d.Body)
			}
		})
	}
	t.Run("wrong shape inside a change is kept as unknown", func(t *testing.T) {
		r := ingest(t, s, `{"object":"whatsapp_business_account","entry":[{"id":"100","changes":[{"field":"messages","value":{"statuses":"oops"}}]}]}`)
		if r.ParseError == "" || r.Events != 1 {
			t.Fatalf("%+v", r)
		}
	})
}

func TestEveryPayloadKind(t *testing.T) {
	wrap := func(field, value string) string {
		return `{"object":"whatsapp_business_account","entry":[{"id":"100","time":1750030000,"changes":[{"field":"` + field + `","value":` + value + `}]}]}`
	}
	msgs := func(key, items string) string {
		return wrap("messages", `{"messaging_product":"whatsapp","metadata":{"display_phone_number":"1555","phone_number_id":200},"`+key+`":`+items+`}`)
	}
	cases := []struct {
		name, body, kind, status, detail string
		code                             int
	}{
		{"failed status with errors", statusBody("100", "200", "wamid.f", "failed", "1750030073", "", "", `,"errors":[{"code":131049,"title":"This message was not delivered to maintain healthy ecosystem engagement.","message":"x","error_data":{"details":"In order to maintain a healthy ecosystem engagement, the message failed to be delivered."},"href":"/x"}]`), models.KindStatus, "failed", "In order", 131049},
		{"inbound text", msgs("messages", `[{"from":"16505551234","id":"wamid.in1","timestamp":1750030000,"type":"text","text":{"body":"hello"}}]`), models.KindMessage, "text", "hello", 0},
		{"button reply", msgs("messages", `[{"from":"16505551234","id":"wamid.in2","timestamp":"1750030000","type":"button","button":{"payload":"STOP","text":"Stop promotions"},"context":{"id":"wamid.out"}}]`), models.KindMessage, "button", "button: Stop promotions", 0},
		{"interactive reply", msgs("messages", `[{"from":"16505551234","id":"wamid.in3","timestamp":"1750030000","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"b1","title":"Yes"}}}]`), models.KindMessage, "interactive", "button reply: Yes", 0},
		{"click", msgs("user_actions", `[{"action_type":"marketing_messages_link_click","timestamp":"1750030000","marketing_messages_link_click_data":{"click_component":"cta","product_id":"sku_id","click_id":"clk1","tracking_token":"t"}}]`), models.KindClick, "clicked", "click on cta", 0},
		{"system error", msgs("errors", `[{"code":131042,"title":"Business eligibility payment issue"}]`), models.KindError, "", "", 131042},
		{"template status", wrap("message_template_status_update", `{"event":"REJECTED","message_template_id":123456,"message_template_name":"promo","message_template_language":"en_US","reason":"INVALID_FORMAT","message_template_category":"MARKETING"}`), models.KindTemplateStatus, "REJECTED", "reason INVALID_FORMAT", 0},
		{"template category", wrap("template_category_update", `{"message_template_id":"123456","message_template_name":"promo","message_template_language":"en_US","previous_category":"UTILITY","new_category":"MARKETING"}`), models.KindTemplateCategory, "CHANGED", "UTILITY → MARKETING", 0},
		{"template category notice", wrap("template_category_update", `{"message_template_id":"123456","message_template_name":"promo","message_template_language":"en_US","new_category":"UTILITY","correct_category":"MARKETING","category_update_timestamp":1750116480}`), models.KindTemplateCategory, "IMPENDING", "UTILITY → MARKETING (announced)", 0},
		{"template quality", wrap("message_template_quality_update", `{"previous_quality_score":"GREEN","new_quality_score":"YELLOW","message_template_id":123456,"message_template_name":"promo","message_template_language":"en_US"}`), models.KindTemplateQuality, "YELLOW", "GREEN → YELLOW", 0},
		{"user preferences", wrap("user_preferences", `{"messaging_product":"whatsapp","metadata":{"phone_number_id":"200"},"user_preferences":[{"wa_id":16505551234,"detail":"User requested to stop marketing messages","category":"marketing_messages","value":"stop","timestamp":1750030000}]}`), models.KindUserPreference, "stop", "marketing_messages stop", 0},
		{"account update", wrap("account_update", `{"event":"MM_LITE_TERMS_SIGNED","waba_info":{"owner_business_id":"9","waba_id":"100"}}`), models.KindAccountUpdate, "MM_LITE_TERMS_SIGNED", "MM_LITE_TERMS_SIGNED", 0},
		{"unknown field", wrap("phone_number_quality_update", `{"event":"THROUGHPUT_UPGRADE","display_phone_number":"1555"}`), models.KindUnknown, "", "", 0},
	}
	db := testDB(t)
	s := newService(t, db)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ingest(t, s, c.body)
			if r.Events != 1 || r.ParseError != "" {
				t.Fatalf("result %+v", r)
			}
			var e models.WebhookEvent
			db.Where("delivery_id = ?", r.DeliveryID).Take(&e)
			if e.Kind != c.kind || e.Status != c.status || !strings.HasPrefix(e.Detail, c.detail) {
				t.Errorf("got kind %q status %q detail %q", e.Kind, e.Status, e.Detail)
			}
			if c.code != 0 && (e.ErrorCode == nil || *e.ErrorCode != c.code) {
				t.Errorf("error code %v, want %d", e.ErrorCode, c.code)
			}
			full, err := s.Event(context.Background(), models.Scope{AllAccounts: true}, e.ID)
			if err != nil || !json.Valid([]byte(full.Raw)) || full.Raw == "{}" || e.WABAID != "100" {
				t.Errorf("raw %q (%v) waba %q", full.Raw, err, e.WABAID)
			}
		})
	}
}

func TestTemplateWebhooksUpdateTheTemplate(t *testing.T) {
	db := testDB(t)
	acct := connect(t, db, "Acme", "100")
	ttl := 86400
	tpl := models.Template{AccountID: acct, WABAID: "100", TemplateID: "777", Name: "promo", Language: "en_US", Status: "PENDING", Category: "MARKETING", TTLSeconds: &ttl}
	if err := db.Create(&tpl).Error; err != nil {
		t.Fatal(err)
	}
	s := newService(t, db)
	wrap := func(field, value string, tm int) string {
		return fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"100","time":%d,"changes":[{"field":"%s","value":%s}]}]}`, tm, field, value)
	}
	ingest(t, s, wrap("message_template_status_update", `{"event":"APPROVED","message_template_id":777,"message_template_name":"promo","message_template_language":"en_US","reason":"NONE"}`, 1))
	ingest(t, s, wrap("message_template_quality_update", `{"previous_quality_score":"GREEN","new_quality_score":"RED","message_template_id":"777"}`, 2))
	ingest(t, s, wrap("template_category_update", `{"message_template_id":777,"previous_category":"MARKETING","new_category":"UTILITY"}`, 3))
	var got models.Template
	db.Where("template_id = ?", "777").Take(&got)
	if got.Status != "APPROVED" || got.ApprovedAt == nil || got.Quality != "RED" || got.QualityAt == nil || got.Category != "UTILITY" {
		t.Errorf("template not updated: %+v", got)
	}
	if got.TTLSeconds != nil {
		t.Errorf("TTL after an automatic category update = %d, want none (Meta resets it to null)", *got.TTLSeconds)
	}
	hist, err := s.TemplateHistory(context.Background(), models.Scope{AccountID: acct}, "777")
	if err != nil || len(hist) != 3 {
		t.Fatalf("history %d %v", len(hist), err)
	}
	if other, _ := s.TemplateHistory(context.Background(), models.Scope{AccountID: acct + 1}, "777"); len(other) != 0 {
		t.Errorf("another account sees the history")
	}
	// A sent status for a message the composer recorded marks the template as used.
	name, lang := "promo", "en_US"
	db.Create(&models.Message{WAMID: "wamid.tpl", AccountID: &acct, WABAID: "100", TemplateName: &name, TemplateLanguage: &lang, Status: "accepted", StatusRank: 1, Route: models.RouteUnknown})
	ingest(t, s, statusBody("100", "200", "wamid.tpl", "sent", "1750030073", "marketing_lite", "", ""))
	db.Where("template_id = ?", "777").Take(&got)
	if got.LastSentAt == nil || got.LastSentAt.Unix() != 1750030073 {
		t.Errorf("last_sent_at %v", got.LastSentAt)
	}
	m := message(t, db, "wamid.tpl")
	if m.Status != "sent" || m.TemplateName == nil || *m.TemplateName != "promo" {
		t.Errorf("composer's row not kept: %+v", m)
	}
}

func TestClickAttribution(t *testing.T) {
	db := testDB(t)
	s := newService(t, db)
	click := func(id string) string {
		return `{"object":"whatsapp_business_account","entry":[{"id":"100","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"200"},"user_actions":[{"action_type":"marketing_messages_link_click","timestamp":"1750030100","marketing_messages_link_click_data":{"click_component":"cta","click_id":"` + id + `"}}]}}]}]}`
	}
	ingest(t, s, statusBody("100", "200", "wamid.one", "sent", "1750030073", "marketing_lite", "", ""))
	r := ingest(t, s, click("c1"))
	var e models.WebhookEvent
	db.Where("delivery_id = ?", r.DeliveryID).Take(&e)
	if e.WAMID != "wamid.one" || message(t, db, "wamid.one").ClickedAt == nil {
		t.Fatalf("unambiguous click not attributed: %+v", e)
	}
	ingest(t, s, statusBody("100", "200", "wamid.two", "sent", "1750030080", "marketing_lite", "", ""))
	r = ingest(t, s, click("c2"))
	e = models.WebhookEvent{}
	db.Where("delivery_id = ?", r.DeliveryID).Take(&e)
	if e.WAMID != "" || !strings.Contains(e.Detail, "not attributed") {
		t.Errorf("ambiguous click attributed: %+v", e)
	}
}

func TestTenancy(t *testing.T) {
	db := testDB(t)
	a := connect(t, db, "A", "100")
	b := connect(t, db, "B", "101")
	s := newService(t, db)
	ingest(t, s, statusBody("100", "200", "wamid.a", "sent", "1", "marketing_lite", "", ""))
	ingest(t, s, statusBody("999", "299", "wamid.orphan", "sent", "1", "marketing_lite", "", ""))
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		scope models.Scope
		want  int
	}{{"owner", models.Scope{AccountID: a}, 1}, {"other account", models.Scope{AccountID: b}, 0}, {"staff", models.Scope{AllAccounts: true}, 2}} {
		p, err := s.List(ctx, c.scope, Filter{}, nil, 50)
		if err != nil || len(p.Events) != c.want || p.Total != int64(c.want) {
			t.Errorf("%s: %d events (total %d), want %d (%v)", c.name, len(p.Events), p.Total, c.want, err)
		}
	}
	if _, err := s.Message(ctx, models.Scope{AccountID: b}, "wamid.a"); err != models.ErrNotFound {
		t.Errorf("another account's message: %v", err)
	}
	if _, err := s.Message(ctx, models.Scope{AccountID: a}, "wamid.orphan"); err != models.ErrNotFound {
		t.Errorf("unconnected WABA's message visible to an account: %v", err)
	}
	if _, err := s.Message(ctx, models.Scope{AllAccounts: true}, "wamid.orphan"); err != nil {
		t.Errorf("staff: %v", err)
	}
}

func TestFiltersAndKeyset(t *testing.T) {
	db := testDB(t)
	s := newService(t, db)
	for i := range 7 {
		pricing := "marketing_lite"
		if i%2 == 1 {
			pricing = "marketing"
		}
		ingest(t, s, statusBody("100", "200", fmt.Sprintf("wamid.k%d", i), "sent", 1750030000+i, pricing, "", ""))
	}
	ctx, staff := context.Background(), models.Scope{AllAccounts: true}
	var seen []string
	var cur *Cursor
	for {
		p, err := s.List(ctx, staff, Filter{Route: models.RouteMMAPI}, cur, 2)
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != 4 {
			t.Fatalf("total %d, want 4", p.Total)
		}
		for _, e := range p.Events {
			seen = append(seen, e.WAMID)
		}
		if p.Next == nil {
			break
		}
		cur = p.Next
	}
	if strings.Join(seen, ",") != "wamid.k6,wamid.k4,wamid.k2,wamid.k0" {
		t.Errorf("pages %v", seen)
	}
	code := 5
	if p, _ := s.List(ctx, staff, Filter{ErrorCode: &code, Kind: models.KindStatus}, nil, 10); len(p.Events) != 0 {
		t.Errorf("error code filter")
	}
	first, _ := s.List(ctx, staff, Filter{}, nil, 1)
	newer, _ := s.Newer(ctx, staff, Filter{}, Cursor{At: first.Events[0].ReceivedAt, ID: first.Events[0].ID})
	if len(newer) != 0 {
		t.Errorf("nothing is newer than the newest")
	}
	ingest(t, s, statusBody("100", "200", "wamid.k9", "sent", 1750030100, "marketing", "", ""))
	newer, _ = s.Newer(ctx, staff, Filter{}, Cursor{At: first.Events[0].ReceivedAt, ID: first.Events[0].ID})
	if len(newer) != 1 || newer[0].WAMID != "wamid.k9" {
		t.Errorf("live tail: %+v", newer)
	}
}

func TestConcurrentDeliveriesAllCommitted(t *testing.T) {
	db := testDB(t)
	s := newService(t, db)
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := s.Ingest(context.Background(), Delivery{Body: []byte(statusBody("100", "200", fmt.Sprintf("wamid.c%d", i), "sent", "1", "marketing_lite", "", ""))})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var events, msgs int64
	db.Model(&models.WebhookEvent{}).Count(&events)
	db.Model(&models.Message{}).Count(&msgs)
	if events != n || msgs != n {
		t.Errorf("events %d messages %d, want %d", events, msgs, n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest(context.Background(), Delivery{Body: []byte("{}")}); err != ErrClosed {
		t.Errorf("after Close: %v", err)
	}
}

func TestSignature(t *testing.T) {
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"111","changes":[]}]}`)
	secret, other := []byte("app-secret"), []byte("connection-secret")
	conn := Signer{ConnectionID: 7, AccountID: 3}
	withConn := SecretIndex{App: secret, ByWABA: map[string][]Secret{"111": {{Key: other, Signer: conn}}}, Others: []Secret{{Key: other, Signer: conn}}}
	// The connection owns another WABA: it is recognised among the others (its entries will be
	// refused), or not at all when it is not listed.
	elsewhere := SecretIndex{App: secret, ByWABA: map[string][]Secret{"222": {{Key: other, Signer: conn}}}, Others: []Secret{{Key: other, Signer: conn}}}
	unlisted := SecretIndex{App: secret, ByWABA: map[string][]Secret{"222": {{Key: other, Signer: conn}}}}
	altered := append([]byte{}, body...)
	altered[5] ^= 1
	cases := []struct {
		name   string
		body   []byte
		header string
		idx    SecretIndex
		want   error
		signer Signer
	}{
		{"valid", body, Sign(body, secret), SecretIndex{App: secret}, nil, Signer{}},
		{"per-connection secret of the named WABA", body, Sign(body, other), withConn, nil, conn},
		{"per-connection secret of another WABA", body, Sign(body, other), elsewhere, nil, conn},
		{"per-connection secret not indexed", body, Sign(body, other), unlisted, ErrBadSignature, Signer{}},
		{"app secret wins over a connection's", body, Sign(body, secret), withConn, nil, Signer{}},
		{"missing", body, "", SecretIndex{App: secret}, ErrNoSignature, Signer{}},
		{"wrong", body, "sha256=" + strings.Repeat("0", 64), SecretIndex{App: secret}, ErrBadSignature, Signer{}},
		{"wrong secret", body, Sign(body, []byte("nope")), withConn, ErrBadSignature, Signer{}},
		{"altered by one byte", altered, Sign(body, secret), SecretIndex{App: secret}, ErrBadSignature, Signer{}},
		{"no prefix", body, "abc", SecretIndex{App: secret}, ErrMalformedSig, Signer{}},
		{"short digest", body, "sha256=abcd", SecretIndex{App: secret}, ErrMalformedSig, Signer{}},
		{"not hex", body, "sha256=" + strings.Repeat("z", 64), SecretIndex{App: secret}, ErrMalformedSig, Signer{}},
		{"no secret configured", body, Sign(body, secret), SecretIndex{}, ErrBadSignature, Signer{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := VerifySignature(c.body, c.header, fixedIndex{idx: c.idx})
			if err != c.want || got.String() != c.signer.String() {
				t.Errorf("got %v %v, want %v %v", got, err, c.signer, c.want)
			}
		})
	}
}

// fixedIndex is a secret source that counts how often it is read.
type fixedIndex struct {
	idx   SecretIndex
	reads *int
}

func (f fixedIndex) Index() SecretIndex {
	if f.reads != nil {
		*f.reads++
	}
	return f.idx
}

// TestSignatureCost checks the bounds of what a badly signed post costs: no secret is even read
// for a missing or malformed header, and a well-formed wrong signature tries a capped number.
func TestSignatureCost(t *testing.T) {
	// A thousand connections of one account, each with its own secret, all indexed under the
	// WABA the forged body names.
	var list []Secret
	for i := range 1000 {
		list = append(list, Secret{Key: []byte(fmt.Sprintf("secret-%d", i)), Signer: Signer{ConnectionID: uint(i + 1), AccountID: 1}})
	}
	idx := SecretIndex{App: []byte("app"), ByWABA: map[string][]Secret{"111": list}, Others: list}
	// The same secrets reached only through the others (the body names a WABA nobody connected).
	unnamed := SecretIndex{App: []byte("app"), ByWABA: map[string][]Secret{"222": list}, Others: list}
	body := []byte(`{"entry":[{"id":"111"}]}`)

	t.Run("malformed or missing header reads no secret", func(t *testing.T) {
		for _, h := range []string{"", "sha1=abc", "sha256=" + strings.Repeat("0", 63), "sha256=" + strings.Repeat("g", 64)} {
			reads := 0
			if _, err := VerifySignature(body, h, fixedIndex{idx: idx, reads: &reads}); err == nil {
				t.Fatalf("%q accepted", h)
			}
			if reads != 0 {
				t.Errorf("%q: the secret index was read %d times, want 0 (no HMAC at all)", h, reads)
			}
		}
	})
	t.Run("a secret beyond the cap is not tried", func(t *testing.T) {
		// Signed with the secret listed right after the cap: verification must give up first.
		late := list[MaxConnectionSecretsTried]
		if _, err := VerifySignature(body, Sign(body, late.Key), fixedIndex{idx: idx}); err != ErrBadSignature {
			t.Errorf("secret #%d of one WABA verified: %v; at most %d may be tried", MaxConnectionSecretsTried+1, err, MaxConnectionSecretsTried)
		}
		last := list[MaxConnectionSecretsTried-1]
		if s, err := VerifySignature(body, Sign(body, last.Key), fixedIndex{idx: idx}); err != nil || s.ConnectionID != last.Signer.ConnectionID {
			t.Errorf("secret #%d: %v %v, want it tried", MaxConnectionSecretsTried, s, err)
		}
		if _, err := VerifySignature(body, Sign(body, late.Key), fixedIndex{idx: unnamed}); err != ErrBadSignature {
			t.Errorf("secret #%d among the others verified: %v", MaxConnectionSecretsTried+1, err)
		}
		if s, err := VerifySignature(body, Sign(body, last.Key), fixedIndex{idx: unnamed}); err != nil || s.ConnectionID != last.Signer.ConnectionID {
			t.Errorf("secret #%d among the others: %v %v, want it tried", MaxConnectionSecretsTried, s, err)
		}
	})
}

func TestHandshake(t *testing.T) {
	cases := []struct {
		name, mode, token, configured string
		ok                            bool
	}{
		{"good", "subscribe", "tok", "tok", true},
		{"wrong token", "subscribe", "bad", "tok", false},
		{"wrong mode", "unsubscribe", "tok", "tok", false},
		{"empty configured token", "subscribe", "", "", false},
	}
	for _, c := range cases {
		got, ok := VerifyHandshake(c.mode, c.token, "ch4ll", c.configured)
		if ok != c.ok || (ok && got != "ch4ll") {
			t.Errorf("%s: %q %v", c.name, got, ok)
		}
	}
}
