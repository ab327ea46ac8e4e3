package app

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"mmconsole/internal/templates"
	"mmconsole/models"
)

// A WABA that "Test connection" finds newly onboarded starts its approved marketing templates'
// sync windows (the hook the composition root wires), and the overview shows what was read,
// including Cloud API marketing being off.
func TestOnboardingFlipStartsWindowsAndOverviewShowsCloudMarketingOff(t *testing.T) {
	f := newFixture(t)
	db := f.a.DB()
	db.Model(&models.WABAConnection{}).Where("id = ?", f.connA.ID).Update("onboarding_status", "ELIGIBLE")
	if _, body := f.get("viewer", "/templates?state=ready_fallback"); !strings.Contains(body, "acme_sale") {
		t.Fatal("the not-onboarded WABA's template is not listed as ready_fallback")
	}
	resp, _ := f.post("admin", fmt.Sprintf("/settings/connections/%d/test", f.connA.ID), url.Values{"_csrf": {f.csrf["admin"]}})
	if resp.StatusCode != 303 {
		t.Fatalf("test connection: %d", resp.StatusCode)
	}
	var tm models.Template
	db.Where("id = ?", f.tmplA.ID).Take(&tm)
	if tm.SyncReason != templates.ReasonOnboarded || tm.SyncStartedAt == nil {
		t.Errorf("after onboarding the template's window = %v %q, want one started by the onboarding", tm.SyncStartedAt, tm.SyncReason)
	}
	if _, body := f.get("viewer", "/"); strings.Contains(body, "Cloud API marketing off") {
		t.Error("the overview says Cloud API marketing is off while Meta said it is on")
	}
	db.Model(&models.WABAConnection{}).Where("id = ?", f.connA.ID).Update("disable_marketing_messages_on_cloud_api", true)
	if _, body := f.get("viewer", "/"); !strings.Contains(body, "Cloud API marketing off: fallback sends fail (131063)") {
		t.Error("the overview does not show that Cloud API marketing is off")
	}
}
