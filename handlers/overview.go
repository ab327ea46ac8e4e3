package handlers

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"mmconsole/models"
	"mmconsole/views/pages"
)

// ConnectionLister lists the WABA connections a scope may see.
type ConnectionLister interface {
	Connections(ctx context.Context, scope models.Scope) ([]models.WABAConnection, error)
}

// Overview serves the landing page.
type Overview struct {
	Shells      *Shells
	Connections ConnectionLister
}

// Get renders the overview.
func (h *Overview) Get(c *fiber.Ctx) error {
	scope := CurrentScope(c)
	conns, err := h.Connections.Connections(c.UserContext(), scope)
	if err != nil {
		return err
	}
	return Render(c, fiber.StatusOK, pages.Overview(h.Shells.Shell(c, "Overview", "overview"), pages.OverviewPage{
		Connections: conns, ShowAccount: scope.AllAccounts,
	}))
}
