package send_test

import (
	"html"
	"strconv"
	"strings"
	"testing"
)

// TestComposerSpeaksSpanishAndPortuguese: the composer, its checks (a US number, a TTL that is
// not a number, a template that is not for MM API), the rules' own messages and the history page
// are in the browser's language; Meta's tokens stay as they are and no English is left.
func TestComposerSpeaksSpanishAndPortuguese(t *testing.T) {
	e := newEnv(t, false)
	for _, tc := range []struct {
		lang          string
		page, preview []string
		history       string
	}{
		{
			lang: "es",
			page: []string{"Envío de prueba", "Revisiones antes de enviar", "Enviar mensaje de prueba", "Plantilla e idioma",
				"Tiempo de vida (TTL)", "<code>CLOUD_API_FALLBACK</code> (por defecto)", "no se pueden enviar por MM API"},
			preview: []string{"Es un número de EE. UU. (código de área 212)", "131049",
				"TTL: escribe el TTL como un número de horas", "✕ Impide el envío", "! Va a fallar"},
			history: "Envíos de prueba",
		},
		{
			lang: "pt-BR",
			page: []string{"Envio de teste", "Verificações antes do envio", "Enviar mensagem de teste", "Modelo e idioma",
				"Tempo de vida (TTL)", "<code>CLOUD_API_FALLBACK</code> (padrão)", "não podem ser enviados pela MM API"},
			preview: []string{"É um número dos EUA (código de área 212)", "131049",
				"TTL: digite o TTL como um número de horas", "✕ Impede o envio", "! Vai falhar"},
			history: "Envios de teste",
		},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			code, body := e.doIn(tc.lang, writer, "GET", "/send?template="+strconv.Itoa(int(e.tmpls["summer_sale/en_US"].ID)), nil, false)
			body = html.UnescapeString(body)
			if code != 200 {
				t.Fatalf("composer: %d", code)
			}
			for _, w := range tc.page {
				if !strings.Contains(body, w) {
					t.Errorf("composer lacks %q", w)
				}
			}
			for _, en := range []string{"Checks before sending", "Send test message", "Template and language", "Time to live", "cannot be sent through MM API"} {
				if strings.Contains(body, en) {
					t.Errorf("composer still says %q", en)
				}
			}

			f := e.form("summer_sale/en_US", map[string]string{"var.body.1": "Ana", "var.body.2": "domingo", "var.button.0": "verano",
				"var.header_media": "https://example.com/v.jpg", "recipient": "+1 212 555 0100", "ttl_value": "doce"})
			_, pre := e.doIn(tc.lang, writer, "POST", "/send/preview", f, true)
			pre = html.UnescapeString(pre)
			for _, w := range tc.preview {
				if !strings.Contains(pre, w) {
					t.Errorf("preview lacks %q", w)
				}
			}
			for _, en := range []string{"This is a US number", "enter the TTL as a number", "Blocks sending", "Will fail"} {
				if strings.Contains(pre, en) {
					t.Errorf("preview still says %q", en)
				}
			}

			_, hist := e.doIn(tc.lang, writer, "GET", "/sends", nil, false)
			if !strings.Contains(hist, tc.history) || strings.Contains(hist, "No test sends match") || strings.Contains(hist, "New test send") {
				t.Errorf("history not in %s: wants %q", tc.lang, tc.history)
			}
		})
	}
}
