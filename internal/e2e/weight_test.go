package e2e

import (
	"context"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"mmconsole/internal/sandbox"
)

// firstLoadBudget is the most a page's first load may transfer, compressed, its assets included.
const firstLoadBudget = 60 * 1024

// TestFirstLoadWeightAndRelativeTimes loads each main page, with data in it, as a first visit
// (the browser cache off, so every asset comes over the wire) and sums the bytes the DevTools
// protocol reports as received (Network.loadingFinished encodedDataLength: headers and
// compressed bodies), once the network has been quiet for half a second, so that what a page
// fetches by itself after loading (the chart library when a chart is in view) counts too. Each
// must stay under 60 KB. On the same pages, once the script has turned
// the times into "3 min ago", no relative time may touch a letter or digit of the words around
// it ("Read8 seconds ago").
func TestFirstLoadWeightAndRelativeTimes(t *testing.T) {
	srv := startServer(t, nil)
	store := connection(t, srv, sandbox.StoreWABAID)
	sale := templateRow(t, srv, "summer_sale", "en_US")

	ctx := browser(t, 1280)
	signIn(t, ctx, srv, demoAdmin)
	compose(t, ctx, srv, sale, storeRecipient, "CLOUD_API_FALLBACK")
	submitSend(t, ctx)
	see(t, ctx, "#composer .send-result", 20*time.Second, "✓✓ Read")
	wamid := textOf(t, ctx, "#composer .result-facts dd a.mono")

	if _, err := chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
		t.Fatalf("disable the cache: %v", err)
	}
	var (
		mu       sync.Mutex
		received float64
		requests int
		inFlight int       // requests started and not yet finished or failed
		lastSeen time.Time // the last request start or end
	)
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	if err := chromedp.Listen(lctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			inFlight++
			lastSeen = time.Now()
		case *network.EventLoadingFinished:
			received += e.EncodedDataLength
			requests++
			inFlight--
			lastSeen = time.Now()
		case *network.EventLoadingFailed:
			inFlight--
			lastSeen = time.Now()
		}
	}); err != nil {
		t.Fatal(err)
	}
	// quiet waits until no request has started or ended for half a second, so what a page
	// fetches by itself after its load event (a chart library for a chart in view) is counted.
	quiet := func(name string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			idle := inFlight <= 0 && time.Since(lastSeen) >= 500*time.Millisecond
			mu.Unlock()
			if idle {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: the network never went quiet for half a second within 10 s", name)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	pages := []struct {
		name, path, shows string
	}{
		{"overview", "/", "Hibot Demo Store"},
		{"templates", "/templates", "summer_sale"},
		{"template", "/templates/" + u(sale.ID), "Creative optimizations"},
		{"optimizations", "/optimizations?conn=" + u(store.ID), "WABA defaults"},
		{"send", "/send?template=" + u(sale.ID), "Checks before sending"},
		{"sends", "/sends", "summer_sale"},
		{"log", "/log", "match"},
		{"message", "/messages/" + url.PathEscape(wamid), "Timeline"},
		{"settings", "/settings", "Hibot Demo Store"},
		{"audit", "/audit", demoAdmin},
	}
	for _, p := range pages {
		quiet(p.name + " (before)")
		mu.Lock()
		received, requests, inFlight = 0, 0, 0
		mu.Unlock()
		open(t, ctx, srv, p.path)
		waitFor(t, ctx, p.name+" to finish loading", `document.readyState === "complete"`, 10*time.Second)
		see(t, ctx, "main", 5*time.Second, p.shows)
		quiet(p.name)
		mu.Lock()
		got, n := received, requests
		mu.Unlock()
		t.Logf("%s: first load %.1f KB in %d requests", p.name, got/1024, n)
		if got > firstLoadBudget {
			t.Errorf("%s: first load transferred %.1f KB in %d requests, over the %d KB budget", p.name, got/1024, n, firstLoadBudget/1024)
		}
		if n < 4 {
			t.Errorf("%s: only %d requests seen: the assets were not fetched, so the sum says nothing", p.name, n)
		}
		if glued := eval[[]string](t, ctx, gluedTimesJS); len(glued) > 0 {
			t.Errorf("%s: relative times glued to the words around them: %q", p.name, glued)
		}
	}
}

// gluedTimesJS lists the relative times whose neighbouring text on the same line (up to a block
// boundary or a line break) ends or starts with a letter or digit right against the time.
const gluedTimesJS = `(() => {
	const inline = n => n.nodeType !== 1 || (n.tagName !== "BR" && getComputedStyle(n).display.startsWith("inline"));
	// side is the text next to el in direction dir (-1 before, 1 after), "" at a boundary.
	const side = (el, dir) => {
		let n = el;
		for (;;) {
			let next = dir < 0 ? n.previousSibling : n.nextSibling;
			while (!next) {
				n = n.parentElement;
				if (!n || !inline(n)) return "";
				next = dir < 0 ? n.previousSibling : n.nextSibling;
			}
			n = next;
			if (!inline(n)) return "";
			if (n.textContent.length) return n.textContent;
		}
	};
	return [...document.querySelectorAll("time[data-relative]")].flatMap(el => {
		const b = side(el, -1), a = side(el, 1);
		return /[\p{L}\p{N}]$/u.test(b) || /^[\p{L}\p{N}]/u.test(a) ? [b.slice(-30) + "[" + el.textContent + "]" + a.slice(0, 30)] : [];
	});
})()`
