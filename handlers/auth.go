package handlers

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/gofiber/fiber/v2"

	"mmconsole/internal/audit"
	"mmconsole/internal/auth"
	"mmconsole/internal/i18n"
	"mmconsole/models"
)

const (
	sessionCookie = "mmc_session"
	csrfCookie    = "mmc_csrf" // pre-session (double-submit) token for the public forms
	localSession  = "mmc.session_id"
)

// SessionLoader is what the session middleware needs from the auth service.
type SessionLoader interface {
	Authenticate(ctx context.Context, token string) (auth.Current, error)
	HasUsers(ctx context.Context) (bool, error)
}

// Auditor appends to the audit log.
type Auditor interface {
	Record(ctx context.Context, e audit.Entry) error
}

// Sessions is the sign-in middleware: it loads the session, sets the user and the CSRF token,
// and sends every page to /setup while no user exists.
type Sessions struct {
	Auth SessionLoader
	// SecureCookies forces the Secure flag (MMC_BASE_URL is https, e.g. behind a TLS proxy).
	SecureCookies bool
	// hasUsers caches the one fact that never turns false again, so the check costs one query
	// per process rather than one per request.
	hasUsers atomic.Bool
}

// noSession lists paths that never carry a browser session: operations, assets and Meta's
// signature-authenticated webhook deliveries.
func noSession(path string) bool {
	return path == "/healthz" || path == "/metrics" || strings.HasPrefix(path, "/static/") ||
		strings.HasPrefix(path, "/webhooks/")
}

func (m *Sessions) secure(c *fiber.Ctx) bool { return m.SecureCookies || c.Protocol() == "https" }

// Load is global middleware (before every route).
func (m *Sessions) Load(c *fiber.Ctx) error {
	path := c.Path()
	if noSession(path) {
		return c.Next()
	}
	// Every page and fragment past this point is personal (or, like /invite/<token> and
	// /setup, a secret): no browser or proxy cache may keep it. Handlers may still override.
	c.Set(fiber.HeaderCacheControl, "no-store")
	if !m.hasUsers.Load() {
		ok, err := m.Auth.HasUsers(c.UserContext())
		if err != nil {
			return err
		}
		if ok {
			m.hasUsers.Store(true)
		} else if path != "/setup" {
			return Redirect(c, "/setup")
		}
	}
	if tok := c.Cookies(sessionCookie); tok != "" {
		cur, err := m.Auth.Authenticate(c.UserContext(), tok)
		switch {
		case errors.Is(err, auth.ErrNoSession):
			m.clearCookie(c, sessionCookie)
		case err != nil:
			return err
		default:
			SetCurrentUser(c, cur.User, cur.AccountName)
			SetCSRFToken(c, cur.CSRF)
			c.Locals(localSession, cur.SessionID)
			return c.Next()
		}
	}
	tok := c.Cookies(csrfCookie)
	if len(tok) < 32 {
		var err error
		if tok, err = auth.NewCSRFToken(); err != nil {
			return err
		}
		c.Cookie(&fiber.Cookie{Name: csrfCookie, Value: tok, Path: "/", HTTPOnly: true,
			SameSite: fiber.CookieSameSiteLaxMode, Secure: m.secure(c)})
	}
	SetCSRFToken(c, tok)
	return c.Next()
}

// SetSession puts a new session token in the cookie (after sign-in).
func (m *Sessions) SetSession(c *fiber.Ctx, token string) {
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: token, Path: "/", HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode, Secure: m.secure(c)})
	m.clearCookie(c, csrfCookie)
}

// ClearSession removes the session cookie (after sign-out).
func (m *Sessions) ClearSession(c *fiber.Ctx) { m.clearCookie(c, sessionCookie) }

func (m *Sessions) clearCookie(c *fiber.Ctx, name string) {
	c.Cookie(&fiber.Cookie{Name: name, Value: "", Path: "/", HTTPOnly: true, MaxAge: -1,
		SameSite: fiber.CookieSameSiteLaxMode, Secure: m.secure(c)})
}

// SessionToken is the raw session cookie (for sign-out).
func SessionToken(c *fiber.Ctx) string { return c.Cookies(sessionCookie) }

