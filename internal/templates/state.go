package templates

import (
	"fmt"
	"math"
	"strings"
	"time"

	"mmconsole/models"
)

// SyncWindow is how long MM API needs to sync a marketing template after creation or after a
// dormant template's first use (mm-api-reference §7).
const SyncWindow = 10 * time.Minute

// DormantAfter is how long a template may go unused before MM API syncs it again (§7).
const DormantAfter = 7 * 24 * time.Hour

// Kind is the MM API sync state of a template, as far as the dashboard can tell.
type Kind string

// The states. Meta exposes no sync flag, so these are derived from what the dashboard saw.
const (
	KindSyncing Kind = "syncing" // inside a 10-minute sync window: sends fail with 134101
	KindReady   Kind = "ready"   // approved marketing, recently used or recently synced
	// KindFallback: approved marketing on a WABA that is not onboarded to MM API. There is no
	// ad sync to wait for; CLOUD_API_FALLBACK sends go through Cloud API, STRICT sends fail.
	KindFallback    Kind = "ready_fallback"
	KindDormant     Kind = "dormant"       // unused 7+ days: the first send starts a new sync
	KindNotForMMAPI Kind = "not_for_mmapi" // utility / authentication: sent through /messages
	KindNotSendable Kind = "not_sendable"  // not APPROVED (pending, rejected, paused, …)
)

// Kinds lists every state in the order the catalog counts them.
var Kinds = []Kind{KindSyncing, KindReady, KindFallback, KindDormant, KindNotForMMAPI, KindNotSendable}

// Label is the state's name as people read it.
func (k Kind) Label() string {
	switch k {
	case KindSyncing:
		return "Syncing"
	case KindReady:
		return "Ready"
	case KindFallback:
		return "Ready, WABA not onboarded"
	case KindDormant:
		return "Dormant"
	case KindNotForMMAPI:
		return "Not for MM API"
	case KindNotSendable:
		return "Not sendable"
	}
	return string(k)
}

// ValidKind reports whether s names a state (for the catalog's state filter).
func ValidKind(s string) bool {
	for _, k := range Kinds {
		if string(k) == s {
			return true
		}
	}
	return false
}

// State is the MM API sync state of one template at one moment.
type State struct {
	Kind    Kind
	ReadyAt time.Time // Syncing: when the window ends
	Since   time.Time // Syncing: start of the window; Dormant: the last use the dashboard knows
	Reason  string    // why: the window's cause, or why the template cannot be sent
}

// MinutesLeft is the whole minutes until ReadyAt (rounded up, at least 1) for a Syncing state.
func (s State) MinutesLeft(now time.Time) int {
	m := int(math.Ceil(s.ReadyAt.Sub(now).Minutes()))
	return max(m, 1)
}

// Text is the state in one line, as the badge and its countdown show it.
func (s State) Text(now time.Time) string {
	switch s.Kind {
	case KindSyncing:
		return fmt.Sprintf("Syncing, ready in about %d min", s.MinutesLeft(now))
	case KindReady:
		return "Ready"
	case KindFallback:
		return "Ready, but this WABA is not onboarded: sends fall back to Cloud API"
	case KindDormant:
		return "Dormant"
	case KindNotForMMAPI:
		return "Not for MM API"
	case KindNotSendable:
		return "Not sendable"
	}
	return string(s.Kind)
}

// DormantSource says which source decided a Dormant state, in a few words: Meta's template
// analytics, or the console's own sends when analytics are not available.
func (s State) DormantSource() string {
	if s.Kind != KindDormant {
		return ""
	}
	if strings.HasPrefix(s.Reason, "Meta:") {
		return "Meta: 0 sent in the last 7 days"
	}
	return "no send seen by the console"
}

// Explain is the longer sentence shown next to the badge (title and detail page).
func (s State) Explain() string {
	switch s.Kind {
	case KindSyncing:
		return "MM API is getting this template ready (" + PlainReason(s.Reason) + "); until the window ends Meta refuses its sends as “template still syncing” (error 134101)."
	case KindReady:
		return "Approved marketing template, used or synced within the last 7 days: MM API sends should go through (" + PlainReason(s.Reason) + ")."
	case KindFallback:
		return "Ready, but this WABA is not onboarded to MM API: sends with CLOUD_API_FALLBACK go through Cloud API (no MM API sync to wait for); STRICT sends fail. " + s.Reason
	case KindDormant:
		return "Unused 7+ days (" + PlainReason(s.Reason) + "): the first send starts a 10-minute sync (sends in it may be refused as “template still syncing”, error 134101); send one message, then wait 10 minutes before campaign traffic."
	}
	return s.Reason
}

