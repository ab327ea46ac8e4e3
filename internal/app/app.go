// Package app is the composition root: it opens the database, builds the Graph API client and
// the sandbox, the services and the Fiber app, starts the background loops, and shuts all of it
// down in order. It is the only package that imports everything.
package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"gorm.io/gorm"

	"mmconsole/handlers"
	"mmconsole/internal/accounts"
	"mmconsole/internal/audit"
	"mmconsole/internal/auth"
	"mmconsole/internal/config"
	"mmconsole/internal/database"
	"mmconsole/internal/graph"
	"mmconsole/internal/metrics"
	"mmconsole/internal/secrets"
	"mmconsole/static"
)

// App is a built, not yet started, dashboard.
type App struct {
	cfg    config.Config
	log    *slog.Logger
	db     *gorm.DB
	fiber  *fiber.App
	closer []func() error
	demo   []auth.DemoUser // created at this start; printed once by Run
}

// Migrations lists every area's schema steps; database.Migrate runs them in ID order.
func Migrations() []database.Migration {
	var ms []database.Migration
	ms = append(ms, accounts.Migrations()...)
	ms = append(ms, audit.Migrations()...)
	ms = append(ms, auth.Migrations()...)
	return ms
}

// NewLogger builds the process logger from the settings.
func NewLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// New builds the dashboard: database, services, routes. Nothing listens yet.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	return build(ctx, cfg, log, time.Now)
}

// build is New with the clock injected, so tests can move time.
func build(ctx context.Context, cfg config.Config, log *slog.Logger, now func() time.Time) (*App, error) {
	a := &App{cfg: cfg, log: log}
	box, err := secretBox(cfg, log)
	if err != nil {
		return nil, err
	}
	db, err := database.Open(ctx, cfg.Database, Migrations(), database.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	a.db = db
	a.closer = append(a.closer, func() error { return database.Close(db) })

	assets, err := static.NewAssets()
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("app: assets: %w", err)
	}
	reg := metrics.New()
	gc := graph.New(graph.Options{BaseURL: cfg.GraphBaseURL, Version: cfg.GraphVersion, Timeout: cfg.GraphTimeout, Logger: log})
	acc := accounts.New(db, accounts.WithSecrets(box), accounts.WithGraph(gc, nil), accounts.WithClock(now))
	auditLog := audit.New(db, now)
	users := auth.New(db, auth.Options{Now: now, Idle: cfg.SessionIdle, Absolute: cfg.SessionAbsolute})

	if err := a.firstRun(ctx, acc, users); err != nil {
		a.Close()
		return nil, err
	}

	sandboxOn := cfg.Sandbox != config.SandboxOff
	shells := &handlers.Shells{AssetPath: assets.Path, Sandbox: func() bool { return sandboxOn }}
	f := fiber.New(fiber.Config{
		AppName:               "mmconsole",
		DisableStartupMessage: true,
		ErrorHandler:          handlers.ErrorHandler(shells),
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           120 * time.Second,
		BodyLimit:             max(cfg.WebhookMaxBody, 1<<20),
	})
	f.Use(requestid.New())
	f.Use(handlers.Observe(log, reg))
	f.Use(recover.New())
	f.Use(handlers.SecurityHeaders())
	sessions := &handlers.Sessions{Auth: users, SecureCookies: strings.HasPrefix(cfg.BaseURL, "https://")}
	demoHint := ""
	if sandboxOn {
		demoHint = "sign in as demo-admin@example.com, demo-marketer@example.com or demo-viewer@example.com with the password printed when the dashboard first started (also in " +
			filepath.Base(demoFile(cfg)) + " next to the database)."
	}
	handlers.Register(f, handlers.Routes{
		Metrics:  reg,
		Health:   &handlers.Health{DBPing: func(ctx context.Context) error { return database.Ping(ctx, db) }},
		Sessions: sessions,
		SignIn:   &handlers.SignIn{Shells: shells, Auth: users, Sessions: sessions, Audit: auditLog, DemoHint: demoHint},
		Overview: &handlers.Overview{Shells: shells, Connections: acc},
		Settings: &handlers.Settings{Shells: shells, Users: users, Accounts: acc, Audit: auditLog, PublicURL: cfg.PublicURL()},
		Audit:    &handlers.AuditLog{Shells: shells, Log: auditLog, Accounts: acc},
	})
	a.fiber = f
	return a, nil
}

