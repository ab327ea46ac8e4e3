package webhook

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"mmconsole/models"
)

// tenant is an account with one connection (its own WABA and phone number), an approved
// template and a message read through MM API.
type tenant struct {
	account, conn     uint
	waba, phone       string
	templateID, wamid string
}

// sentUnix is when each tenant's message was sent (just before the clicks of forged).
const sentUnix = 1750039000

func newTenant(t *testing.T, db *gorm.DB, name, waba, phone, templateID, wamid string) tenant {
	t.Helper()
	a := models.Account{Name: name}
	if err := db.Create(&a).Error; err != nil {
		t.Fatal(err)
	}
	c := models.WABAConnection{AccountID: a.ID, WABAID: waba, TokenSealed: []byte("x"), AppSecretSealed: []byte("sealed")}
	if err := db.Create(&c).Error; err != nil {
		t.Fatal(err)
	}
	tn := tenant{account: a.ID, conn: c.ID, waba: waba, phone: phone, templateID: templateID, wamid: wamid}
	tpl := models.Template{AccountID: a.ID, ConnectionID: c.ID, WABAID: waba, TemplateID: templateID, Name: "promo_" + name,
		Language: "en_US", Status: "APPROVED", Category: "MARKETING", Quality: "GREEN"}
	if err := db.Create(&tpl).Error; err != nil {
		t.Fatal(err)
	}
	tplName, lang := tpl.Name, "en_US"
	acct := a.ID
	// Sent shortly before the forged click, so the click would be attributed to it.
	sentAt := time.Unix(sentUnix, 0).UTC()
	m := models.Message{SentAt: &sentAt, WAMID: wamid, AccountID: &acct, WABAID: waba, PhoneNumberID: phone, Recipient: "16505551234",
		TemplateName: &tplName, TemplateLanguage: &lang, Status: models.MessageRead, StatusRank: models.StatusRank(models.MessageRead),
		Route: models.RouteMMAPI, PricingCategory: "marketing_lite"}
	if err := db.Create(&m).Error; err != nil {
		t.Fatal(err)
	}
	return tn
}

func (tn tenant) signer() Signer { return Signer{ConnectionID: tn.conn, AccountID: tn.account} }

// forged is one entry per WABA naming victim's template and message: a REJECTED template status,
// a quality drop, a category change, a failed fallback status with the template's id as
// biz_opaque_callback_data, a click from victim's phone number.
func forged(waba string, victim tenant) string {
	return `{"object":"whatsapp_business_account","entry":[{"id":"` + waba + `","time":1750040000,"changes":[
	{"field":"message_template_status_update","value":{"event":"REJECTED","message_template_id":` + victim.templateID + `,"message_template_name":"x","message_template_language":"en_US","reason":"INCORRECT_CATEGORY"}},
	{"field":"message_template_quality_update","value":{"previous_quality_score":"GREEN","new_quality_score":"RED","message_template_id":"` + victim.templateID + `"}},
	{"field":"template_category_update","value":{"message_template_id":` + victim.templateID + `,"previous_category":"MARKETING","new_category":"UTILITY"}},
	{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"` + victim.phone + `"},
		"statuses":[{"id":"` + victim.wamid + `","status":"failed","timestamp":"1750040001","recipient_id":"16505551234","biz_opaque_callback_data":"` + victim.templateID + `",
			"pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"},"errors":[{"code":131049,"title":"forged"}]},
			{"id":"` + victim.wamid + `","status":"sent","timestamp":"1750040002","recipient_id":"16505551234","biz_opaque_callback_data":"` + victim.templateID + `"}],
		"user_actions":[{"action_type":"marketing_messages_link_click","timestamp":"1750040003","marketing_messages_link_click_data":{"click_component":"cta","click_id":"clk-` + waba + `"}}]}}]}]}`
}

// unchanged fails the test if anything of tn's template or message moved.
func unchanged(t *testing.T, db *gorm.DB, tn tenant) {
	t.Helper()
	var tpl models.Template
	if err := db.Where("template_id = ?", tn.templateID).Take(&tpl).Error; err != nil {
		t.Fatal(err)
	}
	if tpl.AccountID != tn.account || tpl.Status != "APPROVED" || tpl.Category != "MARKETING" || tpl.Quality != "GREEN" ||
		tpl.RejectedReason != "" || tpl.LastSentAt != nil || tpl.QualityAt != nil {
		t.Errorf("template %s of account %d changed: %+v", tn.templateID, tn.account, tpl)
	}
	m := message(t, db, tn.wamid)
	if m.AccountID == nil || *m.AccountID != tn.account || m.Status != models.MessageRead || m.Route != models.RouteMMAPI ||
		m.PricingCategory != "marketing_lite" || m.ErrorCode != nil || m.FailedAt != nil || m.SentAt == nil || m.SentAt.Unix() != sentUnix || m.ClickedAt != nil {
		t.Errorf("message %s of account %d changed: %+v", tn.wamid, tn.account, m)
	}
}

