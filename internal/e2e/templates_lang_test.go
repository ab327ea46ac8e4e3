package e2e

import (
	"context"
	"testing"
	"time"

	"mmconsole/models"
)

// TestTemplatePagesInSpanishAndPortuguese opens the catalog and a template's page (with its TTL
// form, as a marketer) at phone width for a reader who chose Spanish, then Portuguese: the
// pages speak that language, the longer words do not make the page scroll sideways, and axe
// finds nothing in either theme.
func TestTemplatePagesInSpanishAndPortuguese(t *testing.T) {
	srv := startServer(t, nil)
	sale := templateRow(t, srv, "summer_sale", "en_US")
	for _, tc := range []struct {
		lang            string
		catalog, detail []string
	}{
		{"es", []string{"Plantillas", "Sincronizar ahora", "Estado en MM API"}, []string{"Tiempo de vida (TTL)", "Guardar TTL en Meta", "Vista previa"}},
		{"pt-BR", []string{"Modelos", "Sincronizar agora", "Estado na MM API"}, []string{"Tempo de vida (TTL)", "Salvar TTL na Meta", "Pré-visualização"}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			err := srv.App.DB().Model(&models.User{}).Where("email = ?", demoMarketer).Update("language", tc.lang).Error
			if err != nil {
				t.Fatal(err)
			}
			phone := browser(t, 375)
			signIn(t, phone, srv, demoMarketer)
			for _, p := range []struct {
				name, path string
				shows      []string
			}{
				{"templates-" + tc.lang, "/templates", tc.catalog},
				{"template-" + tc.lang, "/templates/" + u(sale.ID), tc.detail},
			} {
				open(t, phone, srv, p.path)
				see(t, phone, "main", 5*time.Second, p.shows...)
				if lang := eval[string](t, phone, `document.documentElement.lang`); lang != tc.lang {
					t.Errorf("%s: <html lang=%q>, want %q", p.name, lang, tc.lang)
				}
				noSidewaysScroll(t, phone, p.name)
				checkBothThemes(t, phone, p.name, 375)
			}
		})
	}
}

// noSidewaysScroll fails when something on the page makes it wider than the viewport.
func noSidewaysScroll(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	if over := eval[int](t, ctx, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); over > 0 {
		t.Errorf("%s: the page scrolls sideways by %d px; widest: %s", page, over, eval[string](t, ctx, overflowingJS))
	}
}
