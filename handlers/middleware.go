package handlers

import (
	"log/slog"
	"net/netip"
	"slices"
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
			status = Classify(c.UserContext(), err).Status
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
		// The route pattern, never the path: paths carry secrets such as invitation tokens
		// (/invite/:token), and the query string may too.
		l.Log(c.UserContext(), level, "request",
			"method", method, "route", route, "status", status,
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

// ClientAddress makes c.IP() the real client behind the reverse proxies in trusted (Fiber is
// configured with the same list and header, and believes the header only from them). A proxy
// appends the address it saw to X-Forwarded-For, so everything left of the last trusted hop was
// written by the client and may be forged: this keeps only the right-most address that is not a
// trusted proxy, which Fiber then reads. With no trusted proxies it does nothing, and the header
// stays ignored.
func ClientAddress(trusted []netip.Prefix, header string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if len(trusted) == 0 || !c.IsProxyTrusted() {
			return c.Next()
		}
		raw := c.Get(header)
		if raw == "" {
			return c.Next()
		}
		client := ""
		hops := strings.Split(raw, ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, ok := parseHop(hops[i])
			if !ok {
				break // a hop a trusted proxy would not write: believe nothing further left
			}
			client = a.String()
			if !slices.ContainsFunc(trusted, func(p netip.Prefix) bool { return p.Contains(a) }) {
				break
			}
		}
		if client == "" {
			c.Request().Header.Del(header) // Fiber then falls back to the TCP peer
		} else {
			c.Request().Header.Set(header, client)
		}
		return c.Next()
	}
}

func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}
