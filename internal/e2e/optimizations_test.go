package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"mmconsole/internal/sandbox"
)

// TestOptimizationsJourney: an admin switches a creative optimization at WABA level and on one
// template; after a reload both switches kept their value and the template page says where
// each effective value comes from.
func TestOptimizationsJourney(t *testing.T) {
	srv := startServer(t, nil)
	store := connection(t, srv, sandbox.StoreWABAID)
	sale := templateRow(t, srv, "summer_sale", "en_US")
	ctx := browser(t, 1280)
	signIn(t, ctx, srv, demoAdmin)

	// WABA level: product_extensions is off at Meta; switch it on.
	open(t, ctx, srv, "/optimizations?conn="+u(store.ID))
	// product_extensions is "coming soon": it sits in the collapsed group below the active ones.
	showMore(t, ctx)
	row := "#opt-waba-" + u(store.ID) + "-product_extensions"
	see(t, ctx, row, 5*time.Second, "Product extensions", "Off (OPT_OUT)")
	if !pressedIs(t, ctx, row, "OPT_OUT") {
		t.Fatal("the WABA switch of product_extensions does not show Off before the change")
	}
	screenshot(t, ctx, "optimizations-waba-before")
	do(t, ctx, chromedp.Click(chromedp.CSS(row+` button[value="OPT_IN"]`)))
	waitFor(t, ctx, "the WABA switch to show On", pressedJS(row, "OPT_IN"), 10*time.Second)
	see(t, ctx, row, 5*time.Second, "On (OPT_IN)")
	open(t, ctx, srv, "/optimizations?conn="+u(store.ID))
	showMore(t, ctx)
	if !pressedIs(t, ctx, row, "OPT_IN") {
		t.Fatalf("after a reload the WABA switch is not On: %s", textOf(t, ctx, row))
	}
	see(t, ctx, row, time.Second, "On (OPT_IN)") // Meta reports the new value too
	screenshot(t, ctx, "optimizations-waba-after")

	// Template level, on the template page: the sources before the change.
	open(t, ctx, srv, "/templates/"+u(sale.ID))
	showMore(t, ctx)
	sec := "#tpl-opt-" + u(sale.ID)
	see(t, ctx, sec, 5*time.Second, "Creative optimizations", "How we decide the effective value")
	for key, want := range map[string][]string{
		"text_extraction_for_headline":   {"On (OPT_IN)", "Template setting"},
		"image_brightness_and_contrast":  {"Off (OPT_OUT)", "Template setting"},
		"image_touchups":                 {"On (OPT_IN)", "WABA default"},
		"product_extensions":             {"On (OPT_IN)", "WABA default"}, // the WABA change above
		"text_extraction_for_tap_target": {"Meta's default"},
	} {
		effective := textOf(t, ctx, sec+"-"+key+" td")
		for _, w := range want {
			if !strings.Contains(effective, w) {
				t.Errorf("%s effective cell %q lacks %q", key, effective, w)
			}
		}
	}
	screenshot(t, ctx, "template-optimizations-before")

	// Stage image_touchups off for this template only, then apply: one edit, budget said first.
	touch := sec + "-image_touchups"
	see(t, ctx, sec, time.Second, "0 of 10 edits used in the last 30 days; this spends 1 edit, 9 left after it.")
	do(t, ctx, chromedp.Click(chromedp.CSS(touch+` input[value="OPT_OUT"]`)))
	do(t, ctx, chromedp.Click(chromedp.CSS(sec+` .opt-apply button:not([name])`)))
	waitFor(t, ctx, "the template section to report the edit", `(document.querySelector(`+jsString(sec)+`)||{}).innerText?.includes("1 setting changed in one edit")`, 10*time.Second)
	open(t, ctx, srv, "/templates/"+u(sale.ID))
	if !checkedIs(t, ctx, touch, "OPT_OUT") {
		t.Fatalf("after a reload the template setting is not Off: %s", textOf(t, ctx, touch))
	}
	effective := textOf(t, ctx, touch+" td")
	for _, w := range []string{"Off (OPT_OUT)", "Template setting", "WABA default: On (OPT_IN)"} {
		if !strings.Contains(effective, w) {
			t.Errorf("image_touchups effective cell after the change %q lacks %q", effective, w)
		}
	}
	see(t, ctx, sec, time.Second, "1 of", "edits used in the last 30 days", "Off (OPT_OUT)")
	if got := textOf(t, ctx, sec+" .opt-history"); !strings.Contains(got, "image_touchups") || !strings.Contains(got, demoAdmin) {
		t.Errorf("history does not list the change by %s: %q", demoAdmin, got)
	}
	screenshot(t, ctx, "template-optimizations-after")

	// The standalone template page and the matrix agree.
	open(t, ctx, srv, "/optimizations/template/"+u(sale.ID))
	if !checkedIs(t, ctx, touch, "OPT_OUT") {
		t.Error("the standalone template page does not show the template switch Off")
	}
	open(t, ctx, srv, "/optimizations/matrix?conn="+u(store.ID))
	cell := eval[string](t, ctx, `[...document.querySelectorAll(".opt-matrix tbody tr")].filter(r => r.querySelector("th").innerText.startsWith("summer_sale") && r.innerText.includes("en_US")).map(r => r.cells[`+
		`[...document.querySelectorAll(".opt-matrix thead th")].findIndex(th => th.innerText.startsWith("Image touch-ups"))].title).join("|")`)
	if !strings.Contains(cell, "Off (OPT_OUT) (Template setting)") {
		t.Errorf("matrix cell of summer_sale en_US × Image touch-ups: %q", cell)
	}
	screenshot(t, ctx, "optimizations-matrix")
}

