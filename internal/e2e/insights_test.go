package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestInsightsOverviewAndTemplate opens the insights overview once the background fetch has read
// the sandbox's analytics, sees the chart drawn by the vendored uPlot with the same numbers as its
// table and CSV, the refused WABA with the irreversible enable form, and a template's insights section;
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
	waitFor(t, ctx, "uPlot draws the overview's chart", `!!document.querySelector("[data-chart=overview-daily] .uplot canvas") && typeof uPlot === "function"`, 10*time.Second)
	if n := count(t, ctx, "#overview-daily-h ~ details table tbody tr"); n != 90 {
		t.Errorf("the chart's table has %d rows, want 90 days", n)
	}
	chartTableCSVAgree(t, ctx, "overview-daily", 90)
	if sent := textOf(t, ctx, "#tot-h + .cards .stat-value"); sent == "0" || sent == "" {
		t.Errorf("overview sent = %q, want the sandbox's history", sent)
	}
	// The overview has no hx- attribute and so does without htmx (its first-load budget pays for
	// the chart library instead); its links and forms are plain ones.
	if eval[bool](t, ctx, `typeof htmx !== "undefined" || !!document.querySelector("script[src*=htmx]")`) {
		t.Error("the overview loads htmx")
	}
	checkBothThemes(t, ctx, "insights-overview", 1280)
	themeColoursFollow(t, ctx, "overview-daily")
	// On a phone the chart fits the screen and the page stays axe-clean in both themes.
	narrow := browser(t, 375)
	signIn(t, narrow, srv, demoAdmin)
	open(t, narrow, srv, "/?period=90")
	do(t, narrow, chromedp.ScrollIntoView(`[data-chart="overview-daily"]`))
	waitFor(t, narrow, "the narrow chart is drawn", `(() => { const c = document.querySelector("[data-chart=overview-daily] .uplot canvas"); return !!c && c.getBoundingClientRect().right <= innerWidth; })()`, 10*time.Second)
	checkBothThemes(t, narrow, "insights-overview", 375)

	// An optimization change of the template (image touch-ups off), to be marked on its chart.
	open(t, ctx, srv, "/templates/"+u(sale.ID))
	sec := "#tpl-opt-" + u(sale.ID)
	do(t, ctx, chromedp.Click(chromedp.CSS(sec+`-image_touchups input[value="OPT_OUT"]`)))
	do(t, ctx, chromedp.Click(chromedp.CSS(sec+` .opt-apply button:not([name])`)))
	waitFor(t, ctx, "the optimization change to be applied", `(document.querySelector(`+jsString(sec)+`)||{}).innerText?.includes("1 setting changed in one edit")`, 10*time.Second)

	// A template's chart sits below the fold: the page's first load leaves uPlot out, and the
	// chart is drawn by uPlot once it is scrolled into view, with the change marked on it.
	open(t, ctx, srv, "/templates/"+u(sale.ID)+"?period=90")
	see(t, ctx, "#insights", 5*time.Second, "Funnel", "Optimization impact", "Conversions", "image_touchups")
	waitFor(t, ctx, "the template page to finish loading", `document.readyState === "complete"`, 10*time.Second)
	time.Sleep(500 * time.Millisecond)
	if eval[bool](t, ctx, `typeof uPlot !== "undefined" || !!document.querySelector("script[src*=uplot], link[href*=uplot]")`) {
		t.Error("the template page loads uPlot before its chart is in view")
	}
	do(t, ctx, chromedp.ScrollIntoView(`[data-chart="template-daily"]`))
	waitFor(t, ctx, "uPlot draws the template's chart", `!!document.querySelector("[data-chart=template-daily] .uplot canvas")`, 10*time.Second)
	if marks := eval[string](t, ctx, `document.querySelector("[data-chart=template-daily]").getAttribute("data-marks-drawn") || ""`); marks != "1" {
		t.Errorf("the template's chart drew %q optimization change marks, want 1 (image_touchups today)", marks)
	}
	chartTableCSVAgree(t, ctx, "template-daily", 90)
	checkBothThemes(t, ctx, "insights-template", 1280)
	themeColoursFollow(t, ctx, "template-daily")

	// Pages without charts do not load the chart script.
	open(t, ctx, srv, "/templates")
	if n := count(t, ctx, `script[src*="charts.js"]`); n != 0 {
		t.Errorf("the catalog loads the chart script (%d scripts)", n)
	}

	// In Spanish and Portuguese, on a phone: the pages speak the language, the chart's legend
	// too, nothing pushes the page sideways, and axe stays clean in both themes. Each language
	// has its own browser, with its own 90 s deadline, so a slow machine does not run one out.
	for _, lang := range []struct{ code, heading, legend string }{
		{"es", "Qué tan recientes son las cifras", "Enviados"},
		{"pt-BR", "Quão recentes são os números", "Enviados"},
	} {
		phone := browser(t, 375)
		if _, err := chromedp.Call(phone, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": lang.code}}); err != nil {
			t.Fatalf("set the browser's language: %v", err)
		}
		signIn(t, phone, srv, demoAdmin)
		open(t, phone, srv, "/?period=90")
		see(t, phone, "main", 5*time.Second, lang.heading)
		do(t, phone, chromedp.ScrollIntoView(`[data-chart="overview-daily"]`))
		waitFor(t, phone, "the "+lang.code+" chart is drawn", `!!document.querySelector("[data-chart=overview-daily] .uplot canvas")`, 10*time.Second)
		see(t, phone, "[data-chart=overview-daily] .u-legend", 5*time.Second, lang.legend)
		for _, pg := range []struct{ name, path string }{{"overview", "/?period=90"}, {"template", "/templates/" + u(sale.ID) + "?period=90"}} {
			open(t, phone, srv, pg.path)
			if w := eval[int](t, phone, `document.documentElement.scrollWidth - innerWidth`); w > 0 {
				t.Errorf("%s in %s: the page is %d px wider than the 375 px screen", pg.name, lang.code, w)
			}
			checkBothThemes(t, phone, "insights-"+pg.name+"-"+lang.code, 375)
		}
	}
}

