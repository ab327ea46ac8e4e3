// Package handlers is the Fiber boundary: routes.go lists every route in one place, each area has
// a small handler struct with the narrow interfaces it needs, and one error handler turns typed
// errors into a page or a toast. Handlers parse, authorize and map to view props; the rules live
// in internal/<area>.
package handlers

import (
	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"
)

// Render writes a templ component as the response body.
func Render(c *fiber.Ctx, status int, component templ.Component) error {
	c.Status(status)
	c.Set(fiber.HeaderContentType, "text/html; charset=utf-8")
	return component.Render(c.UserContext(), c.Response().BodyWriter())
}

// IsHTMX reports whether the request came from htmx (and so wants a fragment, not a page).
func IsHTMX(c *fiber.Ctx) bool {
	return c.Get("HX-Request") == "true" && c.Get("HX-Boosted") != "true"
}

// Redirect sends a browser to url after a successful form: HX-Redirect for htmx, 303 otherwise.
func Redirect(c *fiber.Ctx, url string) error {
	if IsHTMX(c) {
		c.Set("HX-Redirect", url)
		return c.SendStatus(fiber.StatusNoContent)
	}
	return c.Redirect(url, fiber.StatusSeeOther)
}