// showMore opens the collapsed groups of features that do not act today, as a person clicks
// their summary to see them.
func showMore(t *testing.T, ctx context.Context) {
	t.Helper()
	if n := count(t, ctx, "details.opt-more > summary"); n == 0 {
		t.Fatal("no collapsed group of features that do not act today")
	}
	do(t, ctx, chromedp.Click(chromedp.CSS("details.opt-more > summary")))
	waitFor(t, ctx, "the collapsed features to open", `document.querySelector("details.opt-more").open`, 5*time.Second)
}

func pressedJS(row, value string) string {
	return `(document.querySelector(` + jsString(row+` button[value="`+value+`"]`) + `) || {}).getAttribute?.("aria-pressed") === "true"`
}

// pressedIs reports whether the switch in row shows value as the pressed button.
func pressedIs(t *testing.T, ctx context.Context, row, value string) bool {
	t.Helper()
	return eval[bool](t, ctx, pressedJS(row, value))
}

// checkedIs reports whether the staged choice in row has value checked.
func checkedIs(t *testing.T, ctx context.Context, row, value string) bool {
	t.Helper()
	return eval[bool](t, ctx, `(document.querySelector(`+jsString(row+` input[value="`+value+`"]`)+`) || {}).checked === true`)
}

// TestOptimizationPagesInSpanishAndPortugueseAt375: with the language chosen on the account
// page, the WABA page, the matrix and a template's optimizations speak it, nothing makes the
// page scroll sideways at 375 px (the longer words included, secondary features open), and axe
// finds nothing serious.
func TestOptimizationPagesInSpanishAndPortugueseAt375(t *testing.T) {
	srv := startServer(t, nil)
	store := connection(t, srv, sandbox.StoreWABAID)
	sale := templateRow(t, srv, "summer_sale", "en_US")
	for _, tc := range []struct{ lang, waba, matrix, tpl string }{
		{"es", "Predeterminados de la WABA", "Matriz de optimizaciones", "Optimizaciones creativas"},
		{"pt-BR", "Padrões da WABA", "Matriz de otimizações", "Otimizações criativas"},
	} {
		phone := browser(t, 375)
		signIn(t, phone, srv, demoAdmin)
		open(t, phone, srv, "/account")
		do(t, phone, chromedp.SetValue(chromedp.CSS("#f-language"), tc.lang), chromedp.Submit(chromedp.CSS("#f-language")))
		waitFor(t, phone, "the page in "+tc.lang, `document.documentElement.lang === `+jsString(tc.lang), 10*time.Second)
		for _, p := range []struct{ name, path, shows string }{
			{"optimizations", "/optimizations?conn=" + u(store.ID), tc.waba},
			{"matrix", "/optimizations/matrix?conn=" + u(store.ID), tc.matrix},
			{"template-optimizations", "/optimizations/template/" + u(sale.ID), tc.tpl},
			{"template", "/templates/" + u(sale.ID), tc.tpl},
		} {
			open(t, phone, srv, p.path)
			see(t, phone, "main", 5*time.Second, p.shows)
			showMore(t, phone)
			if over := eval[int](t, phone, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); over > 0 {
				t.Errorf("%s %s at 375 px: the page scrolls sideways by %d px; widest: %s", tc.lang, p.name, over, eval[string](t, phone, overflowingJS))
			}
			checkAccessibility(t, phone, tc.lang+" "+p.name+" 375")
			screenshot(t, phone, p.name+"-"+tc.lang+"-375")
		}
	}
}