// SessionID is the ID of the current session (0 when signed out).
func SessionID(c *fiber.Ctx) uint {
	id, _ := c.Locals(localSession).(uint)
	return id
}

// csrfError is the refusal of an unsafe request without the right token.
type csrfError struct{}

func (csrfError) Error() string { return "csrf token missing or wrong" }
func (csrfError) UserFacing(ctx context.Context) (int, string, string) {
	return fiber.StatusForbidden, i18n.T(ctx, "limits.csrf.title"), i18n.T(ctx, "limits.csrf.message")
}

// CSRF refuses POST, PUT, PATCH and DELETE unless they echo the token of the session (or, before
// sign-in, of the pre-session cookie) in the _csrf form field or the X-CSRF-Token header.
func CSRF(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions, fiber.MethodTrace:
		return c.Next()
	}
	if noSession(c.Path()) {
		return c.Next()
	}
	// Only the header or the request body: a token in the query string would end up in logs,
	// history and Referer headers, and lets a link carry it.
	got := c.Get("X-CSRF-Token")
	if got == "" {
		got = bodyValue(c, "_csrf")
	}
	if !auth.TokensEqual(CSRFToken(c), got) {
		return csrfError{}
	}
	return c.Next()
}

// bodyValue is a field of a urlencoded or multipart body, never of the query string (which
// c.FormValue also reads).
func bodyValue(c *fiber.Ctx, key string) string {
	if v := c.Request().PostArgs().Peek(key); len(v) > 0 {
		return string(v)
	}
	if strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEMultipartForm) {
		if f, err := c.MultipartForm(); err == nil && len(f.Value[key]) > 0 {
			return f.Value[key][0]
		}
	}
	return ""
}

// RequireUser lets signed-in users through. Others go to the sign-in page: a 303 for pages, an
// HX-Redirect for htmx, a 401 for clients that do not want HTML.
func RequireUser(c *fiber.Ctx) error {
	if _, ok := CurrentUser(c); ok {
		return c.Next()
	}
	if IsHTMX(c) {
		c.Set("HX-Redirect", "/login")
		return c.SendStatus(fiber.StatusUnauthorized)
	}
	if !acceptsHTML(c) {
		return c.Status(fiber.StatusUnauthorized).SendString("Sign in required")
	}
	target := "/login"
	if c.Method() == fiber.MethodGet && c.OriginalURL() != "/" {
		target += "?next=" + url.QueryEscape(c.OriginalURL())
	}
	return c.Redirect(target, fiber.StatusSeeOther)
}

// RequireWriter lets through users who may change optimizations, TTLs and send tests.
func RequireWriter(c *fiber.Ctx) error {
	if u, ok := CurrentUser(c); !ok || !u.CanWrite() {
		return models.ErrForbidden
	}
	return c.Next()
}

// RequireAdmin lets through users who manage users and connections.
func RequireAdmin(c *fiber.Ctx) error {
	if u, ok := CurrentUser(c); !ok || !u.CanAdmin() {
		return models.ErrForbidden
	}
	return c.Next()
}

// RequireAuditor lets through admins (their account's log) and Hibot staff (every log).
func RequireAuditor(c *fiber.Ctx) error {
	if u, ok := CurrentUser(c); !ok || !(u.CanAdmin() || u.Staff) {
		return models.ErrForbidden
	}
	return c.Next()
}

// record appends e to the audit log with the current user as actor and the client address. A
// failure is logged, not shown: the change it describes has already happened.
func record(c *fiber.Ctx, a Auditor, e audit.Entry) {
	if a == nil {
		return
	}
	if u, ok := CurrentUser(c); ok && e.ActorID == nil && e.ActorEmail == "" {
		id := u.ID
		e.ActorID, e.ActorEmail = &id, u.Email
	}
	e.IP = c.IP()
	if err := a.Record(c.UserContext(), e); err != nil {
		Log(c).Error("audit record failed", "action", e.Action, "err", err)
	}
}

// safeNext keeps a post-sign-in redirect on this site: a path of this site, never a URL with
// a host. Browsers drop tabs and newlines anywhere in a URL and read a backslash as a slash, so
// "/\t/evil.example" or "/\\evil.example" would become "//evil.example", another site: any
// control character or backslash makes the target unsafe, whatever follows.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/login") ||
		strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return "/"
	}
	return next
}
