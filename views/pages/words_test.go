package pages

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"

	"mmconsole/internal/templates"
	"mmconsole/models"
)

// visibleText renders c and returns its text as a reader sees it: tags dropped, runs of
// whitespace as one space.
func visibleText(t *testing.T, c templ.Component) string {
	t.Helper()
	var b bytes.Buffer
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(b.String(), "")), " ")
}

// The message page's sentences keep their spaces around the times: "Sent 2026-…", not
// "Sent2026-…", and the preference explanations read as sentences.
func TestMessageTimelineWords(t *testing.T) {
	at := time.Date(2026, 11, 29, 16, 0, 0, 0, time.UTC)
	later := at.Add(time.Hour)
	code := 131050
	stop := &models.MarketingPreference{Value: models.PreferenceStop, Detail: "User requested to stop marketing messages", At: at}
	resume := &models.MarketingPreference{Value: models.PreferenceResume, At: later}
	failed := models.Message{ErrorCode: &code, FailedAt: &at}
	tl := MessageTimeline{TTLLabel: "1 day", TTLEnd: &later, Steps: []TimelineStep{
		{Label: "Sent", At: &at}, {Label: "Clicked", At: &at, Note: "(attributed)"},
	}}
	for _, tc := range []struct {
		name string
		c    templ.Component
		want []string
	}{
		{"timeline", MessageTimelineRegion(tl), []string{"ends 2026-11-29 17:00 UTC", "✓ Sent 2026-11-29 16:00 UTC", "✓ Clicked 2026-11-29 16:00 UTC (attributed)"}},
		{"send step", sendStep("Delivered", &at), []string{"✓ Delivered 2026-11-29 16:00 UTC"}},
		{"sync window", SyncStateRegion(TemplateDetail{Now: at, State: templates.State{Kind: templates.KindSyncing, Since: at, ReadyAt: later, Reason: "approved"}}),
			[]string{"MM API state: ", "Window started 2026-11-29 16:00 UTC because: approved."}},
		{"stopped failure", PreferenceExplained(MessageTimeline{Message: failed, Preference: stop}),
			[]string{"from this business 2026-11-29 16:00 UTC (user_preferences webhook: User requested"}},
		{"resumed since", PreferenceExplained(MessageTimeline{Message: failed, Preference: resume}),
			[]string{"resumed marketing messages 2026-11-29 17:00 UTC; a new send"}},
		{"stopped, other message", PreferenceExplained(MessageTimeline{Preference: stop}),
			[]string{"! Stopped marketing this recipient stopped marketing messages from this business 2026-11-29 16:00 UTC"}},
	} {
		text := visibleText(t, tc.c)
		for _, w := range tc.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: %q lacks %q", tc.name, text, w)
			}
		}
	}
}
