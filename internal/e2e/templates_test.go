package e2e

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"mmconsole/internal/sandbox"
)

var countdownRe = regexp.MustCompile(`ready in about (\d+) min`)

// TestTemplatesCatalogJourney: a marketer signs in and reads the catalog: both WABAs' templates
// with their MM API state in words, and the syncing template counting down.
func TestTemplatesCatalogJourney(t *testing.T) {
	srv := startServer(t, nil)
	templateRow(t, srv, "prescription_ready", "en_US") // both WABAs refreshed at least once
	// Meta exposes no last-use time, so a fresh console cannot know that a template is dormant:
	// make winter_clearance one it last sent 9 days ago, as a long-running console would.
	winter := templateRow(t, srv, "winter_clearance", "en_US")
	nineDays := time.Now().UTC().Add(-9 * 24 * time.Hour)
	if err := srv.App.DB().Model(&winter).Updates(map[string]any{"last_sent_at": nineDays, "sync_started_at": nineDays}).Error; err != nil {
		t.Fatal(err)
	}
	for _, width := range []int{1280, 375} {
		ctx := browser(t, width)
		signIn(t, ctx, srv, demoMarketer)
		open(t, ctx, srv, "/templates")
		see(t, ctx, "#catalog", 10*time.Second,
			"summer_sale", "wellness_tips", "vitamin_offer", "new_arrivals", "order_update",
			"Hibot Demo Store", "Hibot Demo Pharma")
		// Every MM API state appears as a badge with words, in the rows.
		rows := textOf(t, ctx, "#catalog tbody")
		for _, want := range []string{"✓ Ready", "Syncing, ready in about", "! Dormant", "→ Not for MM API", "✕ Not sendable"} {
			if !strings.Contains(rows, want) {
				t.Errorf("catalog rows do not show %q:\n%s", want, rows)
			}
		}
		// The state counters sum up what the rows show.
		counts := textOf(t, ctx, "#catalog .counts")
		for _, want := range []string{"15 templates", "Dormant: 1", "Not for MM API: 3", "Not sendable: 4"} {
			if !strings.Contains(counts, want) {
				t.Errorf("counts line %q lacks %q", counts, want)
			}
		}
		// The row of each state is the one the seed made for it.
		for name, state := range map[string]string{
			"new_arrivals":       "Syncing",
			"winter_clearance":   "Dormant",
			"order_update":       "Not for MM API",
			"old_promo":          "Not sendable",
			"summer_sale en_US":  "Ready",
			"wellness_tips":      "Ready", // not onboarded: no ad sync to wait for
			"prescription_ready": "Not for MM API",
		} {
			row := eval[string](t, ctx, `[...document.querySelectorAll("#catalog tbody tr")].filter(r => (r.cells[0].innerText+" ").startsWith(`+jsString(name+" ")+`)).map(r => r.innerText).join("|")`)
			if !strings.Contains(row, state) {
				t.Errorf("row of %s should say %s: %q", name, state, row)
			}
		}
		// The syncing template counts down in minutes, towards a time in the future.
		first := countdown(t, ctx)
		time.Sleep(2100 * time.Millisecond)
		second := countdown(t, ctx)
		if first < 1 || first > 10 || second > first {
			t.Errorf("countdown read %d then %d minutes; want 1-10, not increasing", first, second)
		}
		if !eval[bool](t, ctx, `Date.parse(document.querySelector("#catalog [data-countdown]").dataset.countdown) > Date.now()`) {
			t.Error("the countdown's end is not in the future")
		}
		screenshot(t, ctx, "templates-catalog-"+itoa(width))

		// The WABA filter narrows to one WABA's templates.
		pharma := connection(t, srv, sandbox.PharmaWABAID)
		open(t, ctx, srv, "/templates?waba="+u(pharma.ID))
		see(t, ctx, "#catalog", 5*time.Second, "4 templates", "wellness_tips")
		if strings.Contains(textOf(t, ctx, "#catalog tbody"), "Hibot Demo Store") {
			t.Error("the Pharma filter still lists Store templates")
		}

		// The syncing template's page explains the state and counts down too.
		na := templateRow(t, srv, "new_arrivals", "en_US")
		open(t, ctx, srv, "/templates/"+u(na.ID))
		see(t, ctx, "#sync-state", 5*time.Second, "MM API state:", "Syncing, ready in about")
		see(t, ctx, "main", time.Second, "Hibot Demo Store", "Preview", "Time to live")
		screenshot(t, ctx, "template-syncing-"+itoa(width))
	}
}

// countdown reads the minutes left of the catalog's first countdown.
func countdown(t *testing.T, ctx context.Context) int {
	t.Helper()
	txt := textOf(t, ctx, "#catalog [data-countdown]")
	m := countdownRe.FindStringSubmatch(txt)
	if m == nil {
		t.Fatalf("countdown text %q is not 'ready in about N min'", txt)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