// Reasons recorded with a sync window (models.Template.SyncReason).
const (
	ReasonFirstSeen = "first seen approved by the dashboard; the approval time is unknown"
	ReasonApproved  = "approved"
	// ReasonNotOnboarded was recorded by earlier versions on templates of WABAs not onboarded
	// (SyncState now decides that from the WABA itself); kept because stored rows carry it.
	ReasonNotOnboarded = "WABA not onboarded to MM API: no ad sync; sends fall back to Cloud API"
	// ReasonOnboarded: the WABA became onboarded while the template was approved; its ad sync
	// starts then (the dashboard saw the onboarding status change).
	ReasonOnboarded   = "WABA onboarded to MM API; its templates sync now"
	ReasonDormantSend = "first send after 7+ days unused"
	ReasonMeta134101  = "Meta answered 134101"
	ReasonAdSynced    = "first seen with its MM API ad already created (ad_id), so already synced"
)

// Basis says what every sync state is derived from, shown beside the badges: plain words first,
// the precise terms in brackets, and marked as inferred (Meta reports no such state).
const Basis = "Worked out by the dashboard (inferred): Meta has no “ready” flag to read, so the state comes from the approval, the dashboard's own sends and Meta's answers (first sighting, ad_id, error 134101)."

// PlainReason is a stored sync reason in plain words. The stored strings stay as they are (rows
// keep them); the pages lead with what they mean and keep Meta's term in brackets.
func PlainReason(r string) string {
	switch r {
	case ReasonFirstSeen:
		return "already approved when the dashboard first saw it (first sighting), so the exact approval time is unknown"
	case ReasonMeta134101:
		return "Meta answered “template still syncing” (error 134101)"
	case ReasonAdSynced:
		return "its MM API ad already existed when the dashboard first saw it (ad_id), so it had already synced"
	}
	return r
}

