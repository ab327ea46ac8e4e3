package handlers

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Health answers /healthz: 200 when the database answers, 503 with the reason otherwise.
type Health struct {
	DBPing func(ctx context.Context) error
}

// Get checks the database within a short deadline.
func (h *Health) Get(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := h.DBPing(ctx); err != nil {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "database": err.Error()})
	}
	return c.JSON(fiber.Map{"status": "ok", "database": "ok"})
}