func TestConnectionSecretSpeaksOnlyForItsAccount(t *testing.T) {
	db := testDB(t)
	a := newTenant(t, db, "A", "100001", "500001", "9001", "wamid.A")
	b := newTenant(t, db, "B", "200002", "500002", "9002", "wamid.B")
	s := newService(t, db)
	ctx := context.Background()

	// Signed with B's own secret, naming A's WABA, template and wamid.
	r, err := s.Ingest(ctx, Delivery{Body: []byte(forged(a.waba, a)), RemoteAddr: "127.0.0.1", Signer: b.signer()})
	if err != nil {
		t.Fatal(err)
	}
	if r.Events != 0 || r.Refused != 6 {
		t.Errorf("result %+v, want 0 events stored and 6 refused", r)
	}
	unchanged(t, db, a)
	var n int64
	db.Model(&models.WebhookEvent{}).Where("delivery_id = ?", r.DeliveryID).Count(&n)
	if n != 0 {
		t.Errorf("%d events of the refused entry stored as events", n)
	}
	var d models.WebhookDelivery
	db.Take(&d, r.DeliveryID)
	if d.VerifiedBy != fmt.Sprintf("connection:%d", b.conn) {
		t.Errorf("delivery verified_by %q", d.VerifiedBy)
	}
	// Listed as refused, for staff only.
	refs, err := s.Refusals(ctx, models.Scope{AllAccounts: true}, 10)
	if err != nil || len(refs) != 1 {
		t.Fatalf("refusals %v %v", refs, err)
	}
	if got := refs[0]; got.DeliveryID != r.DeliveryID || got.WABAID != a.waba || got.Events != 6 || got.Reason != RefusedEntry || got.VerifiedBy != d.VerifiedBy {
		t.Errorf("refusal %+v", got)
	}
	for _, sc := range []models.Scope{{AccountID: a.account}, {AccountID: b.account}} {
		if refs, _ := s.Refusals(ctx, sc, 10); len(refs) != 0 {
			t.Errorf("account %d sees refusals", sc.AccountID)
		}
	}

	// A delivery mixing both WABAs under B's secret: B's entry takes effect, A's is refused.
	mixed := `{"object":"whatsapp_business_account","entry":[` +
		`{"id":"` + b.waba + `","changes":[{"field":"message_template_quality_update","value":{"previous_quality_score":"GREEN","new_quality_score":"YELLOW","message_template_id":"` + b.templateID + `"}}]},` +
		`{"id":"` + a.waba + `","changes":[{"field":"message_template_quality_update","value":{"previous_quality_score":"GREEN","new_quality_score":"RED","message_template_id":"` + a.templateID + `"}}]},` +
		`{"id":"777777","changes":[{"field":"message_template_quality_update","value":{"previous_quality_score":"GREEN","new_quality_score":"RED","message_template_id":"` + a.templateID + `"}}]}]}`
	r, err = s.Ingest(ctx, Delivery{Body: []byte(mixed), Signer: b.signer()})
	if err != nil || r.Events != 1 || r.Refused != 2 {
		t.Fatalf("mixed: %+v %v", r, err)
	}
	unchanged(t, db, a)
	var tb models.Template
	db.Where("template_id = ?", b.templateID).Take(&tb)
	if tb.Quality != "YELLOW" {
		t.Errorf("B's own entry had no effect: quality %q", tb.Quality)
	}
	var ev models.WebhookEvent
	db.Where("delivery_id = ?", r.DeliveryID).Take(&ev)
	if ev.AccountID == nil || *ev.AccountID != b.account || ev.WABAID != b.waba {
		t.Errorf("B's event %+v", ev)
	}
	db.Model(&models.WebhookRefusal{}).Where("delivery_id = ?", r.DeliveryID).Count(&n)
	if n != 2 {
		t.Errorf("%d refusals for A's and the unconnected WABA's entries, want 2", n)
	}

	// A connection deleted after its secret was indexed covers nothing any more.
	db.Delete(&models.WABAConnection{}, b.conn)
	r, err = s.Ingest(ctx, Delivery{Body: []byte(forged(b.waba, b)), Signer: b.signer()})
	if err != nil || r.Events != 0 || r.Refused != 6 {
		t.Errorf("deleted connection's secret: %+v %v", r, err)
	}

	// MMC_APP_SECRET speaks for every WABA: the same body now takes effect on A.
	r, err = s.Ingest(ctx, Delivery{Body: []byte(forged(a.waba, a))})
	if err != nil || r.Events != 6 || r.Refused != 0 {
		t.Fatalf("app secret: %+v %v", r, err)
	}
	var ta models.Template
	db.Where("template_id = ?", a.templateID).Take(&ta)
	if ta.Status != "REJECTED" || ta.Quality != "RED" || ta.Category != "UTILITY" || ta.LastSentAt == nil {
		t.Errorf("app-signed template events had no effect: %+v", ta)
	}
	if m := message(t, db, a.wamid); m.Status != models.MessageFailed || m.Route != models.RouteCloudAPI { // not a dashboard send: /messages
		t.Errorf("app-signed status had no effect: %+v", m)
	}
	d = models.WebhookDelivery{}
	db.Take(&d, r.DeliveryID)
	if d.VerifiedBy != "app" {
		t.Errorf("verified_by %q, want app", d.VerifiedBy)
	}
}

