package handlers

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"mmconsole/internal/accounts"
	"mmconsole/internal/audit"
	"mmconsole/internal/auth"
	"mmconsole/internal/graph"
	"mmconsole/internal/i18n"
	"mmconsole/models"
	"mmconsole/views/pages"
)

// UserAdmin is what the users part of /settings needs.
type UserAdmin interface {
	Users(ctx context.Context, accountID *uint) ([]models.User, error)
	User(ctx context.Context, scope models.Scope, id uint) (models.User, error)
	Invite(ctx context.Context, accountID *uint, in auth.InviteInput) (models.User, string, error)
	SetRole(ctx context.Context, actor, target models.User, role string) error
	SetDisabled(ctx context.Context, actor, target models.User, disabled bool) error
}

// AccountAdmin is what the accounts and connections part of /settings needs.
type AccountAdmin interface {
	Accounts(ctx context.Context) ([]models.Account, error)
	Account(ctx context.Context, scope models.Scope, id uint) (models.Account, error)
	CreateAccount(ctx context.Context, name string) (models.Account, error)
	ConnectionViews(ctx context.Context, accountID uint) ([]accounts.ConnectionView, error)
	Connection(ctx context.Context, scope models.Scope, id uint) (models.WABAConnection, error)
	CreateConnection(ctx context.Context, accountID uint, in accounts.ConnectionInput) (models.WABAConnection, error)
	UpdateConnection(ctx context.Context, scope models.Scope, id uint, in accounts.ConnectionInput) (models.WABAConnection, models.WABAConnection, error)
	DeleteConnection(ctx context.Context, scope models.Scope, id uint) (models.WABAConnection, error)
	TestConnection(ctx context.Context, scope models.Scope, id uint) (models.WABAConnection, error)
}

// Settings serves /settings (admins): users and WABA connections of an account; staff admins
// pick the account (?account=ID), create accounts and manage Hibot staff users.
type Settings struct {
	Shells    *Shells
	Users     UserAdmin
	Accounts  AccountAdmin
	Audit     Auditor
	PublicURL string // invite links start with it
	// UnkeptKey is the sandbox key file nothing says is kept: real connections cannot be added
	// until it is (the page explains why); empty when they can.
	UnkeptKey string
}

// target is the account a settings request is about: nil for Hibot staff users.
type target struct {
	account *models.Account
	query   string
}

func (t target) id() *uint {
	if t.account == nil {
		return nil
	}
	id := t.account.ID
	return &id
}

func (t target) url() string { return "/settings" + t.query }

// resolve reads ?account=ID: staff admins may name any account (or none: staff users); a
// customer admin only their own, and another account's ID is not found.
func (h *Settings) resolve(c *fiber.Ctx) (target, error) {
	u, _ := CurrentUser(c)
	raw := c.Query("account")
	if u.Staff {
		if raw == "" {
			return target{}, nil
		}
		id, err := strconv.ParseUint(raw, 10, 32)
		if err != nil {
			return target{}, models.ErrNotFound
		}
		a, err := h.Accounts.Account(c.UserContext(), u.Scope(), uint(id))
		if err != nil {
			return target{}, err
		}
		return target{account: &a, query: "?account=" + raw}, nil
	}
	if u.AccountID == nil {
		return target{}, models.ErrForbidden
	}
	if raw != "" && raw != strconv.FormatUint(uint64(*u.AccountID), 10) {
		return target{}, models.ErrNotFound
	}
	a, err := h.Accounts.Account(c.UserContext(), u.Scope(), *u.AccountID)
	if err != nil {
		return target{}, err
	}
	return target{account: &a}, nil
}

func (h *Settings) page(c *fiber.Ctx, t target) (pages.SettingsPage, error) {
	u, _ := CurrentUser(c)
	ctx := c.UserContext()
	p := pages.SettingsPage{StaffAdmin: u.Staff && u.CanAdmin(), Account: t.account}
	var err error
	if p.StaffAdmin {
		if p.Accounts, err = h.Accounts.Accounts(ctx); err != nil {
			return p, err
		}
	}
	p.Users = pages.UsersSection{Query: t.query, SelfID: u.ID}
	if p.Users.Users, err = h.Users.Users(ctx, t.id()); err != nil {
		return p, err
	}
	p.Connections = pages.ConnectionsSection{Query: t.query, Show: t.account != nil, KeyNotice: accounts.UnkeptKeyNotice(ctx, h.UnkeptKey),
		Form: pages.ConnectionForm{Action: "/settings/connections" + t.query, API: models.APIMeta, CanSetSecret: accounts.CanManageAppSecrets(u)}}
	if t.account != nil {
		if p.Connections.Connections, err = h.Accounts.ConnectionViews(ctx, t.account.ID); err != nil {
			return p, err
		}
	}
	return p, nil
}

