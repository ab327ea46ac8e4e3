// Package app is the composition root: it opens the database, builds the Graph API client and
// the sandbox, the services and the Fiber app, starts the background loops, and shuts all of it
// down in order. It is the only package that imports everything.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"gorm.io/gorm"

	"mmconsole/handlers"
	"mmconsole/internal/accounts"
	"mmconsole/internal/audit"
	"mmconsole/internal/auth"
	"mmconsole/internal/authoring"
	"mmconsole/internal/config"
	"mmconsole/internal/database"
	"mmconsole/internal/editbudget"
	"mmconsole/internal/graph"
	"mmconsole/internal/i18n"
	"mmconsole/internal/insights"
	"mmconsole/internal/jobs"
	"mmconsole/internal/metrics"
	"mmconsole/internal/optimize"
	"mmconsole/internal/sandbox"
	"mmconsole/internal/send"
	"mmconsole/internal/templates"
	"mmconsole/internal/webhook"
	"mmconsole/static"
)

// App is a built, not yet started, dashboard.
type App struct {
	cfg   config.Config
	log   *slog.Logger
	db    *gorm.DB
	fiber *fiber.App
	graph *graph.Client
	// appSecret verifies webhook signatures: MMC_APP_SECRET, or a per-run random secret that the
	// sandbox also signs with when the sandbox is the only Graph API.
	appSecret string
	sandbox   *sandbox.Sandbox // nil when the sandbox is off
	closer    []func() error
	// loops run in the background while the server serves, and stop with it.
	loops []func(ctx context.Context) error
	// sched claims the periodic jobs, so that each runs once per interval across instances;
	// jobs lists them (Serve runs each in a loop).
	sched *jobs.Scheduler
	jobs  []jobs.Job
	demo  []auth.DemoUser // created at this start; printed once by Run
	// demoSaved is the credentials file of demo users an earlier start created (a restart).
	demoSaved string
	// hashing bounds concurrent password hashing (MMC_HASH_WORKERS).
	hashing *auth.HashPool
}

// Migrations lists every area's schema steps; database.Migrate runs them in ID order.
func Migrations() []database.Migration { return migrations(true) }

