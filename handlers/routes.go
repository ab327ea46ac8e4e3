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
	Send     *Send // test send composer; nil until wired
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