// Ids Meta gives are unique, but a delivery is outside input: an event of one account's WABA
// naming another account's template id or wamid (whoever signed it) must not touch it, and must
// not take the other's event's place as a "duplicate".
func TestIDCollisionsAcrossAccounts(t *testing.T) {
	db := testDB(t)
	a := newTenant(t, db, "A", "100001", "500001", "9001", "wamid.A")
	b := newTenant(t, db, "B", "200002", "500002", "9002", "wamid.B")
	s := newService(t, db)
	ctx := context.Background()

	cases := []struct {
		name   string
		waba   string
		signer Signer
	}{
		{"B's secret, B's WABA", b.waba, b.signer()},
		{"app secret, B's WABA", b.waba, Signer{}},
		{"app secret, a WABA nobody connected", "999999", Signer{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Same phone number id as A's too, so the click looks like one of A's.
			r, err := s.Ingest(ctx, Delivery{Body: []byte(forged(c.waba, a)), Signer: c.signer})
			// The second case repeats the first one's WABA: its events are that WABA's duplicates.
			if err != nil || r.Events+r.Duplicates != 6 || r.Refused != 0 {
				t.Fatalf("%+v %v", r, err)
			}
			unchanged(t, db, a)
			unchanged(t, db, b)
			// Stored as events of the WABA that sent them, in its account's log only.
			var evs []models.WebhookEvent
			db.Where("delivery_id = ?", r.DeliveryID).Find(&evs)
			for _, e := range evs {
				if e.WABAID != c.waba || (e.AccountID != nil && *e.AccountID == a.account) {
					t.Errorf("event %s stored as A's: %+v", e.Kind, e)
				}
				// A click names no message: attributing it to A's would show A's wamid in
				// another party's log.
				if e.Kind == models.KindClick && e.WAMID == a.wamid {
					t.Errorf("click attributed to another account's message: %+v", e)
				}
			}
			if st, err := s.Message(ctx, models.Scope{AccountID: a.account}, a.wamid); err != nil || len(st.Events) != 0 {
				t.Errorf("A's message page shows %d foreign events (%v)", len(st.Events), err)
			}
		})
	}

	// A's own, genuine events with the same content are not taken for duplicates.
	r, err := s.Ingest(ctx, Delivery{Body: []byte(forged(a.waba, a))})
	if err != nil || r.Events != 6 || r.Duplicates != 0 {
		t.Fatalf("A's genuine delivery: %+v %v", r, err)
	}
	if m := message(t, db, a.wamid); m.Status != models.MessageFailed || m.ErrorCode == nil {
		t.Errorf("A's genuine status had no effect: %+v", m)
	}
}

