package send_test

import (
	"strings"
	"testing"

	"mmconsole/models"
)

// readyVars fills summer_sale/en_US, a template of the onboarded WABA that is not syncing.
func readyVars(extra map[string]string) map[string]string {
	v := map[string]string{"var.header_media": "https://example.com/a.jpg", "var.body.1": "Ana", "var.body.2": "Sunday", "var.button.0": "summer"}
	for k, val := range extra {
		v[k] = val
	}
	return v
}

// Values no form offers are refused with 422 and the field named; nothing is sent or recorded.
func TestCraftedValuesAreRefusedNotCoerced(t *testing.T) {
	cases := []struct {
		name, field, value string
		want               string // words of the field's message
	}{
		{"policy FOO", "policy", "FOO", "product_policy"},
		{"policy lowercase strict", "policy", "strict", "product_policy"},
		{"sharing maybe", "sharing", "maybe", "message_activity_sharing"},
		{"ttl unit weeks", "ttl_unit", "weeks", "not a TTL unit"},
		{"ttl unit empty", "ttl_unit", "", "unit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, false)
			f := e.form("new_arrivals/en_US", map[string]string{"var.body.1": "Ana", tc.field: tc.value})
			code, body := e.do(writer, "POST", "/send", f, true)
			if code != 422 {
				t.Fatalf("POST /send = %d, want 422\n%s", code, body)
			}
			if !strings.Contains(body, tc.want) {
				t.Errorf("the refusal does not name %q", tc.want)
			}
			if e.sendCount() != 0 {
				t.Errorf("requests = %d, want 0", e.sendCount())
			}
			var n int64
			e.db.Model(&models.TestSend{}).Count(&n)
			if n != 0 {
				t.Errorf("a refused form must not be recorded (%d rows)", n)
			}
		})
	}
}

// Variable values Meta refuses (132018 whitespace, 132005 length) block the send.
func TestVariablesMetaRefusesBlockTheSend(t *testing.T) {
	cases := []struct{ name, value, code string }{
		{"newline", "Ana\nMaria", "132018"},
		{"tab", "Ana\tMaria", "132018"},
		{"five spaces", "Ana     Maria", "132018"},
		{"body too long once filled in", strings.Repeat("a", 1100), "132005"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, false)
			code, body := e.do(writer, "POST", "/send", e.form("new_arrivals/en_US", map[string]string{"var.body.1": tc.value}), true)
			if code != 422 || !strings.Contains(body, tc.code) {
				t.Fatalf("POST /send = %d, want 422 naming %s\n%s", code, tc.code, body)
			}
			if e.sendCount() != 0 {
				t.Errorf("requests = %d, want 0", e.sendCount())
			}
		})
	}
	t.Run("four spaces are fine", func(t *testing.T) {
		e := newEnv(t, false)
		if code, body := e.do(writer, "POST", "/send", e.form("summer_sale/en_US", readyVars(map[string]string{"var.body.1": "Ana    Maria"})), true); code != 200 {
			t.Fatalf("POST /send = %d\n%s", code, body)
		}
	})
}

// Canada shares +1 with the US but is not blocked: no 131049 warning, and the sandbox delivers.
func TestCanadianNumberIsNotTreatedAsUS(t *testing.T) {
	e := newEnv(t, false)
	f := e.form("summer_sale/en_US", readyVars(map[string]string{"recipient": "+1 416 555 0123"}))
	_, pre := e.do(writer, "POST", "/send/preview", f, true)
	if strings.Contains(pre, "131049") || strings.Contains(pre, "US number") {
		t.Error("a Toronto number is warned about as a US number")
	}
	code, body := e.do(writer, "POST", "/send", f, true)
	if code != 200 {
		t.Fatalf("POST /send = %d\n%s", code, body)
	}
	row := e.lastSend()
	e.hooks.waitFor(t, row.WAMID, func(s []hookStatus) bool {
		for _, h := range s {
			if h.Status == "delivered" {
				return true
			}
		}
		return false
	})
	for _, h := range e.hooks.of(row.WAMID) {
		if h.Status == "failed" {
			t.Errorf("the Toronto number failed: %+v", h)
		}
	}

	us := e.form("summer_sale/en_US", readyVars(map[string]string{"recipient": "+1 212 555 0123"}))
	if _, pre := e.do(writer, "POST", "/send/preview", us, true); !strings.Contains(pre, "US number") {
		t.Error("a New York number is not warned about in the words \"US number\"")
	}
}

// Through the gateway, a send without a chosen TTL carries no time_to_live.
func TestGatewaySendWithoutTTLOmitsTimeToLive(t *testing.T) {
	e := newEnv(t, false)
	f := e.form("summer_sale/en_US", readyVars(map[string]string{"ttl_value": ""}))
	if code, body := e.do(writer, "POST", "/send", f, true); code != 200 {
		t.Fatalf("POST /send = %d\n%s", code, body)
	}
	if strings.Contains(e.lastBody(), "time_to_live") {
		t.Errorf("no TTL was chosen, yet the body has one: %s", e.lastBody())
	}
	if row := e.lastSend(); row.TTLSeconds != 0 {
		t.Errorf("recorded TTL = %d, want 0 (Meta's default, assumed)", row.TTLSeconds)
	}
}

// The composer marks 134102 for STRICT on a not-onboarded WABA as inferred, and does not say a
// fallback costs differently (MM API and Cloud API marketing rates are equal since 1 Jul 2025).
func TestComposerWordsOnPolicyAreMetasOwn(t *testing.T) {
	e := newEnv(t, false)
	vars := map[string]string{"var.body.first_name": "Ana", "var.button.0": "week1"}
	_, strict := e.do(writer, "POST", "/send/preview", e.form("wellness_tips/en_US", mergeVars(vars, "policy", "STRICT")), true)
	if !strings.Contains(strict, "inference [I]") {
		t.Error("STRICT on a not-onboarded WABA: 134102 is not marked as our inference")
	}
	_, fallback := e.do(writer, "POST", "/send/preview", e.form("wellness_tips/en_US", vars), true)
	if strings.Contains(fallback, "at Cloud API marketing rates") || !strings.Contains(fallback, "equal since 1 Jul 2025") {
		t.Error("the fallback warning still implies a different price")
	}
}

func mergeVars(v map[string]string, k, val string) map[string]string {
	out := map[string]string{k: val}
	for a, b := range v {
		out[a] = b
	}
	return out
}