// Get renders the settings page.
func (h *Settings) Get(c *fiber.Ctx) error {
	t, err := h.resolve(c)
	if err != nil {
		return err
	}
	p, err := h.page(c, t)
	if err != nil {
		return err
	}
	return Render(c, fiber.StatusOK, pages.Settings(h.Shells.Shell(c, i18n.T(c.UserContext(), "settings.title"), "settings"), p))
}

// CreateAccount adds a customer account (staff admins only).
func (h *Settings) CreateAccount(c *fiber.Ctx) error {
	if u, _ := CurrentUser(c); !u.Staff {
		return models.ErrForbidden
	}
	name := c.FormValue("name")
	a, err := h.Accounts.CreateAccount(c.UserContext(), name)
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		f := pages.AccountForm{Name: name, Errors: ve.Fields}
		if IsHTMX(c) {
			return Render(c, fiber.StatusUnprocessableEntity, pages.NewAccountForm(CSRFToken(c), f))
		}
		p, perr := h.page(c, target{})
		if perr != nil {
			return perr
		}
		p.AccountForm = f
		return Render(c, fiber.StatusUnprocessableEntity, pages.Settings(h.Shells.Shell(c, i18n.T(c.UserContext(), "settings.title"), "settings"), p))
	}
	if err != nil {
		return err
	}
	id := a.ID
	record(c, h.Audit, audit.Entry{AccountID: &id, Action: audit.ActionAccountCreated, Target: "account " + a.Name, After: map[string]any{"name": a.Name}})
	Flash(c, "success", i18n.T(c.UserContext(), "settings.flash.account_created", "Name", a.Name))
	return Redirect(c, "/settings?account="+strconv.FormatUint(uint64(a.ID), 10))
}

// Invite creates a user and shows its one-time link, once.
func (h *Settings) Invite(c *fiber.Ctx) error {
	t, err := h.resolve(c)
	if err != nil {
		return err
	}
	in := auth.InviteInput{Email: c.FormValue("email"), Name: c.FormValue("name"), Role: c.FormValue("role")}
	nu, token, err := h.Users.Invite(c.UserContext(), t.id(), in)
	var ve *models.ValidationError
	if err != nil && !errors.As(err, &ve) {
		return err
	}
	p, perr := h.page(c, t)
	if perr != nil {
		return perr
	}
	status := fiber.StatusOK
	if ve != nil {
		status = fiber.StatusUnprocessableEntity
		p.Users.Invite = pages.InviteForm{Email: in.Email, Name: in.Name, Role: in.Role, Errors: ve.Fields}
	} else {
		record(c, h.Audit, audit.Entry{AccountID: t.id(), Action: audit.ActionUserInvited, Target: nu.Email,
			After: map[string]any{"email": nu.Email, "role": nu.Role, "staff": nu.Staff}})
		p.Users.InviteLink = h.PublicURL + "/invite/" + token
		p.Users.InvitedAs = nu.Email
	}
	if IsHTMX(c) {
		return Render(c, status, pages.Users(CSRFToken(c), p.Users))
	}
	return Render(c, status, pages.Settings(h.Shells.Shell(c, i18n.T(c.UserContext(), "settings.title"), "settings"), p))
}

func (h *Settings) user(c *fiber.Ctx) (models.User, error) {
	id, err := c.ParamsInt("id")
	if err != nil || id <= 0 {
		return models.User{}, models.ErrNotFound
	}
	u, _ := CurrentUser(c)
	return h.Users.User(c.UserContext(), u.Scope(), uint(id))
}

func backTo(accountID *uint) string {
	if accountID == nil {
		return "/settings"
	}
	return "/settings?account=" + strconv.FormatUint(uint64(*accountID), 10)
}

// SetRole changes a user's role.
func (h *Settings) SetRole(c *fiber.Ctx) error {
	tu, err := h.user(c)
	if err != nil {
		return err
	}
	actor, _ := CurrentUser(c)
	role := c.FormValue("role")
	if err := h.Users.SetRole(c.UserContext(), actor, tu, role); err != nil {
		return err
	}
	record(c, h.Audit, audit.Entry{AccountID: tu.AccountID, Action: audit.ActionUserRoleChanged, Target: tu.Email,
		Before: map[string]any{"role": tu.Role}, After: map[string]any{"role": role}})
	Flash(c, "success", i18n.T(c.UserContext(), "settings.flash.role_changed", "Email", tu.Email, "Role", models.Role(role).Label(c.UserContext())))
	return Redirect(c, backTo(tu.AccountID))
}

