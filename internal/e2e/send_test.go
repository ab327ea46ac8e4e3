package e2e

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"mmconsole/models"
)

// The journeys' recipients: Mexican numbers (US numbers fail 131049), neither opted out, one
// per sending phone so the sandbox's pair rate limit is never near.
const (
	pharmaRecipient = "5215512345678"
	storeRecipient  = "5215512345679"
)

// TestSendJourney: a marketer composes test sends and follows them without reloading. STRICT on
// the WABA that is not onboarded is warned about and then refused with 134102 explained; the
// fallback there and an MM API send on the onboarded WABA reach "read" with their route.
func TestSendJourney(t *testing.T) {
	srv := startServer(t, nil)
	wellness := templateRow(t, srv, "wellness_tips", "en_US") // Hibot Demo Pharma: ELIGIBLE only
	sale := templateRow(t, srv, "summer_sale", "en_US")       // Hibot Demo Store: ONBOARDED
	ctx := browser(t, 1280)
	signIn(t, ctx, srv, demoMarketer)

	// STRICT on Pharma: the checks say it will fail, and Meta's 134102 is explained.
	compose(t, ctx, srv, wellness, pharmaRecipient, "STRICT")
	see(t, ctx, "#send-live", 5*time.Second, "not onboarded to MM API", "with STRICT the send will fail", "134102")
	screenshot(t, ctx, "send-strict-checks")
	submitSend(t, ctx)
	see(t, ctx, "#composer .send-result", 10*time.Second,
		"Meta refused the send: error 134102", "Template unavailable for use", "What it means:", "not onboarded", "What to do:", "CLOUD_API_FALLBACK")
	if strings.Contains(textOf(t, ctx, "#composer .send-result"), "wamid") {
		t.Error("a refused send shows a wamid")
	}
	// The form keeps what was typed, to fix and send again.
	if v := eval[string](t, ctx, `document.querySelector("#send-recipient").value`); v != pharmaRecipient {
		t.Errorf("after the refusal the recipient reads %q", v)
	}
	screenshot(t, ctx, "send-strict-refused")

	// Fallback on Pharma: accepted, then followed to "read" with the Cloud API fallback route.
	compose(t, ctx, srv, wellness, pharmaRecipient, "CLOUD_API_FALLBACK")
	see(t, ctx, "#send-live", 5*time.Second, "will fall back to Cloud API")
	submitSend(t, ctx)
	followToRead(t, ctx, "Cloud API fallback", "pricing.category “marketing”", false)
	screenshot(t, ctx, "send-fallback-read")
	fallbackWAMID := textOf(t, ctx, "#composer .result-facts dd a.mono")

	// MM API on Store.
	compose(t, ctx, srv, sale, storeRecipient, "CLOUD_API_FALLBACK")
	submitSend(t, ctx)
	followToRead(t, ctx, "MM API", "marketing_lite", true)
	screenshot(t, ctx, "send-mmapi-read")

	// The message page tells the fallback's story, final, with its route.
	open(t, ctx, srv, "/messages/"+url.PathEscape(fallbackWAMID))
	see(t, ctx, "#timeline", 10*time.Second, "Cloud API fallback", "✓ Sent", "✓ Delivered", "✓ Read", "delivered in time")
	screenshot(t, ctx, "message-fallback")

	// The history lists both accepted sends with their route, and the refused one.
	open(t, ctx, srv, "/sends")
	rows := textOf(t, ctx, "main tbody")
	for _, want := range []string{"wellness_tips", "summer_sale", "Cloud API fallback", "MM API", "✕ Refused by Meta", "error 134102", "+" + pharmaRecipient} {
		if !strings.Contains(rows, want) {
			t.Errorf("the history lacks %q:\n%s", want, rows)
		}
	}
	if n := count(t, ctx, "main tbody tr"); n != 3 {
		t.Errorf("history shows %d sends, want 3", n)
	}
	screenshot(t, ctx, "sends-history")
}

// compose opens the composer for a template, fills its variables with their examples, the
// recipient and the policy, and waits until the checks have caught up.
func compose(t *testing.T, ctx context.Context, srv *server, tpl models.Template, recipient, policy string) {
	t.Helper()
	open(t, ctx, srv, "/send?template="+u(tpl.ID))
	see(t, ctx, "#send-template", 5*time.Second, tpl.Name)
	eval[bool](t, ctx, `document.querySelectorAll("#send-form input[id^='in-var']").forEach(el => { if (!el.value) el.value = el.placeholder || "Ana" }); true`)
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`input[name="policy"][value="`+policy+`"]`)),
		chromedp.SendKeys(chromedp.CSS("#send-recipient"), recipient),
	)
	// The live region is re-rendered from the typed form: its request body carries the number.
	see(t, ctx, "#send-live pre.json", 5*time.Second, recipient, `"product_policy": "`+policy+`"`)
}

// submitSend presses the send button once the checks allow it.
func submitSend(t *testing.T, ctx context.Context) {
	t.Helper()
	waitFor(t, ctx, "the send button to be enabled",
		`!!document.querySelector("#send-live button[type=submit]") && !document.querySelector("#send-live button[type=submit]").disabled`, 5*time.Second)
	do(t, ctx, chromedp.Click(chromedp.CSS("#send-live button[type=submit]")))
}

// followToRead waits, without reloading, for the result panel to reach "read" with the route.
// With clicked, it also waits for the click (MM API attributes it to the message) and for the
// polling to stop; a fallback's click is never attributed, so its panel keeps following a while.
func followToRead(t *testing.T, ctx context.Context, route, pricing string, clicked bool) {
	t.Helper()
	see(t, ctx, "#composer .send-result", 20*time.Second, "wamid", "✓✓ Read", route, pricing, "✓ Sent", "✓ Delivered")
	if !clicked {
		return
	}
	see(t, ctx, "#composer .send-result", 10*time.Second, "✓ Clicked")
	waitFor(t, ctx, "the result panel to stop polling", `!document.querySelector("#composer .send-result[hx-get]")`, 20*time.Second)
	if got := textOf(t, ctx, "#composer .send-result"); strings.Contains(got, "Following the status webhooks") {
		t.Errorf("a final result still says it is following: %q", got)
	}
}