// chartTableCSVAgree checks that the chart's data (the JSON uPlot draws), the table under it and
// its CSV export carry the same days and numbers, and that the table has days rows.
func chartTableCSVAgree(t *testing.T, ctx context.Context, id string, days int) {
	t.Helper()
	got := evalAwait[struct {
		CSV   []string `json:"csv"`
		Table []string `json:"table"`
		Chart []string `json:"chart"`
	}](t, ctx, `(async () => {
		const sec = document.getElementById(`+jsString(id+"-h")+`).closest("section");
		const href = sec.querySelector("figcaption a[download]").getAttribute("href");
		const res = await fetch(href, {credentials: "same-origin"});
		const csv = (await res.text()).trim().split(/\r?\n/);
		const table = [...sec.querySelectorAll("details table tr")].map(tr => [...tr.children].map(c => c.textContent.trim()).join(","));
		const d = JSON.parse(document.getElementById(`+jsString(id+"-data")+`).textContent);
		const chart = ["Day," + d.series.map(s => s.label).join(",")].concat(d.x.map((x, i) =>
			[new Date(x * 1000).toISOString().slice(0, 10)].concat(d.series.map(s => s.values[i])).join(",")));
		return {csv, table, chart};
	})()`)
	if len(got.Table) != days+1 {
		t.Errorf("%s: the table has %d rows, want a header and %d days", id, len(got.Table), days)
	}
	if strings.Join(got.CSV, "\n") != strings.Join(got.Table, "\n") {
		t.Errorf("%s: the CSV differs from the table:\ncsv   %q\ntable %q", id, got.CSV, got.Table)
	}
	if strings.Join(got.Chart, "\n") != strings.Join(got.Table, "\n") {
		t.Errorf("%s: the chart's data differs from the table:\nchart %q\ntable %q", id, got.Chart, got.Table)
	}
	var sum int
	for _, r := range got.Table[1:] {
		if f := strings.Split(r, ","); len(f) > 1 && f[1] != "0" {
			sum++
		}
	}
	if sum == 0 {
		t.Errorf("%s: every day of the table sent nothing, so the comparison says little", id)
	}
}

// themeColoursFollow checks that the chart's lines take the theme's colours: the first line's
// legend marker changes colour when the theme switches (the page ends in the light theme).
func themeColoursFollow(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	marker := `(document.querySelector("[data-chart=` + id + `] .u-series:nth-child(2) .u-marker") || {style: {}}).style.borderColor`
	colour := func(theme string) string {
		if err := setTheme(ctx, theme); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, "the chart redrawn in the "+theme+" theme", `!!document.querySelector("[data-chart=`+id+`] .uplot canvas")`, 5*time.Second)
		return eval[string](t, ctx, marker)
	}
	dark, light := colour("dark"), colour("light")
	if dark == "" || light == "" || dark == light {
		t.Errorf("%s: the first line's colour is %q in dark and %q in light, want two colours", id, dark, light)
	}
}
