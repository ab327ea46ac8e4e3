package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"mmconsole/internal/graph"
	"mmconsole/internal/sandbox"
)

// fieldBodies returns the change values of every delivered webhook of field, in order.
func (e *env) fieldValues(t *testing.T, field string, want int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		var out []map[string]any
		e.hook.mu.Lock()
		for _, b := range e.hook.bodies {
			var p struct {
				Entry []struct {
					ID      string `json:"id"`
					Time    int64  `json:"time"`
					Changes []struct {
						Field string         `json:"field"`
						Value map[string]any `json:"value"`
					} `json:"changes"`
				} `json:"entry"`
			}
			if json.Unmarshal(b, &p) != nil {
				continue
			}
			for _, en := range p.Entry {
				for _, c := range en.Changes {
					if c.Field == field {
						c.Value["_waba"], c.Value["_time"] = en.ID, en.Time
						out = append(out, c.Value)
					}
				}
			}
		}
		bad := e.hook.badSig
		e.hook.mu.Unlock()
		if bad != 0 {
			t.Fatalf("%d deliveries were not signed with the app secret", bad)
		}
		if len(out) >= want || time.Now().After(deadline) {
			if len(out) < want {
				t.Fatalf("%s: %d webhooks delivered, want %d", field, len(out), want)
			}
			return out
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestFallbackSendsOfANotOnboardedWABANeverSync: a not-onboarded WABA has no ad account to sync
// with, so its fallback sends go through Cloud API at once: a template approved a moment ago
// and one unused for weeks are both accepted, twice in a row (no 134101).
func TestFallbackSendsOfANotOnboardedWABANeverSync(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	created, err := e.c.CreateTemplate(ctx, e.pharm.Token, e.pharm.ID, graph.TemplateCreate{
		Name: "fresh_pharma", Language: "en_US", Category: "MARKETING",
		Components: []graph.TemplateComponent{{Type: "BODY", Text: "New vitamins!"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		tp, err := e.c.GetTemplate(ctx, e.pharm.Token, created.ID)
		if err == nil && tp.Status == "APPROVED" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("template not approved: %+v %v", tp, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for i, to := range []string{"5215512345678", "5215512345679"} {
		if _, err := send(e, e.pharm, graph.MarketingMessageRequest{To: to, TemplateName: "fresh_pharma", LanguageCode: "en_US"}); err != nil {
			t.Fatalf("fallback send %d of a fresh template: %v, want accepted (no sync without onboarding)", i, err)
		}
	}
	e.clock.Advance(9 * 24 * time.Hour) // dormant by the 7-day rule, which needs an ad sync
	for i, to := range []string{"5215512345670", "5215512345671"} {
		if _, err := send(e, e.pharm, graph.MarketingMessageRequest{To: to, TemplateName: "fresh_pharma", LanguageCode: "en_US"}); err != nil {
			t.Fatalf("fallback send %d after 9 days unused: %v, want accepted", i, err)
		}
	}
}

// TestPairRateIsABurstBorrowedFromFutureQuota: 45 messages to one recipient pass at once, the
// 46th gets 131056; after that only one per 6 s passes (not 45 more every 6 s).
func TestPairRateIsABurstBorrowedFromFutureQuota(t *testing.T) {
	e := newEnv(t, nil)
	r := graph.MarketingMessageRequest{To: "5215512345678", TemplateName: "summer_sale", LanguageCode: "en_US"}
	for i := range 45 {
		if _, err := send(e, e.store, r); err != nil {
			t.Fatalf("burst send %d: %v", i+1, err)
		}
	}
	if _, err := send(e, e.store, r); codeOf(err) != 131056 {
		t.Fatalf("send 46 of the burst: %v, want 131056", err)
	}
	e.clock.Advance(6 * time.Second)
	if _, err := send(e, e.store, r); err != nil {
		t.Fatalf("6 s after the burst: %v, want one more accepted", err)
	}
	if _, err := send(e, e.store, r); codeOf(err) != 131056 {
		t.Fatalf("second send 6 s after the burst: %v, want 131056 (the burst borrowed the quota)", err)
	}
	e.clock.Advance(3 * time.Second)
	if _, err := send(e, e.store, r); codeOf(err) != 131056 {
		t.Fatalf("3 s later: %v, want 131056", err)
	}
	e.clock.Advance(3 * time.Second)
	if _, err := send(e, e.store, r); err != nil {
		t.Fatalf("6 s after the last: %v, want accepted", err)
	}
	// Another recipient has its own quota.
	r.To = "5215512345679"
	if _, err := send(e, e.store, r); err != nil {
		t.Fatalf("another recipient: %v", err)
	}
	// A quiet pair refills: 45 × 6 s later the full burst is back.
	e.clock.Advance(45 * 6 * time.Second)
	r.To = "5215512345678"
	for i := range 45 {
		if _, err := send(e, e.store, r); err != nil {
			t.Fatalf("refilled burst send %d: %v", i+1, err)
		}
	}
}

// TestTriggersSendSignedWebhooksAndChangeState: each trigger delivers Meta's webhook, signed,
// and the sandbox then behaves as Meta would after that event.
func TestTriggersSendSignedWebhooksAndChangeState(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	to := "5215511112222"

	// A recipient stops marketing messages: user_preferences, then sends fail with 131050.
	if err := e.sb.SetMarketingPreference(e.store.ID, "+"+to, true); err != nil {
		t.Fatal(err)
	}
	prefs := e.fieldValues(t, "user_preferences", 1)
	up := prefs[0]["user_preferences"].([]any)[0].(map[string]any)
	if up["wa_id"] != to || up["value"] != "stop" || up["category"] != "marketing_messages" || prefs[0]["_waba"] != e.store.ID || prefs[0]["_time"] == float64(0) {
		t.Fatalf("user_preferences = %v", prefs[0])
	}
	if _, err := send(e, e.store, graph.MarketingMessageRequest{To: to, TemplateName: "summer_sale", LanguageCode: "en_US"}); err != nil {
		t.Fatal(err)
	}
	ev := e.waitFor(t, func(ev []map[string]any) bool { return len(ev) >= 1 })
	if ev[0]["status"] != "failed" || ev[0]["errors"].([]any)[0].(map[string]any)["code"] != float64(131050) {
		t.Fatalf("send to a stopped recipient: %v, want failed 131050", ev[0])
	}
	// The stop is the Store's business only; Pharma still reaches the number.
	if err := e.sb.SetMarketingPreference(e.store.ID, to, false); err != nil {
		t.Fatal(err)
	}
	if got := e.fieldValues(t, "user_preferences", 2)[1]["user_preferences"].([]any)[0].(map[string]any)["value"]; got != "resume" {
		t.Fatalf("resume webhook value = %v", got)
	}
	// The seeded opted-out number resumes too.
	if err := e.sb.SetMarketingPreference(e.store.ID, sandbox.OptedOutDemoNumber, false); err != nil {
		t.Fatal(err)
	}
	n := len(e.hook.events())
	if _, err := send(e, e.store, graph.MarketingMessageRequest{To: sandbox.OptedOutDemoNumber, TemplateName: "summer_sale", LanguageCode: "en_US"}); err != nil {
		t.Fatal(err)
	}
	ev = e.waitFor(t, func(ev []map[string]any) bool { return len(ev) > n })
	if ev[n]["status"] != "sent" {
		t.Fatalf("send after resume: %v, want sent", ev[n])
	}

	// Terms signed: account_update, the WABA is onboarded, and its templates start syncing.
	if err := e.sb.SignTerms(e.pharm.ID); err != nil {
		t.Fatal(err)
	}
	acc := e.fieldValues(t, "account_update", 1)[0]
	if acc["event"] != "MM_LITE_TERMS_SIGNED" || acc["waba_info"].(map[string]any)["waba_id"] != e.pharm.ID {
		t.Fatalf("account_update = %v", acc)
	}
	w, err := e.c.GetWABA(ctx, e.pharm.Token, e.pharm.ID)
	if err != nil || !w.Onboarded() {
		t.Fatalf("after terms signed: %+v %v, want ONBOARDED", w.MarketingMessagesOnboardingStatus, err)
	}
	if _, err := send(e, e.pharm, graph.MarketingMessageRequest{To: "5215512345678", TemplateName: "wellness_tips", LanguageCode: "en_US", ProductPolicy: "STRICT"}); codeOf(err) != 134101 {
		t.Fatalf("STRICT send right after onboarding: %v, want 134101 (the new ad sync)", err)
	}
	if err := e.sb.SignTerms(e.pharm.ID); !errors.Is(err, sandbox.ErrTrigger) {
		t.Errorf("second terms signed: %v, want refused", err)
	}

	// Quality drops: message_template_quality_update and the template reads RED.
	sale := e.tmplID(t, e.store, "summer_sale", "en_US")
	if err := e.sb.SetTemplateQuality(e.store.ID, sale, "red"); err != nil {
		t.Fatal(err)
	}
	q := e.fieldValues(t, "message_template_quality_update", 1)[0]
	if q["previous_quality_score"] != "GREEN" || q["new_quality_score"] != "RED" || q["message_template_id"] != float64(572279198452401) {
		t.Fatalf("quality update = %v", q)
	}
	if tp, err := e.c.GetTemplate(ctx, e.store.Token, sale); err != nil || tp.QualityScore == nil || tp.QualityScore.Score != "RED" {
		t.Fatalf("template after the quality drop: %+v %v", tp.QualityScore, err)
	}

	// Category changes: template_category_update (completed) and /marketing_messages refuses it.
	if err := e.sb.ChangeTemplateCategory(e.store.ID, sale, "UTILITY"); err != nil {
		t.Fatal(err)
	}
	c := e.fieldValues(t, "template_category_update", 1)[0]
	if c["previous_category"] != "MARKETING" || c["new_category"] != "UTILITY" || c["correct_category"] != nil {
		t.Fatalf("category update = %v", c)
	}
	if tp, err := e.c.GetTemplate(ctx, e.store.Token, sale); err != nil || tp.MessageSendTTLSeconds != nil {
		t.Fatalf("TTL after the category change: %v %v, want none (Meta resets it)", tp.MessageSendTTLSeconds, err)
	}
	if _, err := send(e, e.store, graph.MarketingMessageRequest{To: "5215512345678", TemplateName: "summer_sale", LanguageCode: "en_US"}); codeOf(err) != 134100 {
		t.Fatalf("send after the category change: %v, want 134100", err)
	}

	// Bad input changes nothing and says why.
	for name, err := range map[string]error{
		"unknown waba":     e.sb.SignTerms("999"),
		"foreign template": e.sb.SetTemplateQuality(e.pharm.ID, sale, "GREEN"),
		"bad score":        e.sb.SetTemplateQuality(e.store.ID, sale, "PURPLE"),
		"bad category":     e.sb.ChangeTemplateCategory(e.store.ID, sale, "PROMO"),
		"bad number":       e.sb.SetMarketingPreference(e.store.ID, "12ab", true),
	} {
		if !errors.Is(err, sandbox.ErrTrigger) {
			t.Errorf("%s: %v, want ErrTrigger", name, err)
		}
	}
}
