package app

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"mmconsole/internal/config"
	"mmconsole/internal/database"
)

func testConfig(t *testing.T) config.Config {
	t.Helper()
	cfg, err := config.Load(nil, func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Database = database.TestDSN(t)
	cfg.StateDir = t.TempDir()
	return cfg
}

func newTestApp(t *testing.T) (*App, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	a, err := New(context.Background(), testConfig(t), NewLogger(testConfig(t), &logs))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a, &logs
}

func do(t *testing.T, a *App, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := a.Fiber().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestHealthz(t *testing.T) {
	a, _ := newTestApp(t)
	resp, body := do(t, a, httptest.NewRequest("GET", "/healthz", nil))
	if resp.StatusCode != 200 || !strings.Contains(body, `"status":"ok"`) {
		t.Fatalf("healthz = %d %s", resp.StatusCode, body)
	}
	sqlDB, _ := a.DB().DB()
	sqlDB.Close()
	resp, body = do(t, a, httptest.NewRequest("GET", "/healthz", nil))
	if resp.StatusCode != 503 || !strings.Contains(body, "database") || !strings.Contains(body, "closed") {
		t.Fatalf("healthz with a closed database = %d %s, want 503 with the reason", resp.StatusCode, body)
	}
}

func TestNotFoundIsAFullPageOrAToast(t *testing.T) {
	f := newFixture(t)
	a, session := f.a, f.sessions["viewer"]
	if resp, _ := do(t, a, httptest.NewRequest("GET", "/no/such/page", nil)); resp.StatusCode != 303 {
		t.Errorf("anonymous unknown page = %d, want the sign-in redirect (which reveals no routes)", resp.StatusCode)
	}
	req0 := httptest.NewRequest("GET", "/no/such/page", nil)
	req0.AddCookie(session)
	resp, body := do(t, a, req0)
	if resp.StatusCode != 404 || !strings.Contains(body, "<html") || !strings.Contains(body, "Page not found") {
		t.Fatalf("404 page = %d %.200s", resp.StatusCode, body)
	}
	req := httptest.NewRequest("GET", "/no/such/page", nil)
	req.AddCookie(session)
	req.Header.Set("HX-Request", "true")
	resp, body = do(t, a, req)
	if resp.StatusCode != 404 || strings.Contains(body, "<html") || !strings.Contains(body, "toast-error") {
		t.Fatalf("htmx 404 should be a toast fragment: %d %.200s", resp.StatusCode, body)
	}
	if resp.Header.Get("HX-Retarget") != "#toasts" || resp.Header.Get("HX-Reswap") != "beforeend" {
		t.Errorf("toast must be retargeted to #toasts, got %q %q", resp.Header.Get("HX-Retarget"), resp.Header.Get("HX-Reswap"))
	}
}

func TestEveryResponseHasARequestIDAndSecurityHeaders(t *testing.T) {
	a, logs := newTestApp(t)
	resp, _ := do(t, a, httptest.NewRequest("GET", "/healthz", nil))
	id := resp.Header.Get("X-Request-ID")
	if id == "" {
		t.Fatal("no X-Request-ID")
	}
	if !strings.Contains(logs.String(), "request_id="+id) {
		t.Errorf("log line without the request ID %s:\n%s", id, logs.String())
	}
	if resp.Header.Get("Content-Security-Policy") == "" || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Error("security headers missing")
	}
}

func TestMetricsCountRequestsByRoute(t *testing.T) {
	f := newFixture(t)
	a := f.a
	do(t, a, httptest.NewRequest("GET", "/healthz", nil))
	f.get("viewer", "/missing")
	_, body := do(t, a, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`mmconsole_http_requests_total{code="200",method="GET",route="/healthz"} 1`,
		`mmconsole_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`mmconsole_http_request_duration_seconds_bucket`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestStaticAssetsAreServedWithLongCaching(t *testing.T) {
	a, _ := newTestApp(t)
	resp, body := do(t, a, httptest.NewRequest("GET", "/static/vendor/htmx-2.0.11.min.js", nil))
	if resp.StatusCode != 200 || !strings.Contains(body, "htmx") {
		t.Fatalf("htmx asset = %d", resp.StatusCode)
	}
	if !strings.Contains(resp.Header.Get("Cache-Control"), "max-age=31536000") {
		t.Errorf("Cache-Control = %q", resp.Header.Get("Cache-Control"))
	}
}

func TestOverviewPageHasTheShell(t *testing.T) {
	f := newFixture(t)
	resp, body := f.get("viewer", "/")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("overview = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		"<title>Overview · MM Console</title>",
		`data-theme-toggle`, // light/dark switch
		`id="toasts"`,       // flash/toast area
		"Sandbox mode.",     // the default is the sandbox, and it says so
		"/static/vendor/pico-2.1.1.green.min.css?v=",
		"/static/vendor/uplot-1.6.32.iife.min.js?v=", // the chart library, fetched by charts.js
	} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	// The overview works without htmx, so it does not load it: an hx- attribute added to it
	// would do nothing, and this says so.
	if strings.Contains(body, "htmx") || strings.Contains(body, "hx-") {
		i := max(strings.Index(body, "htmx"), strings.Index(body, "hx-"))
		t.Errorf("the overview loads htmx or has an hx- attribute: %s", body[max(0, i-80):min(len(body), i+80)])
	}
	// Pages that use htmx load it, versioned and embedded.
	_, tmpl := f.get("viewer", "/templates")
	if !strings.Contains(tmpl, "/static/vendor/htmx-2.0.11.min.js?v=") || !strings.Contains(tmpl, `hx-headers=`) {
		t.Error("the templates page does not load htmx 2 with its CSRF header")
	}
}
