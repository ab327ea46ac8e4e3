package e2e

import (
	"testing"
	"time"

	"mmconsole/internal/sandbox"
	"mmconsole/internal/templates"
	"mmconsole/models"
)

// The sandbox's own triggers reach the running dashboard as signed webhooks and take effect
// without a person: terms signed re-reads the WABA's onboarding (and its templates start their
// sync), and a recipient stopping marketing is kept for the composer and the message page.
func TestSandboxTermsSignedAndStopTakeEffect(t *testing.T) {
	srv := startSandboxServer(t, nil)
	templateRow(t, srv, "wellness_tips", "en_US") // the pharma WABA was refreshed
	if c := connection(t, srv, sandbox.PharmaWABAID); c.OnboardingStatus == "ONBOARDED" {
		t.Fatal("the pharma WABA starts onboarded")
	}
	if err := srv.App.Sandbox().SignTerms(sandbox.PharmaWABAID); err != nil {
		t.Fatal(err)
	}
	if err := srv.App.Sandbox().SetMarketingPreference(sandbox.StoreWABAID, "+52 55 9876 5432", true); err != nil {
		t.Fatal(err)
	}
	store := connection(t, srv, sandbox.StoreWABAID)
	deadline := time.Now().Add(20 * time.Second)
	for {
		c := connection(t, srv, sandbox.PharmaWABAID)
		tpl := templateRow(t, srv, "wellness_tips", "en_US")
		var pref models.MarketingPreference
		found := srv.App.DB().Where("account_id = ? AND waba_id = ? AND recipient = ?", store.AccountID, sandbox.StoreWABAID, "525598765432").
			Take(&pref).Error == nil
		if c.OnboardingStatus == "ONBOARDED" && tpl.SyncReason == templates.ReasonOnboarded && found && pref.Stopped() {
			st := templates.SyncState(tpl, c.OnboardingStatus, time.Now())
			if st.Kind != templates.KindSyncing {
				t.Errorf("wellness_tips after onboarding = %s, want Syncing", st.Kind)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s: onboarding %q, wellness_tips window %q, stop kept %v", c.OnboardingStatus, tpl.SyncReason, found)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