// SyncState derives a template's MM API state at now, for a WABA whose
// marketing_messages_onboarding_status (as last read) is onboarding. It is pure: the catalog, the
// detail page and the send composer all call it with the stored rows.
//
// Rules (mm-api-reference §7): only APPROVED templates can be sent; only MARKETING ones go
// through MM API; a WABA that is not onboarded has no ad sync at all, so none of its templates
// is ever syncing or dormant (they are "Ready, not onboarded": sends fall back); on an onboarded
// WABA a 10-minute sync window follows approval (or the dashboard's first sighting of an approved
// template, when the approval time is unknown), the WABA's onboarding, a dormant template's first
// send, and any 134101 answer; a template unused for more than 7 days is dormant. An onboarding
// status never read ("") is treated as onboarded: the windows are shown rather than hidden.
//
// Every path that learns of an approval (refresh, status webhook, REINSTATED) only records the
// time; whether that starts a window is decided here, so all paths follow one rule.
func SyncState(t models.Template, onboarding string, now time.Time) State {
	status := strings.ToUpper(t.Status)
	if status != "APPROVED" {
		return State{Kind: KindNotSendable, Reason: notSendableReason(t)}
	}
	if cat := strings.ToUpper(t.Category); cat != "MARKETING" {
		if cat == "" {
			cat = "unknown category"
		}
		return State{Kind: KindNotForMMAPI, Reason: cat + " templates go through Cloud API /messages, not MM API."}
	}
	if onboarding != "" && !strings.EqualFold(onboarding, "ONBOARDED") {
		return State{Kind: KindFallback, Reason: "onboarding status " + strings.ToUpper(onboarding) + "."}
	}

	// The window that started last wins; each candidate carries its reason.
	var start time.Time
	var reason string
	consider := func(at *time.Time, why string) {
		if at != nil && !at.IsZero() && at.After(start) {
			start, reason = *at, why
		}
	}
	sr := t.SyncReason
	if sr == "" {
		sr = "sync window"
	}
	// SyncStartedAt first, so that its recorded reason wins a tie with ApprovedAt.
	consider(t.SyncStartedAt, sr)
	consider(t.ApprovedAt, "approved")
	if start.IsZero() && !t.FirstSeenAt.IsZero() {
		// Approved with no time recorded (e.g. a row written before any refresh): the first
		// sighting is the earliest moment the dashboard knows of.
		fs := t.FirstSeenAt
		consider(&fs, ReasonFirstSeen)
	}
	if !start.IsZero() && now.Before(start.Add(SyncWindow)) && !now.Before(start) {
		return State{Kind: KindSyncing, Since: start, ReadyAt: start.Add(SyncWindow), Reason: reason}
	}

	// Dormancy: the last use known is the last send (the dashboard's own, or the latest day
	// Meta's template analytics counted sends), or else the last sync (approval, first sighting
	// or a 134101 window), since a sync needs a use or a new template to happen. A recent
	// analytics read sees every send, campaigns from other platforms too, so it decides; a window
	// that only marks the first sighting of an already synced template then says nothing.
	meta := t.MetaSentReadAt != nil && !t.MetaSentReadAt.After(now) && now.Sub(*t.MetaSentReadAt) < AnalyticsFresh
	last, source := start, "synced"
	if meta && reason == ReasonAdSynced {
		last, source = time.Time{}, ""
	}
	if t.LastSentAt != nil && t.LastSentAt.After(last) {
		last, source = *t.LastSentAt, "console"
	}
	// A day Meta counted sends stays a use however old the read; only "0 sent" needs a fresh one.
	if t.MetaLastSentAt != nil && t.MetaLastSentAt.After(last) {
		last, source = *t.MetaLastSentAt, "meta"
	}
	idle := !last.IsZero() && now.Sub(last) > DormantAfter
	if meta && (idle || last.IsZero()) {
		why := "Meta: 0 sent in the last 7 days (template analytics)"
		if t.MetaLastSentAt != nil {
			why += "; last sends counted by Meta on " + t.MetaLastSentAt.UTC().Format("2 Jan")
		}
		return State{Kind: KindDormant, Since: last, Reason: why}
	}
	if idle {
		why := "no send seen by the console; approved or first seen " + humanAgo(now.Sub(last))
		if source == "console" {
			why = "no send seen by the console since " + humanAgo(now.Sub(last))
		}
		if t.MetaSentReadAt == nil {
			why += " (Meta's template analytics not available for this WABA)"
		}
		return State{Kind: KindDormant, Since: last, Reason: why}
	}
	why := "approved marketing template synced within 7 days"
	switch source {
	case "console":
		why = "sent by the console " + humanAgo(now.Sub(last))
	case "meta":
		why = "Meta: sent on " + last.UTC().Format("2 Jan") + " (template analytics)"
	}
	return State{Kind: KindReady, Since: last, Reason: why}
}

func humanAgo(d time.Duration) string {
	days := int(d / (24 * time.Hour))
	switch {
	case days == 1:
		return "1 day ago"
	case days > 1:
		return fmt.Sprintf("%d days ago", days)
	case d < time.Hour:
		// "0 h ago" reads as a glitch right after a send.
		return "less than an hour ago"
	}
	return fmt.Sprintf("%d h ago", int(d/time.Hour))
}

// notSendableReason says, per status, why a template cannot be sent and what to do.
func notSendableReason(t models.Template) string {
	switch strings.ToUpper(t.Status) {
	case "PENDING":
		return "Pending: Meta is still reviewing the template."
	case "REJECTED":
		r := t.RejectedReason
		if r == "" || r == "NONE" {
			r = "no reason given"
		}
		return "Rejected by Meta (" + r + "): edit it and submit again."
	case "PAUSED":
		return "Paused by Meta for low quality (sends answer 132015): edit it or wait until it is unpaused."
	case "DISABLED":
		return "Disabled by Meta after repeated pauses (sends answer 132016): create a new template."
	case "IN_APPEAL":
		return "In appeal: the rejection is being reviewed again."
	case "PENDING_DELETION":
		return "Pending deletion: it is being deleted and cannot be used."
	case "DELETED":
		if t.GoneAt != nil {
			return "Deleted: Meta no longer lists this template."
		}
		return "Deleted at Meta."
	case "ARCHIVED":
		return "Archived: unarchive it in WhatsApp Manager to use it."
	case "LIMIT_EXCEEDED":
		return "Limit exceeded: the WABA has more templates than allowed."
	case "LOCKED":
		return "Locked: it cannot be edited or sent for now."
	case "":
		return "Status unknown."
	}
	return "Status " + t.Status + ": only APPROVED templates can be sent."
}
