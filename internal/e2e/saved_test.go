package e2e

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// usRecipient is a US number: Meta accepts the send, then fails it with 131049.
const usRecipient = "16505551234"

// TestSavedRecipientsFailedMessageAndSendAgain: a marketer saves two test recipients, sends one
// test to both from the composer and sees one result each (the US number fails with 131049,
// the other is read). The failed message's page reads as failed; its send opens from /sends,
// whose status column shows at 375 px; "Send again with these settings" fills the composer in
// as it was. Every page passes axe.
func TestSavedRecipientsFailedMessageAndSendAgain(t *testing.T) {
	srv := startServer(t, nil)
	sale := templateRow(t, srv, "summer_sale", "en_US")
	ctx := browser(t, 1280)
	signIn(t, ctx, srv, demoMarketer)

	open(t, ctx, srv, "/send/recipients")
	for _, r := range []struct{ name, number string }{{"Store test phone", "+" + storeRecipient}, {"US test phone", "+1 650 555 1234"}} {
		do(t, ctx,
			chromedp.SendKeys(chromedp.CSS("#saved-name"), r.name),
			chromedp.SendKeys(chromedp.CSS("#saved-number"), r.number),
			chromedp.Click(chromedp.CSS(".saved-form button[type=submit]")),
		)
		see(t, ctx, "main tbody", 5*time.Second, r.name)
	}
	see(t, ctx, "main tbody", time.Second, "+"+storeRecipient, "+"+usRecipient, "No preference received")
	checkBothThemes(t, ctx, "saved-recipients", 1280)

	// One test to both saved recipients: leave the typed recipient empty, tick both.
	open(t, ctx, srv, "/send?template="+u(sale.ID))
	see(t, ctx, "#send-template", 5*time.Second, sale.Name)
	eval[bool](t, ctx, `document.querySelectorAll("#send-form input[id^='in-var']").forEach(el => { if (!el.value) el.value = el.placeholder || "Ana" }); true`)
	do(t, ctx, chromedp.Click(chromedp.CSS(`input[name="policy"][value="CLOUD_API_FALLBACK"]`)))
	for i := range 2 {
		do(t, ctx, chromedp.Click(chromedp.CSS(`.saved-choice label:nth-of-type(`+itoa(i+1)+`) input[name="saved"]`)))
	}
	see(t, ctx, "#send-live", 5*time.Second, "Sending to 2 saved recipients")
	submitSend(t, ctx)
	see(t, ctx, "#composer .saved-results", 10*time.Second, "2 test sends, one per saved recipient", "Store test phone", "US test phone")
	see(t, ctx, "#composer .saved-results", 20*time.Second, "✕ Failed", "131049", "✓✓ Read")
	if txt := textOf(t, ctx, "#composer .saved-results"); strings.Contains(txt, "✓ Failed") {
		t.Errorf("a failed send reads half-successful: %s", txt)
	}
	checkAccessibility(t, ctx, "composer with saved results")
	screenshot(t, ctx, "send-saved-results")

	// The failed message's own page.
	usWAMID := eval[string](t, ctx, `[...document.querySelectorAll("#composer .saved-result")].find(a => a.textContent.includes("US test phone")).querySelector(".result-facts dd a.mono").textContent`)
	open(t, ctx, srv, "/messages/"+url.PathEscape(usWAMID))
	see(t, ctx, "#timeline", 10*time.Second, "✕ Failed", "131049", "no countdown: the message failed")
	if txt := textOf(t, ctx, "#timeline"); strings.Contains(txt, "✓ Failed") || strings.Contains(txt, "min left") {
		t.Errorf("the failed message's timeline: %s", txt)
	}
	checkBothThemes(t, ctx, "message-failed", 1280)

	// /sends opens the send; "Send again" fills the composer in as it was.
	open(t, ctx, srv, "/sends")
	see(t, ctx, "main tbody", 5*time.Second, "+"+usRecipient, "Hibot Demo Store", "CLOUD_API_FALLBACK")
	do(t, ctx, chromedp.Click(chromedp.CSS(`main tbody tr:has(td.mono) a[href^="/sends/"]`)))
	see(t, ctx, "main", 5*time.Second, "Request sent to Meta", "Send again with these settings")
	checkBothThemes(t, ctx, "send-detail", 1280)
	recipient := textOf(t, ctx, "main .result-facts dd.mono")
	do(t, ctx, chromedp.Click(chromedp.CSS(`main .page-head a[role=button]`)))
	see(t, ctx, "#send-template", 5*time.Second, sale.Name)
	if got := eval[string](t, ctx, `document.querySelector("#send-recipient").value`); got != recipient {
		t.Errorf("send again: recipient %q, want %q", got, recipient)
	}
	if !eval[bool](t, ctx, `document.querySelector('input[name="policy"][value="CLOUD_API_FALLBACK"]').checked`) {
		t.Error("send again: the policy is not the send's")
	}
	if got := eval[string](t, ctx, `[...document.querySelectorAll("#send-form input[id^='in-var']")].map(e => e.value).filter(Boolean).length + ""`); got == "0" {
		t.Error("send again: the variables are empty")
	}

	phone := browser(t, 375)
	signIn(t, phone, srv, demoMarketer)
	open(t, phone, srv, "/sends")
	if right := eval[float64](t, phone, `[...document.querySelectorAll("main thead th")].find(th => th.textContent.trim() === "Status").getBoundingClientRect().right`); right > 375 {
		t.Errorf("at 375 px the status column ends at %.0f px, off screen", right)
	}
	screenshot(t, phone, "sends-375")
}