// SetDisabled disables or enables a user.
func (h *Settings) SetDisabled(c *fiber.Ctx) error {
	tu, err := h.user(c)
	if err != nil {
		return err
	}
	actor, _ := CurrentUser(c)
	disabled := c.FormValue("disabled") == "true"
	if err := h.Users.SetDisabled(c.UserContext(), actor, tu, disabled); err != nil {
		return err
	}
	action, msg := audit.ActionUserEnabled, i18n.T(c.UserContext(), "settings.flash.user_enabled", "Email", tu.Email)
	if disabled {
		action, msg = audit.ActionUserDisabled, i18n.T(c.UserContext(), "settings.flash.user_disabled", "Email", tu.Email)
	}
	record(c, h.Audit, audit.Entry{AccountID: tu.AccountID, Action: action, Target: tu.Email,
		Before: map[string]any{"disabled": tu.Disabled}, After: map[string]any{"disabled": disabled}})
	Flash(c, "success", msg)
	return Redirect(c, backTo(tu.AccountID))
}

// connectionInput reads the connection form. Setting, changing or clearing the app secret is
// for Hibot staff admins only: another user's form never offers it, so a post that tries is
// refused whole (403) before anything is stored; the service checks the same rule again.
func connectionInput(c *fiber.Ctx) (accounts.ConnectionInput, error) {
	u, _ := CurrentUser(c)
	in := accounts.ConnectionInput{WABAID: c.FormValue("waba_id"), Name: c.FormValue("name"),
		AccessToken: c.FormValue("access_token"), AppSecret: c.FormValue("app_secret"),
		ClearAppSecret: c.FormValue("clear_app_secret") != "", API: c.FormValue("api"), Actor: u}
	if (strings.TrimSpace(in.AppSecret) != "" || in.ClearAppSecret) && !accounts.CanManageAppSecrets(u) {
		return in, models.ErrForbidden
	}
	return in, nil
}

// recordSecretChange audits what a saved form did to the connection's app secret, if anything.
func (h *Settings) recordSecretChange(c *fiber.Ctx, before, after models.WABAConnection, in accounts.ConnectionInput) {
	var action string
	switch accounts.AppSecretChange(before, in) {
	case accounts.SecretSet:
		action = audit.ActionConnectionSecretSet
	case accounts.SecretChanged:
		action = audit.ActionConnectionSecretChanged
	case accounts.SecretCleared:
		action = audit.ActionConnectionSecretCleared
	default:
		return
	}
	aid := after.AccountID
	record(c, h.Audit, audit.Entry{AccountID: &aid, Action: action, Target: "WABA " + after.WABAID,
		Before: map[string]any{"has_app_secret": len(before.AppSecretSealed) > 0},
		After:  map[string]any{"has_app_secret": len(after.AppSecretSealed) > 0}})
}

// CreateConnection adds a WABA connection to the account.
func (h *Settings) CreateConnection(c *fiber.Ctx) error {
	t, err := h.resolve(c)
	if err != nil {
		return err
	}
	if t.account == nil {
		return models.ErrNotFound // connections belong to a customer account
	}
	in, err := connectionInput(c)
	if err != nil {
		return err
	}
	conn, err := h.Accounts.CreateConnection(c.UserContext(), t.account.ID, in)
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		f := pages.ConnectionForm{Action: "/settings/connections" + t.query, WABAID: in.WABAID, Name: in.Name, API: in.API, Errors: ve.Fields,
			CanSetSecret: accounts.CanManageAppSecrets(in.Actor)}
		if IsHTMX(c) {
			return Render(c, fiber.StatusUnprocessableEntity, pages.ConnectionFields(CSRFToken(c), f))
		}
		p, perr := h.page(c, t)
		if perr != nil {
			return perr
		}
		p.Connections.Form = f
		return Render(c, fiber.StatusUnprocessableEntity, pages.Settings(h.Shells.Shell(c, i18n.T(c.UserContext(), "settings.title"), "settings"), p))
	}
	if err != nil {
		return err
	}
	record(c, h.Audit, audit.Entry{AccountID: t.id(), Action: audit.ActionConnectionAdded, Target: "WABA " + conn.WABAID, After: accounts.AuditView(conn)})
	h.recordSecretChange(c, models.WABAConnection{}, conn, in)
	Flash(c, "success", i18n.T(c.UserContext(), "settings.flash.connected", "WABA", conn.WABAID))
	return Redirect(c, t.url())
}

func (h *Settings) connection(c *fiber.Ctx) (models.WABAConnection, error) {
	id, err := c.ParamsInt("id")
	if err != nil || id <= 0 {
		return models.WABAConnection{}, models.ErrNotFound
	}
	u, _ := CurrentUser(c)
	return h.Accounts.Connection(c.UserContext(), u.Scope(), uint(id))
}