// A refused entry asks for no follow-up either: an account update naming another account's WABA
// does not make the dashboard re-read that WABA.
func TestRefusedAccountUpdateAsksNothing(t *testing.T) {
	db := testDB(t)
	a := newTenant(t, db, "A", "100001", "500001", "9001", "wamid.A")
	b := newTenant(t, db, "B", "200002", "500002", "9002", "wamid.B")
	rec := &termsRecorder{}
	s := New(db, NewMetrics(), Options{Followups: rec})
	t.Cleanup(func() { s.Close() })
	r, err := s.Ingest(context.Background(), Delivery{Body: []byte(termsBody(a.waba, "MM_LITE_TERMS_SIGNED", "1750030000")), Signer: b.signer()})
	if err != nil || r.Refused != 1 {
		t.Fatalf("%+v %v", r, err)
	}
	// B's own WABA, same secret: followed up, with B's account.
	if _, err := s.Ingest(context.Background(), Delivery{Body: []byte(termsBody(b.waba, "MM_LITE_TERMS_SIGNED", "1750030000")), Signer: b.signer()}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if want := b.waba + "@" + itoa(b.account); len(rec.calls) != 1 || rec.calls[0] != want {
		t.Errorf("re-reads asked = %v, want [%s]", rec.calls, want)
	}
}

// Whether a Cloud API status is MM API falling back is read from the dashboard's send of that
// wamid in the event's own account: an event of B's WABA naming a wamid A sent to
// /marketing_messages stays Cloud API in B's log (marking it fallback would tell B which of
// another account's wamids the dashboard sent), while A's own event of it is fallback.
func TestFallbackIsDecidedWithinTheEventsAccount(t *testing.T) {
	db := testDB(t)
	a := newTenant(t, db, "A", "100001", "500001", "9001", "wamid.A")
	b := newTenant(t, db, "B", "200002", "500002", "9002", "wamid.B")
	if err := db.Model(&models.Message{}).Where("wamid = ?", a.wamid).Update("send_request", `{"to":"16505551234"}`).Error; err != nil {
		t.Fatal(err)
	}
	s := newService(t, db)
	ctx := context.Background()
	status := func(waba, phone string) string {
		return `{"object":"whatsapp_business_account","entry":[{"id":"` + waba + `","changes":[{"field":"messages","value":{
			"messaging_product":"whatsapp","metadata":{"phone_number_id":"` + phone + `"},
			"statuses":[{"id":"` + a.wamid + `","status":"delivered","timestamp":"1750040001","recipient_id":"16505551234",
				"pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"}}]}}]}]}`
	}
	for _, c := range []struct {
		name, waba, phone, want string
	}{
		{"B's WABA naming A's wamid", b.waba, b.phone, models.RouteCloudAPI},
		{"A's own WABA", a.waba, a.phone, models.RouteFallback},
	} {
		r, err := s.Ingest(ctx, Delivery{Body: []byte(status(c.waba, c.phone))})
		if err != nil || r.Events != 1 {
			t.Fatalf("%s: %+v %v", c.name, r, err)
		}
		var ev models.WebhookEvent
		if err := db.Where("delivery_id = ?", r.DeliveryID).Take(&ev).Error; err != nil {
			t.Fatal(err)
		}
		if ev.Route != c.want {
			t.Errorf("%s: event route %q, want %q", c.name, ev.Route, c.want)
		}
	}
}

// A message's page shows the events of that message: for staff, who see every account, the
// events of another account's WABA naming the same wamid are not among them, while events of
// the message's WABA stored before any account connected it are.
func TestMessageEventsAreTheMessagesAccounts(t *testing.T) {
	db := testDB(t)
	a := newTenant(t, db, "A", "100001", "500001", "9001", "wamid.A")
	b := newTenant(t, db, "B", "200002", "500002", "9002", "wamid.B")
	s := newService(t, db)
	ctx := context.Background()
	status := func(waba, st string) string {
		return `{"object":"whatsapp_business_account","entry":[{"id":"` + waba + `","changes":[{"field":"messages","value":{
			"messaging_product":"whatsapp","metadata":{"phone_number_id":"500009"},
			"statuses":[{"id":"wamid.shared","status":"` + st + `","timestamp":"1750040001","recipient_id":"16505551234"}]}}]}]}`
	}
	// First seen for a WABA nobody had connected; A connects it later.
	for _, d := range []struct{ waba, status string }{{"300003", "sent"}, {b.waba, "failed"}} {
		if r, err := s.Ingest(ctx, Delivery{Body: []byte(status(d.waba, d.status))}); err != nil || r.Events != 1 {
			t.Fatalf("%s: %+v %v", d.waba, r, err)
		}
	}
	if err := db.Create(&models.WABAConnection{AccountID: a.account, WABAID: "300003", TokenSealed: []byte("x")}).Error; err != nil {
		t.Fatal(err)
	}
	if r, err := s.Ingest(ctx, Delivery{Body: []byte(status("300003", "delivered"))}); err != nil || r.Events != 1 {
		t.Fatalf("A's delivered: %+v %v", r, err)
	}
	st, err := s.Message(ctx, models.Scope{AllAccounts: true}, "wamid.shared")
	if err != nil {
		t.Fatal(err)
	}
	if st.Message.AccountID == nil || *st.Message.AccountID != a.account {
		t.Fatalf("message %+v, want A's", st.Message)
	}
	var got []string
	for _, e := range st.Events {
		got = append(got, e.WABAID+":"+e.Status)
	}
	if fmt.Sprint(got) != "[300003:sent 300003:delivered]" {
		t.Errorf("staff see the message's events %v, want A's WABA's sent and delivered only", got)
	}
}
