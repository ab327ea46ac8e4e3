package handlers

import (
	"github.com/gofiber/fiber/v2"

	"mmconsole/internal/i18n"
	"mmconsole/views/pages"
)

// Glossary serves /glossary: the precise terms (134101, ad_id, time_to_live…) the pages put
// behind plain words, for every signed-in user.
type Glossary struct {
	Shells *Shells
}

// Get renders the glossary.
func (h *Glossary) Get(c *fiber.Ctx) error {
	return Render(c, fiber.StatusOK, pages.GlossaryPage(h.Shells.Shell(c, i18n.T(c.UserContext(), "glossary.title"), "glossary")))
}
