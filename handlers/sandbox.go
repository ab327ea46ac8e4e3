package handlers

import (
	"context"
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"mmconsole/internal/audit"
	"mmconsole/internal/i18n"
	"mmconsole/internal/sandbox"
	"mmconsole/models"
	"mmconsole/views/pages"
)

// SandboxTriggers makes the embedded sandbox send the webhooks Meta sends on its own;
// *sandbox.Sandbox satisfies it.
type SandboxTriggers interface {
	Triggers() []sandbox.TriggerWABA
	SetMarketingPreference(wabaID, number string, stop bool) error
	SignTerms(wabaID string) error
	SetTemplateQuality(wabaID, templateID, score string) error
	ChangeTemplateCategory(wabaID, templateID, category string) error
	RejectTemplate(wabaID, templateID, reason string) error
}

// SandboxPage is /sandbox: in sandbox mode, admins trigger the webhooks Meta would send on its
// own (a recipient stops marketing, terms signed, quality drops, category changes, a pending
// template's review rejects it with a chosen reason) for the
// sandbox WABAs of their account. The webhooks go the way every sandbox webhook goes: signed,
// to this dashboard's /webhooks/whatsapp.
type SandboxPage struct {
	Shells      *Shells
	Sandbox     SandboxTriggers // nil when the sandbox is off: the page answers 404
	Connections ConnectionLister
	Audit       Auditor // nil: triggers are only logged
}

// Trigger kinds of POST /sandbox/trigger.
const (
	triggerStop     = "stop"
	triggerResume   = "resume"
	triggerTerms    = "terms"
	triggerQuality  = "quality"
	triggerCategory = "category"
	triggerReject   = "reject"
)

// wabas are the sandbox WABAs the user's account has connected, with the account of each.
func (h *SandboxPage) wabas(c *fiber.Ctx) ([]sandbox.TriggerWABA, map[string]uint, error) {
	conns, err := h.Connections.Connections(c.UserContext(), CurrentScope(c))
	if err != nil {
		return nil, nil, err
	}
	mine := map[string]uint{}
	for _, cn := range conns {
		if cn.Sandbox {
			mine[cn.WABAID] = cn.AccountID
		}
	}
	var out []sandbox.TriggerWABA
	for _, w := range h.Sandbox.Triggers() {
		if _, ok := mine[w.ID]; ok {
			out = append(out, w)
		}
	}
	return out, mine, nil
}

func (h *SandboxPage) admin(c *fiber.Ctx) (models.User, error) {
	u, ok := CurrentUser(c)
	if !ok || !u.CanAdmin() {
		return models.User{}, models.ErrForbidden
	}
	if h.Sandbox == nil {
		return models.User{}, models.ErrNotFound
	}
	return u, nil
}

// Page is GET /sandbox.
func (h *SandboxPage) Page(c *fiber.Ctx) error {
	if _, err := h.admin(c); err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, pages.SandboxProps{})
}

func (h *SandboxPage) render(c *fiber.Ctx, status int, p pages.SandboxProps) error {
	ws, _, err := h.wabas(c)
	if err != nil {
		return err
	}
	p.WABAs, p.CSRF = ws, CSRFToken(c)
	p.Scores, p.Categories, p.Reasons = sandbox.QualityScores, sandbox.Categories, sandbox.RejectionReasons
	return Render(c, status, pages.Sandbox(h.Shells.Shell(c, i18n.T(c.UserContext(), "sandbox.title"), "sandbox"), p))
}

// Trigger is POST /sandbox/trigger with kind (stop, resume, terms, quality, category, reject), waba and
// what the kind needs: number, or template and value.
func (h *SandboxPage) Trigger(c *fiber.Ctx) error {
	u, err := h.admin(c)
	if err != nil {
		return err
	}
	kind, wabaID := c.FormValue("kind"), strings.TrimSpace(c.FormValue("waba"))
	number, templateID := strings.TrimSpace(c.FormValue("number")), strings.TrimSpace(c.FormValue("template"))
	value := strings.TrimSpace(c.FormValue("value"))
	p := pages.SandboxProps{Kind: kind, Number: number}
	switch kind {
	case triggerStop, triggerResume, triggerTerms, triggerQuality, triggerCategory, triggerReject:
	default:
		p.Error = i18n.T(c.UserContext(), "sandbox.err.kind")
		return h.render(c, fiber.StatusUnprocessableEntity, p)
	}
	ws, accountOf, err := h.wabas(c)
	if err != nil {
		return err
	}
	var w *sandbox.TriggerWABA
	for i := range ws {
		if ws[i].ID == wabaID {
			w = &ws[i]
		}
	}
	if w == nil {
		// Not a sandbox WABA of this account: as for any other account's object.
		return models.ErrNotFound
	}
	// what names the webhook sent: a catalog key with its arguments, read in the reader's
	// language for the flash and in English for the audit entry.
	var whatKey string
	whatArgs := []any{"WABA", w.Name, "Number", number, "Template", templateID, "Value", strings.ToUpper(value)}
	switch kind {
	case triggerStop:
		err = h.Sandbox.SetMarketingPreference(w.ID, number, true)
		whatKey = i18n.Key("sandbox.what.stop")
	case triggerResume:
		err = h.Sandbox.SetMarketingPreference(w.ID, number, false)
		whatKey = i18n.Key("sandbox.what.resume")
	case triggerTerms:
		err = h.Sandbox.SignTerms(w.ID)
		whatKey = i18n.Key("sandbox.what.terms")
	case triggerQuality:
		err = h.Sandbox.SetTemplateQuality(w.ID, templateID, value)
		whatKey = i18n.Key("sandbox.what.quality")
	case triggerCategory:
		err = h.Sandbox.ChangeTemplateCategory(w.ID, templateID, value)
		whatKey = i18n.Key("sandbox.what.category")
	case triggerReject:
		err = h.Sandbox.RejectTemplate(w.ID, templateID, value)
		whatKey = i18n.Key("sandbox.what.reject")
	}
	var refused *sandbox.TriggerError
	if errors.As(err, &refused) {
		p.Error = refused.Message(c.UserContext())
		return h.render(c, fiber.StatusUnprocessableEntity, p)
	}
	if err != nil {
		return err
	}
	h.record(c, u, accountOf[w.ID], kind, w.ID, i18n.T(context.Background(), whatKey, whatArgs...))
	Flash(c, "success", i18n.T(c.UserContext(), "sandbox.sent", "What", i18n.T(c.UserContext(), whatKey, whatArgs...)))
	return Redirect(c, "/sandbox")
}

func (h *SandboxPage) record(c *fiber.Ctx, u models.User, accountID uint, kind, wabaID, what string) {
	Log(c).Info("sandbox trigger", "kind", kind, "waba", wabaID, "user", u.ID)
	if h.Audit == nil {
		return
	}
	uid := u.ID
	err := h.Audit.Record(c.UserContext(), audit.Entry{
		AccountID: &accountID, ActorID: &uid, ActorEmail: u.Email, Action: "sandbox.trigger",
		Target: "waba:" + wabaID, After: map[string]any{"kind": kind, "webhook": what}, IP: c.IP(),
	})
	if err != nil {
		Log(c).Error("audit: record sandbox trigger", "err", err)
	}
}
