package app

import (
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"mmconsole/internal/webhook"
	"mmconsole/models"
)

// postWebhook posts body to Meta's callback signed with secret and returns the status code.
func (f *fixture) postWebhook(body string, secret []byte) int {
	f.t.Helper()
	req := httptest.NewRequest("POST", "/webhooks/whatsapp", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", webhook.Sign([]byte(body), secret))
	resp, _ := do(f.t, f.a, req)
	return resp.StatusCode
}

// setAppSecret stores secret as connection id's own app secret.
func (f *fixture) setAppSecret(id uint, secret string) {
	f.t.Helper()
	sealed, err := f.box().Seal(secret)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.a.DB().Model(&models.WABAConnection{}).Where("id = ?", id).Update("app_secret_sealed", sealed).Error; err != nil {
		f.t.Fatal(err)
	}
}

// The forgery, end to end: account B's admin stored an app secret on B's connection and
// signs, with it, a template rejection and a failed status for account A's template and message.
func TestForgedDeliveryOfAnotherAccountIsRefused(t *testing.T) {
	f := newFixture(t)
	connB := models.WABAConnection{AccountID: f.accB.ID, WABAID: "654321", TokenSealed: []byte("x"), API: models.APIMeta}
	if err := f.a.DB().Create(&connB).Error; err != nil {
		t.Fatal(err)
	}
	f.setAppSecret(f.connA.ID, "secret-of-account-a")
	f.setAppSecret(connB.ID, "secret-of-account-b")

	forgery := func(waba, event string) string {
		return `{"object":"whatsapp_business_account","entry":[{"id":"` + waba + `","time":1750040000,"changes":[
		{"field":"message_template_status_update","value":{"event":"` + event + `","message_template_id":` + stubTemplateID + `,"message_template_name":"acme_sale","message_template_language":"en_US","reason":"INCORRECT_CATEGORY"}},
		{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1099"},
			"statuses":[{"id":"` + stubWAMID + `","status":"failed","timestamp":"1750040001","recipient_id":"16505551234",
				"pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"},"errors":[{"code":131049,"title":"forged"}]}]}}]}]}`
	}
	state := func() (string, string) {
		var tpl models.Template
		var m models.Message
		f.a.DB().Where("template_id = ?", stubTemplateID).Take(&tpl)
		f.a.DB().Where("wamid = ?", stubWAMID).Take(&m)
		return tpl.Status, m.Status
	}

	// Signed with B's secret: accepted (Meta must not retry it), changes nothing of A's.
	if code := f.postWebhook(forgery(f.connA.WABAID, "REJECTED"), []byte("secret-of-account-b")); code != 200 {
		t.Fatalf("B-signed delivery answered %d", code)
	}
	if tpl, msg := state(); tpl != "APPROVED" || msg != "sent" {
		t.Errorf("A's template %s and message %s after B's forgery, want APPROVED and sent", tpl, msg)
	}
	var d models.WebhookDelivery
	f.a.DB().Order("id DESC").Take(&d)
	if want := fmt.Sprintf("connection:%d", connB.ID); d.VerifiedBy != want {
		t.Errorf("verified_by %q, want %q", d.VerifiedBy, want)
	}
	// Staff see it refused on /log; A's admin and B's admin do not see the refusal panel.
	_, staff := f.get("staff-admin", "/log")
	if !strings.Contains(staff, "Refused entries") || !strings.Contains(staff, webhook.RefusedEntry) || !strings.Contains(staff, f.connA.WABAID) {
		t.Error("staff's /log does not list the refused entry")
	}
	for _, role := range []string{"admin", "other-admin"} {
		if _, body := f.get(role, "/log"); strings.Contains(body, "Refused entries") || strings.Contains(body, webhook.RefusedEntry) {
			t.Errorf("%s sees refused entries", role)
		}
	}

	// A's own secret speaks for A's WABA.
	if code := f.postWebhook(forgery(f.connA.WABAID, "PAUSED"), []byte("secret-of-account-a")); code != 200 {
		t.Fatalf("A-signed delivery answered %d", code)
	}
	if tpl, msg := state(); tpl != "PAUSED" || msg != "failed" {
		t.Errorf("A-signed delivery: template %s, message %s; want PAUSED and failed", tpl, msg)
	}
	// MMC_APP_SECRET speaks for every WABA.
	if code := f.postWebhook(forgery(f.connA.WABAID, "REINSTATED"), []byte(f.a.appSecret)); code != 200 {
		t.Fatalf("app-signed delivery answered %d", code)
	}
	if tpl, _ := state(); tpl != "APPROVED" {
		t.Errorf("app-signed delivery: template %s, want APPROVED", tpl)
	}
}

// A connection's own app secret lets deliveries speak for its account's WABAs, so only Hibot
// staff admins may set, change or clear one; customer admins are refused with nothing stored,
// and every change is audited without the value.
func TestOnlyStaffAdminsManageAppSecrets(t *testing.T) {
	f := newFixture(t)
	const secret, secret2 = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
	settings := fmt.Sprintf("/settings/connections?account=%d", f.accA.ID)
	edit := fmt.Sprintf("/settings/connections/%d", f.connA.ID)
	form := func(role, waba string, kv ...string) url.Values {
		v := url.Values{"waba_id": {waba}, "access_token": {"EAAGnewTOKENvalue0000001"}, "api": {"meta"}, "_csrf": {f.csrf[role]}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	sealed := func(waba string) []byte {
		var c models.WABAConnection
		f.a.DB().Where("waba_id = ?", waba).Take(&c)
		return c.AppSecretSealed
	}
	audits := func(action string) []models.AuditEntry {
		var out []models.AuditEntry
		f.a.DB().Where("action = ?", action).Find(&out)
		return out
	}

	// A customer admin: the form offers no app secret, and a crafted post is refused whole.
	if _, body := f.get("admin", fmt.Sprintf("/settings?account=%d", f.accA.ID)); strings.Contains(body, `name="app_secret"`) {
		t.Error("a customer admin's connection form offers the app secret")
	}
	if _, body := f.get("admin", edit); strings.Contains(body, `name="app_secret"`) || strings.Contains(body, `name="clear_app_secret"`) {
		t.Error("a customer admin's edit form offers the app secret")
	}
	for _, c := range []struct {
		name, path string
		form       url.Values
	}{
		{"add with a secret", settings, form("admin", "7770001", "app_secret", secret)},
		{"edit with a secret", edit, form("admin", f.connA.WABAID, "app_secret", secret)},
		{"clear", edit, form("admin", f.connA.WABAID, "clear_app_secret", "1")},
	} {
		resp, _ := f.post("admin", c.path, c.form)
		if resp.StatusCode != 403 {
			t.Errorf("customer admin, %s: %d, want 403", c.name, resp.StatusCode)
		}
	}
	var n int64
	f.a.DB().Model(&models.WABAConnection{}).Where("waba_id = ?", "7770001").Count(&n)
	if n != 0 || len(sealed(f.connA.WABAID)) != 0 {
		t.Errorf("a refused form stored something: %d new connections, secret %v", n, sealed(f.connA.WABAID) != nil)
	}

	// A staff admin sets, changes and clears it; each is audited, never with the value.
	if _, body := f.get("staff-admin", edit); !strings.Contains(body, `name="app_secret"`) {
		t.Error("a staff admin's edit form does not offer the app secret")
	}
	steps := []struct {
		name   string
		form   url.Values
		action string
		stored bool
	}{
		{"set", form("staff-admin", f.connA.WABAID, "app_secret", secret, "access_token", ""), "connection.app_secret_set", true},
		{"changed", form("staff-admin", f.connA.WABAID, "app_secret", secret2, "access_token", ""), "connection.app_secret_changed", true},
		{"cleared", form("staff-admin", f.connA.WABAID, "clear_app_secret", "1", "access_token", ""), "connection.app_secret_cleared", false},
	}
	for _, st := range steps {
		resp, body := f.post("staff-admin", edit, st.form)
		if resp.StatusCode != 303 {
			t.Fatalf("staff admin, %s: %d %.300s", st.name, resp.StatusCode, body)
		}
		if got := len(sealed(f.connA.WABAID)) > 0; got != st.stored {
			t.Errorf("%s: secret stored = %v", st.name, got)
		}
		es := audits(st.action)
		if len(es) != 1 || es[0].AccountID == nil || *es[0].AccountID != f.accA.ID {
			t.Fatalf("%s: audit entries %+v", st.name, es)
		}
		if strings.Contains(es[0].Before+es[0].After, secret) || strings.Contains(es[0].Before+es[0].After, secret2) {
			t.Errorf("%s: the audit entry holds the secret", st.name)
		}
	}
	// A save that leaves the secret alone records no secret change.
	if resp, _ := f.post("staff-admin", edit, form("staff-admin", f.connA.WABAID, "access_token", "", "name", "Renamed")); resp.StatusCode != 303 {
		t.Fatalf("plain save: %d", resp.StatusCode)
	}
	for _, a := range []string{"connection.app_secret_set", "connection.app_secret_changed", "connection.app_secret_cleared"} {
		if len(audits(a)) != 1 {
			t.Errorf("%s recorded %d times", a, len(audits(a)))
		}
	}
	// A staff admin adding a connection with a secret: stored and audited.
	if resp, body := f.post("staff-admin", settings, form("staff-admin", "7770002", "app_secret", secret)); resp.StatusCode != 303 {
		t.Fatalf("staff add: %d %.300s", resp.StatusCode, body)
	}
	if len(sealed("7770002")) == 0 || len(audits("connection.app_secret_set")) != 2 {
		t.Error("a staff admin's new connection's secret was not stored and audited")
	}
}

// One Meta app may serve WABAs of several accounts (a partner's app): staff then store the same
// app secret on each account's connection, and each of those connections lets it speak for its
// account. A delivery signed with it is taken for every account holding it, whichever
// connection's copy matched first, including a batch naming WABAs of both accounts; a WABA of
// an account that does not hold it is still refused.
func TestAppSecretSharedByAccountsSpeaksForEach(t *testing.T) {
	f := newFixture(t)
	connB := models.WABAConnection{AccountID: f.accB.ID, WABAID: "654321", TokenSealed: []byte("x"), API: models.APIMeta}
	if err := f.a.DB().Create(&connB).Error; err != nil {
		t.Fatal(err)
	}
	const shared = "secret-of-the-partner-app"
	f.setAppSecret(f.connA.ID, shared)
	f.setAppSecret(connB.ID, shared)
	entry := func(waba, event string) string {
		return `{"id":"` + waba + `","time":1750040000,"changes":[{"field":"message_template_status_update","value":{"event":"` + event +
			`","message_template_id":` + stubTemplateID + `,"message_template_name":"acme_sale","message_template_language":"en_US"}}]}`
	}
	refusals := func() int64 {
		var n int64
		f.a.DB().Model(&models.WebhookRefusal{}).Count(&n)
		return n
	}
	cases := []struct {
		name    string
		entries []string
		want    []uint // accounts whose events are stored
	}{
		{"B's WABA alone", []string{entry(connB.WABAID, "PAUSED")}, []uint{f.accB.ID}},
		{"A's and B's WABAs in one batch", []string{entry(f.connA.WABAID, "PAUSED"), entry(connB.WABAID, "DISABLED")}, []uint{f.accA.ID, f.accB.ID}},
	}
	for _, c := range cases {
		body := `{"object":"whatsapp_business_account","entry":[` + strings.Join(c.entries, ",") + `]}`
		if code := f.postWebhook(body, []byte(shared)); code != 200 {
			t.Fatalf("%s: answered %d", c.name, code)
		}
		if n := refusals(); n != 0 {
			t.Errorf("%s: %d entries refused, want none", c.name, n)
		}
		var d models.WebhookDelivery
		f.a.DB().Order("id DESC").Take(&d)
		var got []uint
		f.a.DB().Model(&models.WebhookEvent{}).Where("delivery_id = ?", d.ID).Order("account_id").Pluck("account_id", &got)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: events stored for accounts %v, want %v", c.name, got, c.want)
		}
	}
	var tpl models.Template
	f.a.DB().Where("template_id = ? AND account_id = ?", stubTemplateID, f.accA.ID).Take(&tpl)
	if tpl.Status != "PAUSED" {
		t.Errorf("A's template %s after the shared-secret batch, want PAUSED", tpl.Status)
	}
	// A WABA of no account holding the secret is still refused.
	body := `{"object":"whatsapp_business_account","entry":[` + entry("777777", "PAUSED") + `]}`
	if code := f.postWebhook(body, []byte(shared)); code != 200 || refusals() != 1 {
		t.Errorf("unconnected WABA under the shared secret: answered %d, %d refusals; want 200 and 1", code, refusals())
	}
}
