package handlers

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/filesystem"

	"mmconsole/internal/audit"
	"mmconsole/internal/i18n"
	"mmconsole/internal/metrics"
	"mmconsole/static"
)

// Routes are the handler structs of every area, built by the composition root.
type Routes struct {
	Metrics       *metrics.Registry
	Health        *Health
	Sessions      *Sessions
	SignIn        *SignIn
	Overview      *Overview
	Webhooks      *Webhooks
	Log           *WebhookLog
	Templates     *Templates
	Authoring     *Authoring
	Optimizations *Optimizations
	Settings      *Settings
	Audit         *AuditLog
	Send          *Send
	Sandbox       *SandboxPage
	Glossary      *Glossary
	// I18n holds the catalogs; each request speaks its user's language (or the browser's).
	I18n *i18n.Catalog
	// Body is how every route but the webhook reads its body (ReadBody; the webhook's group
	// reads with its own limit).
	Body BodyLimit
}

// Register lists every route of the dashboard in one place, grouped by who may call it.
//
// Order matters: Fiber group middleware applies to every route registered after the group, so
// public routes come first and everything below the signed-in group requires a session. Roles
// are checked here per route (RequireWriter, RequireAdmin) and again in the services.
func Register(app *fiber.App, r Routes) {
	// First, before anything can touch it: read the body within its limit (see bodies.go).
	body := r.Body
	body.Skip = func(c *fiber.Ctx) bool { return IsWebhookPath(c.Path()) }
	// A body refusal comes before any session is known: it speaks the browser's language.
	app.Use(Localize(r.I18n), ReadBody(body))

	// Every request: load the session (or send everyone to /setup while no user exists), then
	// choose the words (the signed-in user's language, else the browser's Accept-Language, else
	// English), so the refusals that follow speak it too: unsafe methods without the CSRF token,
	// then any form field longer than its limit (FieldLimits), before a handler can act on it.
	// Session, CSRF and limits skip /healthz, /metrics, /static and /webhooks/
	// (signature-authenticated).
	app.Use(r.Sessions.Load, Localize(r.I18n), CSRF, FieldLimits)
	// Entries recorded below the HTTP layer (test sends, optimization changes) name the client.
	app.Use(func(c *fiber.Ctx) error {
		c.SetUserContext(audit.WithClientIP(c.UserContext(), c.IP()))
		return c.Next()
	})

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

	// Meta's webhook callback is public: Meta cannot sign in or carry a CSRF token. The verify
	// token (GET) and the X-Hub-Signature-256 HMAC of the raw body (POST) are its authentication.
	RegisterWebhooks(app, r.Webhooks)

	// Signed in: every role, every page from here on.
	signed := app.Group("", RequireUser)
	signed.Get("/", r.Overview.Get)
	signed.Get("/account", r.SignIn.AccountPage)
	signed.Post("/account/language", r.SignIn.SetLanguage)
	signed.Get("/account/password", r.SignIn.PasswordPage)
	signed.Post("/account/password", r.SignIn.ChangePassword)
	signed.Get("/glossary", r.Glossary.Get)

	RegisterAuthoring(signed, r.Authoring) // before the catalog: /templates/new is not a template id
	RegisterTemplates(signed, r.Templates)
	RegisterOptimizations(signed, r.Optimizations)
	RegisterLog(signed, r.Log)
	RegisterSend(signed, r.Send)
	RegisterInsights(signed, r.Overview)

	// Audit log: admins (their account) and Hibot staff (every account).
	signed.Get("/audit", RequireAuditor, r.Audit.Get)

	RegisterSandbox(signed, r.Sandbox)

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

	// Anything else is a 404 page (or toast), through the central error handler.
	app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
}

// The areas' routes, each mountable on its own so an area's handler tests can serve exactly the
// routes the dashboard serves. Register mounts them on the signed-in group.

// RegisterWebhooks mounts Meta's callback.
func RegisterWebhooks(r fiber.Router, h *Webhooks) {
	// The signature header is looked at before the body is read (SignatureFirst).
	hooks := r.Group("/webhooks", h.SignatureFirst, ReadBody(BodyLimit{Max: h.MaxBody, Guard: h.Guard, Refused: h.refused}))
	hooks.Get("/whatsapp", h.Verify)
	hooks.Post("/whatsapp", h.Receive)
}

