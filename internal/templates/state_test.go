package templates

import (
	"strings"
	"testing"
	"time"

	"mmconsole/models"
)

func TestSyncState(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	day := 24 * time.Hour
	// tmpl is a template with its WABA's onboarding status ("" = never read).
	type tmpl struct {
		models.Template
		onboarding string
	}
	mk := func(status, cat string) tmpl {
		return tmpl{Template: models.Template{Status: status, Category: cat, FirstSeenAt: now.Add(-30 * day), ApprovedAt: at(-30 * day), LastSentAt: at(-day)}}
	}
	with := func(t tmpl, f func(*tmpl)) tmpl { f(&t); return t }
	tests := []struct {
		name       string
		t          tmpl
		want       Kind
		readyAt    time.Time
		reasonPart string
	}{
		{"first seen approved 3 min ago syncs", with(mk("APPROVED", "MARKETING"), func(t *tmpl) {
			t.FirstSeenAt, t.ApprovedAt, t.LastSentAt = now.Add(-3*time.Minute), at(-3*time.Minute), nil
			t.SyncStartedAt, t.SyncReason = at(-3*time.Minute), ReasonFirstSeen
		}), KindSyncing, now.Add(7 * time.Minute), "first seen"},
		{"approved 10 min ago is ready", with(mk("APPROVED", "MARKETING"), func(t *tmpl) {
			t.FirstSeenAt, t.ApprovedAt, t.LastSentAt = now.Add(-time.Hour), at(-10*time.Minute), nil
		}), KindReady, time.Time{}, ""},
		{"approved 9 min ago, no reason recorded", with(mk("APPROVED", "MARKETING"), func(t *tmpl) {
			t.ApprovedAt, t.LastSentAt = at(-9*time.Minute), nil
		}), KindSyncing, now.Add(time.Minute), "approved"},
		{"approved with no time uses first sighting", with(mk("APPROVED", "MARKETING"), func(t *tmpl) {
			t.FirstSeenAt, t.ApprovedAt, t.LastSentAt = now.Add(-time.Minute), nil, nil
		}), KindSyncing, now.Add(9 * time.Minute), "first seen"},
		{"sent yesterday is ready", mk("APPROVED", "MARKETING"), KindReady, time.Time{}, ""},
		{"unused 8 days is dormant", with(mk("APPROVED", "MARKETING"), func(t *tmpl) { t.LastSentAt = at(-8 * day) }), KindDormant, time.Time{}, "no send seen by the console since 8 days"},
		{"never sent, approved 8 days ago is dormant", with(mk("APPROVED", "MARKETING"), func(t *tmpl) {
			t.LastSentAt, t.ApprovedAt = nil, at(-8*day)
		}), KindDormant, time.Time{}, "no send seen by the console; approved or first seen 8 days"},
		{"dormant send starts a window", with(mk("APPROVED", "MARKETING"), func(t *tmpl) {
			t.LastSentAt, t.SyncStartedAt, t.SyncReason = at(-2*time.Minute), at(-2*time.Minute), ReasonDormantSend
		}), KindSyncing, now.Add(8 * time.Minute), "7+ days"},
		{"134101 starts a window", with(mk("APPROVED", "MARKETING"), func(t *tmpl) {
			t.SyncStartedAt, t.SyncReason = at(-time.Minute), ReasonMeta134101
		}), KindSyncing, now.Add(9 * time.Minute), "134101"},
		{"window in the past is over", with(mk("APPROVED", "MARKETING"), func(t *tmpl) {
			t.SyncStartedAt, t.SyncReason = at(-11*time.Minute), ReasonMeta134101
		}), KindReady, time.Time{}, ""},
		{"utility goes through /messages", mk("APPROVED", "UTILITY"), KindNotForMMAPI, time.Time{}, "/messages"},
		{"authentication goes through /messages", mk("APPROVED", "AUTHENTICATION"), KindNotForMMAPI, time.Time{}, "/messages"},
		{"pending", mk("PENDING", "MARKETING"), KindNotSendable, time.Time{}, "reviewing"},
		{"rejected with reason", with(mk("REJECTED", "MARKETING"), func(t *tmpl) { t.RejectedReason = "INVALID_FORMAT" }), KindNotSendable, time.Time{}, "INVALID_FORMAT"},
		{"paused", mk("PAUSED", "MARKETING"), KindNotSendable, time.Time{}, "132015"},
		{"disabled", mk("DISABLED", "MARKETING"), KindNotSendable, time.Time{}, "132016"},
		{"in appeal", mk("IN_APPEAL", "MARKETING"), KindNotSendable, time.Time{}, "appeal"},
		{"gone from Meta", with(mk("DELETED", "MARKETING"), func(t *tmpl) { t.GoneAt = at(-time.Hour) }), KindNotSendable, time.Time{}, "no longer lists"},
		{"paused utility is not sendable first", mk("PAUSED", "UTILITY"), KindNotSendable, time.Time{}, "Paused"},
		{"not onboarded: approved 3 min ago is ready to fall back, no window", with(mk("APPROVED", "MARKETING"), func(t *tmpl) {
			t.ApprovedAt, t.SyncStartedAt, t.SyncReason = at(-3*time.Minute), at(-3*time.Minute), ReasonApproved
			t.onboarding = "ELIGIBLE"
		}), KindFallback, time.Time{}, "ELIGIBLE"},
		{"not onboarded: unused 30 days is not dormant", with(mk("APPROVED", "MARKETING"), func(t *tmpl) {
			t.LastSentAt, t.onboarding = at(-30*day), "NOT_ELIGIBLE"
		}), KindFallback, time.Time{}, "NOT_ELIGIBLE"},
		{"not onboarded: utility still goes through /messages", with(mk("APPROVED", "UTILITY"), func(t *tmpl) { t.onboarding = "ELIGIBLE" }), KindNotForMMAPI, time.Time{}, "/messages"},
		{"not onboarded: paused is not sendable", with(mk("PAUSED", "MARKETING"), func(t *tmpl) { t.onboarding = "ELIGIBLE" }), KindNotSendable, time.Time{}, "132015"},
		// Meta's template analytics: a recent read decides, and the reason names the source.
		{"Meta counted sends 2 days ago: ready though the console never sent", with(mk("APPROVED", "MARKETING"), func(t *tmpl) {
			t.LastSentAt, t.MetaSentReadAt, t.MetaLastSentAt = nil, at(-time.Hour), at(-2*day)
		}), KindReady, time.Time{}, "Meta: sent on"},
		{"Meta: 0 sent in 7 days, console sent 8 days ago", with(mk("APPROVED", "MARKETING"), func(t *tmpl) {
			t.LastSentAt, t.MetaSentReadAt, t.MetaLastSentAt = at(-8*day), at(-time.Hour), at(-9*day)
		}), KindDormant, time.Time{}, "Meta: 0 sent in the last 7 days"},
		{"Meta: 0 sent, first seen already synced 1 h ago", with(mk("APPROVED", "MARKETING"), func(t *tmpl) {
			t.LastSentAt, t.ApprovedAt, t.MetaSentReadAt = nil, nil, at(-time.Minute)
			t.SyncStartedAt, t.SyncReason = at(-time.Hour), ReasonAdSynced
		}), KindDormant, time.Time{}, "Meta: 0 sent in the last 7 days"},
		{"without Meta, first seen already synced 1 h ago is ready", with(mk("APPROVED", "MARKETING"), func(t *tmpl) {
			t.LastSentAt, t.ApprovedAt = nil, nil
			t.SyncStartedAt, t.SyncReason = at(-time.Hour), ReasonAdSynced
		}), KindReady, time.Time{}, "synced"},
		{"a stale Meta read does not claim 0 sent", with(mk("APPROVED", "MARKETING"), func(t *tmpl) {
			t.LastSentAt, t.MetaSentReadAt, t.MetaLastSentAt = at(-2*day), at(-3*day), nil
		}), KindReady, time.Time{}, "sent by the console"},
		{"a stale Meta read's sends still count as use", with(mk("APPROVED", "MARKETING"), func(t *tmpl) {
			t.LastSentAt, t.MetaSentReadAt, t.MetaLastSentAt = at(-9*day), at(-3*day), at(-4*day)
		}), KindReady, time.Time{}, "Meta: sent on"},
		{"onboarded: approved 3 min ago syncs", with(mk("APPROVED", "MARKETING"), func(t *tmpl) {
			t.ApprovedAt, t.LastSentAt, t.onboarding = at(-3*time.Minute), nil, "ONBOARDED"
		}), KindSyncing, now.Add(7 * time.Minute), "approved"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := SyncState(tc.t.Template, tc.t.onboarding, now)
			if got.Kind != tc.want {
				t.Fatalf("kind = %s (%s), want %s", got.Kind, got.Reason, tc.want)
			}
			if !tc.readyAt.IsZero() && !got.ReadyAt.Equal(tc.readyAt) {
				t.Errorf("readyAt = %s, want %s", got.ReadyAt, tc.readyAt)
			}
			if !strings.Contains(got.Reason, tc.reasonPart) {
				t.Errorf("reason %q does not mention %q", got.Reason, tc.reasonPart)
			}
		})
	}
}

