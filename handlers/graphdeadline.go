package handlers

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"mmconsole/internal/graph"
)

// GraphDeadline starts the Graph API clock of each request: every Graph call the request makes
// shares one deadline counted from here (MMC_GRAPH_DEADLINE), so a page that needs Meta answers
// within it even when Meta does not. Pages that read only the database are unaffected.
func GraphDeadline() fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.SetUserContext(graph.Interactive(c.UserContext(), time.Now()))
		return c.Next()
	}
}
