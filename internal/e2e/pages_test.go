package e2e

import (
	"context"
	"net/url"
	"testing"
	"time"

	"mmconsole/internal/sandbox"
)

// TestMainPagesAccessible opens every main page as an admin, with data in it (a send followed to
// its end), runs axe-core in light and dark mode at desktop and phone widths and saves a
// screenshot of each. At 375 px nothing may make the page itself scroll sideways: wide
// tables scroll inside their .table-wrap.
func TestMainPagesAccessible(t *testing.T) {
	srv := startServer(t, nil)
	store := connection(t, srv, sandbox.StoreWABAID)
	sale := templateRow(t, srv, "summer_sale", "en_US")

	ctx := browser(t, 1280)
	signIn(t, ctx, srv, demoAdmin)
	compose(t, ctx, srv, sale, storeRecipient, "CLOUD_API_FALLBACK")
	submitSend(t, ctx)
	see(t, ctx, "#composer .send-result", 20*time.Second, "✓✓ Read", "✓ Clicked")
	wamid := textOf(t, ctx, "#composer .result-facts dd a.mono")

	pages := []struct{ name, path, shows string }{
		{"templates", "/templates", "summer_sale"},
		{"template", "/templates/" + u(sale.ID), "Creative optimizations"},
		{"optimizations", "/optimizations?conn=" + u(store.ID), "WABA defaults"},
		{"matrix", "/optimizations/matrix?conn=" + u(store.ID), "summer_sale"},
		{"send", "/send?template=" + u(sale.ID), "Checks before sending"},
		{"sends", "/sends", "summer_sale"},
		{"log", "/log", "match"},
		{"message", "/messages/" + url.PathEscape(wamid), "MM API"},
		{"settings", "/settings", "Hibot Demo Store"},
		{"audit", "/audit", demoAdmin},
		{"sandbox", "/sandbox", "A recipient stops or resumes marketing messages"},
		{"glossary", "/glossary", "Meta's term"},
	}
	// Each browser has one deadline for all it does (see browser); on a busy machine two themes
	// × twelve pages overran it, so every few pages get a fresh, signed-in browser.
	const perBrowser = 4
	for i, p := range pages {
		if i > 0 && i%perBrowser == 0 {
			ctx = browser(t, 1280)
			signIn(t, ctx, srv, demoAdmin)
		}
		open(t, ctx, srv, p.path)
		see(t, ctx, "main", 5*time.Second, p.shows)
		checkBothThemes(t, ctx, p.name, 1280)
	}

	var phone context.Context
	for i, p := range pages {
		if i%perBrowser == 0 {
			phone = browser(t, 375)
			signIn(t, phone, srv, demoAdmin)
		}
		open(t, phone, srv, p.path)
		see(t, phone, "main", 5*time.Second, p.shows)
		if over := eval[int](t, phone, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); over > 0 {
			t.Errorf("%s at 375 px: the page scrolls sideways by %d px; widest: %s", p.name, over, eval[string](t, phone, overflowingJS))
		}
		checkBothThemes(t, phone, p.name, 375)
	}
}

// overflowingJS names the innermost elements that reach past the viewport's right edge.
const overflowingJS = `[...document.querySelectorAll("main *")].filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1 && ![...el.children].some(c => c.getBoundingClientRect().right > document.documentElement.clientWidth + 1)).slice(0, 5).map(el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className ? "." + String(el.className).replace(/ /g, ".") : "") + " " + Math.round(el.getBoundingClientRect().width) + "px").join(", ")`
