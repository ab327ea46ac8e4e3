package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestInsightsOverviewAndTemplate opens the insights overview once the background fetch has read
// the sandbox's analytics, sees the chart drawn by the vendored library with its numbers as a
// table, the refused WABA with the irreversible enable form, and a template's insights section;
// axe-core stays clean on both pages in light and dark mode.
func TestInsightsOverviewAndTemplate(t *testing.T) {
	srv := startServer(t, nil)
	sale := templateRow(t, srv, "summer_sale", "en_US")
	// The fetch runs in the background, once the catalog is read (the fetch pass looks every
	// minute): reload until its numbers are there, bounded by the waiting browser's own deadline.
	wait := browser(t, 1280)
	signIn(t, wait, srv, demoAdmin)
	deadline := time.Now().Add(80 * time.Second)
	for {
		open(t, wait, srv, "/?period=90")
		if strings.Contains(textOf(t, wait, "main"), "Meta's analytics read") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the overview never showed Meta's analytics as read: %s", textOf(t, wait, "main"))
		}
		time.Sleep(time.Second)
	}
	ctx := browser(t, 1280)
	signIn(t, ctx, srv, demoAdmin)
	open(t, ctx, srv, "/?period=90")
	see(t, ctx, "main", 5*time.Second, "Totals", "MM API vs fallback", "Analytics refused", "Enable template analytics", "Click rate by template")
	waitFor(t, ctx, "the chart is drawn", `!!document.querySelector("[data-chart=overview-daily] canvas") && document.querySelectorAll("[data-chart=overview-daily] .chart-legend li").length > 0`, 10*time.Second)
	if n := count(t, ctx, "#overview-daily-h ~ details table tbody tr"); n != 90 {
		t.Errorf("the chart's table has %d rows, want 90 days", n)
	}
	if sent := textOf(t, ctx, "#tot-h + .cards .stat-value"); sent == "0" || sent == "" {
		t.Errorf("overview sent = %q, want the sandbox's history", sent)
	}
	checkBothThemes(t, ctx, "insights-overview", 1280)
	// On a phone the chart fits the screen and the page stays axe-clean in both themes.
	narrow := browser(t, 375)
	signIn(t, narrow, srv, demoAdmin)
	open(t, narrow, srv, "/?period=90")
	waitFor(t, narrow, "the narrow chart is drawn", `(() => { const c = document.querySelector("[data-chart=overview-daily] canvas"); return !!c && c.getBoundingClientRect().right <= innerWidth; })()`, 10*time.Second)
	checkBothThemes(t, narrow, "insights-overview", 375)

	open(t, ctx, srv, "/templates/"+u(sale.ID)+"?period=90")
	see(t, ctx, "#insights", 5*time.Second, "Funnel", "Optimization impact", "Conversions")
	waitFor(t, ctx, "the template chart is drawn", `!!document.querySelector("[data-chart=template-daily] canvas")`, 10*time.Second)
	checkBothThemes(t, ctx, "insights-template", 1280)

	// Pages without charts do not load the chart script.
	open(t, ctx, srv, "/templates")
	if n := count(t, ctx, `script[src*="charts.js"]`); n != 0 {
		t.Errorf("the catalog loads the chart script (%d scripts)", n)
	}
}
