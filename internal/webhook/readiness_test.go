package webhook

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"mmconsole/models"
)

// termsRecorder records the re-reads the writer asks for.
type termsRecorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *termsRecorder) TermsSigned(accountID uint, wabaID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, wabaID+"@"+itoa(accountID))
}

func itoa(n uint) string { return strconv.FormatUint(uint64(n), 10) }

func termsBody(waba, event, ts string) string {
	return `{"object":"whatsapp_business_account","entry":[{"id":"` + waba + `","time":` + ts + `,"changes":[{"field":"account_update","value":{"event":"` + event + `","waba_info":{"owner_business_id":"9","waba_id":"` + waba + `"}}}]}]}`
}

// MM_LITE_TERMS_SIGNED asks for a re-read of that WABA's onboarding, once, after the commit and
// with the owning account; other account updates, unconnected WABAs and duplicates ask nothing.
func TestTermsSignedAsksForAnOnboardingReRead(t *testing.T) {
	db := testDB(t)
	acct := connect(t, db, "Pharma", "200")
	rec := &termsRecorder{}
	s := New(db, NewMetrics(), Options{Followups: rec})
	t.Cleanup(func() { s.Close() })

	ingest(t, s, termsBody("200", "MM_LITE_TERMS_SIGNED", "1750030000"))
	ingest(t, s, termsBody("200", "MM_LITE_TERMS_SIGNED", "1750030000")) // Meta's retry: a duplicate
	ingest(t, s, termsBody("200", "ACCOUNT_VIOLATION", "1750030001"))
	ingest(t, s, termsBody("404", "MM_LITE_TERMS_SIGNED", "1750030002")) // nobody connected it
	s.Close()
	want := "200@" + itoa(acct)
	if len(rec.calls) != 1 || rec.calls[0] != want {
		t.Fatalf("re-reads asked = %v, want [%s]", rec.calls, want)
	}
	var n int64
	db.Model(&models.WebhookEvent{}).Where("kind = ?", models.KindAccountUpdate).Count(&n)
	if n != 3 {
		t.Errorf("account_update events stored = %d, want 3", n)
	}
}

func prefBody(waba, waID, category, value, ts string) string {
	return `{"object":"whatsapp_business_account","entry":[{"id":"` + waba + `","changes":[{"field":"user_preferences","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"p` + waba + `"},"user_preferences":[{"wa_id":"` + waID + `","detail":"User requested to ` + value + ` marketing messages","category":"` + category + `","value":"` + value + `","timestamp":` + ts + `}]}}]}]}`
}

// user_preferences keep each recipient's latest marketing preference per WABA and account: a
// later one replaces it, an older one delivered late does not, and other WABAs, other accounts,
// unconnected WABAs and other categories are untouched.
func TestUserPreferencesKeepTheLatestPerWABA(t *testing.T) {
	db := testDB(t)
	a := connect(t, db, "Shop", "100")
	b := connect(t, db, "Other", "300")
	s := newService(t, db)
	ctx := t.Context()
	get := func(acct uint, waba string) (models.MarketingPreference, bool) {
		p, found, err := s.MarketingPreference(ctx, acct, waba, "16505551234")
		if err != nil {
			t.Fatal(err)
		}
		return p, found
	}

	ingest(t, s, prefBody("100", "16505551234", "marketing_messages", "stop", "1750030000"))
	if p, ok := get(a, "100"); !ok || !p.Stopped() || p.At.Unix() != 1750030000 {
		t.Fatalf("after stop: %+v %v", p, ok)
	}
	ingest(t, s, prefBody("100", "16505551234", "marketing_messages", "resume", "1750030100"))
	ingest(t, s, prefBody("100", "16505551234", "marketing_messages", "stop", "1750030050")) // older, late
	if p, _ := get(a, "100"); p.Value != models.PreferenceResume || p.At.Unix() != 1750030100 {
		t.Fatalf("latest = %+v, want the resume of 1750030100", p)
	}
	ingest(t, s, prefBody("300", "16505551234", "marketing_messages", "stop", "1750030200"))
	ingest(t, s, prefBody("999", "16505551234", "marketing_messages", "stop", "1750030300")) // nobody connected it
	ingest(t, s, prefBody("100", "16505551234", "other_category", "stop", "1750030400"))
	if p, _ := get(a, "100"); p.Value != models.PreferenceResume {
		t.Errorf("another WABA's or category's stop changed account A's row: %+v", p)
	}
	if _, ok := get(a, "300"); ok {
		t.Error("account A sees account B's WABA preference")
	}
	if p, ok := get(b, "300"); !ok || !p.Stopped() {
		t.Errorf("account B's stop = %+v %v", p, ok)
	}
	var n int64
	db.Model(&models.MarketingPreference{}).Count(&n)
	if n != 2 {
		t.Errorf("preference rows = %d, want 2", n)
	}
}

// The message story carries the recipient's preference for the message's WABA, so the message
// page can explain a 131050 failure.
func TestMessageStoryCarriesThePreference(t *testing.T) {
	db := testDB(t)
	a := connect(t, db, "Shop", "100")
	s := newService(t, db)
	ingest(t, s, prefBody("100", "16505551234", "marketing_messages", "stop", "1750030000"))
	ingest(t, s, statusBody("100", "p100", "wamid.F1", "failed", "1750030500", "", "", `,"errors":[{"code":131050,"title":"Unable to deliver the message"}]`))
	st, err := s.Message(t.Context(), models.Scope{AccountID: a}, "wamid.F1")
	if err != nil {
		t.Fatal(err)
	}
	if st.Preference == nil || !st.Preference.Stopped() {
		t.Fatalf("story preference = %+v", st.Preference)
	}
}

