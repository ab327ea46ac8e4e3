package templates

import (
	"context"
	"strings"

	"mmconsole/internal/i18n"
	"mmconsole/internal/metarules"
	"mmconsole/models"
)

// The catalog keys of the values this package names for people. They are read-only lookup
// tables: the value (a Meta token or a stored code) stays as it is, the words are chosen when
// shown.
var (
	kindLabels = map[string]string{
		string(KindSyncing):     i18n.Key("templates.state.syncing"),
		string(KindReady):       i18n.Key("templates.state.ready"),
		string(KindFallback):    i18n.Key("templates.state.fallback"),
		string(KindDormant):     i18n.Key("templates.state.dormant"),
		string(KindNotForMMAPI): i18n.Key("templates.state.not_for_mmapi"),
		string(KindNotSendable): i18n.Key("templates.state.not_sendable"),
	}
	plainReasons = map[string]string{
		ReasonFirstSeen:      i18n.Key("templates.reason.first_seen"),
		ReasonApproved:       i18n.Key("templates.reason.approved"),
		ReasonNotOnboarded:   i18n.Key("templates.reason.not_onboarded"),
		ReasonOnboarded:      i18n.Key("templates.reason.onboarded"),
		ReasonDormantSend:    i18n.Key("templates.reason.dormant_send"),
		reasonDormantSendOld: i18n.Key("templates.reason.dormant_send"),
		ReasonMeta134101:     i18n.Key("templates.reason.meta_134101"),
		ReasonAdSynced:       i18n.Key("templates.reason.ad_synced"),
		reasonUnrecorded:     i18n.Key("templates.reason.unrecorded"),
	}
	notSendableStatuses = map[string]string{
		"PENDING":          i18n.Key("templates.blocked.pending"),
		"PAUSED":           i18n.Key("templates.blocked.paused"),
		"DISABLED":         i18n.Key("templates.blocked.disabled"),
		"IN_APPEAL":        i18n.Key("templates.blocked.in_appeal"),
		"PENDING_DELETION": i18n.Key("templates.blocked.pending_deletion"),
		"ARCHIVED":         i18n.Key("templates.blocked.archived"),
		"LIMIT_EXCEEDED":   i18n.Key("templates.blocked.limit_exceeded"),
		"LOCKED":           i18n.Key("templates.blocked.locked"),
		"":                 i18n.Key("templates.blocked.unknown"),
	}
	unitNames = map[string]string{
		metarules.UnitHours:   i18n.Key("ttl.unit.hours"),
		metarules.UnitDays:    i18n.Key("ttl.unit.days"),
		metarules.UnitSeconds: i18n.Key("ttl.unit.seconds"),
	}
	categoryNames = map[string]string{
		"MARKETING":      i18n.Key("templates.category.marketing"),
		"UTILITY":        i18n.Key("templates.category.utility"),
		"AUTHENTICATION": i18n.Key("templates.category.authentication"),
	}
	triggerNames = map[string]string{
		TriggerStart:    i18n.Key("templates.trigger.start"),
		TriggerSchedule: i18n.Key("templates.trigger.schedule"),
		TriggerManual:   i18n.Key("templates.trigger.manual"),
		TriggerWebhook:  i18n.Key("templates.trigger.webhook"),
	}
	historyFields = map[string]string{
		"status":   i18n.Key("templates.history.status"),
		"quality":  i18n.Key("templates.history.quality"),
		"category": i18n.Key("templates.history.category"),
	}
)

// named is v in the words of ctx when keys names it, else v as it is (a value this version does
// not know, shown rather than hidden).
func named(ctx context.Context, keys map[string]string, v string) string {
	if key, ok := keys[v]; ok {
		return i18n.T(ctx, key)
	}
	return v
}

// Label is the state's name as people read it, in the language of ctx.
func (k Kind) Label(ctx context.Context) string { return named(ctx, kindLabels, string(k)) }

// PlainReason is a stored sync reason in plain words, in the language of ctx: what it means
// first, Meta's term in brackets. A reason this version does not know is shown as stored.
func PlainReason(ctx context.Context, r string) string { return named(ctx, plainReasons, r) }

// UnitName is a TTL input unit (metarules.UnitHours, …) in the language of ctx.
func UnitName(ctx context.Context, unit string) string { return named(ctx, unitNames, unit) }

// CategoryName is one of Meta's template categories in the words of ctx; filters keep Meta's
// value, and a category this version does not know is shown as Meta spells it.
func CategoryName(ctx context.Context, c string) string { return named(ctx, categoryNames, c) }

// CategoryWords is CategoryName for a list of options.
func CategoryWords(ctx context.Context) func(string) string {
	return func(c string) string { return CategoryName(ctx, c) }
}

// TriggerName says what started a refresh (a Trigger constant) in the words of ctx.
func TriggerName(ctx context.Context, t string) string { return named(ctx, triggerNames, t) }

// HistoryField names the field a HistoryItem changed in the words of ctx.
func HistoryField(ctx context.Context, f string) string { return named(ctx, historyFields, f) }

// CopyCodeText is a copy-code button's label: Meta's buttons of that type carry none, and
// WhatsApp shows its own.
func CopyCodeText(ctx context.Context, text string) string {
	if text != "" {
		return text
	}
	return i18n.T(ctx, "templates.preview.copy_code")
}

// notSendableReason says, per status, why a template cannot be sent and what to do.
func notSendableReason(t models.Template) func(ctx context.Context) string {
	status, rejected, gone := strings.ToUpper(t.Status), t.RejectedReason, t.GoneAt != nil
	return func(ctx context.Context) string {
		switch status {
		case "REJECTED":
			if rejected == "" || rejected == "NONE" {
				return i18n.T(ctx, "templates.blocked.rejected_unsaid")
			}
			return i18n.T(ctx, "templates.blocked.rejected", "Reason", rejected)
		case "DELETED":
			if gone {
				return i18n.T(ctx, "templates.blocked.gone")
			}
			return i18n.T(ctx, "templates.blocked.deleted")
		}
		if key, ok := notSendableStatuses[status]; ok {
			return i18n.T(ctx, key)
		}
		return i18n.T(ctx, "templates.blocked.status", "Status", status)
	}
}