// migrations is Migrations for a Graph API base URL that is Meta's own (graphIsMeta) or not,
// which decides the API existing connections get (accounts.MigrationsFor).
func migrations(graphIsMeta bool) []database.Migration {
	var ms []database.Migration
	ms = append(ms, accounts.MigrationsFor(graphIsMeta)...)
	ms = append(ms, audit.Migrations()...)
	ms = append(ms, auth.Migrations()...)
	ms = append(ms, templates.Migrations()...)
	ms = append(ms, optimize.Migrations()...)
	ms = append(ms, webhook.Migrations()...)
	ms = append(ms, send.Migrations()...)
	ms = append(ms, insights.Migrations()...)
	ms = append(ms, database.ProbeMigrations()...)
	ms = append(ms, jobs.Migrations()...)
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
	db, err := database.Open(ctx, cfg.Database, migrations(cfg.GraphIsMeta()), database.Options{Logger: log, MaxConns: cfg.DatabaseConns})
	if err != nil {
		return nil, err
	}
	a.db = db
	a.closer = append(a.closer, func() error { return database.Close(db) })
	a.sched = jobs.New(db, jobs.Options{Now: now, Logger: log.With("component", "jobs")})
	// A send cannot be in flight longer than the Graph deadline (and a little work around it), so
	// an older "Sending…" row was left by a process that died: its outcome is unknown. Sends
	// interrupted just before a quick restart are younger than that at start; the loop gets them.
	// This sweep runs on every instance, not as a once-per-interval job: it is one conditional
	// UPDATE (still "Sending…" and untouched for longer than any live send can take, which is
	// the same on every instance as they share MMC_GRAPH_DEADLINE), so two instances running it
	// at once change each row once, and an instance never marks another's live send.
	inFlight := cfg.GraphDeadline + 5*time.Second
	if n, err := send.RecoverInterrupted(ctx, db, now().Add(-inFlight), now()); err != nil {
		a.Close()
		return nil, err
	} else if n > 0 {
		log.Warn("test sends interrupted by a stop are now marked outcome unknown", "count", n)
	}
	a.loops = append(a.loops, func(ctx context.Context) error {
		return send.RunRecovery(ctx, db, max(cfg.GraphDeadline, time.Second), inFlight, now, log.With("component", "send"))
	})

	useSandbox, err := sandboxWanted(ctx, db, cfg.Sandbox)
	if err != nil {
		a.Close()
		return nil, err
	}
	box, unkeptKey, err := loadSecretsBox(cfg, useSandbox && cfg.Sandbox != config.SandboxOn, log)
	if err != nil {
		a.Close()
		return nil, err
	}
	appSecret := cfg.AppSecret
	if appSecret == "" && useSandbox {
		appSecret = randomSecret()
	}
	if appSecret == "" {
		log.Warn("MMC_APP_SECRET is not set: every webhook delivery will be refused (401)")
	}
	acc := accounts.New(db, accounts.WithSecrets(box), accounts.WithClock(now), accounts.WithUnkeptKey(unkeptKey),
		accounts.WithMetaGraph(cfg.GraphIsMeta()))
	var router *sandboxRouter
	if useSandbox {
		demoAcc, err := acc.EnsureSandboxAccount(ctx)
		if err != nil {
			a.Close()
			return nil, err
		}
		sb, r, err := startSandbox(ctx, cfg, db, box, demoAcc.ID, appSecret, log)
		if err != nil {
			a.Close()
			return nil, err
		}
		a.sandbox, router = sb, r
		a.closer = append(a.closer, sb.Close)
	}
	a.graph = newGraphClient(cfg, router, accounts.GraphContacts{DB: db, Log: log.With("component", "graph")}, log)
	if router != nil {
		// Registered after the sandbox's closer, so it runs first: the sandbox stops without
		// waiting for this client's idle connections to time out.
		a.closer = append(a.closer, func() error { router.closeIdle(); return nil })
	}
	a.appSecret = appSecret
	accounts.WithGraph(a.graph, nil)(acc) // one client: sandbox tokens are routed to the sandbox

	assets, err := static.NewAssets()
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("app: assets: %w", err)
	}
	reg := metrics.New()
	auditLog := audit.New(db, now)
	a.hashing = auth.NewHashPool(cfg.HashWorkerCount(), time.Second)
	users := auth.New(db, auth.Options{Now: now, Idle: cfg.SessionIdle, Absolute: cfg.SessionAbsolute, Hashing: a.hashing})

	hookMetrics := webhook.NewMetrics()
	reg.MustRegister(hookMetrics.Collectors()...)
	// Onboarding is re-read when Meta says the terms were signed, and every refresh interval.
	onboarding := accounts.NewOnboardingWatch(acc, cfg.TemplateRefresh, log.With("component", "onboarding"))
	// Background work, like the template refresh: its calls tell each connection's "Meta last
	// answered". Re-reads a webhook asks for are this instance's; the periodic one is shared.
	a.loops = append(a.loops, func(ctx context.Context) error { return onboarding.Serve(graph.Background(ctx)) })
	if cfg.TemplateRefresh > 0 {
		a.every(jobs.Job{Name: "accounts.onboarding", Every: cfg.TemplateRefresh, Run: func(ctx context.Context) error {
			onboarding.RecheckAll(graph.Background(ctx))
			return nil
		}})
	}
	hooks := webhook.New(db, hookMetrics, webhook.Options{Logger: log.With("component", "webhook"), Followups: onboarding,
		RejectionsPerMinute: cfg.WebhookRejectionsPerMinute, RejectionsKeep: cfg.WebhookRejectionsKeep,
		Retention: cfg.Retention, WALSizeLimit: int64(cfg.WALSizeLimit), WALAlertSize: int64(cfg.WALAlertSize),
		PruneOnRequest: true, Writers: cfg.WebhookWriters})
	if cfg.Retention > 0 {
		// One instance's writer prunes per interval; the others' writers only ingest.
		a.every(jobs.Job{Name: "webhook.retention", Every: webhookPruneEvery, Run: func(context.Context) error {
			hooks.PruneNow()
			return nil
		}})
	}
	// Registered after the database's closer, so it runs first: queued deliveries are committed
	// before the database closes.
	a.closer = append(a.closer, hooks.Close)

	if err := a.firstRun(ctx, acc, users, useSandbox); err != nil {
		a.Close()
		return nil, err
	}

	shells := &handlers.Shells{AssetPath: assets.Path, Sandbox: func() bool { return useSandbox }}
	trusted, err := cfg.TrustedProxyList()
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("app: MMC_TRUSTED_PROXIES: %w", err)
	}
	f := fiber.New(fiber.Config{
		AppName:               "mmconsole",
		DisableStartupMessage: true,
		ErrorHandler:          handlers.ErrorHandler(shells),
		ReadTimeout:           cfg.ReadTimeout,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           cfg.IdleTimeout,
		Concurrency:           cfg.MaxConns,
		// Bodies arrive as a stream that handlers.ReadBody reads within each route's limit, so an
		// announced Content-Length reserves nothing; the server itself pre-reads at most 8 KiB.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		BodyLimit:                    cfg.MaxBody,
		// c.IP() and c.Protocol() believe forwarded headers only from MMC_TRUSTED_PROXIES.
		EnableTrustedProxyCheck: true,
		TrustedProxies:          prefixStrings(trusted),
		ProxyHeader:             proxyHeader(cfg, trusted),
		EnableIPValidation:      true,
	})
	bodies := handlers.NewBodyGuard(cfg.BodyMemory, func(path string) int {
		if handlers.IsWebhookPath(path) {
			return cfg.WebhookMaxBody
		}
		return cfg.MaxBody
	})
	bodies.StaleAfter = 2 * cfg.ReadTimeout
	reg.BodyBytesHeld(func() float64 { return float64(bodies.Used()) })
	srv := f.Server()
	srv.MaxConnsPerIP = cfg.MaxConnsPerIP
	srv.HeaderReceived = bodies.HeaderReceived
	srv.ErrorHandler = bodies.ServerRefusals(srv.ErrorHandler, func(ctx context.Context, path, ip, reason string, size int) {
		if !handlers.IsWebhookPath(path) {
			reg.BodyRefused("dashboard", reason)
			return
		}
		reg.BodyRefused("webhook", reason)
		if reason != handlers.RefusedSlowHeader {
			hooks.Reject(ctx, ip, reason, size, nil)
		}
	})
	f.Use(handlers.ClientAddress(trusted, cfg.ProxyHeader))
	f.Use(requestid.New())
	f.Use(handlers.Observe(log, reg))
	f.Use(recover.New())
	f.Use(handlers.SecurityHeaders())
	// Pages, fragments and assets go out gzip- or brotli-compressed to clients that accept it
	// (assets keep their long cache headers). Not the webhook endpoint: Meta's deliveries get a
	// few bytes back, which compressing would only cost time on the hottest path.
	f.Use(compress.New(compress.Config{Next: func(c *fiber.Ctx) bool { return handlers.IsWebhookPath(c.Path()) }}))
	f.Use(handlers.GraphDeadline())
	tokens := accounts.Tokens{Box: box}
	// One ledger counts Meta's edit limit for every kind of template edit, wherever it is made.
	edits := editbudget.New(db, editbudget.Options{})
	catalog := templates.New(db, a.graph, tokens, templates.Options{
		Interval: cfg.TemplateRefresh, Logger: log.With("component", "templates"), Edits: edits, Now: now,
	})
	// The scheduled refresh (and the analytics fetch it makes per WABA) is background work: a
	// slow Meta may take longer than a person waits. With MMC_TEMPLATE_REFRESH=0 each instance
	// refreshes once at its start only.
	started := false // the first pass of this process is recorded as its start
	refresh := func(ctx context.Context) error {
		trigger := templates.TriggerSchedule
		if !started {
			trigger, started = templates.TriggerStart, true
		}
		catalog.RefreshAll(graph.Background(ctx), trigger)
		return nil
	}
	if cfg.TemplateRefresh > 0 {
		a.every(jobs.Job{Name: "templates.refresh", Every: cfg.TemplateRefresh, Run: refresh})
	} else {
		a.loops = append(a.loops, refresh)
	}
	// Stale sign-in counters cost space, never correctness: one instance prunes them now and
	// then.
	a.every(jobs.Job{Name: "auth.signin-counters", Every: 10 * time.Minute, Run: func(ctx context.Context) error {
		_, err := users.PruneThrottles(ctx)
		return err
	}})
	// Template analytics and webhook rollups: background work too, each pass once per interval
	// across instances; pages read what they stored. The fetch pass looks every minute which
	// WABAs are due (their interval passed, a rate-limit backoff ended, templates now known).
	insight := insights.New(db, a.graph, tokens, insights.Options{Interval: cfg.InsightsRefresh, Now: now,
		Logger: log.With("component", "insights")})
	fetchInsights := func(ctx context.Context) error { insight.FetchAll(graph.Background(ctx)); return nil }
	if cfg.InsightsRefresh > 0 {
		a.every(jobs.Job{Name: "insights.fetch", Every: insights.FetchPoll, Run: fetchInsights})
	} else {
		a.loops = append(a.loops, fetchInsights)
	}
	a.every(jobs.Job{Name: "insights.fold", Every: insights.FoldEvery, Run: func(ctx context.Context) error {
		_, err := insight.Fold(ctx)
		return err
	}})
	a.every(jobs.Job{Name: "insights.ttl-expiries", Every: insights.ExpiryEvery, Run: insight.RecountExpired})
	// A WABA that becomes onboarded starts its templates' sync windows, whichever path saw it.
	accounts.WithOnboardedHook(catalog.NoteOnboarded)(acc)
	optimizer := optimize.New(db, a.graph, tokens, optimizeAudit{auditLog}, optimize.Options{MetaDefault: cfg.OptimizationDefault, Edits: edits})
	optHandlers := &handlers.Optimizations{Shells: shells, Service: optimizer}

	sessions := &handlers.Sessions{Auth: users, SecureCookies: strings.HasPrefix(cfg.BaseURL, "https://")}
	demoHint := ""
	if useSandbox {
		demoHint = "sign in as demo-admin@example.com, demo-marketer@example.com or demo-viewer@example.com with the password printed when the dashboard first started (also in " +
			filepath.Base(demoFile(cfg)) + " on the dashboard's server)."
	}
	// Test send composer: accepted sends become messages of the webhook log, whose state the
	// result panel follows live.
	sender := send.New(send.Deps{
		DB: db, Graph: a.graph, Tokens: tokens, Sync: sendSync{}, Notes: catalog,
		Recorder: sendMessages{hooks}, Status: sendMessages{hooks}, Audit: sendAudit{auditLog}, Preferences: hooks,
		APIBase: a.graph.BaseURL() + "/" + a.graph.Version(), Logger: log.With("component", "send"), Edits: edits,
		CallbackData: cfg.SendCallbackData,
	})

	words, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	overview := &handlers.Overview{Shells: shells, Connections: acc, Insights: insight, Audit: auditLog}
	handlers.Register(f, handlers.Routes{
		I18n:     words,
		Metrics:  reg,
		Health:   newHealth(cfg, db),
		Sessions: sessions,
		SignIn:   &handlers.SignIn{Shells: shells, Auth: users, Sessions: sessions, Audit: auditLog, DemoHint: demoHint, Catalog: words},
		Overview: overview,
		Glossary: &handlers.Glossary{Shells: shells},
		Settings: &handlers.Settings{Shells: shells, Users: users, Accounts: acc, Audit: auditLog, PublicURL: cfg.PublicURL(), UnkeptKey: unkeptKey},
		Audit:    &handlers.AuditLog{Shells: shells, Log: auditLog, Accounts: acc},
		Templates: &handlers.Templates{Shells: shells, Catalog: catalog, History: templateHistory{hooks}, Audit: auditLog, Optimizations: optHandlers.TemplateSection,
			Insights: overview.TemplateSection, InsightsCSV: overview.TemplateCSV},
		Authoring: &handlers.Authoring{Shells: shells, Catalog: catalog,
			Service: authoring.New(db, a.graph, tokens, authoring.Options{Edits: edits, Audit: auditLog, Now: now, Log: log.With("component", "authoring")})},
		Optimizations: optHandlers,
		Webhooks: &handlers.Webhooks{
			VerifyToken: cfg.VerifyToken,
			Secrets:     &webhookSecrets{src: accounts.NewWebhookSecrets(db, box, []byte(appSecret), log)},
			MaxBody:     cfg.WebhookMaxBody,
			Store:       hooks,
			Guard:       bodies,
			Count:       func(reason string) { reg.BodyRefused("webhook", reason) },
		},
		Log:     &handlers.WebhookLog{Shells: shells, Events: hooks, ExportMaxRows: cfg.LogExportMaxRows},
		Send:    &handlers.Send{Shells: shells, Service: sender, Accounts: acc},
		Sandbox: &handlers.SandboxPage{Shells: shells, Sandbox: sandboxTriggers(a.sandbox), Connections: acc, Audit: auditLog},
		Body: handlers.BodyLimit{Max: cfg.MaxBody, Guard: bodies,
			Refused: func(c *fiber.Ctx, reason string, _ int) { reg.BodyRefused("dashboard", reason) }},
	})
	a.fiber = f
	return a, nil
}