func (h *Settings) editPage(c *fiber.Ctx, status int, conn models.WABAConnection, f pages.ConnectionForm) error {
	u, _ := CurrentUser(c)
	a, err := h.Accounts.Account(c.UserContext(), u.Scope(), conn.AccountID)
	if err != nil {
		return err
	}
	aid := conn.AccountID
	return Render(c, status, pages.ConnectionEdit(h.Shells.Shell(c, i18n.T(c.UserContext(), "settings.edit.title"), "settings"), pages.ConnectionEditPage{
		AccountName: a.Name, Back: backTo(&aid), Form: f,
	}))
}

func editForm(c *fiber.Ctx, conn models.WABAConnection) pages.ConnectionForm {
	u, _ := CurrentUser(c)
	v := accounts.View(conn)
	return pages.ConnectionForm{ID: conn.ID, Action: "/settings/connections/" + strconv.FormatUint(uint64(conn.ID), 10),
		WABAID: conn.WABAID, Name: conn.Name, API: conn.API, Sandbox: conn.Sandbox, TokenMask: v.TokenMask, HasSecret: v.HasAppSecret,
		CanSetSecret: accounts.CanManageAppSecrets(u)}
}

// EditConnection renders the edit form of a connection.
func (h *Settings) EditConnection(c *fiber.Ctx) error {
	conn, err := h.connection(c)
	if err != nil {
		return err
	}
	return h.editPage(c, fiber.StatusOK, conn, editForm(c, conn))
}

// UpdateConnection saves the edit form.
func (h *Settings) UpdateConnection(c *fiber.Ctx) error {
	conn, err := h.connection(c)
	if err != nil {
		return err
	}
	u, _ := CurrentUser(c)
	in, err := connectionInput(c)
	if err != nil {
		return err
	}
	before, after, err := h.Accounts.UpdateConnection(c.UserContext(), u.Scope(), conn.ID, in)
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		f := editForm(c, conn)
		f.WABAID, f.Name, f.API, f.Errors = in.WABAID, in.Name, in.API, ve.Fields
		if IsHTMX(c) {
			return Render(c, fiber.StatusUnprocessableEntity, pages.ConnectionFields(CSRFToken(c), f))
		}
		return h.editPage(c, fiber.StatusUnprocessableEntity, conn, f)
	}
	if err != nil {
		return err
	}
	aid := after.AccountID
	record(c, h.Audit, audit.Entry{AccountID: &aid, Action: audit.ActionConnectionChanged, Target: "WABA " + after.WABAID,
		Before: accounts.AuditView(before), After: accounts.AuditView(after)})
	h.recordSecretChange(c, before, after, in)
	Flash(c, "success", i18n.T(c.UserContext(), "settings.flash.saved"))
	return Redirect(c, backTo(&aid))
}

// DeleteConnection removes a connection.
func (h *Settings) DeleteConnection(c *fiber.Ctx) error {
	conn, err := h.connection(c)
	if err != nil {
		return err
	}
	u, _ := CurrentUser(c)
	if _, err := h.Accounts.DeleteConnection(c.UserContext(), u.Scope(), conn.ID); err != nil {
		return err
	}
	aid := conn.AccountID
	record(c, h.Audit, audit.Entry{AccountID: &aid, Action: audit.ActionConnectionDeleted, Target: "WABA " + conn.WABAID, Before: accounts.AuditView(conn)})
	Flash(c, "success", i18n.T(c.UserContext(), "settings.flash.deleted", "WABA", conn.WABAID))
	return Redirect(c, backTo(&aid))
}

// TestConnection reads the WABA through the Graph API and stores the result.
func (h *Settings) TestConnection(c *fiber.Ctx) error {
	conn, err := h.connection(c)
	if err != nil {
		return err
	}
	u, _ := CurrentUser(c)
	after, err := h.Accounts.TestConnection(c.UserContext(), u.Scope(), conn.ID)
	if after.LastCheckedAt == nil { // nothing was tried: configuration or database trouble
		return err
	}
	aid := conn.AccountID
	record(c, h.Audit, audit.Entry{AccountID: &aid, Action: audit.ActionConnectionTested, Target: "WABA " + conn.WABAID,
		Before: accounts.AuditView(conn), After: accounts.AuditView(after)})
	ctx := c.UserContext()
	if ue, ok := graph.AsUnreachable(err); ok {
		_, title, msg := ue.UserFacing(ctx)
		Flash(c, "error", i18n.T(ctx, "settings.flash.test_unreachable", "WABA", conn.WABAID, "Title", title, "Message", msg))
	} else if err != nil {
		Flash(c, "error", i18n.T(ctx, "settings.flash.test_failed", "WABA", conn.WABAID, "Error", after.LastCheckError))
	} else {
		status := after.OnboardingStatus
		if status == "" {
			status = i18n.T(ctx, "settings.flash.status_unknown")
		}
		Flash(c, "success", i18n.T(ctx, "settings.flash.test_ok", "WABA", conn.WABAID, "Status", status))
	}
	return Redirect(c, backTo(&aid))
}
