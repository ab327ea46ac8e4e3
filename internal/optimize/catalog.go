// Package optimize owns automatic creative optimizations (ACO): the catalog of features Meta
// documents, the WABA-wide defaults and per-template settings (OPT_IN / OPT_OUT), the effective
// value a template gets and where it comes from, the 10-edits-per-30-days limit of approved
// templates, drift between what the console stored and what Meta reports, bulk changes with a
// preview, and the record of every change. It talks to Meta through internal/graph and never
// sees HTTP requests.
package optimize

import (
	"context"
	"regexp"
	"sort"
	"strings"

	"mmconsole/internal/graph"
	"mmconsole/internal/i18n"
)

// MetaState is what Meta says about a feature (mm-api-reference §4.1, May 2026).
type MetaState string

// Meta's states. Unknown is a key Meta returned that this console does not describe.
const (
	StateActive     MetaState = "active"
	StateComingSoon MetaState = "coming_soon"
	StatePaused     MetaState = "paused"
	StateUnknown    MetaState = "unknown"
)

// Label is the state as people read it, in the language of ctx.
func (s MetaState) Label(ctx context.Context) string {
	switch s {
	case StateActive:
		return i18n.T(ctx, "opt.state.active")
	case StateComingSoon:
		return i18n.T(ctx, "opt.state.coming_soon")
	case StatePaused:
		return i18n.T(ctx, "opt.state.paused")
	}
	return i18n.T(ctx, "opt.state.unknown")
}

// Feature is one creative optimization the console can switch. Its name and description are
// catalog keys, so each reader gets them in their own language (Name, Description).
type Feature struct {
	Key     string // lowercase, as the request sends it
	nameKey string
	descKey string
	State   MetaState
	// ThirdPartyKey: Meta names the feature but documents no key; the key comes from a BSP's
	// documentation (YCloud) and may not be accepted by Meta.
	ThirdPartyKey bool
	// Known is false for keys Meta returned that are not in the catalog: they are shown with
	// their raw key, never dropped.
	Known bool
}

// InAll reports whether "All on" / "All off" sends the feature, given what Meta reports for it
// now ("" = not set). A bulk switch sends only keys Meta documents, or keys Meta already reports
// (so it accepts them): one key Meta refuses would fail the whole request, and a key known only
// from a BSP is set one switch at a time, knowingly.
func (f Feature) InAll(metaValue string) bool {
	return (f.Known && !f.ThirdPartyKey) || metaValue != ""
}

// Secondary reports whether the feature is one a setting does not change today: coming soon,
// paused by Meta, or a key known only from a BSP. The pages list these below the active ones,
// collapsed, so the few switches that act now are not lost among the many that do not.
// Unknown keys Meta reports stay with the active ones: Meta applies something under them.
func (f Feature) Secondary() bool {
	return f.Known && (f.State != StateActive || f.ThirdPartyKey)
}

// Name is the feature's name in the language of ctx; a key Meta reports that the catalog does
// not know is named by the key itself.
func (f Feature) Name(ctx context.Context) string {
	if f.nameKey == "" {
		return f.Key
	}
	return i18n.T(ctx, f.nameKey)
}

// Description says what the feature does, in the language of ctx ("" for an unknown key).
func (f Feature) Description(ctx context.Context) string {
	if f.descKey == "" {
		return ""
	}
	return i18n.T(ctx, f.descKey)
}

// Note is the warning shown next to a feature whose setting may not take effect.
func (f Feature) Note(ctx context.Context) string {
	switch {
	case !f.Known:
		return i18n.T(ctx, "opt.note.unknown")
	case f.State == StatePaused:
		return i18n.T(ctx, "opt.note.paused")
	case f.ThirdPartyKey:
		return i18n.T(ctx, "opt.note.third_party")
	case f.State == StateComingSoon:
		return i18n.T(ctx, "opt.note.coming_soon")
	}
	return ""
}

