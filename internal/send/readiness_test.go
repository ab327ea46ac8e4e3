package send_test

import (
	"strings"
	"testing"
)

// Readiness is per template and WABA: the composer never calls a template of a WABA that is not
// onboarded "✓ Ready"; it says the send falls back.
func TestComposerReadinessIsPerWABA(t *testing.T) {
	e := newEnv(t, false)
	_, pharma := e.do(writer, "GET", "/send?"+e.form("wellness_tips/en_US", nil).Encode(), nil, false)
	if !strings.Contains(pharma, "Ready, but this WABA is not onboarded: sends fall back to Cloud API") {
		t.Errorf("the not-onboarded WABA's template is not shown as falling back")
	}
	if strings.Contains(pharma, "✓ Ready<") {
		t.Errorf("the not-onboarded WABA's template is shown as ✓ Ready")
	}
	_, store := e.do(writer, "GET", "/send?"+e.form("summer_sale/en_US", nil).Encode(), nil, false)
	if !strings.Contains(store, "✓ Ready<") || strings.Contains(store, "this WABA is not onboarded") {
		t.Errorf("the onboarded WABA's ready template is not ✓ Ready")
	}
}
