package models

import (
	"testing"
	"time"
)

// The message page's "expired" uses the TTL Meta applied plus a buffer, and knows when that TTL
// is only assumed.
func TestMessageExpiresAfterItsTTLPlusABuffer(t *testing.T) {
	accepted := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	twelveHours := 43200
	cases := []struct {
		name    string
		ttl     *int
		after   time.Duration
		expired bool
		known   bool
	}{
		{"applied TTL, within it", &twelveHours, 11 * time.Hour, false, true},
		{"applied TTL ended, inside the buffer", &twelveHours, 12*time.Hour + TTLExpiryBuffer - time.Minute, false, true},
		{"applied TTL and buffer ended", &twelveHours, 12*time.Hour + TTLExpiryBuffer + time.Minute, true, true},
		{"unknown TTL: Meta's 30 days assumed", nil, 13 * time.Hour, false, false},
		{"unknown TTL: assumed 30 days and buffer ended", nil, DefaultMarketingTTL + TTLExpiryBuffer + time.Minute, true, false},
	}
	for _, c := range cases {
		m := Message{AcceptedAt: &accepted, TTLSeconds: c.ttl}
		if got := m.Expired(accepted.Add(c.after)); got != c.expired {
			t.Errorf("%s: Expired = %v, want %v", c.name, got, c.expired)
		}
		if m.TTLKnown() != c.known {
			t.Errorf("%s: TTLKnown = %v, want %v", c.name, m.TTLKnown(), c.known)
		}
	}
	delivered := accepted.Add(time.Hour)
	m := Message{AcceptedAt: &accepted, TTLSeconds: &twelveHours, DeliveredAt: &delivered}
	if m.Expired(accepted.Add(40 * 24 * time.Hour)) {
		t.Error("a delivered message never expires")
	}
	// Through Cloud API (a fallback) the template's custom TTL does not apply: Meta's default does.
	fb := Message{AcceptedAt: &accepted, TTLSeconds: &twelveHours, Route: RouteFallback}
	if fb.TTL() != DefaultMarketingTTL || fb.Expired(accepted.Add(13*time.Hour+TTLExpiryBuffer)) {
		t.Errorf("fallback send: TTL %s, expired after 13 h = %v; want Meta's 30-day default", fb.TTL(), fb.Expired(accepted.Add(13*time.Hour+TTLExpiryBuffer)))
	}
	failed := accepted.Add(time.Minute)
	m = Message{AcceptedAt: &accepted, TTLSeconds: &twelveHours, Status: MessageFailed, FailedAt: &failed}
	if m.Expired(accepted.Add(40 * 24 * time.Hour)) {
		t.Error("a message Meta reported failed (e.g. 131049) is a failure, not an expiry")
	}
}
