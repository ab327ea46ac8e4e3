package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"mmconsole/internal/sandbox"
	"mmconsole/models"
)

// TestSandboxTriggersJourney: an admin makes the sandbox send the webhooks Meta sends on its own,
// from the Sandbox page; each arrives at the dashboard's webhook signed (it is stored, which the
// receiver does only for a valid signature) and shows in the webhook log.
func TestSandboxTriggersJourney(t *testing.T) {
	srv := startServer(t, nil)
	sale := templateRow(t, srv, "summer_sale", "en_US")
	ctx := browser(t, 1280)
	signIn(t, ctx, srv, demoAdmin)

	open(t, ctx, srv, "/sandbox")
	see(t, ctx, "main", 5*time.Second, "Hibot Demo Store", "Hibot Demo Pharma", "Recipient stops marketing", "Terms signed")
	screenshot(t, ctx, "sandbox-page")
	storeSec := "#sb-" + sandbox.StoreWABAID
	pharmaSec := "#sb-" + sandbox.PharmaWABAID

	// A recipient stops marketing messages from the Store's business.
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`section:has(`+storeSec+`) input[name="number"]`), "+52 55 1234 0099"),
		chromedp.Click(chromedp.CSS(`section:has(`+storeSec+`) button[value="stop"]`)),
	)
	see(t, ctx, "#toasts", 5*time.Second, "Sent, signed", "user_preferences")
	stored(t, srv, models.KindUserPreference, "stop", "525512340099")
	see(t, ctx, "section:has("+storeSec+")", time.Second, "Stopped now:", "+525512340099")

	// The Pharma business signs the MM API terms.
	do(t, ctx, chromedp.Click(chromedp.CSS(`section:has(`+pharmaSec+`) button[value="terms"]`)))
	see(t, ctx, "#toasts", 5*time.Second, "MM_LITE_TERMS_SIGNED")
	stored(t, srv, models.KindAccountUpdate, "MM_LITE_TERMS_SIGNED", "")
	see(t, ctx, "section:has("+pharmaSec+")", time.Second, "MM API onboarding: ONBOARDED")

	// summer_sale's quality drops to RED, then its category changes to UTILITY.
	do(t, ctx,
		chromedp.SetValue(chromedp.CSS(`section:has(`+storeSec+`) form:has(button[value="quality"]) select[name="template"]`), sale.TemplateID),
		chromedp.Click(chromedp.CSS(`section:has(`+storeSec+`) button[value="quality"]`)),
	)
	see(t, ctx, "#toasts", 5*time.Second, "message_template_quality_update")
	stored(t, srv, models.KindTemplateQuality, "RED", "")
	do(t, ctx,
		chromedp.SetValue(chromedp.CSS(`section:has(`+storeSec+`) form:has(button[value="category"]) select[name="template"]`), sale.TemplateID),
		chromedp.Click(chromedp.CSS(`section:has(`+storeSec+`) button[value="category"]`)),
	)
	see(t, ctx, "#toasts", 5*time.Second, "template_category_update")
	stored(t, srv, models.KindTemplateCategory, "CHANGED", "")

	// The seeded template in review is rejected with a reason chosen on the page.
	pending := templateRow(t, srv, "spring_preview", "en_US")
	do(t, ctx,
		chromedp.SetValue(chromedp.CSS(`section:has(`+storeSec+`) form:has(button[value="reject"]) select[name="template"]`), pending.TemplateID),
		chromedp.SetValue(chromedp.CSS(`section:has(`+storeSec+`) form:has(button[value="reject"]) select[name="value"]`), "SCAM"),
		chromedp.Click(chromedp.CSS(`section:has(`+storeSec+`) button[value="reject"]`)),
	)
	see(t, ctx, "#toasts", 5*time.Second, "REJECTED (SCAM)")
	stored(t, srv, models.KindTemplateStatus, "REJECTED", "")
	screenshot(t, ctx, "sandbox-rejected")

	// Every delivery was answered 200 by the dashboard's receiver (it refuses a bad signature).
	for _, d := range srv.App.Sandbox().Deliveries() {
		if !d.Delivered || !strings.HasPrefix(d.Signature, "sha256=") {
			t.Errorf("delivery %v: delivered %v status %d signature %q", d.Fields, d.Delivered, d.Status, d.Signature)
		}
	}
	open(t, ctx, srv, "/log")
	see(t, ctx, "#log-results", 5*time.Second, "525512340099")
	screenshot(t, ctx, "sandbox-log")
}

// stored waits until the webhook log holds an event of kind with status (and recipient).
func stored(t *testing.T, srv *server, kind, status, recipient string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		q := srv.App.DB().Model(&models.WebhookEvent{}).Where("kind = ? AND status = ?", kind, status)
		if recipient != "" {
			q = q.Where("recipient = ?", recipient)
		}
		var n int64
		if err := q.Count(&n).Error; err == nil && n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s event with status %s (recipient %q) was stored", kind, status, recipient)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