// "Cloud API fallback" is only for a message the dashboard sent to /marketing_messages that came
// back as marketing, whichever came first (the send's record or its webhook); any other
// marketing status is Cloud API (/messages), in the message and in its events.
func TestFallbackOnlyForTheDashboardsOwnMMAPISends(t *testing.T) {
	db := testDB(t)
	acct := connect(t, db, "Shop", "100")
	s := newService(t, db)
	ctx := t.Context()
	accept := func(wamid string) {
		if err := s.RecordAccepted(ctx, Accepted{WAMID: wamid, AccountID: acct, WABAID: "100", PhoneNumberID: "200",
			Recipient: "16505551234", TemplateName: "summer_sale", TemplateLanguage: "en_US", AcceptedAt: time.Now().UTC(),
			SendRequest: `{"to":"16505551234"}`}); err != nil {
			t.Fatal(err)
		}
	}
	eventRoutes := func(wamid string) []string {
		var rs []string
		db.Model(&models.WebhookEvent{}).Where("wamid = ?", wamid).Order("id").Pluck("route", &rs)
		return rs
	}
	// The send's record first, then its webhooks.
	accept("wamid.OWN1")
	ingest(t, s, statusBody("100", "200", "wamid.OWN1", "sent", "1750030073", "marketing", "", ""))
	ingest(t, s, statusBody("100", "200", "wamid.OWN1", "delivered", "1750030074", "marketing", "", ""))
	// A fast webhook first, then the send's record.
	ingest(t, s, statusBody("100", "200", "wamid.OWN2", "sent", "1750030073", "marketing", "", ""))
	accept("wamid.OWN2")
	// Another platform's /messages marketing send on the same number.
	ingest(t, s, statusBody("100", "200", "wamid.OTHER", "sent", "1750030073", "marketing", "", ""))
	// The dashboard's MM API send that went through MM API stays MM API.
	accept("wamid.OWN3")
	ingest(t, s, statusBody("100", "200", "wamid.OWN3", "sent", "1750030073", "marketing_lite", "", ""))

	for _, c := range []struct{ wamid, want string }{
		{"wamid.OWN1", models.RouteFallback}, {"wamid.OWN2", models.RouteFallback},
		{"wamid.OTHER", models.RouteCloudAPI}, {"wamid.OWN3", models.RouteMMAPI},
	} {
		if m := message(t, db, c.wamid); m.Route != c.want {
			t.Errorf("%s message route = %q, want %q", c.wamid, m.Route, c.want)
		}
		for _, r := range eventRoutes(c.wamid) {
			if r != c.want {
				t.Errorf("%s event routes = %v, want all %q", c.wamid, eventRoutes(c.wamid), c.want)
				break
			}
		}
	}
	sent, err := s.ConsoleSent(ctx, models.Scope{AccountID: acct}, []string{"wamid.OWN1", "wamid.OTHER"})
	if err != nil || !sent["wamid.OWN1"] || sent["wamid.OTHER"] {
		t.Errorf("ConsoleSent = %v, %v", sent, err)
	}
	if sent, _ := s.ConsoleSent(ctx, models.Scope{AccountID: acct + 1}, []string{"wamid.OWN1"}); sent["wamid.OWN1"] {
		t.Error("ConsoleSent answers for another account's message")
	}
}

// Rows stored when every "marketing" status meant fallback are relabelled by the migration:
// fallback stays only on the dashboard's own sends.
func TestMigrationRelabelsStoredFallbackRoutes(t *testing.T) {
	db := testDB(t)
	req := `{"to":"1"}`
	for _, m := range []models.Message{
		{WAMID: "wamid.own", Route: models.RouteFallback, SendRequest: &req},
		{WAMID: "wamid.other", Route: models.RouteFallback},
	} {
		if err := db.Create(&m).Error; err != nil {
			t.Fatal(err)
		}
	}
	for i, w := range []string{"wamid.own", "wamid.other"} {
		e := models.WebhookEvent{ReceivedAt: time.Now(), Kind: models.KindStatus, WAMID: w, Route: models.RouteFallback, DedupeHash: []byte("k" + strconv.Itoa(i)), Raw: "{}"}
		if err := db.Create(&e).Error; err != nil {
			t.Fatal(err)
		}
	}
	var up func(*gorm.DB) error
	for _, m := range Migrations() {
		if m.ID == "0070_c_cloud_api_route" {
			up = m.Up
		}
	}
	if up == nil {
		t.Fatal("migration 0070_c_cloud_api_route not listed")
	}
	if err := up(db); err != nil {
		t.Fatal(err)
	}
	for w, want := range map[string]string{"wamid.own": models.RouteFallback, "wamid.other": models.RouteCloudAPI} {
		var mr, er string
		db.Model(&models.Message{}).Where("wamid = ?", w).Pluck("route", &mr)
		db.Model(&models.WebhookEvent{}).Where("wamid = ?", w).Pluck("route", &er)
		if mr != want || er != want {
			t.Errorf("%s: message %q event %q, want %q", w, mr, er, want)
		}
	}
}
