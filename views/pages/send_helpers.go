package pages

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"mmconsole/internal/i18n"
	"mmconsole/internal/metarules"
	"mmconsole/internal/send"
	"mmconsole/models"
)

// liveAttrs make an input refresh the live region (checks, preview, request) as the user types
// (typed inputs, debounced) or picks (selects and radios, on change).
func liveAttrs(typed bool) templ.Attributes {
	trigger := "change"
	if typed {
		trigger = "input changed delay:300ms"
	}
	return templ.Attributes{
		"hx-post":    "/send/preview",
		"hx-trigger": trigger,
		"hx-target":  "#send-live",
		"hx-swap":    "outerHTML",
		"hx-sync":    "closest form:abort",
	}
}

// tickAttrs are liveAttrs for checkboxes ticked in quick succession: each tick replaces the
// preview request in flight, since the latest form is the one to check (abort would drop it).
func tickAttrs() templ.Attributes {
	a := liveAttrs(false)
	a["hx-sync"] = "closest form:replace"
	return a
}

// reloadAttrs make a picker re-render the whole composer for the new choice.
func reloadAttrs(include string) templ.Attributes {
	return templ.Attributes{
		"hx-get":      "/send",
		"hx-trigger":  "change",
		"hx-target":   "#composer",
		"hx-swap":     "outerHTML",
		"hx-push-url": "true",
		"hx-include":  include,
	}
}

func uintStr(n uint) string { return strconv.FormatUint(uint64(n), 10) }

func fieldError(c *send.Composer, name string) string {
	if c == nil || !c.ShowErrors {
		return ""
	}
	return c.Errors[name]
}

func invalidAttr(c *send.Composer, name string) templ.Attributes {
	if fieldError(c, name) != "" {
		return templ.Attributes{"aria-invalid": "true", "aria-describedby": errID(name)}
	}
	return templ.Attributes{}
}

func errID(name string) string {
	return "err-" + strings.NewReplacer(".", "-", "_", "-").Replace(name)
}

func inputID(name string) string {
	return "in-" + strings.NewReplacer(".", "-", "_", "-").Replace(name)
}

func connLabel(ctx context.Context, c models.WABAConnection) string {
	l := c.Name
	if l == "" {
		l = c.WABAID
	}
	if c.Account != nil && c.Account.Name != "" {
		l = c.Account.Name + " · " + l
	}
	switch c.OnboardingStatus {
	case "ONBOARDED":
		l += " " + i18n.T(ctx, "send.conn.onboarded")
	case "":
	default:
		l += " " + i18n.T(ctx, "send.conn.not_onboarded", "Status", c.OnboardingStatus)
	}
	return l
}

func phoneLabel(p models.PhoneNumber) string {
	l := p.DisplayPhoneNumber
	if l == "" {
		l = p.PhoneNumberID
	}
	if p.VerifiedName != "" {
		l += " · " + p.VerifiedName
	}
	return l
}

func selectedTemplate(c *send.Composer, t models.Template) bool {
	return c.Template != nil && c.Template.ID == t.ID
}

func templateRef(c *send.Composer) string {
	if c.Template == nil {
		return ""
	}
	return uintStr(c.Template.ID)
}

// composerTTLEmpty says what an empty TTL input means in the connection's mode.
func composerTTLEmpty(ctx context.Context, c *send.Composer) string {
	if c.TTL.Mode == models.TTLTemplate {
		return i18n.T(ctx, "send.ttl.empty_template")
	}
	return i18n.T(ctx, "send.ttl.empty_per_send")
}

// composerTTLLabel names the TTL input after where the value goes.
func composerTTLLabel(ctx context.Context, c *send.Composer) string {
	if c.TTL.Mode == models.TTLTemplate {
		return i18n.T(ctx, "send.ttl.label_template")
	}
	return i18n.T(ctx, "send.ttl.label_per_send")
}

func templateTTLText(ctx context.Context, c *send.Composer) string {
	if c.TTL.TemplateSeconds == nil || *c.TTL.TemplateSeconds <= 0 {
		return i18n.T(ctx, "send.ttl.template_unknown")
	}
	return i18n.T(ctx, "send.ttl.template_value", "Duration", send.HumanDuration(ctx, *c.TTL.TemplateSeconds),
		"Seconds", i18n.Num(ctx, int64(*c.TTL.TemplateSeconds)))
}

func checkBadge(ctx context.Context, level string) (class, word string) {
	switch level {
	case send.LevelBlocker:
		return "badge badge-bad", i18n.T(ctx, "send.level.blocker")
	case send.LevelDanger:
		return "badge badge-bad", i18n.T(ctx, "send.level.danger")
	case send.LevelWarning:
		return "badge badge-warn", i18n.T(ctx, "send.level.warning")
	}
	return "badge badge-info", i18n.T(ctx, "send.level.info")
}

func statusBadge(ctx context.Context, status string) (class, word string) {
	switch status {
	case "accepted":
		return "badge badge-info", i18n.T(ctx, "send.status.accepted")
	case "held_for_quality_assessment":
		return "badge badge-warn", i18n.T(ctx, "send.status.held")
	case "paused":
		return "badge badge-warn", i18n.T(ctx, "send.status.paused")
	case "sending":
		return "badge badge-muted", i18n.T(ctx, "send.status.sending")
	case models.SendUnknown:
		return "badge badge-warn", i18n.T(ctx, "send.status.unknown")
	case "error":
		return "badge badge-bad", i18n.T(ctx, "send.status.refused")
	case "sent":
		return "badge badge-info", i18n.T(ctx, "send.status.sent")
	case "delivered":
		return "badge badge-ok", i18n.T(ctx, "send.status.delivered")
	case "read":
		return "badge badge-ok", i18n.T(ctx, "send.status.read")
	case "failed":
		return "badge badge-bad", i18n.T(ctx, "send.status.failed")
	case "":
		return "badge badge-muted", i18n.T(ctx, "send.status.none")
	}
	return "badge badge-muted", status
}

