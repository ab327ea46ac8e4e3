package e2e

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"mmconsole/internal/sandbox"
)

// TestMainPagesInSpanishAndPortuguese chooses Spanish, then (on a fresh server) Brazilian
// Portuguese on the account page, as a person would, and opens every main page with data in it:
// the page declares its language, its words are the catalog's (no English sentence outside
// Meta's tokens, code and the customer's own data), axe-core is clean in light and dark mode,
// and at 375 px the longer words make nothing scroll sideways.
func TestMainPagesInSpanishAndPortuguese(t *testing.T) {
	for _, lang := range []struct{ code, nav, account string }{
		{"es", "Plantillas", "Tu cuenta"},
		{"pt-BR", "Modelos", "Sua conta"},
	} {
		t.Run(lang.code, func(t *testing.T) {
			srv := startServer(t, nil)
			store := connection(t, srv, sandbox.StoreWABAID)
			sale := templateRow(t, srv, "summer_sale", "en_US")

			ctx := browser(t, 1280)
			signIn(t, ctx, srv, demoAdmin)
			compose(t, ctx, srv, sale, storeRecipient, "CLOUD_API_FALLBACK")
			submitSend(t, ctx)
			see(t, ctx, "#composer .send-result", 20*time.Second, "✓✓", "✓")
			wamid := textOf(t, ctx, "#composer .result-facts dd a.mono")

			open(t, ctx, srv, "/account")
			pick(t, ctx, "#f-language", lang.code)
			do(t, ctx, chromedp.Submit(chromedp.CSS("#f-language")))
			see(t, ctx, "main", 10*time.Second, lang.account)

			pages := []struct{ name, path, shows string }{
				{"overview", "/", "Hibot Demo Store"},
				{"account", "/account", lang.account},
				{"templates", "/templates", "summer_sale"},
				{"template", "/templates/" + u(sale.ID), "summer_sale"},
				{"optimizations", "/optimizations?conn=" + u(store.ID), "Hibot Demo Store"},
				{"matrix", "/optimizations/matrix?conn=" + u(store.ID), "summer_sale"},
				{"send", "/send?template=" + u(sale.ID), "summer_sale"},
				{"sends", "/sends", "summer_sale"},
				{"log", "/log", wamid[:12]},
				{"message", "/messages/" + url.PathEscape(wamid), "MM API"},
				{"settings", "/settings", "Hibot Demo Store"},
				{"audit", "/audit", demoAdmin},
				{"sandbox", "/sandbox", "Hibot Demo Store"},
				{"glossary", "/glossary", "134101"},
				{"new template", "/templates/new", "MM API"},
			}
			// At 1280 px: the page's language and no English outside the catalog. At 375 px, where
			// the longer words are tightest: no sideways scroll and axe clean in both themes.
			const perBrowser = 5
			for i, p := range pages {
				if i > 0 && i%perBrowser == 0 {
					ctx = browser(t, 1280)
					signIn(t, ctx, srv, demoAdmin)
				}
				open(t, ctx, srv, p.path)
				see(t, ctx, "main", 5*time.Second, p.shows)
				if got := eval[string](t, ctx, `document.documentElement.lang`); got != lang.code {
					t.Errorf("%s: <html lang=%q>, want %q", p.name, got, lang.code)
				}
				if nav := textOf(t, ctx, "header nav"); !strings.Contains(nav, lang.nav) {
					t.Errorf("%s: the navigation is not in %s: %q", p.name, lang.code, nav)
				}
				if leaks := eval[[]string](t, ctx, englishLeaksJS); len(leaks) > 0 {
					t.Errorf("%s in %s: English outside the catalog:\n  %s", p.name, lang.code, strings.Join(leaks, "\n  "))
				}
			}
			for i, p := range pages {
				if i%perBrowser == 0 {
					ctx = browser(t, 375)
					signIn(t, ctx, srv, demoAdmin)
				}
				open(t, ctx, srv, p.path)
				see(t, ctx, "main", 5*time.Second, p.shows)
				if over := eval[int](t, ctx, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); over > 0 {
					t.Errorf("%s in %s at 375 px: the page scrolls sideways by %d px; widest: %s", p.name, lang.code, over, eval[string](t, ctx, overflowingJS))
				}
				checkBothThemes(t, ctx, lang.code+"-"+p.name, 375)
			}
		})
	}
}

// englishLeaksJS lists text a person reads (text nodes, titles, labels, placeholders) that holds
// two or more English function words: a sentence that did not come from the catalog. Code,
// Meta's JSON and the customer's own content (marked translate="no", like template bodies) are
// left out.
const englishLeaksJS = `(() => {
	const en = /\b(the|and|with|your|this|that|from|was|were|will|been|have|has|which|when|there|their|only|not|are|is|of|to|for|you|can|be|it|in|on|at|by|or)\b/gi;
	const skip = "code, pre, kbd, samp, script, style, textarea, template, .mono, [translate=no]";
	const out = new Set();
	const check = (text, where) => {
		const words = new Set((text.match(en) || []).map(w => w.toLowerCase()));
		if (words.size >= 2) out.add(where + ": " + text.trim().replace(/\s+/g, " ").slice(0, 140));
	};
	const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	for (let n; (n = walker.nextNode()); ) {
		const el = n.parentElement;
		if (!el || el.closest(skip)) continue;
		check(n.textContent, el.tagName.toLowerCase());
	}
	for (const el of document.body.querySelectorAll("[title], [aria-label], [placeholder], [hx-confirm], [data-format], [data-done]")) {
		if (el.closest(skip)) continue;
		for (const a of ["title", "aria-label", "placeholder", "hx-confirm", "data-format", "data-done"]) {
			if (el.hasAttribute(a)) check(el.getAttribute(a), el.tagName.toLowerCase() + "@" + a);
		}
	}
	return [...out].slice(0, 15);
})()`
