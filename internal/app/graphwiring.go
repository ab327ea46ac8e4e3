package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gorm.io/gorm"

	"mmconsole/internal/accounts"
	"mmconsole/internal/config"
	"mmconsole/internal/graph"
	"mmconsole/internal/i18n"
	"mmconsole/internal/sandbox"
	"mmconsole/internal/secrets"
	"mmconsole/models"
)

// sandboxRouter sends Graph API requests that carry a sandbox token to the embedded sandbox (on
// loopback, over real HTTP) and every other request to the configured Graph API. Services hold
// one graph.Client and never need to know which WABAs are simulated, and the sandbox can run
// beside real connections (MMC_SANDBOX=on).
type sandboxRouter struct {
	target *url.URL // nil: the sandbox is off, and its tokens must not reach any Graph API
	tokens map[string]bool
	next   http.RoundTripper
}

// errSandboxOff answers a call for a sandbox connection while the sandbox is not running, so
// that the demo's made-up tokens are never sent to Meta.
var errSandboxOff error = sandboxOffError{}

type sandboxOffError struct{}

func (sandboxOffError) Error() string {
	return "this WABA connection belongs to the embedded sandbox, which is not running (MMC_SANDBOX=off, or a real connection exists with MMC_SANDBOX=auto); set MMC_SANDBOX=on to use it, or delete the connection"
}

// UserFacing lets the central error handler say why, instead of "Meta did not answer".
func (e sandboxOffError) UserFacing(ctx context.Context) (int, string, string) {
	return http.StatusServiceUnavailable, i18n.T(ctx, "app.sandbox_off.title"), i18n.T(ctx, "app.sandbox_off.message")
}

func (r *sandboxRouter) RoundTrip(req *http.Request) (*http.Response, error) {
	token := strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")
	if !r.tokens[token] {
		return r.next.RoundTrip(req)
	}
	if r.target == nil {
		return nil, errSandboxOff
	}
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host = r.target.Scheme, r.target.Host
	out.Host = r.target.Host
	return r.next.RoundTrip(out)
}

// sandboxWanted decides whether the sandbox runs: always with "on", never with "off", and with
// "auto" only while no real (non-sandbox) WABA connection exists.
func sandboxWanted(ctx context.Context, db *gorm.DB, mode string) (bool, error) {
	switch mode {
	case config.SandboxOn:
		return true, nil
	case config.SandboxOff:
		return false, nil
	}
	var real int64
	if err := db.WithContext(ctx).Model(&models.WABAConnection{}).Where("sandbox = ?", false).Count(&real).Error; err != nil {
		return false, fmt.Errorf("app: count connections: %w", err)
	}
	return real == 0, nil
}

// loadSecretsBox returns the box that seals tokens at rest, and the path of the key file when
// the key is one the operator has not said they keep (empty otherwise). MMC_SECRET_KEY or
// MMC_SECRET_KEY_FILE are kept keys. Without either, a sandbox-only dashboard keeps a random key
// in a file beside the database, so sandbox tokens survive restarts; real connections may not be
// added with it (accounts.WithUnkeptKey). If real connections exist anyway (added before that
// rule, or MMC_SANDBOX changed), the file still opens them: refusing to start would only lock the
// operator out of their own data.
func loadSecretsBox(cfg config.Config, sandboxOnly bool, log *slog.Logger) (*secrets.Box, string, error) {
	if cfg.SecretKey != "" {
		key, err := config.DecodeKey(cfg.SecretKey)
		if err != nil {
			return nil, "", fmt.Errorf("app: MMC_SECRET_KEY: %w", err)
		}
		box, err := secrets.NewBox(key)
		return box, "", err
	}
	if cfg.SecretKeyFile != "" {
		box, err := readKeyFile(cfg.SecretKeyFile)
		if err != nil {
			return nil, "", fmt.Errorf("app: MMC_SECRET_KEY_FILE: %w (create one with: openssl rand -hex 32 > %s)", err, cfg.SecretKeyFile)
		}
		return box, "", nil
	}
	path := cfg.StateFile(".key")
	_, statErr := os.Stat(path)
	if !sandboxOnly && statErr != nil {
		return nil, "", fmt.Errorf("app: MMC_SECRET_KEY (or MMC_SECRET_KEY_FILE) is required when the sandbox is not the only Graph API (MMC_SANDBOX=%s): set it to 32 random bytes, e.g. the output of: openssl rand -hex 32", cfg.Sandbox)
	}
	if os.IsNotExist(statErr) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, "", fmt.Errorf("app: generate key: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, "", fmt.Errorf("app: key folder: %w", err)
		}
		if err := writeNew(path, []byte(hex.EncodeToString(key))); err != nil {
			return nil, "", fmt.Errorf("app: write %s: %w", path, err)
		}
		// Info, not a warning: nothing is wrong with a sandbox-only demo, and a WARN on the very
		// first start alarmed people trying it. The line says what to do before it matters.
		log.Info("sandbox only: the sandbox's made-up tokens are sealed with a key generated in a file next to the database. Before connecting a real WABA, set MMC_SECRET_KEY_FILE to a key file you keep (create one with: openssl rand -hex 32), or MMC_SECRET_KEY to its contents", "file", path)
		box, err := secrets.NewBox(key)
		return box, path, err
	}
	box, err := readKeyFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("app: %w", err)
	}
	if !sandboxOnly {
		log.Warn("real WABA connections are sealed with the sandbox's key file: keep it, and set MMC_SECRET_KEY_FILE to it (or MMC_SECRET_KEY to its contents) so that more can be added", "file", path)
	}
	return box, path, nil
}

