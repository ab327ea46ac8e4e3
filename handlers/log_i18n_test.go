package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"mmconsole/handlers"
	"mmconsole/internal/i18n"
	"mmconsole/internal/webhook"
	"mmconsole/models"
)

// catalog is the embedded catalog; a test that cannot load it cannot say anything about words.
func catalog(t *testing.T) *i18n.Catalog {
	t.Helper()
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func getIn(t *testing.T, e env, lang, path string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Accept-Language", lang)
	return do(t, e.app, req)
}

// The log, a message's page, the search page and the filter's messages read in Spanish and in
// Portuguese when the browser asks for them, with none of the English sentences left; the
// refused deliveries' reasons, stored as codes, are shown in the reader's language too.
func TestLogMessageAndSearchSpeakSpanishAndPortuguese(t *testing.T) {
	staff := models.User{ID: 3, Staff: true, Role: models.RoleAdmin}
	e := newEnv(t, &staff, 1<<20)
	seedTenants(t, e)
	signedPost(t, e, failed131050("wamid.S0")) // an error code, explained with what to do
	body := status("100", "wamid.R1", "sent", "marketing_lite")
	for _, sig := range []string{"", "sha256=" + strings.Repeat("ab", 32), "sha1=nothex"} {
		if code, _ := do(t, e.app, post(body, sig)); code != http.StatusUnauthorized {
			t.Fatalf("signature %q: %d, want 401", sig, code)
		}
	}
	if err := e.svc.FlushRejections(context.Background()); err != nil {
		t.Fatal(err)
	}
	type page struct {
		path      string
		status    int
		want, not []string
	}
	english := map[string]page{
		"log": {"/log", 200, nil, []string{"Webhook log", "events match", "Filter the log", "Raw JSON", "Rejected deliveries",
			">missing signature<", ">bad signature<", ">malformed signature<", "Cloud API fallback", "Inbound message", "What to do:"}},
		"messages": {"/log?view=messages", 200, nil, []string{"messages match", "First seen", "stopped: failed", "Export these messages"}},
		"filter":   {"/log?error_code=abc&from=yesterday", 422, nil, []string{"An error code is a number", "A date and time such as", "nothing was searched"}},
		"message":  {"/messages/wamid.A1", 200, nil, []string{"Timeline", "not yet", "Delivered", "All its events in the log", "30 days"}},
		"search":   {"/search?q=no-such-template", 200, nil, []string{"Nothing you can see matches"}},
	}
	// The English words the other languages must not show are on the English pages: the check
	// below looks for words that exist.
	for _, p := range english {
		_, got := getIn(t, e, "en", p.path)
		for _, w := range p.not {
			if !strings.Contains(got, w) {
				t.Errorf("en %s lacks %q", p.path, w)
			}
		}
	}
	for _, lang := range []struct {
		code  string
		words map[string][]string
	}{
		{"es", map[string][]string{
			"log":      {"Registro de webhooks", "3 eventos coinciden", "Filtrar el registro", "JSON sin procesar", "Entregas rechazadas", ">sin firma<", ">firma incorrecta<", ">firma mal formada<", "Qué hacer:"},
			"messages": {"3 mensajes coinciden", "Visto por primera vez", "detenido: falló", "Exportar estos mensajes como CSV"},
			"filter":   {"Un código de error es un número", "Una fecha y hora como", "El filtro tiene 2 problemas"},
			"message":  {"Cronología", "Falló", "Entregado", "Todos sus eventos en el registro", "30 días"},
			"search":   {"Nada de lo que puedes ver coincide con “no-such-template”."},
		}},
		{"pt-BR", map[string][]string{
			"log":      {"Registro de webhooks", "3 eventos correspondem", "Filtrar o registro", "JSON bruto", "Entregas rejeitadas", ">sem assinatura<", ">assinatura incorreta<", ">assinatura malformada<", "O que fazer:"},
			"messages": {"3 mensagens correspondem", "Visto pela primeira vez", "parado: falhou", "Exportar estas mensagens como CSV"},
			"filter":   {"Um código de erro é um número", "Uma data e hora como", "O filtro tem 2 problemas"},
			"message":  {"Linha do tempo", "Falhou", "Entregue", "Todos os eventos dela no registro", "30 dias"},
			"search":   {"Nada do que você pode ver corresponde a “no-such-template”."},
		}},
	} {
		for name, p := range english {
			code, got := getIn(t, e, lang.code, p.path)
			if code != p.status {
				t.Errorf("%s %s: %d, want %d", lang.code, p.path, code, p.status)
			}
			for _, w := range lang.words[name] {
				if !strings.Contains(got, w) {
					t.Errorf("%s %s lacks %q", lang.code, p.path, w)
				}
			}
			for _, w := range p.not {
				if strings.Contains(got, w) {
					t.Errorf("%s %s still reads %q", lang.code, p.path, w)
				}
			}
		}
	}
	// The CSV is for machines: its TTL states stay English whatever the reader's language.
	if _, csv := getIn(t, e, "es", "/log/export.csv?view=messages"); !strings.Contains(csv, "stopped: failed") {
		t.Errorf("the Spanish reader's CSV does not keep the English TTL state: %q", csv)
	}
}

// Every reason a refused delivery or entry is stored with has words in every language; a
// reason the catalogs do not know would be shown to Spanish readers in English.
func TestEveryRefusalReasonHasWords(t *testing.T) {
	cat := catalog(t)
	reasons := []string{handlers.RefusedTooLarge, handlers.RefusedSlow, handlers.RefusedBroken, webhook.ReasonTooLarge,
		webhook.ReasonSlow, webhook.RefusedEntry, "missing signature", "malformed signature", "bad signature"}
	for _, l := range i18n.Langs() {
		ctx := i18n.WithLocale(context.Background(), cat.Locale(l.Code))
		for _, r := range reasons {
			got := webhook.ReasonLabel(ctx, r)
			if got == "" || l.Code != "en" && got == r {
				t.Errorf("%s: reason %q reads %q", l.Code, r, got)
			}
		}
	}
}