// secretBox builds the box sealing access tokens: from MMC_SECRET_KEY, or, when only the
// sandbox may be used, from a key file created next to the database once.
func secretBox(cfg config.Config, log *slog.Logger) (*secrets.Box, error) {
	if cfg.SecretKey != "" {
		key, err := config.DecodeKey(cfg.SecretKey)
		if err != nil {
			return nil, fmt.Errorf("app: MMC_SECRET_KEY: %w", err)
		}
		return secrets.NewBox(key)
	}
	if cfg.Sandbox == config.SandboxOff {
		return nil, errors.New("app: MMC_SECRET_KEY is required when MMC_SANDBOX=off: it encrypts WABA access tokens at rest (make one with: openssl rand -hex 32)")
	}
	path := cfg.Database + ".key"
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("app: key: %w", err)
		}
		raw = []byte(hex.EncodeToString(key))
		if err := writeNew(path, append(raw, '\n')); err != nil {
			return nil, fmt.Errorf("app: write key file %s: %w", path, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("app: read key file %s: %w", path, err)
	}
	key, err := config.DecodeKey(string(raw))
	if err != nil {
		return nil, fmt.Errorf("app: key file %s: %w", path, err)
	}
	log.Warn("MMC_SECRET_KEY is not set: access tokens are encrypted with a key file next to the database; set MMC_SECRET_KEY before adding real WABA connections", "key_file", path)
	return secrets.NewBox(key)
}

// writeNew creates path readable by the owner only, failing if it exists.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func demoFile(cfg config.Config) string { return cfg.Database + ".demo-credentials.txt" }

// firstRun creates the MMC_ADMIN_* admin when no user exists and, in sandbox mode, the demo
// account and its users (whose password is written to a file next to the database).
func (a *App) firstRun(ctx context.Context, acc *accounts.Service, users *auth.Service) error {
	if a.cfg.AdminEmail != "" {
		created, err := users.Bootstrap(ctx, a.cfg.AdminEmail, a.cfg.AdminPassword)
		if err != nil {
			return fmt.Errorf("app: create MMC_ADMIN_EMAIL: %w", err)
		}
		if created {
			a.log.Info("created the first admin from MMC_ADMIN_EMAIL", "email", auth.NormalizeEmail(a.cfg.AdminEmail))
		}
	}
	if a.cfg.Sandbox == config.SandboxOff {
		return nil
	}
	demoAcc, err := acc.EnsureSandboxAccount(ctx)
	if err != nil {
		return err
	}
	demo, err := users.EnsureDemo(ctx, demoAcc.ID)
	if err != nil {
		return err
	}
	if len(demo) == 0 {
		return nil
	}
	a.demo = demo
	var b strings.Builder
	fmt.Fprintf(&b, "MM Console sandbox demo sign-in (account %q). All three share this password:\n", demoAcc.Name)
	for _, d := range demo {
		fmt.Fprintf(&b, "%s\t%s\t%s\n", d.Email, d.Role.Label(), d.Password)
	}
	path := demoFile(a.cfg)
	_ = os.Remove(path) // left from an earlier database file of the same name
	if err := writeNew(path, []byte(b.String())); err != nil {
		return fmt.Errorf("app: write %s: %w", path, err)
	}
	return nil
}

// DemoNotice is the one line telling how to sign in to the sandbox demo, when this start
// created the demo users (empty otherwise).
func (a *App) DemoNotice() string {
	if len(a.demo) == 0 {
		return ""
	}
	return fmt.Sprintf("Sandbox demo sign-in: %s / %s (also demo-marketer@, demo-viewer@; saved in %s)",
		a.demo[0].Email, a.demo[0].Password, demoFile(a.cfg))
}

// Fiber exposes the HTTP app, for handler tests (app.Test).
func (a *App) Fiber() *fiber.App { return a.fiber }

// DB exposes the database, for tests.
func (a *App) DB() *gorm.DB { return a.db }

// Close releases everything New opened, in reverse order.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closer) - 1; i >= 0; i-- {
		errs = append(errs, a.closer[i]())
	}
	a.closer = nil
	return errors.Join(errs...)
}

// Serve listens on ln until ctx is cancelled, then lets in-flight requests finish (bounded by
// the shutdown timeout) and closes everything.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- a.fiber.Listener(ln) }()
	a.log.Info("MM Console is running", "url", a.cfg.PublicURL(), "database", a.cfg.Database, "sandbox", a.cfg.Sandbox)
	var serveErr error
	select {
	case <-ctx.Done():
		a.log.Info("shutting down", "timeout", a.cfg.ShutdownTimeout)
		if err := a.fiber.ShutdownWithTimeout(a.cfg.ShutdownTimeout); err != nil {
			serveErr = fmt.Errorf("app: shutdown: %w", err)
		}
		<-errc
	case err := <-errc:
		serveErr = err
	}
	return errors.Join(serveErr, a.Close())
}

// Run is main's whole job: build, listen, serve until ctx ends.
func Run(ctx context.Context, cfg config.Config, stdout io.Writer) error {
	log := NewLogger(cfg, stdout)
	a, err := New(ctx, cfg, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		a.Close()
		return fmt.Errorf("app: listen on %s (MMC_ADDR): %w", cfg.Addr, err)
	}
	fmt.Fprintf(stdout, "MM Console: open %s in your browser\n", cfg.PublicURL())
	// Printed, not logged: the password must not end up in log storage.
	if msg := a.DemoNotice(); msg != "" {
		fmt.Fprintln(stdout, msg)
	}
	return a.Serve(ctx, ln)
}
