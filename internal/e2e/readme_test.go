package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"mmconsole/internal/sandbox"
)

// readmeShots is where the README's screenshots live, from this package's folder: beside the test
// that takes them, since the repository's top level is fixed (see the README's "Where things live").
const readmeShots = "screenshots"

// TestREADMEScreenshots refreshes the README's tour screenshots: with MMC_README_SHOTS=1 it
// walks the sandbox's main pages as the demo admin, at 1280 × 800 in the light theme, and writes
// one viewport PNG per page into internal/e2e/screenshots/. Without the variable it does nothing, so
// the ordinary test run never rewrites committed files.
//
//	MMC_README_SHOTS=1 go test ./internal/e2e/ -run TestREADMEScreenshots
func TestREADMEScreenshots(t *testing.T) {
	if os.Getenv("MMC_README_SHOTS") == "" {
		t.Skip("set MMC_README_SHOTS=1 to refresh the README's screenshots")
	}
	if err := os.MkdirAll(readmeShots, 0o755); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, nil)
	store := connection(t, srv, sandbox.StoreWABAID)
	sale := templateRow(t, srv, "summer_sale", "en_US")
	ctx := browser(t, 1280)
	// Laid out at 1280 px, captured at 0.75 scale (960 px, about the width a README shows):
	// each PNG is about 100 KB.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(0.75))); err != nil {
		t.Fatal(err)
	}
	signIn(t, ctx, srv, demoAdmin)
	if err := setTheme(ctx, "light"); err != nil {
		t.Fatal(err)
	}
	// A fallback send followed to its end, so the message page and the log have a story to show.
	compose(t, ctx, srv, sale, storeRecipient, "CLOUD_API_FALLBACK")
	submitSend(t, ctx)
	see(t, ctx, "#composer .send-result", 20*time.Second, "✓✓ Read")
	shoot := func(name string) {
		t.Helper()
		eval[bool](t, ctx, `window.scrollTo(0, 0) === undefined`)
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(readmeShots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	shoot("send")
	for _, p := range []struct{ name, path, shows string }{
		{"templates", "/templates", "new_arrivals"},
		{"template", "/templates/" + u(sale.ID), "Time to live"},
		{"optimizations", "/optimizations?conn=" + u(store.ID), "WABA defaults"},
		{"matrix", "/optimizations/matrix?conn=" + u(store.ID), "summer_sale"},
		{"log", "/log", "read"},
		{"settings", "/settings", "Hibot Demo Store"},
	} {
		open(t, ctx, srv, p.path)
		see(t, ctx, "main", 5*time.Second, p.shows)
		shoot(p.name)
	}
}
