package pages

import (
	"strings"
	"testing"
	"time"

	"mmconsole/models"
)

// The sentence reads as one: a space before the time, none before the full stop or colon.
func TestGraphContactWords(t *testing.T) {
	ok := time.Date(2026, 11, 29, 16, 0, 0, 0, time.UTC)
	failed := ok.Add(time.Minute)
	c := models.WABAConnection{GraphOKAt: &ok, GraphFailedAt: &failed, GraphFailure: "no answer within 8s"}
	text := visibleText(t, GraphContact(c))
	for _, want := range []string{
		"Meta last answered for this WABA 2026-11-29 16:00 UTC.",
		"⚠ Last call failed 2026-11-29 16:01 UTC: no answer within 8s.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text %q lacks %q", text, want)
		}
	}
}
