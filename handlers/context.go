package handlers

import (
	"log/slog"

	"github.com/gofiber/fiber/v2"

	"mmconsole/internal/i18n"
	"mmconsole/models"
)

// Keys of values that middleware puts in fiber.Ctx.Locals.
const (
	localUser      = "mmc.user"
	localAccount   = "mmc.account_name"
	localCSRF      = "mmc.csrf"
	localRequestID = "requestid"
	localLogger    = "mmc.logger"
	localLocale    = "mmc.locale_matched"
)

// CurrentUser is the signed-in user, set by the session middleware.
func CurrentUser(c *fiber.Ctx) (models.User, bool) {
	u, ok := c.Locals(localUser).(models.User)
	return u, ok
}

// SetCurrentUser is called by the session middleware (and by tests) once the user is known.
func SetCurrentUser(c *fiber.Ctx, u models.User, accountName string) {
	c.Locals(localUser, u)
	c.Locals(localAccount, accountName)
}

// CurrentScope is what the signed-in user may see; the zero Scope when nobody is signed in.
func CurrentScope(c *fiber.Ctx) models.Scope {
	u, ok := CurrentUser(c)
	if !ok {
		return models.Scope{}
	}
	return u.Scope()
}

// CSRFToken is the token forms and htmx requests must send back.
func CSRFToken(c *fiber.Ctx) string {
	s, _ := c.Locals(localCSRF).(string)
	return s
}

// SetCSRFToken is called by the CSRF middleware.
func SetCSRFToken(c *fiber.Ctx, token string) { c.Locals(localCSRF, token) }

// RequestID is the ID of this request, also in the X-Request-ID header and every log line.
func RequestID(c *fiber.Ctx) string {
	s, _ := c.Locals(localRequestID).(string)
	return s
}

// Log is the request's logger (carrying its request ID).
func Log(c *fiber.Ctx) *slog.Logger {
	if l, ok := c.Locals(localLogger).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// Localize is middleware that puts the request's locale in its context: the signed-in user's
// language when they chose one, else the best match of the browser's Accept-Language, else
// English. It runs twice (before the body is read, for its refusals, and after the session is
// known): the header is matched once, and the second pass only applies the user's choice.
// Webhook deliveries show no words, so they skip it. A nil catalog (tests that build a bare
// app) leaves English.
func Localize(cat *i18n.Catalog) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if cat == nil || IsWebhookPath(c.Path()) {
			return c.Next()
		}
		if c.Locals(localLocale) == nil {
			c.Locals(localLocale, true)
			c.SetUserContext(i18n.WithLocale(c.UserContext(), cat.Match(c.Get(fiber.HeaderAcceptLanguage))))
			c.Vary(fiber.HeaderAcceptLanguage)
		}
		if u, ok := CurrentUser(c); ok && u.Language != "" {
			c.SetUserContext(i18n.WithLocale(c.UserContext(), cat.Locale(u.Language)))
		}
		return c.Next()
	}
}
