package handlers

import (
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"mmconsole/models"
	"mmconsole/views/layout"
)

// navEntry is one item of the main navigation and who sees it.
type navEntry struct {
	item    layout.NavItem
	visible func(models.User) bool
}

func everyone(models.User) bool { return true }

// nav lists the areas in the order they appear. An area is listed once its pages exist.
var nav = []navEntry{
	{layout.NavItem{Key: "overview", Label: "Overview", Href: "/"}, everyone},
	{layout.NavItem{Key: "templates", Label: "Templates", Href: "/templates"}, everyone},
	{layout.NavItem{Key: "optimizations", Label: "Optimizations", Href: "/optimizations"}, everyone},
	{layout.NavItem{Key: "send", Label: "Test send", Href: "/send"}, models.User.CanWrite},
	{layout.NavItem{Key: "sends", Label: "Sends", Href: "/sends"}, everyone},
	{layout.NavItem{Key: "log", Label: "Webhook log", Href: "/log"}, everyone},
	{layout.NavItem{Key: "audit", Label: "Audit", Href: "/audit"}, func(u models.User) bool { return u.CanAdmin() || u.Staff }},
	{layout.NavItem{Key: "settings", Label: "Settings", Href: "/settings"}, models.User.CanAdmin},
}

// Shells builds the page shell for each request: navigation for the user's role, the sandbox
// banner, the CSRF token and one-time flash messages.
type Shells struct {
	AssetPath func(string) string
	Sandbox   func() bool
}

// Shell returns the shell of a page titled title whose nav item is active.
func (s *Shells) Shell(c *fiber.Ctx, title, active string) layout.Shell {
	sh := layout.Shell{
		Title:     title,
		Active:    active,
		CSRF:      CSRFToken(c),
		AssetPath: s.AssetPath,
		Flashes:   TakeFlashes(c),
	}
	if s.Sandbox != nil {
		sh.Sandbox = s.Sandbox()
	}
	if u, ok := CurrentUser(c); ok {
		sh.UserName = u.Email
		if u.Name != "" {
			sh.UserName = u.Name
		}
		sh.UserRole = u.Role.Label()
		if u.Staff {
			sh.UserRole = "Hibot staff · " + sh.UserRole
		}
		sh.AccountName, _ = c.Locals(localAccount).(string)
		for _, n := range nav {
			if n.visible(u) {
				sh.Nav = append(sh.Nav, n.item)
			}
		}
		// The sandbox page exists only while the sandbox runs.
		if sh.Sandbox && u.CanAdmin() {
			sh.Nav = append(sh.Nav, layout.NavItem{Key: "sandbox", Label: "Sandbox", Href: "/sandbox"})
		}
	}
	return sh
}

const flashCookie = "mmc_flash"

// Flash stores a message to show on the next page (after a redirect).
func Flash(c *fiber.Ctx, kind, message string) {
	c.Cookie(&fiber.Cookie{
		Name:     flashCookie,
		Value:    url.QueryEscape(kind + "|" + message),
		Path:     "/",
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
		Secure:   c.Protocol() == "https",
		MaxAge:   60,
	})
}

// TakeFlashes returns the pending flash message (if any) and clears it.
func TakeFlashes(c *fiber.Ctx) []layout.Flash {
	raw := c.Cookies(flashCookie)
	if raw == "" {
		return nil
	}
	c.ClearCookie(flashCookie)
	v, err := url.QueryUnescape(raw)
	if err != nil {
		return nil
	}
	kind, msg, ok := strings.Cut(v, "|")
	if !ok || msg == "" {
		return nil
	}
	switch kind {
	case "success", "error", "info":
	default:
		kind = "info"
	}
	return []layout.Flash{{Kind: kind, Message: msg}}
}
