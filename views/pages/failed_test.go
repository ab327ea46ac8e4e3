package pages

import (
	"strings"
	"testing"
	"time"

	"mmconsole/internal/send"
	"mmconsole/models"
)

// A failed message reads as failed: the failure mark, no "not known yet" route promise, and no
// TTL countdown; a fallback message does not wait for clicks that never come.
func TestFailedAndFallbackMessagesRead(t *testing.T) {
	at := time.Date(2026, 11, 29, 16, 0, 0, 0, time.UTC)
	end := at.Add(24 * time.Hour)
	code := 131026
	failed := models.Message{WAMID: "wamid.f", Status: models.MessageFailed, Route: "unknown", ErrorCode: &code, AcceptedAt: &at, FailedAt: &at}
	fallback := models.Message{WAMID: "wamid.b", Status: models.MessageDelivered, Route: models.RouteFallback, PricingCategory: "marketing", SentAt: &at, DeliveredAt: &at}
	for _, tc := range []struct {
		name          string
		tl            MessageTimeline
		want, notWant []string
	}{
		{"failed before routing", MessageTimeline{Message: failed, TTLLabel: "1 day", TTLEnd: &end, Steps: []TimelineStep{
			{Label: "Accepted by Meta", At: &at}, {Label: "Sent"}, {Label: "Failed", At: &at, Failed: true}}},
			[]string{"✕ Failed 2026-11-29 16:00 UTC", "No route: it failed before Meta reported one", "no countdown: the message failed"},
			[]string{"✓ Failed", "Route not known yet", "min left", "ends 2026"}},
		{"fallback", MessageTimeline{Message: fallback, TTLLabel: "30 days", Steps: []TimelineStep{
			{Label: "Delivered", At: &at}, {Label: "Clicked", Untracked: "not tracked on Cloud API fallback"}}},
			[]string{"✓ Delivered 2026-11-29 16:00 UTC", "Clicked: not tracked on Cloud API fallback"},
			[]string{"Clicked: not yet"}},
	} {
		checkWords(t, tc.name, visibleText(t, MessageTimelineRegion(tc.tl)), tc.want, tc.notWant)
	}
}

// The composer's result panel: a failed send gets the failure mark and no route promise; a
// fallback send says clicks are not tracked.
func TestSendResultFailedAndFallback(t *testing.T) {
	at := time.Date(2026, 11, 29, 16, 0, 0, 0, time.UTC)
	failed := &send.Result{Send: models.TestSend{WAMID: "wamid.f", MessageStatus: "accepted"}, Final: true,
		Live: send.StatusView{Status: "failed", Route: "unknown", FailedAt: &at}}
	fallback := &send.Result{Send: models.TestSend{WAMID: "wamid.b", MessageStatus: "accepted"}, Final: false,
		Live: send.StatusView{Status: "delivered", Route: send.RouteFallback, SentAt: &at, DeliveredAt: &at}}
	for _, tc := range []struct {
		name          string
		r             *send.Result
		want, notWant []string
	}{
		{"failed", failed, []string{"✕ Failed 2026-11-29 16:00 UTC", "None: failed before routing"}, []string{"✓ Failed", "Route not known yet"}},
		{"fallback", fallback, []string{"Clicked: not tracked on Cloud API fallback"}, []string{"Clicked: not yet"}},
	} {
		checkWords(t, tc.name, visibleText(t, SendResult(tc.r)), tc.want, tc.notWant)
	}
}

// checkWords fails when text lacks one of want or shows one of notWant.
func checkWords(t *testing.T, name, text string, want, notWant []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s: %q lacks %q", name, text, w)
		}
	}
	for _, w := range notWant {
		if strings.Contains(text, w) {
			t.Errorf("%s: %q shows %q", name, text, w)
		}
	}
}
