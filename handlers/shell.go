package handlers

import (
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"mmconsole/internal/i18n"
	"mmconsole/models"
	"mmconsole/views/layout"
)

// navEntry is one item of the main navigation and who sees it.
type navEntry struct {
	item    layout.NavItem
	visible func(models.User) bool
}

func everyone(models.User) bool { return true }

// nav lists the areas in the order they appear (labels are catalog keys, translated per request).
var nav = []navEntry{
	{layout.NavItem{Key: "overview", Label: i18n.Key("nav.overview"), Href: "/"}, everyone},
	{layout.NavItem{Key: "templates", Label: i18n.Key("nav.templates"), Href: "/templates"}, everyone},
	{layout.NavItem{Key: "optimizations", Label: i18n.Key("nav.optimizations"), Href: "/optimizations"}, everyone},
	{layout.NavItem{Key: "send", Label: i18n.Key("nav.send"), Href: "/send"}, models.User.CanWrite},
	{layout.NavItem{Key: "sends", Label: i18n.Key("nav.sends"), Href: "/sends"}, everyone},
	{layout.NavItem{Key: "log", Label: i18n.Key("nav.log"), Href: "/log"}, everyone},
	{layout.NavItem{Key: "audit", Label: i18n.Key("nav.audit"), Href: "/audit"}, func(u models.User) bool { return u.CanAdmin() || u.Staff }},
	{layout.NavItem{Key: "settings", Label: i18n.Key("nav.settings"), Href: "/settings"}, models.User.CanAdmin},
}

// Shells builds the page shell for each request: navigation for the user's role, the sandbox
// banner, the CSRF token and one-time flash messages.
type Shells struct {
	AssetPath func(string) string
	Sandbox   func() bool
}

// Shell returns the shell of a page titled title whose nav item is active.
func (s *Shells) Shell(c *fiber.Ctx, title, active string) layout.Shell {
	ctx := c.UserContext()
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
		sh.UserRole = u.Role.Label(ctx)
		if u.Staff {
			sh.UserRole = i18n.T(ctx, "layout.staff_role", "Role", sh.UserRole)
		}
		sh.AccountName, _ = c.Locals(localAccount).(string)
		for _, n := range nav {
			if n.visible(u) {
				item := n.item
				item.Label = i18n.T(ctx, item.Label)
				sh.Nav = append(sh.Nav, item)
			}
		}
		// The sandbox page exists only while the sandbox runs.
		if sh.Sandbox && u.CanAdmin() {
			sh.Nav = append(sh.Nav, layout.NavItem{Key: "sandbox", Label: i18n.T(ctx, "nav.sandbox"), Href: "/sandbox"})
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
