package pages

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"mmconsole/internal/i18n"
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

// In Spanish and Portuguese the sentence is the catalog's, with the time inside it.
func TestGraphContactSpeaksTheLanguage(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	ok := time.Date(2026, 11, 29, 16, 0, 0, 0, time.UTC)
	failed := ok.Add(time.Minute)
	c := models.WABAConnection{GraphOKAt: &ok, GraphFailedAt: &failed, GraphFailure: "no answer within 8s"}
	for lang, want := range map[string][]string{
		"es":    {"Meta respondió por última vez para esta WABA 2026-11-29 16:00 UTC.", "⚠ Falló la última llamada 2026-11-29 16:01 UTC: no answer within 8s."},
		"pt-BR": {"A Meta respondeu para esta WABA pela última vez 2026-11-29 16:00 UTC.", "⚠ A última chamada falhou 2026-11-29 16:01 UTC"},
	} {
		var b bytes.Buffer
		if err := GraphContact(c).Render(i18n.WithLocale(context.Background(), cat.Locale(lang)), &b); err != nil {
			t.Fatal(err)
		}
		html := b.String()
		text := strings.Join(strings.Fields(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(html, "")), " ")
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: %q lacks %q", lang, text, w)
			}
		}
		if strings.Contains(text, "Meta last answered") || !strings.Contains(html, `<time datetime="2026-11-29T16:00:00Z" data-relative>`) {
			t.Errorf("%s: %s", lang, html)
		}
	}
}
