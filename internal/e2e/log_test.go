package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestWebhookLogJourney: after a fallback and an MM API send, the webhook log filters by route
// and by status, and a row's raw JSON opens in place.
func TestWebhookLogJourney(t *testing.T) {
	srv := startServer(t, nil)
	wellness := templateRow(t, srv, "wellness_tips", "en_US")
	sale := templateRow(t, srv, "summer_sale", "en_US")
	ctx := browser(t, 1280)
	signIn(t, ctx, srv, demoMarketer)
	compose(t, ctx, srv, wellness, pharmaRecipient, "CLOUD_API_FALLBACK")
	submitSend(t, ctx)
	see(t, ctx, "#composer .send-result", 20*time.Second, "✓✓ Read")
	compose(t, ctx, srv, sale, storeRecipient, "CLOUD_API_FALLBACK")
	submitSend(t, ctx)
	see(t, ctx, "#composer .send-result", 20*time.Second, "✓✓ Read", "✓ Clicked")

	open(t, ctx, srv, "/log")
	see(t, ctx, "#log-results", 5*time.Second, "match", "MM API", "Cloud API fallback", storeRecipient, pharmaRecipient)
	screenshot(t, ctx, "log-all")

	// Route: only MM API rows remain, and the URL keeps the filter.
	chooseOption(t, ctx, `select[name="route"]`, "mm_api")
	waitFor(t, ctx, "the log to show only MM API rows", onlyRows(4, "MM API"), 10*time.Second)
	if !strings.Contains(eval[string](t, ctx, "location.search"), "route=mm_api") {
		t.Error("the route filter is not in the URL")
	}
	if strings.Contains(textOf(t, ctx, "#log-rows"), "Cloud API fallback") {
		t.Error("the MM API filter still lists fallback events")
	}
	screenshot(t, ctx, "log-route-mm-api")

	// Status, on top of the route: the one delivered status of the MM API message (read
	// statuses carry no pricing, so they have no route of their own).
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`input[name="status"]`), "delivered"),
		chromedp.Click(chromedp.CSS(`form.filters button[type="submit"]`)),
	)
	waitFor(t, ctx, "the log to show only delivered MM API rows",
		onlyRows(2, "✓ delivered")+` && document.querySelectorAll("#log-rows tr").length === 1`, 10*time.Second)
	see(t, ctx, "#log-rows", time.Second, "MM API", storeRecipient)
	screenshot(t, ctx, "log-route-status")

	// The raw event opens in place and is the webhook's JSON.
	do(t, ctx, chromedp.Click(chromedp.CSS(`#log-rows tr details summary`)))
	see(t, ctx, "#log-rows .raw", 5*time.Second, `"status": "delivered"`, `"category": "marketing_lite"`, `"recipient_id": "`+storeRecipient+`"`)
	raw := eval[string](t, ctx, `document.querySelector("#log-rows .raw pre.json").textContent`)
	if !strings.HasPrefix(strings.TrimSpace(raw), "{") {
		t.Errorf("raw event is not a JSON object: %.80q", raw)
	}
	screenshot(t, ctx, "log-raw-json")

	// Route by the message: the read status of the fallback message carries no pricing, yet
	// "Cloud API fallback" and "read" finds it.
	open(t, ctx, srv, "/log?route=fallback&status=read")
	waitFor(t, ctx, "the fallback message's read status", onlyRows(2, "read")+` && `+onlyRows(4, "Cloud API fallback"), 10*time.Second)
	see(t, ctx, "#log-rows", time.Second, pharmaRecipient)
	checkBothThemes(t, ctx, "log-events", 1280)

	// Save it, clear the filter, and apply it again in one click.
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`details.saved-filters > summary`)),
		chromedp.SendKeys(chromedp.CSS(`form.save-filter input[name="name"]`), "Fallback reads"),
		chromedp.Click(chromedp.CSS(`form.save-filter button[type="submit"]`)),
	)
	see(t, ctx, "#toasts", 5*time.Second, "Saved the filter")
	open(t, ctx, srv, "/log")
	do(t, ctx, chromedp.Click(chromedp.CSS(`details.saved-filters > summary`)))
	do(t, ctx, chromedp.Click(chromedp.CSS(`details.saved-filters .saved-list a`)))
	waitFor(t, ctx, "the saved filter to apply", `location.search.includes("route=fallback") && location.search.includes("status=read")`, 10*time.Second)
	waitFor(t, ctx, "the saved filter's rows", onlyRows(2, "read")+` && `+onlyRows(4, "Cloud API fallback"), 10*time.Second)
	screenshot(t, ctx, "log-saved-filter")

	// One row per message, kept in the URL: each message once, in its latest state.
	open(t, ctx, srv, "/log")
	do(t, ctx, chromedp.Click(chromedp.CSS(`input[name="view"][value="messages"]`)))
	waitFor(t, ctx, "the per-message view", `location.search.includes("view=messages") && document.querySelector("#log-results th") && document.querySelector("#log-results th").innerText.includes("First seen")`, 10*time.Second)
	see(t, ctx, "#log-results", 5*time.Second, "messages match", "✓ clicked", storeRecipient, pharmaRecipient, "MM API", "Cloud API fallback")
	checkBothThemes(t, ctx, "log-messages", 1280)

	// The header's search takes the number as a person writes it and opens its log.
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`.search-menu > summary`)),
		chromedp.SendKeys(chromedp.CSS(`#site-search`), "+52 1 55 1234 5679\n"),
	)
	waitFor(t, ctx, "the search to open the number's log", `location.pathname === "/log" && location.search.includes("recipient=`+storeRecipient+`")`, 10*time.Second)
	see(t, ctx, "#log-rows", 5*time.Second, storeRecipient)
}

// chooseOption picks an option as a person would: the select changes and says so.
func chooseOption(t *testing.T, ctx context.Context, sel, value string) {
	t.Helper()
	eval[bool](t, ctx, `(() => { const el = document.querySelector(`+jsString(sel)+`); el.value = `+jsString(value)+
		`; el.dispatchEvent(new Event("change", {bubbles: true})); return true })()`)
}

// onlyRows is a condition: the log has rows and column col (0-based) of each contains want.
func onlyRows(col int, want string) string {
	return `(() => { const rows = [...document.querySelectorAll("#log-rows tr")];
		return rows.length > 0 && rows.every(r => r.cells[` + itoa(col) + `].innerText.includes(` + jsString(want) + `)) })()`
}
