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
	Sessions *Sessions
	SignIn   *SignIn
	Overview *Overview
	Settings *Settings
	Audit    *AuditLog
}

// Register lists every route of the dashboard in one place, grouped by who may call it.
//
// Order matters: Fiber group middleware applies to every route registered after the group, so
// public routes come first and everything below the signed-in group requires a session. A new
// public route (such as Meta's webhooks) goes in the public block.
func Register(app *fiber.App, r Routes) {
	// Every request: load the session (or send everyone to /setup while no user exists), then
	// refuse unsafe methods without the CSRF token. Both skip /healthz, /metrics, /static and
	// /webhooks/ (signature-authenticated).
	app.Use(r.Sessions.Load, CSRF)

	// Public: operations, assets, sign-in, first-run setup, invitations.
	app.Get("/healthz", r.Health.Get)
	app.Get("/metrics", adaptor.HTTPHandler(r.Metrics.Handler()))
	app.Use("/static", filesystem.New(filesystem.Config{
		Root:   static.HTTPFS(),
		MaxAge: 365 * 24 * 3600, // URLs carry a content hash (static.Assets.Path)
	}))
	app.Get("/login", r.SignIn.LoginPage)
	app.Post("/login", r.SignIn.Login)
	app.Post("/logout", r.SignIn.Logout)
	app.Get("/setup", r.SignIn.SetupPage)
	app.Post("/setup", r.SignIn.Setup)
	app.Get("/invite/:token", r.SignIn.InvitePage)
	app.Post("/invite/:token", r.SignIn.AcceptInvite)

	// Signed in: every role, every page from here on.
	signed := app.Group("", RequireUser)
	signed.Get("/", r.Overview.Get)
	signed.Get("/account/password", r.SignIn.PasswordPage)
	signed.Post("/account/password", r.SignIn.ChangePassword)

	// Audit log: admins (their account) and Hibot staff (every account).
	signed.Get("/audit", RequireAuditor, r.Audit.Get)

	// Admins: users and WABA connections.
	admins := signed.Group("/settings", RequireAdmin)
	admins.Get("", r.Settings.Get)
	admins.Post("/accounts", r.Settings.CreateAccount)
	admins.Post("/users", r.Settings.Invite)
	admins.Post("/users/:id/role", r.Settings.SetRole)
	admins.Post("/users/:id/disabled", r.Settings.SetDisabled)
	admins.Post("/connections", r.Settings.CreateConnection)
	admins.Get("/connections/:id", r.Settings.EditConnection)
	admins.Post("/connections/:id", r.Settings.UpdateConnection)
	admins.Post("/connections/:id/delete", r.Settings.DeleteConnection)
	admins.Post("/connections/:id/test", r.Settings.TestConnection)

	// Writers (marketers and admins) get their own routes in each area, guarded per route with
	// RequireWriter, e.g. signed.Post("/templates/:id/optimizations", RequireWriter, h.Set).

	// Anything else is a 404 page (or toast), through the central error handler.
	app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
}
