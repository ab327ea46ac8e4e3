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
	"log/slog"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"gorm.io/gorm"

	"mmconsole/handlers"
	"mmconsole/internal/accounts"
	"mmconsole/internal/config"
	"mmconsole/internal/database"
	"mmconsole/internal/metrics"
	"mmconsole/internal/secrets"
	"mmconsole/internal/webhook"
	"mmconsole/static"
)

// App is a built, not yet started, dashboard.
type App struct {
	cfg           config.Config
	webhookSecret []byte
	log           *slog.Logger
	db            *gorm.DB
	fiber         *fiber.App
	closer        []func() error
}

// Migrations lists every area's schema steps; database.Migrate runs them in ID order.
func Migrations() []database.Migration {
	var ms []database.Migration
	ms = append(ms, accounts.Migrations()...)
	ms = append(ms, webhook.Migrations()...)
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
	a := &App{cfg: cfg, log: log}
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
	acc := accounts.New(db)

	var box *secrets.Box
	if cfg.SecretKey != "" {
		key, err := config.DecodeKey(cfg.SecretKey)
		if err == nil {
			box, err = secrets.NewBox(key)
		}
		if err != nil {
			a.Close()
			return nil, fmt.Errorf("app: MMC_SECRET_KEY: %w", err)
		}
	}
	a.webhookSecret = []byte(cfg.AppSecret)
	if len(a.webhookSecret) == 0 && cfg.Sandbox != config.SandboxOff {
		// The sandbox signs its deliveries with this; a real app secret is never needed for it.
		buf := make([]byte, 32)
		if _, err := rand.Read(buf); err != nil {
			a.Close()
			return nil, fmt.Errorf("app: webhook secret: %w", err)
		}
		a.webhookSecret = []byte(hex.EncodeToString(buf))
	}
	hookMetrics := webhook.NewMetrics()
	reg.MustRegister(hookMetrics.Collectors()...)
	hooks := webhook.New(db, hookMetrics, webhook.Options{Logger: log})
	// Registered after the database's closer, so it runs first: queued deliveries are committed
	// before the database closes.
	a.closer = append(a.closer, hooks.Close)

	shells := &handlers.Shells{AssetPath: assets.Path, Sandbox: func() bool { return cfg.Sandbox != config.SandboxOff }}
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
	handlers.Register(f, handlers.Routes{
		Metrics:  reg,
		Health:   &handlers.Health{DBPing: func(ctx context.Context) error { return database.Ping(ctx, db) }},
		Overview: &handlers.Overview{Shells: shells, Connections: acc},
		Webhooks: &handlers.Webhooks{
			VerifyToken: cfg.VerifyToken,
			Secrets:     accounts.NewWebhookSecrets(db, box, a.webhookSecret, log),
			MaxBody:     cfg.WebhookMaxBody,
			Store:       hooks,
		},
		Log: &handlers.WebhookLog{Shells: shells, Events: hooks},
	})
	a.fiber = f
	return a, nil
}

// Fiber exposes the HTTP app, for handler tests (app.Test).
func (a *App) Fiber() *fiber.App { return a.fiber }

// WebhookSecret is the app secret webhook deliveries are verified with (MMC_APP_SECRET, or the
// random per-run secret the sandbox signs with).
func (a *App) WebhookSecret() []byte { return a.webhookSecret }

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
	return a.Serve(ctx, ln)
}
