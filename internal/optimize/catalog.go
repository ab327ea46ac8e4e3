// Package optimize owns automatic creative optimizations (ACO): the catalog of features Meta
// documents, the WABA-wide defaults and per-template settings (OPT_IN / OPT_OUT), the effective
// value a template gets and where it comes from, the 10-edits-per-30-days limit of approved
// templates, drift between what the console stored and what Meta reports, bulk changes with a
// preview, and the record of every change. It talks to Meta through internal/graph and never
// sees HTTP requests.
package optimize

import (
	"regexp"
	"sort"
	"strings"

	"mmconsole/internal/graph"
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

// Label is the state as people read it.
func (s MetaState) Label() string {
	switch s {
	case StateActive:
		return "Active"
	case StateComingSoon:
		return "Coming soon"
	case StatePaused:
		return "Paused by Meta"
	}
	return "Unknown to this console"
}

// Feature is one creative optimization the console can switch.
type Feature struct {
	Key         string // lowercase, as the request sends it
	Name        string
	Description string
	State       MetaState
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

// Note is the warning shown next to a feature whose setting may not take effect.
func (f Feature) Note() string {
	switch {
	case !f.Known:
		return "Meta reports this key but this console does not know what it does yet. Its value is shown as Meta reports it."
	case f.State == StatePaused:
		return "Paused by Meta: even when opted in, it may not be applied right now."
	case f.ThirdPartyKey:
		return "Key documented only by YCloud (a BSP), not by Meta: Meta may ignore or refuse it."
	case f.State == StateComingSoon:
		return "Coming soon: Meta announced it; the setting takes effect once Meta launches it."
	}
	return ""
}

// Catalog lists the features this console knows, in display order (§4.1 of the reference and
// Hibot's guide). Built per call, so callers may modify their copy.
func Catalog() []Feature {
	return []Feature{
		{Key: "image_brightness_and_contrast", Name: "Image filtering", Description: "Adjusts brightness and contrast to improve image quality and appeal.", State: StateActive, Known: true},
		{Key: "image_touchups", Name: "Image touch-ups", Description: "Visual touch-ups of the header image.", State: StateActive, Known: true},
		{Key: "text_extraction_for_headline", Name: "Headline extraction", Description: "Creates a headline from important text in the message.", State: StateActive, Known: true},
		{Key: "text_extraction_for_tap_target", Name: "Tap-target title", Description: "Creates a title above the call-to-action area.", State: StateActive, Known: true},
		{Key: "text_formatting_optimization", Name: "Text formatting", Description: "Bolds or cleans up formatting; the wording is not changed.", State: StateActive, Known: true},
		{Key: "product_extensions", Name: "Product extensions", Description: "Appends related products from the catalog.", State: StateComingSoon, Known: true},
		{Key: "auto_promotion_tag", Name: "Auto promotion tag", Description: "Extracts an offer such as “30% off” and shows it as a badge on the image.", State: StateComingSoon, Known: true},
		{Key: "image_banner", Name: "Image banner", Description: "Adds coloured padding so the image gets the best aspect ratio.", State: StateComingSoon, ThirdPartyKey: true, Known: true},
		{Key: "dynamic_cta_text", Name: "Dynamic CTA", Description: "Adapts the call-to-action text.", State: StateComingSoon, ThirdPartyKey: true, Known: true},
		{Key: "hyperlink_formatting", Name: "Link formatting", Description: "Shortens or beautifies URLs in the message.", State: StateComingSoon, ThirdPartyKey: true, Known: true},
		{Key: "image_end_card", Name: "Profile end card", Description: "Adds an end card with the business profile (presumed meaning).", State: StateComingSoon, ThirdPartyKey: true, Known: true},
		{Key: "add_text_overlay", Name: "Text overlay", Description: "Places text from the message over the image.", State: StatePaused, Known: true},
		{Key: "image_animation", Name: "Image animation", Description: "Turns the image into a short animation (GIF).", State: StatePaused, Known: true},
		{Key: "image_background_gen", Name: "Background generation", Description: "Generates a new background for the product image.", State: StatePaused, Known: true},
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
	return Feature{Key: key, Name: key, State: StateUnknown}
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

// ValueLabel is a value as people read it; words, not only colour.
func ValueLabel(v string) string {
	switch v {
	case graph.OptIn:
		return "On (OPT_IN)"
	case graph.OptOut:
		return "Off (OPT_OUT)"
	case "":
		return "Not set"
	}
	return v
}
