package app

import (
	"fmt"
	"net/http/httptest"
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
	connB := models.WABAConnection{AccountID: f.accB.ID, WABAID: "654321", TokenSealed: []byte("x"), TTLMode: "per_send"}
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
