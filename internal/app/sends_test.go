package app

import (
	"fmt"
	"html"
	"net/url"
	"strings"
	"testing"

	"mmconsole/models"
)

// /sends names each send's WABA, policy and TTL; a refused send opens on its own page with the
// request, Meta's error and what it means; writers get "Send again with these settings" filled
// in from the stored request, viewers do not; another account's send is not found.
func TestSendsListAndRefusedSendPage(t *testing.T) {
	f := newFixture(t)
	refused := models.TestSend{AccountID: f.accA.ID, ConnectionID: f.connA.ID, WABAID: f.connA.WABAID, TemplateRowID: f.tmplA.ID,
		TemplateName: "acme_sale", Language: "en_US", Recipient: "525512345678", ProductPolicy: "STRICT", TTLSeconds: 43200,
		RequestJSON:   `{"messaging_product":"whatsapp","to":"525512345678","type":"template","template":{"name":"acme_sale","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","text":"Ana"}]}]},"product_policy":"STRICT","message_activity_sharing":false}`,
		ResponseJSON:  `{"error":{"message":"(#131049) This message was not delivered to maintain healthy ecosystem engagement.","type":"OAuthException","code":131049,"error_data":{"messaging_product":"whatsapp","details":"In order to maintain a healthy ecosystem engagement, the message failed to be delivered."},"fbtrace_id":"AbCdEf"}}`,
		MessageStatus: "error", ErrorCode: 131049, UserEmail: "marketer@acme.example", IdempotencyKey: "refused-key"}
	other := models.TestSend{AccountID: f.accB.ID, TemplateName: "other_sale", MessageStatus: "error", ErrorCode: 131049, IdempotencyKey: "other-key"}
	for _, s := range []*models.TestSend{&refused, &other} {
		if err := f.a.DB().Create(s).Error; err != nil {
			t.Fatal(err)
		}
	}

	resp, body := f.get("viewer", "/sends")
	if resp.StatusCode != 200 {
		t.Fatalf("/sends = %d", resp.StatusCode)
	}
	for _, want := range []string{">WABA</th>", ">Policy</th>", ">TTL</th>", ">Acme</td>", "STRICT (MM API only)", "12 hours",
		fmt.Sprintf(`href="/sends/%d"`, refused.ID), "Why refused"} {
		if !strings.Contains(body, want) {
			t.Errorf("/sends lacks %q", want)
		}
	}

	path := fmt.Sprintf("/sends/%d", refused.ID)
	for _, tc := range []struct {
		role      string
		sendAgain bool
	}{{"viewer", false}, {"marketer", true}, {"admin", true}} {
		resp, body := f.get(tc.role, path)
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s = %d", tc.role, path, resp.StatusCode)
		}
		text := html.UnescapeString(body)
		for _, want := range []string{"error 131049", "What it means:", "What to do:", "Request sent to Meta", `"product_policy": "STRICT"`,
			"Meta's answer", "AbCdEf", "+525512345678", "Acme"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: the refused send's page lacks %q", tc.role, want)
			}
		}
		if got := strings.Contains(text, "Send again with these settings"); got != tc.sendAgain {
			t.Errorf("%s: send again offered = %v, want %v", tc.role, got, tc.sendAgain)
		}
		if tc.sendAgain {
			for _, want := range []string{"/send?", "connection=" + fmt.Sprint(f.connA.ID), "template=" + fmt.Sprint(f.tmplA.ID),
				"recipient=%2B525512345678", "policy=STRICT", "sharing=off", "ttl_value=43200", "ttl_unit=seconds", "var.body.1=Ana"} {
				if !strings.Contains(text, want) {
					t.Errorf("%s: send again link lacks %q", tc.role, want)
				}
			}
		}
	}
	if resp, _ := f.get("admin", fmt.Sprintf("/sends/%d", other.ID)); resp.StatusCode != 404 {
		t.Errorf("another account's send = %d, want 404", resp.StatusCode)
	}
	if resp, _ := f.get("admin", "/sends/abc"); resp.StatusCode != 404 {
		t.Errorf("/sends/abc = %d, want 404", resp.StatusCode)
	}
}

// Saving a test recipient is a form like any other: without the CSRF token nothing is saved;
// with it, the marketer's account gets the recipient and the audit log names it.
func TestSavedRecipientFormNeedsCSRF(t *testing.T) {
	f := newFixture(t)
	form := url.Values{"name": {"Ana"}, "number": {"+52 55 1234 5678"}}
	if resp, _ := f.post("marketer", "/send/recipients", form); resp.StatusCode != 403 {
		t.Errorf("without CSRF: %d, want 403", resp.StatusCode)
	}
	var n int64
	f.a.DB().Model(&models.SavedRecipient{}).Count(&n)
	if n != 0 {
		t.Fatalf("%d saved without CSRF", n)
	}
	form.Set("_csrf", f.csrf["marketer"])
	if resp, _ := f.post("marketer", "/send/recipients", form); resp.StatusCode != 303 {
		t.Fatalf("with CSRF: %d, want 303", resp.StatusCode)
	}
	var r models.SavedRecipient
	if err := f.a.DB().Take(&r).Error; err != nil || r.AccountID != f.accA.ID || r.Recipient != "525512345678" {
		t.Fatalf("saved %+v, %v", r, err)
	}
	var e models.AuditEntry
	if err := f.a.DB().Where("action = ?", "send.recipient_saved").Take(&e).Error; err != nil || !strings.Contains(e.Target, "Ana") {
		t.Errorf("audit entry %+v, %v", e, err)
	}
	_, body := f.get("marketer", "/send/recipients")
	if !strings.Contains(body, "+525512345678") || !strings.Contains(body, "No preference received") {
		t.Errorf("the list does not show the recipient with its preference")
	}
}
