package templates

import (
	"context"
	"math"
	"strings"
	"time"

	"mmconsole/internal/i18n"
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
	// Reason is the stored cause of a Syncing state's window (one of the Reason constants). The
	// other states' reasons are words, chosen when shown: Why.
	Reason string
	// why says why in the reader's language; nil when the reason is Reason (or the State was
	// built by hand), which PlainReason translates. Building it costs nothing until it is read,
	// which matters when the catalog derives the state of thousands of templates.
	why func(ctx context.Context) string
	// byMeta: a Dormant state decided by Meta's template analytics rather than the console.
	byMeta bool
}

// because gives st the reason why, said when it is read.
func because(st State, why func(ctx context.Context) string) State {
	st.why = why
	return st
}

// Why is the state's reason in the language of ctx (English without a reader, for logs).
func (s State) Why(ctx context.Context) string {
	if s.why != nil {
		return s.why(ctx)
	}
	return PlainReason(ctx, s.Reason)
}

// MinutesLeft is the whole minutes until ReadyAt (rounded up, at least 1) for a Syncing state.
func (s State) MinutesLeft(now time.Time) int {
	m := int(math.Ceil(s.ReadyAt.Sub(now).Minutes()))
	return max(m, 1)
}

// Text is the state in one line, as the badge and its countdown show it.
func (s State) Text(ctx context.Context, now time.Time) string {
	switch s.Kind {
	case KindSyncing:
		return i18n.N(ctx, "templates.state.syncing_left", s.MinutesLeft(now))
	case KindFallback:
		return i18n.T(ctx, "templates.state.fallback_line")
	}
	return s.Kind.Label(ctx)
}

// DormantSource says which source decided a Dormant state, in a few words: Meta's template
// analytics, or the console's own sends when analytics are not available.
func (s State) DormantSource(ctx context.Context) string {
	switch {
	case s.Kind != KindDormant:
		return ""
	case s.byMeta:
		return i18n.T(ctx, "templates.state.dormant_by_meta")
	}
	return i18n.T(ctx, "templates.state.dormant_by_console")
}

// Explain is the longer sentence shown next to the badge (title and detail page).
func (s State) Explain(ctx context.Context) string {
	why := s.Why(ctx)
	switch s.Kind {
	case KindSyncing:
		return i18n.T(ctx, "templates.state.explain_syncing", "Reason", why)
	case KindReady:
		return i18n.T(ctx, "templates.state.explain_ready", "Reason", why)
	case KindFallback:
		return i18n.T(ctx, "templates.state.explain_fallback", "Reason", why)
	case KindDormant:
		return i18n.T(ctx, "templates.state.explain_dormant", "Reason", why)
	}
	return why
}

// Reasons recorded with a sync window (models.Template.SyncReason). They are stored as they are
// (rows keep them, and they are English in logs); PlainReason turns them into the reader's words.
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
	// reasonUnrecorded: a window whose cause was not recorded (a row from before reasons were).
	reasonUnrecorded = "sync window"
	// reasonDormantSendOld is how the composer recorded a dormant template's first send.
	reasonDormantSendOld = "first send after 7 days unused"
)

// SyncState derives a template's MM API state at now, for a WABA whose
// marketing_messages_onboarding_status (as last read) is onboarding. It is pure: the catalog, the
// detail page and the send composer all call it with the stored rows. Its reasons are words
// chosen when shown (State.Why).
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
		return because(State{Kind: KindNotSendable}, notSendableReason(t))
	}
	if cat := strings.ToUpper(t.Category); cat != "MARKETING" {
		return because(State{Kind: KindNotForMMAPI}, func(ctx context.Context) string {
			if cat == "" {
				return i18n.T(ctx, "templates.reason.no_category")
			}
			return i18n.T(ctx, "templates.reason.not_marketing", "Category", cat)
		})
	}
	if onboarding != "" && !strings.EqualFold(onboarding, "ONBOARDED") {
		status := strings.ToUpper(onboarding)
		return because(State{Kind: KindFallback}, func(ctx context.Context) string {
			return i18n.T(ctx, "templates.reason.onboarding", "Status", status)
		})
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
		sr = reasonUnrecorded
	}
	// SyncStartedAt first, so that its recorded reason wins a tie with ApprovedAt.
	consider(t.SyncStartedAt, sr)
	consider(t.ApprovedAt, ReasonApproved)
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
	ago := now.Sub(last)
	if meta && (idle || last.IsZero()) {
		metaLast := t.MetaLastSentAt
		return because(State{Kind: KindDormant, Since: last, byMeta: true}, func(ctx context.Context) string {
			if metaLast != nil {
				return i18n.T(ctx, "templates.reason.meta_none_since", "Date", i18n.Date(ctx, *metaLast))
			}
			return i18n.T(ctx, "templates.reason.meta_none")
		})
	}
	if idle {
		console, noAnalytics := source == "console", t.MetaSentReadAt == nil
		return because(State{Kind: KindDormant, Since: last}, func(ctx context.Context) string {
			why := i18n.T(ctx, "templates.reason.unused_since_sync", "Ago", i18n.Ago(ctx, ago))
			if console {
				why = i18n.T(ctx, "templates.reason.unused_since_send", "Ago", i18n.Ago(ctx, ago))
			}
			if noAnalytics {
				why = i18n.T(ctx, "templates.reason.no_analytics", "Reason", why)
			}
			return why
		})
	}
	return because(State{Kind: KindReady, Since: last}, func(ctx context.Context) string {
		switch source {
		case "console":
			return i18n.T(ctx, "templates.reason.sent_by_console", "Ago", i18n.Ago(ctx, ago))
		case "meta":
			return i18n.T(ctx, "templates.reason.sent_per_meta", "Date", i18n.Date(ctx, last))
		}
		return i18n.T(ctx, "templates.reason.synced_recently")
	})
}
