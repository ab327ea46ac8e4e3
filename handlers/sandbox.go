package handlers

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"mmconsole/internal/audit"
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
	return Render(c, status, pages.Sandbox(h.Shells.Shell(c, "Sandbox", "sandbox"), p))
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
		p.Error = "Choose what Meta should report: stop, resume, terms, quality, category or reject."
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
	var what string
	switch kind {
	case triggerStop, triggerResume:
		err = h.Sandbox.SetMarketingPreference(w.ID, number, kind == triggerStop)
		what = fmt.Sprintf("user_preferences: %s %s marketing messages from %s", number, map[bool]string{true: "stopped", false: "resumed"}[kind == triggerStop], w.Name)
	case triggerTerms:
		err = h.Sandbox.SignTerms(w.ID)
		what = "account_update MM_LITE_TERMS_SIGNED: " + w.Name + " is now onboarded to MM API"
	case triggerQuality:
		err = h.Sandbox.SetTemplateQuality(w.ID, templateID, value)
		what = fmt.Sprintf("message_template_quality_update: template %s is now %s", templateID, strings.ToUpper(value))
	case triggerCategory:
		err = h.Sandbox.ChangeTemplateCategory(w.ID, templateID, value)
		what = fmt.Sprintf("template_category_update: template %s is now %s", templateID, strings.ToUpper(value))
	case triggerReject:
		err = h.Sandbox.RejectTemplate(w.ID, templateID, value)
		what = fmt.Sprintf("message_template_status_update: template %s is REJECTED (%s)", templateID, strings.ToUpper(value))
	}
	if errors.Is(err, sandbox.ErrTrigger) {
		p.Error = strings.TrimPrefix(err.Error(), sandbox.ErrTrigger.Error()+": ")
		return h.render(c, fiber.StatusUnprocessableEntity, p)
	}
	if err != nil {
		return err
	}
	h.record(c, u, accountOf[w.ID], kind, w.ID, what)
	Flash(c, "success", "Sent, signed, to this dashboard's webhook: "+what+". It appears in the webhook log.")
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
