package e2e

import (
	"strings"
	"testing"
	"time"

	"mmconsole/internal/sandbox"
)

// TestViewerJourney: a viewer reads every page but sees no switch and no send button, and the
// server refuses the writer routes even when the page's own CSRF token is sent along.
func TestViewerJourney(t *testing.T) {
	srv := startServer(t, nil)
	store := connection(t, srv, sandbox.StoreWABAID)
	sale := templateRow(t, srv, "summer_sale", "en_US")
	ctx := browser(t, 375)
	signIn(t, ctx, srv, demoViewer)

	open(t, ctx, srv, "/optimizations?conn="+u(store.ID))
	see(t, ctx, "#opt-waba-table", 5*time.Second, "Product extensions", "Off (OPT_OUT)")
	if n := count(t, ctx, ".opt-switch"); n != 0 {
		t.Errorf("the viewer sees %d optimization switches on /optimizations", n)
	}
	screenshot(t, ctx, "viewer-optimizations-375")

	open(t, ctx, srv, "/templates/"+u(sale.ID))
	see(t, ctx, "#tpl-opt-"+u(sale.ID), 5*time.Second, "Creative optimizations", "Template setting")
	if n := count(t, ctx, ".opt-switch, #ttl form"); n != 0 {
		t.Errorf("the viewer sees %d switches or TTL forms on the template page", n)
	}
	screenshot(t, ctx, "viewer-template-375")

	open(t, ctx, srv, "/send?template="+u(sale.ID))
	see(t, ctx, "#send-live", 5*time.Second, "Your role can look at the composer but not send")
	if n := count(t, ctx, "#send-live button[type=submit], main button[type=submit]"); n != 0 {
		t.Errorf("the viewer sees %d send buttons on /send", n)
	}
	screenshot(t, ctx, "viewer-send-375")

	open(t, ctx, srv, "/sends")
	if strings.Contains(textOf(t, ctx, "main"), "New test send") {
		t.Error("the viewer is offered a new test send on /sends")
	}

	// Direct POSTs with the page's valid CSRF token: refused for the role, not for the token.
	for _, tc := range []struct{ path, body string }{
		{"/optimizations/waba/" + u(store.ID) + "/product_extensions", "value=OPT_IN"},
		{"/optimizations/template/" + u(sale.ID) + "/apply", "f_image_touchups=OPT_OUT"},
		{"/optimizations/waba/" + u(store.ID) + "/all", "value=OPT_IN"},
		{"/templates/" + u(sale.ID) + "/ttl", "ttl_value=2&ttl_unit=days"},
		{"/send", "template=" + u(sale.ID) + "&recipient=" + storeRecipient + "&policy=CLOUD_API_FALLBACK&var.body.1=Ana&var.body.2=Sunday"},
	} {
		got := evalAwait[string](t, ctx, `fetch(`+jsString(tc.path)+`, {method: "POST",
			headers: {"Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content},
			body: `+jsString(tc.body)+`}).then(async r => r.status + " " + await r.text())`)
		if !strings.HasPrefix(got, "403 ") {
			t.Errorf("viewer POST %s answered %.60q, want 403", tc.path, got)
		}
		if strings.Contains(got, "Form expired") || !strings.Contains(got, "Your role does not allow this") {
			t.Errorf("viewer POST %s was not refused for the role: %.300q", tc.path, got)
		}
	}

	// Nothing changed at Meta or in the console.
	open(t, ctx, srv, "/optimizations?conn="+u(store.ID))
	see(t, ctx, "#opt-waba-"+u(store.ID)+"-product_extensions", 5*time.Second, "Off (OPT_OUT)")
	open(t, ctx, srv, "/sends")
	see(t, ctx, "main", 5*time.Second, "No test sends match.")
}
