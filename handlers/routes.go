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

	// Anything else is a 404 page (or toast), through the central error handler.
	app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
}
