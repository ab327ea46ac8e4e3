package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"mmconsole/models"
)

// do runs browser actions and stops the test on the first failure.
func do(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// open navigates to a page of the dashboard and waits for its main region.
func open(t *testing.T, ctx context.Context, srv *server, path string) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(srv.URL+path), chromedp.WaitVisible(chromedp.CSS("main")))
}

// eval evaluates JavaScript in the page and returns its value.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// evalAwait evaluates JavaScript that returns a promise and returns what it resolves to.
func evalAwait[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// textOf is the visible text of the first element matching sel, whitespace collapsed ("" when
// there is none).
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return strings.Join(strings.Fields(eval[string](t, ctx,
		`(document.querySelector(`+jsString(sel)+`) || {innerText: ""}).innerText`)), " ")
}

// count is how many elements match sel.
func count(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	return eval[int](t, ctx, `document.querySelectorAll(`+jsString(sel)+`).length`)
}

// see waits until the element matching sel shows every one of wants.
func see(t *testing.T, ctx context.Context, sel string, timeout time.Duration, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if err := waitText(ctx, sel, w, timeout); err != nil {
			t.Fatal(err)
		}
	}
}

// waitFor polls a JavaScript condition until it is true.
func waitFor(t *testing.T, ctx context.Context, what, js string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js)); err == nil && ok {
			return
		}
		time.Sleep(150 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
}

// templateRow finds a seeded template's catalog row, waiting for the first refresh to store it.
func templateRow(t *testing.T, srv *server, name, language string) models.Template {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var tpl models.Template
		err := srv.App.DB().Where("name = ? AND language = ?", name, language).First(&tpl).Error
		if err == nil {
			return tpl
		}
		if time.Now().After(deadline) {
			t.Fatalf("template %s %s never reached the catalog: %v", name, language, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// connection finds the sandbox connection of a WABA.
func connection(t *testing.T, srv *server, wabaID string) models.WABAConnection {
	t.Helper()
	var c models.WABAConnection
	if err := srv.App.DB().Where("waba_id = ?", wabaID).First(&c).Error; err != nil {
		t.Fatalf("connection of WABA %s: %v", wabaID, err)
	}
	return c
}

// u is a row id as a path segment.
func u(id uint) string { return itoa(int(id)) }
