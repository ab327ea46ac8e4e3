package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"mmconsole/internal/sandbox"
	"mmconsole/internal/templates"
	"mmconsole/models"
)

// TestTemplateAuthoringJourney: a marketer creates a template with an image header, a URL button
// and two optimizations off, watching the preview and Meta's rules as they type; it appears at
// once as PENDING, is approved by the sandbox's review, syncs for 10 minutes from the approval
// (the clocks moved past them), is then ready, and is sent through MM API.
func TestTemplateAuthoringJourney(t *testing.T) {
	srv := startServer(t, nil)
	store := connection(t, srv, sandbox.StoreWABAID)
	ctx := browser(t, 1280)
	signIn(t, ctx, srv, demoMarketer)

	open(t, ctx, srv, "/templates")
	do(t, ctx, chromedp.Click(chromedp.CSS(`a[href="/templates/new"]`)), chromedp.WaitVisible(chromedp.CSS("#authoring-form")))
	see(t, ctx, "#authoring-form", 5*time.Second, "Only marketing templates go through MM API", "Creative optimizations", "Time to live")
	checkBothThemes(t, ctx, "authoring-new", 1280)

	pick(t, ctx, "#a-waba", u(store.ID))
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#a-name"), "Summer Launch"))
	// The name rule is said next to the name as it is typed.
	see(t, ctx, "#err-name", 5*time.Second, "lowercase letters, digits and underscores")
	eval[bool](t, ctx, `document.querySelector("#a-name").value = ""; true`)
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#a-name"), "summer_launch"))
	waitFor(t, ctx, "the name message to clear", `document.querySelector("#err-name").innerText.trim() === ""`, 5*time.Second)

	// An image header: the form re-renders with the sample input.
	pick(t, ctx, "#a-header-format", "IMAGE")
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#a-header-sample")))
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#a-header-sample"), "https://cdn.example/summer.jpg"))
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#a-body"), "Hi {{1}}, our summer launch starts today. See you soon!"))
	// The variable gets its example input, and the missing example is said until it is given.
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#a-ex-1")))
	see(t, ctx, "#authoring-live", 5*time.Second, "IMAGE header", "summer launch starts today", "example of each variable")
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#a-ex-1"), "Ana"))
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#a-footer"), "Reply STOP to opt out"))

	// A URL button with a variable suffix.
	do(t, ctx, chromedp.Click(chromedp.CSS(`button[value="add_button"]`)), chromedp.WaitVisible(chromedp.CSS("#a-burl-0")))
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#a-btext-0"), "Shop now"),
		chromedp.SendKeys(chromedp.CSS("#a-burl-0"), "https://shop.example/p/{{1}}"),
		chromedp.SendKeys(chromedp.CSS("#a-bex-0"), "https://shop.example/p/summer"),
	)
	// Two optimizations off.
	pick(t, ctx, "#opt-image_touchups", "OPT_OUT")
	pick(t, ctx, "#opt-text_formatting_optimization", "OPT_OUT")
	see(t, ctx, "#authoring-live", 5*time.Second, "Shop now", "Meta's rules checked here pass")
	checkBothThemes(t, ctx, "authoring-filled", 1280)
	screenshot(t, ctx, "authoring-filled")

	do(t, ctx, chromedp.Click(chromedp.CSS(`button[value="submit"]`)), chromedp.WaitVisible(chromedp.CSS("#sync-state")))
	see(t, ctx, "#toasts", 5*time.Second, "submitted to Meta and is PENDING")
	see(t, ctx, "main", 5*time.Second, "PENDING", "Not sendable")
	tpl := templateRow(t, srv, "summer_launch", "en_US")
	if !strings.Contains(tpl.Optimizations, `"image_touchups":"OPT_OUT"`) || !strings.Contains(tpl.Optimizations, `"text_formatting_optimization":"OPT_OUT"`) {
		t.Errorf("stored optimizations %s", tpl.Optimizations)
	}
	screenshot(t, ctx, "authoring-pending")

	// The sandbox's review approves it: the sync window starts at the approval.
	reloadUntil(t, ctx, srv, "/templates/"+u(tpl.ID), "#sync-state", "Syncing, ready in about 10 min", 20*time.Second)
	see(t, ctx, "main", time.Second, "APPROVED")
	approved := templateRow(t, srv, "summer_launch", "en_US")
	st := templates.SyncState(approved, "ONBOARDED", time.Now())
	if approved.ApprovedAt == nil || st.Kind != templates.KindSyncing || !st.Since.Equal(*approved.ApprovedAt) || st.Since.Before(tpl.CreatedAt) {
		t.Errorf("sync window %+v; want it to start at the approval %v", st, approved.ApprovedAt)
	}
	screenshot(t, ctx, "authoring-syncing")
	open(t, ctx, srv, "/templates?q=summer_launch")
	see(t, ctx, "#catalog", 5*time.Second, "summer_launch", "Syncing, ready in about")
	open(t, ctx, srv, "/send?template="+u(tpl.ID))
	see(t, ctx, "main", 5*time.Second, "summer_launch")
	if n := count(t, ctx, "main [data-countdown]"); n == 0 {
		t.Error("the composer shows no sync countdown for the new template")
	}

	// Ten minutes pass: the sandbox's clock moves on, and the console's record of the approval is
	// moved back as other journeys move the console's time.
	srv.App.Sandbox().Clock().(*sandbox.OffsetClock).Advance(11 * time.Minute)
	back := approved.ApprovedAt.Add(-11 * time.Minute)
	if err := srv.App.DB().Model(&models.Template{}).Where("id = ?", tpl.ID).
		Updates(map[string]any{"approved_at": back, "sync_started_at": back}).Error; err != nil {
		t.Fatal(err)
	}
	open(t, ctx, srv, "/templates/"+u(tpl.ID))
	see(t, ctx, "#sync-state", 5*time.Second, "✓ Ready")
	screenshot(t, ctx, "authoring-ready")

	// And it is sent through MM API.
	compose(t, ctx, srv, approved, storeRecipient, "CLOUD_API_FALLBACK")
	submitSend(t, ctx)
	followToRead(t, ctx, "MM API", "marketing_lite", false)
	screenshot(t, ctx, "authoring-sent")

	// At 375 px the form has no sideways scroll, in either theme.
	phone := browser(t, 375)
	signIn(t, phone, srv, demoMarketer)
	for _, path := range []string{"/templates/new", "/templates/" + u(tpl.ID) + "/clone", "/templates/" + u(tpl.ID) + "/edit", "/templates/" + u(tpl.ID) + "/delete"} {
		open(t, phone, srv, path)
		if over := eval[int](t, phone, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); over > 0 {
			t.Errorf("%s at 375 px: the page scrolls sideways by %d px; widest: %s", path, over, eval[string](t, phone, overflowingJS))
		}
	}
	open(t, phone, srv, "/templates/"+u(tpl.ID)+"/clone")
	checkBothThemes(t, phone, "authoring-clone", 375)
	// The edit form (with its budget notice) and the delete confirmation pass axe too.
	open(t, phone, srv, "/templates/"+u(tpl.ID)+"/edit")
	checkBothThemes(t, phone, "authoring-edit", 375)
	open(t, phone, srv, "/templates/"+u(tpl.ID)+"/delete?scope=name")
	checkBothThemes(t, phone, "authoring-delete", 375)
}

// pick chooses an option as a person would: the select changes and says so (input and change).
func pick(t *testing.T, ctx context.Context, sel, value string) {
	t.Helper()
	eval[bool](t, ctx, `(() => { const el = document.querySelector(`+jsString(sel)+`); el.value = `+jsString(value)+
		`; el.dispatchEvent(new Event("input", {bubbles: true})); el.dispatchEvent(new Event("change", {bubbles: true})); return true })()`)
	if got := eval[string](t, ctx, `document.querySelector(`+jsString(sel)+`).value`); got != value {
		t.Fatalf("%s reads %q after choosing %q", sel, got, value)
	}
}

// reloadUntil reopens a page until a region shows want: pages that do not follow a change live
// are read again, as a person would.
func reloadUntil(t *testing.T, ctx context.Context, srv *server, path, sel, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		open(t, ctx, srv, path)
		if strings.Contains(textOf(t, ctx, sel), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never showed %q in %s: %q", path, want, sel, textOf(t, ctx, sel))
		}
		time.Sleep(500 * time.Millisecond)
	}
}
