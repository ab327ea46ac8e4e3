package webhook

import (
	"context"

	"mmconsole/internal/i18n"
	"mmconsole/models"
)

// The words the log shows for the codes this package stores. The database keeps the codes
// (kinds, routes, refusal reasons) so that each reader sees them in their own language; metrics
// and logs keep using the codes themselves.

// kindKeys name each event kind in the catalogs.
var kindKeys = map[string]string{
	models.KindStatus:           i18n.Key("webhook.kind.status"),
	models.KindMessage:          i18n.Key("webhook.kind.message"),
	models.KindClick:            i18n.Key("webhook.kind.click"),
	models.KindTemplateStatus:   i18n.Key("webhook.kind.template_status"),
	models.KindTemplateCategory: i18n.Key("webhook.kind.template_category"),
	models.KindTemplateQuality:  i18n.Key("webhook.kind.template_quality"),
	models.KindUserPreference:   i18n.Key("webhook.kind.user_preference"),
	models.KindAccountUpdate:    i18n.Key("webhook.kind.account_update"),
	models.KindError:            i18n.Key("webhook.kind.error"),
}

// KindLabel is an event kind in words; a kind this version does not know was kept raw.
func KindLabel(ctx context.Context, kind string) string {
	if k, ok := kindKeys[kind]; ok {
		return i18n.T(ctx, k)
	}
	return i18n.T(ctx, "webhook.kind.kept_raw")
}

// routeKeys name each message route in the catalogs.
var routeKeys = map[string]string{
	models.RouteMMAPI:    i18n.Key("webhook.route.mm_api"),
	models.RouteFallback: i18n.Key("webhook.route.fallback"),
	models.RouteCloudAPI: i18n.Key("webhook.route.cloud_api"),
	models.RouteUnknown:  i18n.Key("webhook.route.unknown"),
}

// RouteLabel is a message route in words; an unknown code is shown as stored.
func RouteLabel(ctx context.Context, route string) string {
	if k, ok := routeKeys[route]; ok {
		return i18n.T(ctx, k)
	}
	return route
}

// reasonKeys explain the reasons a delivery or an entry was refused, as they are stored (the
// HTTP layer's body refusals, the signature checks and RefusedEntry).
var reasonKeys = map[string]string{
	ReasonTooLarge:        i18n.Key("webhook.reason.too_large"),
	ReasonSlow:            i18n.Key("webhook.reason.slow_body"),
	"unreadable body":     i18n.Key("webhook.reason.unreadable"),
	"missing signature":   i18n.Key("webhook.reason.missing_signature"),
	"malformed signature": i18n.Key("webhook.reason.malformed_signature"),
	"bad signature":       i18n.Key("webhook.reason.bad_signature"),
	RefusedEntry:          i18n.Key("webhook.reason.entry"),
}

// ReasonLabel is a stored refusal reason in words; a reason this version does not know (an
// older row) is shown as stored.
func ReasonLabel(ctx context.Context, reason string) string {
	if k, ok := reasonKeys[reason]; ok {
		return i18n.T(ctx, k)
	}
	return reason
}
