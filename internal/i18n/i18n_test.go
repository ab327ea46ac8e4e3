package i18n

import (
	"context"
	"testing"
	"time"
)

func TestLanguageChoice(t *testing.T) {
	cat, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ header, want string }{
		{"", "en"},
		{"es-MX,es;q=0.9,en;q=0.8", "es"},
		{"es-419", "es"},
		{"pt-BR,pt;q=0.9", "pt-BR"},
		{"pt", "pt-BR"},
		{"fr-FR,de;q=0.8", "en"},
		{"en-US,es;q=0.5", "en"},
		{"garbage;;q=x", "en"},
	} {
		if got := cat.Match(tc.header).Lang().Code; got != tc.want {
			t.Errorf("Accept-Language %q: %s, want %s", tc.header, got, tc.want)
		}
	}
	if cat.Locale("xx").Lang().Code != "en" || cat.Locale("pt-BR").Lang().Code != "pt-BR" {
		t.Error("Locale by code")
	}
}

func TestWordsNumbersAndDatesFollowTheLanguage(t *testing.T) {
	cat, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 29, 20, 18, 0, 0, time.UTC)
	for _, tc := range []struct {
		code, nav, num, pct, date, ago1, ago5 string
	}{
		{"en", "Overview", "1,234,567", "25.3%", "29 Nov 2026", "1 minute ago", "5 days ago"},
		{"es", "Resumen", "1.234.567", "25,3", "29 nov 2026", "hace 1 minuto", "hace 5 días"},
		{"pt-BR", "Visão geral", "1.234.567", "25,3%", "29 de nov. de 2026", "há 1 minuto", "há 5 dias"},
	} {
		ctx := WithLocale(context.Background(), cat.Locale(tc.code))
		check := func(what, got, want string) {
			t.Helper()
			if got != want && !(what == "pct" && len(got) >= len(want) && got[:len(want)] == want) {
				t.Errorf("%s %s: %q, want %q", tc.code, what, got, want)
			}
		}
		check("nav", T(ctx, "nav.overview"), tc.nav)
		check("num", Num(ctx, 1234567), tc.num)
		check("pct", Pct(ctx, 0.253, 1), tc.pct)
		check("date", Date(ctx, at), tc.date)
		check("ago1", Ago(ctx, 61*time.Second), tc.ago1)
		check("ago5", Ago(ctx, 5*24*time.Hour+time.Hour), tc.ago5)
		if LangCode(ctx) != tc.code {
			t.Errorf("LangCode %s", LangCode(ctx))
		}
	}
	// No locale in the context reads English; an unknown key comes back as itself.
	if T(context.Background(), "nav.log") != "Webhook log" || T(context.Background(), "no.such.key") != "no.such.key" {
		t.Error("fallbacks")
	}
}

func TestHTMLMessagesEscapeTheirArguments(t *testing.T) {
	got := HTMLString(context.Background(), "auth.invite.intro", "Email", `<script>x</script>@a.b`)
	want := "You were invited to MM Console as <strong>&lt;script&gt;x&lt;/script&gt;@a.b</strong>. This link works once."
	if got != want {
		t.Fatalf("%q\nwant %q", got, want)
	}
	if Text(context.Background(), "layout.sandbox_banner")[:13] != "Sandbox mode." {
		t.Error("Text strips tags")
	}
}
