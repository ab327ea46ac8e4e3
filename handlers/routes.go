package handlers

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/filesystem"

	"mmconsole/internal/metrics"
	"mmconsole/static"
)

// Routes are the handler structs of every area, built by the composition root.
type Routes struct {
	Metrics  *metrics.Registry
	Health   *Health
	Overview *Overview
	Webhooks *Webhooks
	Log      *WebhookLog

	Templates *Templates // nil until the composition root wires the catalog

	// Optimizations is nil until the composition root wires the optimize service.
	Optimizations *Optimizations
}

// Register lists every route of the dashboard in one place, grouped by area, with the
// middleware each group needs.
func Register(app *fiber.App, r Routes) {
	// Operations and assets: no session.
	app.Get("/healthz", r.Health.Get)
	app.Get("/metrics", adaptor.HTTPHandler(r.Metrics.Handler()))
	app.Use("/static", filesystem.New(filesystem.Config{
		Root:   static.HTTPFS(),
		MaxAge: 365 * 24 * 3600, // URLs carry a content hash (static.Assets.Path)
	}))

	// Meta's webhook callback is public: Meta cannot sign in or carry a CSRF token, so it stays
	// outside the session and CSRF middleware. The verify token (GET) and the
	// X-Hub-Signature-256 HMAC of the raw body (POST) are its authentication.
	hooks := app.Group("/webhooks")
	hooks.Get("/whatsapp", r.Webhooks.Verify)
	hooks.Post("/whatsapp", r.Webhooks.Receive)

	app.Get("/", r.Overview.Get)

	// Webhook log and message stories: every signed-in role reads them, scoped to its account.
	app.Get("/log", r.Log.Get)
	app.Get("/log/tail", r.Log.Tail)
	app.Get("/log/events/:id", r.Log.Raw)
	app.Get("/messages/:wamid", r.Log.Message)
	app.Get("/messages/:wamid/timeline", r.Log.Timeline)
	// Templates: catalog and MM API sync state. Every role reads; the handlers check the role
	// for the TTL edit (writers only) and scope every query to the user's accounts.
	if t := r.Templates; t != nil {
		app.Get("/templates", t.Index)
		app.Post("/templates/sync", t.Sync)
		app.Get("/templates/:id", t.Show)
		app.Post("/templates/:id/ttl", t.SetTTL)
	}

	// ---- Optimizations (creative features; signed-in users; writes need CanWrite, checked in
	// the handlers and again in the service) ----
	if r.Optimizations != nil {
		RegisterOptimizations(app, r.Optimizations)
	}
	// ---- end Optimizations ----

	// Anything else is a 404 page (or toast), through the central error handler.
	app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
}

// RegisterOptimizations mounts the optimizations routes on a router (the app, or the signed-in
// group). Fixed segments (reread, accept, recheck) are registered before :feature so they win.
func RegisterOptimizations(r fiber.Router, h *Optimizations) {
	r.Get("/optimizations", h.Page)
	r.Get("/optimizations/matrix", h.Matrix)
	r.Post("/optimizations/bulk/preview", h.BulkPreview)
	r.Post("/optimizations/bulk/apply", h.BulkApply)
	r.Post("/optimizations/waba/:conn/reread", h.RereadWABA)
	r.Post("/optimizations/waba/:conn/accept", h.AcceptWABA)
	r.Post("/optimizations/waba/:conn/:feature/recheck", h.RecheckWABA)
	r.Post("/optimizations/waba/:conn/:feature", h.SetWABA)
	r.Get("/optimizations/template/:id", h.TemplatePage)
	r.Post("/optimizations/template/:id/reread", h.RereadTemplate)
	r.Post("/optimizations/template/:id/accept", h.AcceptTemplate)
	r.Post("/optimizations/template/:id/:feature", h.SetTemplate)
}
