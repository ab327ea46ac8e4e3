package handlers

import (
	"context"
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"mmconsole/internal/audit"
	"mmconsole/internal/auth"
	"mmconsole/internal/i18n"
	"mmconsole/models"
	"mmconsole/views/pages"
)

// SignInService is what the sign-in, setup, invite and password pages need.
type SignInService interface {
	SignIn(ctx context.Context, email, password, ip string) (string, models.User, error)
	SignOut(ctx context.Context, token string) error
	Setup(ctx context.Context, email, name, password, confirm string) (models.User, error)
	HasUsers(ctx context.Context) (bool, error)
	InvitedUser(ctx context.Context, token string) (models.User, error)
	AcceptInvite(ctx context.Context, token, password, confirm string) (models.User, error)
	ChangePassword(ctx context.Context, userID, keepSession uint, current, next, confirm string) error
	SetLanguage(ctx context.Context, userID uint, code string) error
}

// SignIn serves /login, /logout, /setup, /invite/<token> and the account pages.
type SignIn struct {
	Shells   *Shells
	Auth     SignInService
	Sessions *Sessions
	Audit    Auditor
	// DemoHint tells how to sign in to the sandbox demo; empty when the sandbox is off.
	DemoHint string
	Catalog  *i18n.Catalog
}

// LoginPage shows the sign-in form (or goes home when already signed in).
func (h *SignIn) LoginPage(c *fiber.Ctx) error {
	if _, ok := CurrentUser(c); ok {
		return c.Redirect("/", fiber.StatusSeeOther)
	}
	return Render(c, fiber.StatusOK, pages.Login(h.Shells.Shell(c, i18n.T(c.UserContext(), "auth.sign_in"), ""), pages.LoginPage{
		Next: c.Query("next"), DemoHint: h.DemoHint,
	}))
}

// Login checks the credentials, opens a session and goes to next.
func (h *SignIn) Login(c *fiber.Ctx) error {
	email, next := auth.NormalizeEmail(c.FormValue("email")), c.FormValue("next")
	token, u, err := h.Auth.SignIn(c.UserContext(), email, c.FormValue("password"), c.IP())
	if err != nil {
		var locked *auth.LockedError
		var busy *auth.BusyError
		var down *auth.UnavailableError
		status := fiber.StatusUnauthorized
		switch {
		case errors.As(err, &locked):
			status = fiber.StatusTooManyRequests
		case errors.Is(err, auth.ErrBadCredentials), errors.Is(err, auth.ErrDisabled):
		case errors.As(err, &busy), errors.As(err, &down):
			// Refused before any password was checked: nothing to audit, and the form stays
			// filled so the person can simply send it again.
			setRetryAfter(c, err)
			if down != nil {
				Log(c).Warn("sign-in refused: the database did not answer", "err", down.Err)
				status = fiber.StatusServiceUnavailable
			} else {
				status = fiber.StatusTooManyRequests
			}
			return Render(c, status, pages.Login(h.Shells.Shell(c, i18n.T(c.UserContext(), "auth.sign_in"), ""), pages.LoginPage{
				Email: email, Next: next, Error: signInMessage(c.UserContext(), err), DemoHint: h.DemoHint,
			}))
		default:
			return err
		}
		setRetryAfter(c, err)
		e := audit.Entry{ActorEmail: email, Action: audit.ActionSignInFailed, Target: email, After: map[string]string{"reason": reasonOf(err)}}
		if u.ID != 0 {
			id := u.ID
			e.ActorID, e.AccountID = &id, u.AccountID
		}
		record(c, h.Audit, e)
		return Render(c, status, pages.Login(h.Shells.Shell(c, i18n.T(c.UserContext(), "auth.sign_in"), ""), pages.LoginPage{
			Email: email, Next: next, Error: signInMessage(c.UserContext(), err), DemoHint: h.DemoHint,
		}))
	}
	h.Sessions.SetSession(c, token)
	id := u.ID
	record(c, h.Audit, audit.Entry{AccountID: u.AccountID, ActorID: &id, ActorEmail: u.Email, Action: audit.ActionSignIn, Target: u.Email})
	return c.Redirect(safeNext(next), fiber.StatusSeeOther)
}

