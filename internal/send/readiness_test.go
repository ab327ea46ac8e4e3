package send_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"mmconsole/models"
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

// prefs is a Preferences over a map keyed "account/waba/recipient".
type prefs map[string]models.MarketingPreference

func (p prefs) MarketingPreference(_ context.Context, accountID uint, wabaID, recipient string) (models.MarketingPreference, bool, error) {
	v, ok := p[fmt.Sprintf("%d/%s/%s", accountID, wabaID, recipient)]
	return v, ok, nil
}

// A recipient who stopped marketing messages from the WABA gets a 131050 warning before the
// send; one who resumed, or who stopped another account's WABA, gets none.
func TestComposerWarnsBeforeSendingToARecipientWhoStopped(t *testing.T) {
	e := newEnv(t, false)
	conn := e.conns[e.tmpls["summer_sale/en_US"].WABAID]
	at := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	key := func(account uint, waba string) string { return fmt.Sprintf("%d/%s/525512345678", account, waba) }
	warned := func() bool {
		_, body := e.do(writer, "POST", "/send/preview", e.form("summer_sale/en_US", nil), true)
		return strings.Contains(body, "stopped marketing messages from this business on 20 Nov 2026") && strings.Contains(body, "131050")
	}
	if warned() {
		t.Fatal("warned with no preference known")
	}
	e.prefs[key(conn.AccountID+100, conn.WABAID)] = models.MarketingPreference{Value: models.PreferenceStop, At: at}
	if warned() {
		t.Fatal("another account's preference warned")
	}
	e.prefs[key(conn.AccountID, conn.WABAID)] = models.MarketingPreference{Value: models.PreferenceStop, At: at}
	if !warned() {
		t.Fatal("no 131050 warning for a recipient who stopped")
	}
	e.prefs[key(conn.AccountID, conn.WABAID)] = models.MarketingPreference{Value: models.PreferenceResume, At: at.Add(time.Hour)}
	if warned() {
		t.Fatal("warned for a recipient who resumed")
	}
}
