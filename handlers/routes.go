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

	Templates *Templates // nil until the composition root wires the catalog

	// Optimizations is nil until the composition root wires the optimize service.
	Optimizations *Optimizations

	Send *Send // test send composer; nil until wired
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

	app.Get("/", r.Overview.Get)

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

	// ---- Test send composer (issue 8) ----
	// Signed-in users only (the auth groups wrap these); writers compose and send, viewers read
	// /sends and results. POST /send checks CanWrite itself so no grouping can forget it.
	if r.Send != nil {
		app.Get("/send", r.Send.Page)
		app.Post("/send/preview", r.Send.Preview)
		app.Post("/send", r.Send.Post)
		app.Get("/sends", r.Send.History)
		app.Get("/sends/:id/result", r.Send.Result)
	}
	// ---- end test send ----

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
