package templates

import (
	"context"
	"strings"
	"testing"
	"time"

	"mmconsole/internal/i18n"
	"mmconsole/models"
)

// inLang is a context whose reader reads lang.
func inLang(t *testing.T, lang string) context.Context {
	t.Helper()
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	return i18n.WithLocale(context.Background(), cat.Locale(lang))
}

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
			// A window's reason is its stored cause; the other states' reasons are words.
			why := got.Why(context.Background())
			if got.Kind == KindSyncing {
				why = got.Reason
			}
			if got.Kind != tc.want {
				t.Fatalf("kind = %s (%s), want %s", got.Kind, why, tc.want)
			}
			if !tc.readyAt.IsZero() && !got.ReadyAt.Equal(tc.readyAt) {
				t.Errorf("readyAt = %s, want %s", got.ReadyAt, tc.readyAt)
			}
			if !strings.Contains(why, tc.reasonPart) {
				t.Errorf("reason %q does not mention %q", why, tc.reasonPart)
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
		if got := st.Text(context.Background(), now.Add(tc.after)); !strings.Contains(got, tc.want) {
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
		if got := HumanTTL(context.Background(), tc.s, tc.cat); got != tc.want {
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

// The reasons say how long ago in the reader's language, in whole units (i18n.Ago): "1 hour
// ago", never "1 hours ago" or "0 h ago"; "hace 3 días"; "há 25 horas".
func TestReasonsSayHowLongAgo(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	sent := func(ago time.Duration) models.Template {
		return models.Template{Status: "APPROVED", Category: "MARKETING", FirstSeenAt: now.Add(-30 * 24 * time.Hour),
			ApprovedAt: at(-30 * 24 * time.Hour), LastSentAt: at(-ago)}
	}
	for _, tc := range []struct {
		lang string
		ago  time.Duration
		want string
	}{
		{"en", time.Hour, "sent by the console 1 hour ago"},
		{"en", 10 * time.Minute, "sent by the console 10 minutes ago"},
		{"en", 72 * time.Hour, "sent by the console 3 days ago"},
		{"en", 5 * time.Hour, "sent by the console 5 hours ago"},
		{"en", 9 * 24 * time.Hour, "no send seen by the console since 9 days ago"},
		{"es", 72 * time.Hour, "enviada por la consola hace 3 días"},
		{"es", 9 * 24 * time.Hour, "la consola no vio ningún envío desde hace 9 días"},
		{"pt-BR", 25 * time.Hour, "enviado pelo console há 25 horas"},
	} {
		st := SyncState(sent(tc.ago), "ONBOARDED", now)
		if got := st.Why(inLang(t, tc.lang)); !strings.Contains(got, tc.want) {
			t.Errorf("%s, sent %s ago: %q, want %q", tc.lang, tc.ago, got, tc.want)
		}
	}
}

// Every state's words follow the reader: Spanish and Portuguese readers get no English, and
// without a reader (logs) the words are English.
func TestStateWordsInSpanishAndPortuguese(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	syncing := SyncState(models.Template{Status: "APPROVED", Category: "MARKETING", SyncStartedAt: at(-3 * time.Minute),
		SyncReason: ReasonMeta134101}, "ONBOARDED", now)
	rejected := SyncState(models.Template{Status: "REJECTED", Category: "MARKETING", RejectedReason: "INVALID_FORMAT"}, "", now)
	fallback := SyncState(models.Template{Status: "APPROVED", Category: "MARKETING"}, "ELIGIBLE", now)
	for _, tc := range []struct {
		lang        string
		want, wantN []string
	}{
		{"es", []string{"Sincronizando, lista en unos 7 min", "Meta respondió “plantilla todavía sincronizando” (error 134101)",
			"Rechazada por Meta (INVALID_FORMAT)", "los envíos pasan al respaldo de Cloud API", "estado de incorporación ELIGIBLE"},
			[]string{"Syncing", "ready in", "Rejected", "fall back", "onboarding status"}},
		{"pt-BR", []string{"Sincronizando, pronto em cerca de 7 min", "a Meta respondeu “modelo ainda sincronizando” (erro 134101)",
			"Rejeitado pela Meta (INVALID_FORMAT)", "os envios usam o fallback para a Cloud API", "status de integração ELIGIBLE"},
			[]string{"Syncing", "ready in", "Rejected", "fall back", "onboarding status"}},
	} {
		ctx := inLang(t, tc.lang)
		text := strings.Join([]string{syncing.Text(ctx, now), syncing.Explain(ctx), rejected.Why(ctx),
			fallback.Text(ctx, now), fallback.Explain(ctx)}, " | ")
		for _, w := range tc.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: %q lacks %q", tc.lang, text, w)
			}
		}
		for _, w := range tc.wantN {
			if strings.Contains(text, w) {
				t.Errorf("%s: %q still reads English %q", tc.lang, text, w)
			}
		}
	}
	if why := rejected.Why(context.Background()); !strings.Contains(why, "Rejected by Meta (INVALID_FORMAT)") {
		t.Errorf("the reason without a reader = %q, want English", why)
	}
}

func TestHumanTTLInSpanishAndPortuguese(t *testing.T) {
	n := func(v int) *int { return &v }
	for _, tc := range []struct {
		lang string
		s    *int
		want string
	}{
		{"es", nil, "30 días (predeterminado)"}, {"es", n(86400), "1 día"}, {"es", n(45001), "45.001 s"},
		{"pt-BR", nil, "30 dias (padrão)"}, {"pt-BR", n(172800), "2 dias"},
	} {
		if got := HumanTTL(inLang(t, tc.lang), tc.s, "MARKETING"); got != tc.want {
			t.Errorf("%s: HumanTTL(%v) = %q, want %q", tc.lang, tc.s, got, tc.want)
		}
	}
}

// BenchmarkSyncState is the cost of one template's state, which the catalog pays for every
// template in scope (up to 6000 per WABA) on each page: the reason's words are only built when a
// page reads them, so a state costs one small allocation, not a catalog lookup per row.
func BenchmarkSyncState(b *testing.B) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	approved, sent := now.Add(-30*24*time.Hour), now.Add(-25*time.Hour)
	t := models.Template{Status: "APPROVED", Category: "MARKETING", ApprovedAt: &approved, LastSentAt: &sent, FirstSeenAt: approved}
	for b.Loop() {
		_ = SyncState(t, "ONBOARDED", now)
	}
}