// webhookPruneEvery is how often one instance starts a retention pass of the webhook tables.
const webhookPruneEvery = time.Minute

// every schedules a job: it runs once per interval across every instance on the database.
func (a *App) every(j jobs.Job) {
	a.jobs = append(a.jobs, j)
	a.loops = append(a.loops, func(ctx context.Context) error { return a.sched.Loop(ctx, j) })
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// proxyHeader is the client-address header Fiber reads: none unless a proxy is trusted.
func proxyHeader(cfg config.Config, trusted []netip.Prefix) string {
	if len(trusted) == 0 {
		return ""
	}
	return cfg.ProxyHeader
}

// newHealth builds /healthz: a read, a write probe, and on SQLite the free space next to the
// database file. PostgreSQL's disk is on the server, out of this process's sight: its operator
// watches it, and a full disk still shows here as a failing write probe.
func newHealth(cfg config.Config, db *gorm.DB) *handlers.Health {
	h := &handlers.Health{
		DBPing:  func(ctx context.Context) error { return database.Ping(ctx, db) },
		DBWrite: func(ctx context.Context) error { return database.ProbeWrite(ctx, db) },
		MinFree: uint64(cfg.MinFreeDiskMB) << 20,
	}
	if cfg.DatabaseIsPostgres() {
		return h
	}
	if _, err := database.FreeSpace(cfg.Database); !errors.Is(err, database.ErrFreeSpaceUnknown) {
		h.FreeDisk = func() (uint64, error) { return database.FreeSpace(cfg.Database) }
	}
	return h
}

// sandboxTriggers is the sandbox as the trigger page sees it: nil (the page answers 404) when
// the sandbox is off, never an interface holding a nil pointer.
func sandboxTriggers(sb *sandbox.Sandbox) handlers.SandboxTriggers {
	if sb == nil {
		return nil
	}
	return sb
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

func demoFile(cfg config.Config) string { return cfg.StateFile(".demo-credentials.txt") }

// firstRun creates the MMC_ADMIN_* admin when no user exists and, in sandbox mode, the demo
// account and its users (whose password is written to a file beside the database, cfg.StateFile).
func (a *App) firstRun(ctx context.Context, acc *accounts.Service, users *auth.Service, useSandbox bool) error {
	if a.cfg.AdminEmail != "" {
		created, err := users.Bootstrap(ctx, a.cfg.AdminEmail, a.cfg.AdminPassword)
		if err != nil {
			return fmt.Errorf("app: create MMC_ADMIN_EMAIL: %w", err)
		}
		if created {
			a.log.Info("created the first admin from MMC_ADMIN_EMAIL", "email", auth.NormalizeEmail(a.cfg.AdminEmail))
		}
	}
	if !useSandbox {
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
		// A restart: the password was printed at the first start only; say where it is kept.
		if _, err := os.Stat(demoFile(a.cfg)); err == nil {
			a.demoSaved = demoFile(a.cfg)
		}
		return nil
	}
	a.demo = demo
	var b strings.Builder
	fmt.Fprintf(&b, "MM Console sandbox demo sign-in (account %q). All three share this password:\n", demoAcc.Name)
	for _, d := range demo {
		fmt.Fprintf(&b, "%s\t%s\t%s\n", d.Email, d.Role.Label(context.Background()), d.Password)
	}
	path := demoFile(a.cfg)
	_ = os.Remove(path) // left from an earlier database file of the same name
	if err := writeNew(path, []byte(b.String())); err != nil {
		return fmt.Errorf("app: write %s: %w", path, err)
	}
	return nil
}

// DemoNotice tells how to sign in to the sandbox demo. On the start that created the demo users
// it is a framed block with the password, so that it stands out from the log lines around it;
// on a later start it is one line saying which file keeps the password; otherwise empty.
func (a *App) DemoNotice() string {
	if len(a.demo) == 0 {
		if a.demoSaved == "" {
			return ""
		}
		return "Sandbox demo sign-in: the demo users' password is in " + a.demoSaved + " (printed at the first start only)\n"
	}
	lines := []string{
		"MM Console sandbox demo: sign in at " + a.cfg.PublicURL() + "/login",
		"",
		"Password (the same for all three):  " + a.demo[0].Password,
	}
	for _, d := range a.demo {
		lines = append(lines, fmt.Sprintf("  %-28s %s", d.Email, d.Role.Label(context.Background())))
	}
	lines = append(lines, "", "Printed this once; also saved in", demoFile(a.cfg))
	return frame(lines)
}

// frame draws an ASCII box around lines (ASCII, so every terminal and log viewer shows it).
func frame(lines []string) string {
	width := 0
	for _, l := range lines {
		width = max(width, utf8.RuneCountInString(l))
	}
	rule := "+" + strings.Repeat("-", width+4) + "+\n"
	var b strings.Builder
	b.WriteString(rule)
	for _, l := range lines {
		b.WriteString("|  " + l + strings.Repeat(" ", width-utf8.RuneCountInString(l)) + "  |\n")
	}
	b.WriteString(rule)
	return b.String()
}

// DemoPassword is the sandbox demo users' password when this start created them (for the
// browser tests, which sign in as a person would); empty otherwise.
func (a *App) DemoPassword() string {
	if len(a.demo) == 0 {
		return ""
	}
	return a.demo[0].Password
}

// Fiber exposes the HTTP app, for handler tests (app.Test).
func (a *App) Fiber() *fiber.App { return a.fiber }

// Sandbox is the embedded Graph API simulator, or nil when it is off (for tests).
func (a *App) Sandbox() *sandbox.Sandbox { return a.sandbox }

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
	loopCtx, stopLoops := context.WithCancel(context.Background())
	var loopsDone sync.WaitGroup
	for _, loop := range a.loops {
		loopsDone.Go(func() {
			if err := loop(loopCtx); err != nil && !errors.Is(err, context.Canceled) {
				a.log.Error("background loop stopped", "err", err)
			}
		})
	}
	defer func() { stopLoops(); loopsDone.Wait() }()
	// The server learns of its listener only once its goroutine runs. A shutdown before that finds
	// no listener to close and returns at once, and the late Serve would then accept forever; so
	// the listener is closed here too (once, whoever is first), which ends a late Serve at its
	// first Accept, and a second shutdown then waits for whatever that late Serve let in.
	ln = &closeOnce{Listener: ln}
	errc := make(chan error, 1)
	go func() { errc <- a.fiber.Listener(ln) }()
	a.log.Info("MM Console is running", "url", a.cfg.PublicURL(), "database", database.Redact(a.cfg.Database), "sandbox", a.cfg.Sandbox)
	var serveErr error
	select {
	case <-ctx.Done():
		a.log.Info("shutting down", "timeout", a.cfg.ShutdownTimeout)
		if err := a.fiber.ShutdownWithTimeout(a.cfg.ShutdownTimeout); err != nil {
			serveErr = fmt.Errorf("app: shutdown: %w", err)
		}
		_ = ln.Close()
		<-errc
		if err := a.fiber.ShutdownWithTimeout(a.cfg.ShutdownTimeout); err != nil && serveErr == nil {
			serveErr = fmt.Errorf("app: shutdown: %w", err)
		}
	case err := <-errc:
		serveErr = err
	}
	stopLoops()
	loopsDone.Wait()
	return errors.Join(serveErr, a.Close())
}

// closeOnce is a listener whose Close closes it the first time and after that reports success,
// so that the server's shutdown and Serve's own close can both close it without one failing.
type closeOnce struct {
	net.Listener
	once sync.Once
	err  error
}

func (l *closeOnce) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	return l.err
}

// Run is main's whole job: build, listen, serve until ctx ends.
func Run(ctx context.Context, cfg config.Config, stdout io.Writer) error {
	log := NewLogger(cfg, stdout)
	// Listen before building, so that the sandbox's webhook callback names the real port.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("app: listen on %s (MMC_ADDR): %w", cfg.Addr, err)
	}
	cfg.Addr = ln.Addr().String()
	a, err := New(ctx, cfg, log)
	if err != nil {
		ln.Close()
		return err
	}
	fmt.Fprintf(stdout, "MM Console: open %s in your browser\n", cfg.PublicURL())
	// Printed, not logged: the password must not end up in log storage.
	if msg := a.DemoNotice(); msg != "" {
		fmt.Fprint(stdout, msg)
	}
	return a.Serve(ctx, ln)
}