// routeBadgeOf names a send's route; a send that failed or was refused before Meta reported a
// route never gets one, which "not known yet" would wrongly promise.
func routeBadgeOf(ctx context.Context, route, status string) (class, word string) {
	switch route {
	case send.RouteMMAPI:
		return "badge badge-ok", "MM API"
	case send.RouteFallback:
		return "badge badge-warn", send.RouteLabel(ctx, route)
	}
	switch status {
	case "failed":
		return "badge badge-muted", i18n.T(ctx, "send.route.failed")
	case "error":
		return "badge badge-muted", i18n.T(ctx, "send.route.refused")
	}
	return "badge badge-muted", i18n.T(ctx, "send.route.unknown")
}

// latestStatus is what the history row shows: the webhook status, else the send answer.
func latestStatus(r send.Result) string {
	if r.Send.Status != "" {
		return r.Send.Status
	}
	return r.Send.MessageStatus
}

func messageURL(wamid string) templ.SafeURL {
	return templ.SafeURL("/messages/" + url.PathEscape(wamid))
}

// opaqueOf is the biz_opaque_callback_data a test send carried.
func opaqueOf(t models.TestSend) string { return models.TestSendOpaque(t.ID) }

// lookupURL is the webhook log filtered to a send's recipient and phone number, where its status
// webhooks show up if Meta accepted it.
func lookupURL(t models.TestSend) templ.SafeURL {
	v := url.Values{"recipient": {t.Recipient}, "phone": {t.PhoneNumberID}, "live": {"1"}}
	return templ.SafeURL("/log?" + v.Encode())
}

func resultURL(id uint) string { return "/sends/" + uintStr(id) + "/result" }

func resultID(id uint) string { return "send-result-" + uintStr(id) }

// historyNext is the URL of the next (older) page, keeping the filters.
func historyNext(p *send.HistoryPage) templ.SafeURL {
	v := url.Values{}
	if p.Filter.Template != "" {
		v.Set("template", p.Filter.Template)
	}
	if p.Filter.Recipient != "" {
		v.Set("recipient", p.Filter.Recipient)
	}
	if p.Filter.User != "" {
		v.Set("user", p.Filter.User)
	}
	v.Set("before", uintStr(p.NextID))
	return templ.SafeURL("/sends?" + v.Encode())
}

func composeURL(r send.Result) templ.SafeURL {
	if r.Send.TemplateRowID == 0 {
		return templ.SafeURL("/send")
	}
	return templ.SafeURL("/send?template=" + uintStr(r.Send.TemplateRowID))
}

func plusDigits(d string) string {
	if d == "" {
		return ""
	}
	return "+" + d
}

func errorHeading(ctx context.Context, e *send.ErrorView) string {
	h := i18n.T(ctx, "send.result.refused")
	if e.Code != 0 {
		h = i18n.T(ctx, "send.result.refused_code", "Code", strconv.Itoa(e.Code))
	}
	if e.Title != "" {
		h += " — " + e.Title
	}
	return h
}

// sendDetailURL is a test send's own page.
func sendDetailURL(id uint) templ.SafeURL {
	return templ.SafeURL("/sends/" + uintStr(id))
}

// againURL opens the composer filled in as the send was: template, variables, TTL, policy,
// activity sharing and recipient.
func againURL(s models.TestSend) templ.SafeURL {
	return templ.SafeURL("/send?" + send.AgainValues(s).Encode())
}

// policyLabel names a send's product_policy; none sent means Meta's CLOUD_API_FALLBACK.
func policyLabel(ctx context.Context, p string) string {
	switch p {
	case "":
		return i18n.T(ctx, "send.policy.label_default")
	case "STRICT":
		return i18n.T(ctx, "send.policy.label_strict")
	}
	return p
}

// sendTTLLabel is the TTL a send asked for: its own, else the template's or Meta's default.
func sendTTLLabel(ctx context.Context, s models.TestSend) string {
	if s.TTLSeconds <= 0 {
		return i18n.T(ctx, "send.ttl.default")
	}
	return metarules.HumanTTLIn(ctx, s.TTLSeconds)
}

// savedChosen reports whether the saved recipient id is ticked in the form.
func savedChosen(c *send.Composer, id uint) bool {
	for _, s := range c.In.Saved {
		if s == id {
			return true
		}
	}
	return false
}

// savedErrText says why a send to a saved recipient could not be made.
func savedErrText(ctx context.Context, err error) string {
	if errors.Is(err, models.ErrForbidden) {
		return i18n.T(ctx, "send.saved.forbidden")
	}
	return i18n.T(ctx, "send.saved.failed", "Error", err.Error())
}

// savedInvalid marks a field of the saved recipient form that was refused.
func savedInvalid(f SavedForm, name string) templ.Attributes {
	if f.Errors[name] != "" {
		return templ.Attributes{"aria-invalid": "true", "aria-describedby": "err-saved-" + name}
	}
	return templ.Attributes{}
}