func TestSyncingTextCountsDown(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	st := State{Kind: KindSyncing, ReadyAt: now.Add(7 * time.Minute)}
	for _, tc := range []struct {
		after time.Duration
		want  string
	}{{0, "about 7 min"}, {3*time.Minute + 30*time.Second, "about 4 min"}, {6*time.Minute + 59*time.Second, "about 1 min"}} {
		if got := st.Text(now.Add(tc.after)); !strings.Contains(got, tc.want) {
			t.Errorf("after %s: %q, want %q", tc.after, got, tc.want)
		}
	}
}

func TestHumanTTL(t *testing.T) {
	n := func(v int) *int { return &v }
	for _, tc := range []struct {
		s    *int
		cat  string
		want string
	}{
		{nil, "MARKETING", "30 days (default)"}, {nil, "AUTHENTICATION", "10 min (default)"},
		{n(43200), "", "12 h"}, {n(86400), "", "1 day"}, {n(2592000), "", "30 days"}, {n(90), "", "90 s"}, {n(600), "", "10 min"},
	} {
		if got := HumanTTL(tc.s, tc.cat); got != tc.want {
			t.Errorf("HumanTTL(%v, %s) = %q, want %q", tc.s, tc.cat, got, tc.want)
		}
	}
}

func TestSegmentsMarkVariables(t *testing.T) {
	got := Segments("Hi {{first_name}}, {{1}} off!")
	want := []Segment{{"Hi ", false}, {"{{first_name}}", true}, {", ", false}, {"{{1}}", true}, {" off!", false}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("segment %d = %v, want %v", i, got[i], want[i])
		}
	}
}

// The reasons say "less than an hour ago" and "1 day ago", never "0 h ago" or "1 days ago".
func TestHumanAgo(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "less than an hour ago"}, {59 * time.Minute, "less than an hour ago"}, {time.Hour, "1 h ago"},
		{23 * time.Hour, "23 h ago"}, {25 * time.Hour, "1 day ago"}, {72 * time.Hour, "3 days ago"},
	} {
		if got := humanAgo(tc.d); got != tc.want {
			t.Errorf("humanAgo(%s) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
