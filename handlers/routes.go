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

	// Anything else is a 404 page (or toast), through the central error handler.
	app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
}
