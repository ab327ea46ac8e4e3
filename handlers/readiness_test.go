package handlers_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"mmconsole/internal/webhook"
	"mmconsole/models"
)

func signedPost(t *testing.T, e env, body string) {
	t.Helper()
	if code, _ := do(t, e.app, post(body, webhook.Sign([]byte(body), secret))); code != 200 {
		t.Fatalf("delivery refused: %d", code)
	}
}

func failed131050(wamid string) string {
	return `{"object":"whatsapp_business_account","entry":[{"id":"100","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"1555","phone_number_id":"200"},"statuses":[{"id":"` + wamid + `","status":"failed","timestamp":"1750030500","recipient_id":"16505551234","errors":[{"code":131050,"title":"Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business"}]}]}}]}]}`
}

func preference(value, ts string) string {
	return `{"object":"whatsapp_business_account","entry":[{"id":"100","changes":[{"field":"user_preferences","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"200"},"user_preferences":[{"wa_id":"16505551234","detail":"User requested to ` + value + ` marketing messages","category":"marketing_messages","value":"` + value + `","timestamp":` + ts + `}]}}]}]}`
}

// The message page explains a 131050 failure with the recipient's user_preferences webhook (or
// says none reached the console), and says when the recipient resumed after it.
func TestMessagePageExplains131050WithThePreference(t *testing.T) {
	staff := models.User{ID: 3, Staff: true, Role: models.RoleAdmin}
	e := newEnv(t, &staff, 1<<20)
	seedTenants(t, e)
	page := func(wamid string) string {
		_, body := do(t, e.app, httptest.NewRequest(http.MethodGet, "/messages/"+wamid, nil))
		return body
	}
	signedPost(t, e, failed131050("wamid.S0"))
	if p := page("wamid.S0"); !strings.Contains(p, "no user_preferences webhook from this recipient reached the console") {
		t.Errorf("131050 without a known preference is not explained")
	}
	signedPost(t, e, preference("stop", "1750030000"))
	signedPost(t, e, failed131050("wamid.S1"))
	if p := page("wamid.S1"); !strings.Contains(p, "this recipient stopped marketing messages from this business") || !strings.Contains(p, "User requested to stop marketing messages") {
		t.Errorf("131050 after a stop is not explained by it")
	}
	signedPost(t, e, preference("resume", "1750039000"))
	if p := page("wamid.S1"); !strings.Contains(p, "the recipient resumed marketing messages") {
		t.Errorf("a resume after the failure is not shown")
	}
}