// signInMessage is the sign-in form's sentence for a refused sign-in.
func signInMessage(ctx context.Context, err error) string {
	var uf interface {
		UserFacing(ctx context.Context) (int, string, string)
	}
	switch {
	case errors.Is(err, auth.ErrBadCredentials):
		return i18n.T(ctx, "auth.bad_credentials")
	case errors.Is(err, auth.ErrDisabled):
		return i18n.T(ctx, "auth.disabled")
	case errors.As(err, &uf):
		_, _, msg := uf.UserFacing(ctx)
		return msg
	}
	return i18n.T(ctx, "errors.internal.title")
}

// setRetryAfter tells the client when to try again, for the refusals that know.
func setRetryAfter(c *fiber.Ctx, err error) {
	var ra interface{ RetryAfterSeconds() int }
	if errors.As(err, &ra) {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(ra.RetryAfterSeconds()))
	}
}

func reasonOf(err error) string {
	var locked *auth.LockedError
	switch {
	case errors.As(err, &locked):
		return "locked"
	case errors.Is(err, auth.ErrDisabled):
		return "disabled"
	}
	return "wrong email or password"
}

// Logout ends the session.
func (h *SignIn) Logout(c *fiber.Ctx) error {
	if u, ok := CurrentUser(c); ok {
		if err := h.Auth.SignOut(c.UserContext(), SessionToken(c)); err != nil {
			return err
		}
		record(c, h.Audit, audit.Entry{AccountID: u.AccountID, Action: audit.ActionSignOut, Target: u.Email})
	}
	h.Sessions.ClearSession(c)
	return Redirect(c, "/login")
}

// SetupPage is the one-time first-admin form; 404 once any user exists.
func (h *SignIn) SetupPage(c *fiber.Ctx) error {
	if err := h.needNoUsers(c); err != nil {
		return err
	}
	return Render(c, fiber.StatusOK, pages.Setup(h.Shells.Shell(c, i18n.T(c.UserContext(), "auth.setup.title"), ""), pages.SetupPage{}))
}

// Setup creates the first admin and sends them to sign in.
func (h *SignIn) Setup(c *fiber.Ctx) error {
	if err := h.needNoUsers(c); err != nil {
		return err
	}
	email, name := c.FormValue("email"), c.FormValue("name")
	u, err := h.Auth.Setup(c.UserContext(), email, name, c.FormValue("password"), c.FormValue("confirm"))
	setRetryAfter(c, err)
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		return Render(c, fiber.StatusUnprocessableEntity, pages.Setup(h.Shells.Shell(c, i18n.T(c.UserContext(), "auth.setup.title"), ""), pages.SetupPage{
			Email: email, Name: name, Errors: ve.Fields,
		}))
	}
	if err != nil {
		return err
	}
	id := u.ID
	record(c, h.Audit, audit.Entry{ActorID: &id, ActorEmail: u.Email, Action: audit.ActionSetupAdmin, Target: u.Email})
	Flash(c, "success", i18n.T(c.UserContext(), "auth.setup.done"))
	return Redirect(c, "/login")
}

func (h *SignIn) needNoUsers(c *fiber.Ctx) error {
	ok, err := h.Auth.HasUsers(c.UserContext())
	if err != nil {
		return err
	}
	if ok {
		return models.ErrNotFound
	}
	return nil
}

// InvitePage shows the set-password form of a valid invite; 404 otherwise.
func (h *SignIn) InvitePage(c *fiber.Ctx) error {
	token := c.Params("token")
	u, err := h.Auth.InvitedUser(c.UserContext(), token)
	if err != nil {
		return err
	}
	return Render(c, fiber.StatusOK, pages.Invite(h.Shells.Shell(c, i18n.T(c.UserContext(), "auth.invite.title"), ""), pages.InvitePage{Token: token, Email: u.Email}))
}

