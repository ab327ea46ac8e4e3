package handlers

import (
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"mmconsole/internal/metrics"
)

// Observe logs every request with its ID and records it in the metrics, by route pattern.
func Observe(base *slog.Logger, m *metrics.Registry) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		l := base.With("request_id", RequestID(c))
		c.Locals(localLogger, l)
		err := c.Next()
		status := c.Response().StatusCode()
		if err != nil {
			// The error handler has not run yet; it will set the status it maps err to.
			status = Classify(err).Status
		}
		route := c.Route().Path
		if route == "" || route == "/" && c.Path() != "/" {
			route = "unmatched"
		}
		d := time.Since(start)
		// Fiber's strings point into buffers reused by the next request; the metrics registry
		// keeps its label values, so they must be copies (else "POST" later reads as "GETT").
		method := strings.Clone(c.Method())
		route = strings.Clone(route)
		m.ObserveRequest(method, route, status, d)
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		l.Log(c.UserContext(), level, "request",
			"method", method, "path", c.Path(), "route", route, "status", status,
			"duration_ms", float64(d.Microseconds())/1000, "ip", c.IP())
		return err
	}
}

// SecurityHeaders sets the headers every page should carry. Inline scripts are not used, so the
// content security policy can forbid them.
func SecurityHeaders() fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Set("X-Content-Type-Options", "nosniff")
		c.Set("X-Frame-Options", "DENY")
		c.Set("Referrer-Policy", "same-origin")
		c.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
		return c.Next()
	}
}
