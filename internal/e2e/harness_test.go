// Package e2e drives a real Chromium (chromedp) against the real server on the sandbox, as a
// person would. Under CI (CI=true) a missing browser is a failure; elsewhere the package runs
// nothing without one and says so (see TestMain).
package e2e

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"mmconsole/internal/app"
	"mmconsole/internal/config"
	"mmconsole/internal/database"
)

//go:embed testdata/axe-4.14.1.min.js
var axeSource string

// server is a running dashboard on loopback with the sandbox on.
type server struct {
	URL string
	App *app.App
}

// TestMain runs nothing when there is no browser (outside CI): every journey here needs one, and
// building a server only to skip would cost each test seconds. A passing package's output is
// hidden by plain `go test ./...`, so besides the reason it prints the marker that makes the go
// command end the package's line with "[no tests to run]": the skip stays visible there, and
// `go test -v` shows why.
func TestMain(m *testing.M) {
	if _, err := findChromium(); err != nil && os.Getenv("CI") == "" {
		fmt.Printf("e2e: browser tests skipped: %v (apt-get install -y chromium, or set CHROME to the browser, to run them)\n", err)
		fmt.Println("testing: warning: no tests to run")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// findChromium is the browser to drive: $CHROME when set, else the first of the usual names on
// PATH.
func findChromium() (string, error) {
	if p := os.Getenv("CHROME"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			return "", fmt.Errorf("CHROME=%s is not an executable browser", p)
		}
		return p, nil
	}
	names := []string{"chromium", "chromium-browser", "google-chrome"}
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Chromium on PATH (looked for %s)", strings.Join(names, ", "))
}

// startServer builds the real app (sandbox on, short sandbox delays) and serves it on a free
// loopback port until the test ends. The journeys it serves need a browser, so it stops the test
// first (a skip, or a failure under CI) when there is none, before anything is built; a test
// without a browser uses startSandboxServer.
func startServer(t *testing.T, env map[string]string) *server {
	t.Helper()
	chromiumPath(t)
	return startSandboxServer(t, env)
}

// startSandboxServer is startServer for tests that drive the server without a browser.
func startSandboxServer(t *testing.T, env map[string]string) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"MMC_ADDR":                  ln.Addr().String(),
		"MMC_DATABASE":              database.TestDSN(t),
		"MMC_STATE_DIR":             t.TempDir(),
		"MMC_SANDBOX":               "on",
		"MMC_SANDBOX_EVENT_DELAY":   "300ms",
		"MMC_SANDBOX_APPROVE_AFTER": "2s",
		"MMC_SECRET_KEY":            strings.Repeat("5a", 32),
		"MMC_LOG_LEVEL":             "warn",
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(nil, func(k string) (string, bool) { v, ok := vars[k]; return v, ok }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, app.NewLogger(cfg, testWriter{t}))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server shutdown: %v", err)
		}
	})
	return &server{URL: "http://" + ln.Addr().String(), App: a}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// chromiumPath finds the browser, or skips (fails under CI) when there is none.
func chromiumPath(t *testing.T) string {
	t.Helper()
	p, err := findChromium()
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("CI must run the browser tests: %v (apt-get install -y chromium)", err)
	}
	t.Skipf("browser tests skipped: %v (apt-get install -y chromium to run them)", err)
	return ""
}

// browser opens a fresh headless Chromium (its own profile) with a window of the given width.
func browser(t *testing.T, width int) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests skipped under -short")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	// The window cannot be narrower than about 500 px; emulate the viewport for phone widths.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), 900)); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// shotDir is where journeys save their screenshots: $MMC_E2E_SHOTS, or a folder in the test's
// temporary directory (kept only for the run).
func shotDir(t *testing.T) string {
	if d := os.Getenv("MMC_E2E_SHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// screenshot saves a full-page PNG named after the journey step.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(shotDir(t), name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// axeViolation is what axe-core reports for one rule.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any `json:"target"`
	} `json:"nodes"`
}

// checkAccessibility runs axe-core on the current page and fails on serious or critical
// violations.
func checkAccessibility(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axeSource+";true")); err != nil {
		t.Fatalf("load axe-core: %v", err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("run axe-core: %v", err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		t.Fatalf("axe result: %v", err)
	}
	var bad []string
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			bad = append(bad, fmt.Sprintf("%s (%s): %s at %v", v.ID, v.Impact, v.Help, v.Nodes[0].Target))
		}
	}
	if len(bad) > 0 {
		t.Errorf("%s: accessibility violations:\n  %s", page, strings.Join(bad, "\n  "))
	}
}

// setTheme switches the page to light or dark the way the theme button does, and waits for
// Pico's colour transitions to end so that contrast is measured on the final colours. It waits
// on the transitions themselves (document.getAnimations), not on a fixed sleep, which a busy
// machine can outlast.
func setTheme(ctx context.Context, theme string) error {
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
		`document.documentElement.setAttribute("data-theme", "`+theme+`");
		new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))
			.then(() => Promise.all(document.getAnimations().map(a => a.finished.catch(() => null))))
			.then(() => true)`,
		chromedp.EvalAwaitPromise))
	return err
}

// waitText waits until the element matching sel contains want.
func waitText(ctx context.Context, sel, want string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		txt, err := chromedp.Run(ctx, chromedp.Evaluate[string](
			`(document.querySelector(`+jsString(sel)+`) || {textContent: ""}).textContent`))
		if err == nil && strings.Contains(txt, want) {
			return nil
		}
		last = txt
		time.Sleep(200 * time.Millisecond)
	}
	return errors.New(sel + " never contained " + want + "; last text: " + strings.Join(strings.Fields(last), " "))
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Demo users of the sandbox account.
const (
	demoAdmin    = "demo-admin@example.com"
	demoMarketer = "demo-marketer@example.com"
	demoViewer   = "demo-viewer@example.com"
)

// signIn signs in through the sign-in page, as a person would, and waits for the overview.
func signIn(t *testing.T, ctx context.Context, srv *server, email string) {
	t.Helper()
	pw := srv.App.DemoPassword()
	if pw == "" {
		t.Fatal("the sandbox demo users were not created by this start")
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#f-email")),
		chromedp.SendKeys(chromedp.CSS("#f-email"), email),
		chromedp.SendKeys(chromedp.CSS("#f-password"), pw),
		chromedp.Submit(chromedp.CSS("#f-password")),
		chromedp.WaitVisible(chromedp.CSS("nav .user-menu")),
	)
	if err != nil {
		t.Fatalf("sign in as %s: %v", email, err)
	}
}