// Catalog lists the features this console knows, in display order (§4.1 of the reference and
// Hibot's guide). Built per call, so callers may modify their copy.
func Catalog() []Feature {
	return []Feature{
		{Key: "image_brightness_and_contrast", nameKey: i18n.Key("opt.feature.image_brightness_and_contrast.name"), descKey: i18n.Key("opt.feature.image_brightness_and_contrast.desc"), State: StateActive, Known: true},
		{Key: "image_touchups", nameKey: i18n.Key("opt.feature.image_touchups.name"), descKey: i18n.Key("opt.feature.image_touchups.desc"), State: StateActive, Known: true},
		{Key: "text_extraction_for_headline", nameKey: i18n.Key("opt.feature.text_extraction_for_headline.name"), descKey: i18n.Key("opt.feature.text_extraction_for_headline.desc"), State: StateActive, Known: true},
		{Key: "text_extraction_for_tap_target", nameKey: i18n.Key("opt.feature.text_extraction_for_tap_target.name"), descKey: i18n.Key("opt.feature.text_extraction_for_tap_target.desc"), State: StateActive, Known: true},
		{Key: "text_formatting_optimization", nameKey: i18n.Key("opt.feature.text_formatting_optimization.name"), descKey: i18n.Key("opt.feature.text_formatting_optimization.desc"), State: StateActive, Known: true},
		{Key: "product_extensions", nameKey: i18n.Key("opt.feature.product_extensions.name"), descKey: i18n.Key("opt.feature.product_extensions.desc"), State: StateComingSoon, Known: true},
		{Key: "auto_promotion_tag", nameKey: i18n.Key("opt.feature.auto_promotion_tag.name"), descKey: i18n.Key("opt.feature.auto_promotion_tag.desc"), State: StateComingSoon, Known: true},
		{Key: "image_banner", nameKey: i18n.Key("opt.feature.image_banner.name"), descKey: i18n.Key("opt.feature.image_banner.desc"), State: StateComingSoon, ThirdPartyKey: true, Known: true},
		{Key: "dynamic_cta_text", nameKey: i18n.Key("opt.feature.dynamic_cta_text.name"), descKey: i18n.Key("opt.feature.dynamic_cta_text.desc"), State: StateComingSoon, ThirdPartyKey: true, Known: true},
		{Key: "hyperlink_formatting", nameKey: i18n.Key("opt.feature.hyperlink_formatting.name"), descKey: i18n.Key("opt.feature.hyperlink_formatting.desc"), State: StateComingSoon, ThirdPartyKey: true, Known: true},
		{Key: "image_end_card", nameKey: i18n.Key("opt.feature.image_end_card.name"), descKey: i18n.Key("opt.feature.image_end_card.desc"), State: StateComingSoon, ThirdPartyKey: true, Known: true},
		{Key: "add_text_overlay", nameKey: i18n.Key("opt.feature.add_text_overlay.name"), descKey: i18n.Key("opt.feature.add_text_overlay.desc"), State: StatePaused, Known: true},
		{Key: "image_animation", nameKey: i18n.Key("opt.feature.image_animation.name"), descKey: i18n.Key("opt.feature.image_animation.desc"), State: StatePaused, Known: true},
		{Key: "image_background_gen", nameKey: i18n.Key("opt.feature.image_background_gen.name"), descKey: i18n.Key("opt.feature.image_background_gen.desc"), State: StatePaused, Known: true},
	}
}

// Lookup returns the catalog entry for key, or an "unknown" feature carrying the raw key.
func Lookup(key string) Feature {
	key = NormKey(key)
	for _, f := range Catalog() {
		if f.Key == key {
			return f
		}
	}
	return Feature{Key: key, State: StateUnknown}
}

// FeaturesFor is the catalog followed by every key in the given maps that the catalog does not
// know (sorted), so nothing Meta reports is dropped.
func FeaturesFor(values ...map[string]string) []Feature {
	out := Catalog()
	known := map[string]bool{}
	for _, f := range out {
		known[f.Key] = true
	}
	var extra []string
	for _, m := range values {
		for k := range m {
			k = NormKey(k)
			if !known[k] {
				known[k] = true
				extra = append(extra, k)
			}
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		out = append(out, Lookup(k))
	}
	return out
}

// NormKey lowercases a feature key: the template GET returns UPPER_CASE keys, requests use
// lowercase.
func NormKey(k string) string { return strings.ToLower(strings.TrimSpace(k)) }

var keyRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// ValidKey reports whether k looks like a feature key. Unknown keys are allowed (Meta adds
// features every few months); malformed ones are not.
func ValidKey(k string) bool { return keyRe.MatchString(k) }

// ValidValue reports whether v is OPT_IN or OPT_OUT.
func ValidValue(v string) bool { return v == graph.OptIn || v == graph.OptOut }

// ValueLabel is a value as people read it, in the language of ctx; words, not only colour.
func ValueLabel(ctx context.Context, v string) string {
	switch v {
	case graph.OptIn:
		return i18n.T(ctx, "opt.value.on_token")
	case graph.OptOut:
		return i18n.T(ctx, "opt.value.off_token")
	case "":
		return i18n.T(ctx, "opt.value.not_set")
	}
	return v
}