// readKeyFile opens a box with the key written in path (hex or base64).
func readKeyFile(path string) (*secrets.Box, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	key, err := config.DecodeKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return secrets.NewBox(key)
}

// startSandbox runs the embedded Graph API on loopback, with its webhooks signed with appSecret
// and posted to this dashboard's own receiver, and connects its WABAs to the demo account.
func startSandbox(ctx context.Context, cfg config.Config, db *gorm.DB, box *secrets.Box, accountID uint, appSecret string, log *slog.Logger) (*sandbox.Sandbox, *sandboxRouter, error) {
	sb := sandbox.New(sandbox.Options{
		GraphVersion: cfg.GraphVersion,
		AppSecret:    appSecret,
		CallbackURL:  cfg.PublicURL() + "/webhooks/whatsapp",
		EventDelay:   orNegative(cfg.SandboxEventDelay),
		ApproveAfter: orNegative(cfg.SandboxApproveAfter),
		// The wall clock, movable forward (Sandbox.Clock) so a wait such as the sync window can
		// be skipped in a demo or a browser test.
		Clock:  &sandbox.OffsetClock{},
		Logger: log.With("component", "sandbox"),
	})
	base, err := sb.Start("127.0.0.1:0")
	if err != nil {
		return nil, nil, fmt.Errorf("app: start sandbox: %w", err)
	}
	target, _ := url.Parse(base)
	router := &sandboxRouter{target: target, tokens: map[string]bool{}, next: ownTransport()}
	var wabas []accounts.SandboxWABA
	for _, w := range sb.Seed().WABAs {
		router.tokens[w.Token] = true
		sw := accounts.SandboxWABA{ID: w.ID, Name: w.Name, Token: w.Token, OnboardingStatus: w.OnboardingStatus}
		for _, p := range w.PhoneNumbers {
			sw.Phones = append(sw.Phones, accounts.SandboxPhone{ID: p.ID, DisplayPhoneNumber: p.DisplayPhoneNumber, VerifiedName: p.VerifiedName})
		}
		wabas = append(wabas, sw)
	}
	if err := accounts.EnsureSandboxConnections(ctx, db, accountID, wabas, box.Seal); err != nil {
		sb.Close()
		return nil, nil, err
	}
	return sb, router, nil
}

// orNegative maps a configured zero ("no delay") to the sandbox's "negative means zero".
func orNegative(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// offRouter keeps the sandbox's tokens away from the real Graph API while the sandbox is off
// (its connections stay in the database, with the demo account).
func offRouter() *sandboxRouter {
	sb := sandbox.New(sandbox.Options{})
	defer sb.Close()
	r := &sandboxRouter{tokens: map[string]bool{}, next: ownTransport()}
	for _, w := range sb.Seed().WABAs {
		r.tokens[w.Token] = true
	}
	return r
}

// ownTransport is the app's own connection pool for Graph calls, not the process-wide default, so
// that closing the app can drop its idle connections: the sandbox's server waits for a connection
// that was dialled but never used (a call cancelled by the shutdown while it dialled) before it
// stops.
func ownTransport() *http.Transport {
	return http.DefaultTransport.(*http.Transport).Clone()
}

// closeIdle drops the router's idle Graph connections.
func (r *sandboxRouter) closeIdle() {
	if t, ok := r.next.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
}

// newGraphClient builds the one Graph API client every service uses.
func newGraphClient(cfg config.Config, router *sandboxRouter, obs graph.Observer, log *slog.Logger) *graph.Client {
	if router == nil {
		router = offRouter()
	}
	var transport http.RoundTripper = router
	return graph.New(graph.Options{
		BaseURL:    cfg.GraphBaseURL,
		Version:    cfg.GraphVersion,
		Timeout:    cfg.GraphTimeout,
		Deadline:   cfg.GraphDeadline,
		Observer:   obs,
		HTTPClient: &http.Client{Timeout: cfg.GraphTimeout, Transport: transport},
		Logger:     log.With("component", "graph"),
	})
}

// randomSecret is the per-run app secret of a sandbox-only dashboard without MMC_APP_SECRET.
func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