// RegisterAuthoring mounts template authoring: writers only (checked again in the handlers and
// the service).
func RegisterAuthoring(r fiber.Router, h *Authoring) {
	r.Get("/templates/new", RequireWriter, h.New)
	r.Post("/templates/new", RequireWriter, h.Create)
	r.Post("/templates/check", RequireWriter, h.Check)
	r.Get("/templates/:id/clone", RequireWriter, h.Clone)
	r.Get("/templates/:id/edit", RequireWriter, h.EditForm)
	r.Post("/templates/:id/edit", RequireWriter, h.Edit)
	r.Get("/templates/:id/delete", RequireWriter, h.DeleteConfirm)
	r.Post("/templates/:id/delete", RequireWriter, h.Delete)
}

// RegisterTemplates mounts the catalog: every role reads it and may ask for a refresh; TTL
// edits are writers'.
func RegisterTemplates(r fiber.Router, h *Templates) {
	r.Get("/templates", h.Index)
	r.Post("/templates/sync", h.Sync)
	r.Get("/templates/:id", h.Show)
	r.Get("/templates/:id/insights.csv", h.InsightsExport)
	r.Post("/templates/:id/ttl", RequireWriter, h.SetTTL)
}

// RegisterOptimizations mounts creative optimizations: every role reads them and may re-read
// from Meta; changes are writers'.
func RegisterOptimizations(r fiber.Router, h *Optimizations) {
	r.Get("/optimizations", h.Page)
	r.Get("/optimizations/matrix", h.Matrix)
	r.Post("/optimizations/bulk/preview", RequireWriter, h.BulkPreview)
	r.Post("/optimizations/bulk/apply", RequireWriter, h.BulkApply)
	r.Post("/optimizations/waba/:conn/reread", h.RereadWABA)
	r.Post("/optimizations/waba/:conn/accept", RequireWriter, h.AcceptWABA)
	r.Post("/optimizations/waba/:conn/all", RequireWriter, h.SetWABAAll) // before :feature
	r.Post("/optimizations/waba/:conn/:feature/recheck", h.RecheckWABA)
	r.Post("/optimizations/waba/:conn/:feature", RequireWriter, h.SetWABA)
	r.Get("/optimizations/template/:id", h.TemplatePage)
	r.Post("/optimizations/template/:id/reread", h.RereadTemplate)
	r.Post("/optimizations/template/:id/accept", RequireWriter, h.AcceptTemplate)
	r.Post("/optimizations/template/:id/apply", RequireWriter, h.ApplyTemplate)
}

// RegisterSandbox mounts the sandbox page: admins make the sandbox send the webhooks Meta sends
// on its own (404 when the sandbox is off; only the sandbox WABAs of the admin's account).
func RegisterSandbox(r fiber.Router, h *SandboxPage) {
	r.Get("/sandbox", RequireAdmin, h.Page)
	r.Post("/sandbox/trigger", RequireAdmin, h.Trigger)
}

// RegisterLog mounts the webhook log, message stories and the header's search: every role reads
// them, scoped to its account; saved filters are each user's own.
func RegisterLog(r fiber.Router, h *WebhookLog) {
	r.Get("/log", h.Get)
	r.Get("/log/tail", h.Tail)
	r.Get("/log/export.csv", h.Export)
	r.Post("/log/filters", h.SaveFilter)
	r.Post("/log/filters/:id/delete", h.DeleteFilter)
	r.Get("/search", h.Search)
	r.Get("/log/events/:id", h.Raw)
	r.Get("/messages/:wamid", h.Message)
	r.Get("/messages/:wamid/timeline", h.Timeline)
}

// RegisterSend mounts the test send composer: writers compose and send (the service checks the
// role again); every role reads the history and the live results.
func RegisterSend(r fiber.Router, h *Send) {
	r.Get("/send", h.Page)
	r.Get("/send/recipients", h.Recipients)
	r.Post("/send/recipients", RequireWriter, h.SaveRecipient)
	r.Post("/send/recipients/:id/delete", RequireWriter, h.DeleteRecipient)
	r.Post("/send/preview", h.Preview)
	r.Post("/send", RequireWriter, h.Post)
	r.Get("/sends", h.History)
	r.Get("/sends/:id", h.Show)
	r.Get("/sends/:id/result", h.Result)
}