// AcceptInvite sets the invited user's password.
func (h *SignIn) AcceptInvite(c *fiber.Ctx) error {
	token := c.Params("token")
	u, err := h.Auth.AcceptInvite(c.UserContext(), token, c.FormValue("password"), c.FormValue("confirm"))
	setRetryAfter(c, err)
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		inv, ierr := h.Auth.InvitedUser(c.UserContext(), token)
		if ierr != nil {
			return ierr
		}
		return Render(c, fiber.StatusUnprocessableEntity, pages.Invite(h.Shells.Shell(c, i18n.T(c.UserContext(), "auth.invite.title"), ""), pages.InvitePage{
			Token: token, Email: inv.Email, Errors: ve.Fields,
		}))
	}
	if err != nil {
		return err
	}
	id := u.ID
	record(c, h.Audit, audit.Entry{AccountID: u.AccountID, ActorID: &id, ActorEmail: u.Email, Action: audit.ActionInviteAccepted, Target: u.Email})
	Flash(c, "success", i18n.T(c.UserContext(), "auth.invite.done"))
	return Redirect(c, "/login")
}

// PasswordPage shows the change-password form.
func (h *SignIn) PasswordPage(c *fiber.Ctx) error {
	return Render(c, fiber.StatusOK, pages.Password(h.Shells.Shell(c, i18n.T(c.UserContext(), "account.password.title"), ""), pages.PasswordPage{}))
}

// ChangePassword checks the current password, sets the new one and ends other sessions.
func (h *SignIn) ChangePassword(c *fiber.Ctx) error {
	u, _ := CurrentUser(c)
	err := h.Auth.ChangePassword(c.UserContext(), u.ID, SessionID(c), c.FormValue("current"), c.FormValue("new"), c.FormValue("confirm"))
	setRetryAfter(c, err)
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		p := pages.PasswordPage{Errors: ve.Fields}
		if IsHTMX(c) {
			return Render(c, fiber.StatusUnprocessableEntity, pages.PasswordForm(CSRFToken(c), p))
		}
		return Render(c, fiber.StatusUnprocessableEntity, pages.Password(h.Shells.Shell(c, i18n.T(c.UserContext(), "account.password.title"), ""), p))
	}
	if err != nil {
		return err
	}
	record(c, h.Audit, audit.Entry{AccountID: u.AccountID, Action: audit.ActionPasswordChanged, Target: u.Email})
	Flash(c, "success", i18n.T(c.UserContext(), "account.password.done"))
	return Redirect(c, "/")
}

// AccountPage shows the user's own settings: language, and the way to the password form.
func (h *SignIn) AccountPage(c *fiber.Ctx) error {
	u, _ := CurrentUser(c)
	return Render(c, fiber.StatusOK, pages.Account(h.Shells.Shell(c, i18n.T(c.UserContext(), "account.title"), ""), accountPage(u, "")))
}

// SetLanguage stores the language chosen on the account page; the next page speaks it.
func (h *SignIn) SetLanguage(c *fiber.Ctx) error {
	u, _ := CurrentUser(c)
	code := c.FormValue("language")
	err := h.Auth.SetLanguage(c.UserContext(), u.ID, code)
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		return Render(c, fiber.StatusUnprocessableEntity, pages.Account(h.Shells.Shell(c, i18n.T(c.UserContext(), "account.title"), ""), accountPage(u, ve.Fields["language"])))
	}
	if err != nil {
		return err
	}
	record(c, h.Audit, audit.Entry{AccountID: u.AccountID, Action: audit.ActionLanguageChanged, Target: u.Email,
		Before: map[string]string{"language": u.Language}, After: map[string]string{"language": code}})
	// The flash is in the new language: it is read on the next page, which speaks it.
	ctx := i18n.WithLocale(c.UserContext(), h.Catalog.Locale(code))
	if code == "" {
		ctx = i18n.WithLocale(c.UserContext(), h.Catalog.Match(c.Get(fiber.HeaderAcceptLanguage)))
	}
	Flash(c, "success", i18n.T(ctx, "account.language.saved"))
	return Redirect(c, "/account")
}

func accountPage(u models.User, errMsg string) pages.AccountPage {
	p := pages.AccountPage{Email: u.Email, Language: u.Language, Error: errMsg}
	for _, l := range i18n.Langs() {
		p.Languages = append(p.Languages, pages.LanguageOption{Code: l.Code, Name: l.Name})
	}
	return p
}
