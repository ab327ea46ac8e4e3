package e2e

import (
	"testing"
	"time"

	"mmconsole/models"
)

// TestSendPagesInSpanishAndPortuguese opens the test-send composer (with a template chosen, so
// its checks, preview and request show), the history and the saved recipients at phone width
// for a marketer who chose Spanish, then Portuguese: the pages speak that language, the longer
// words do not make them scroll sideways, and axe finds nothing in either theme.
func TestSendPagesInSpanishAndPortuguese(t *testing.T) {
	srv := startServer(t, nil)
	sale := templateRow(t, srv, "summer_sale", "en_US")
	for _, tc := range []struct {
		lang                          string
		composer, history, recipients []string
	}{
		{"es", []string{"Envío de prueba", "Revisiones antes de enviar", "Enviar mensaje de prueba", "Vista previa"},
			[]string{"Envíos de prueba"}, []string{"Destinatarios de prueba guardados", "Guardar destinatario"}},
		{"pt-BR", []string{"Envio de teste", "Verificações antes do envio", "Enviar mensagem de teste", "Prévia"},
			[]string{"Envios de teste"}, []string{"Destinatários de teste salvos", "Salvar destinatário"}},
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
				{"send-" + tc.lang, "/send?template=" + u(sale.ID), tc.composer},
				{"sends-" + tc.lang, "/sends", tc.history},
				{"recipients-" + tc.lang, "/send/recipients", tc.recipients},
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
