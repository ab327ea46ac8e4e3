package webhook

import (
	"strconv"
	"sync"
	"testing"

	"mmconsole/models"
)

// termsRecorder records the re-reads the writer asks for.
type termsRecorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *termsRecorder) TermsSigned(accountID uint, wabaID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, wabaID+"@"+itoa(accountID))
}

func itoa(n uint) string { return strconv.FormatUint(uint64(n), 10) }

func termsBody(waba, event, ts string) string {
	return `{"object":"whatsapp_business_account","entry":[{"id":"` + waba + `","time":` + ts + `,"changes":[{"field":"account_update","value":{"event":"` + event + `","waba_info":{"owner_business_id":"9","waba_id":"` + waba + `"}}}]}]}`
}

// MM_LITE_TERMS_SIGNED asks for a re-read of that WABA's onboarding, once, after the commit and
// with the owning account; other account updates, unconnected WABAs and duplicates ask nothing.
func TestTermsSignedAsksForAnOnboardingReRead(t *testing.T) {
	db := testDB(t)
	acct := connect(t, db, "Pharma", "200")
	rec := &termsRecorder{}
	s := New(db, NewMetrics(), Options{Followups: rec})
	t.Cleanup(func() { s.Close() })

	ingest(t, s, termsBody("200", "MM_LITE_TERMS_SIGNED", "1750030000"))
	ingest(t, s, termsBody("200", "MM_LITE_TERMS_SIGNED", "1750030000")) // Meta's retry: a duplicate
	ingest(t, s, termsBody("200", "ACCOUNT_VIOLATION", "1750030001"))
	ingest(t, s, termsBody("404", "MM_LITE_TERMS_SIGNED", "1750030002")) // nobody connected it
	s.Close()
	want := "200@" + itoa(acct)
	if len(rec.calls) != 1 || rec.calls[0] != want {
		t.Fatalf("re-reads asked = %v, want [%s]", rec.calls, want)
	}
	var n int64
	db.Model(&models.WebhookEvent{}).Where("kind = ?", models.KindAccountUpdate).Count(&n)
	if n != 3 {
		t.Errorf("account_update events stored = %d, want 3", n)
	}
}
