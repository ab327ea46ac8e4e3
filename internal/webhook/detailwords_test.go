package webhook

import (
	"context"
	"testing"

	"mmconsole/internal/i18n"
	"mmconsole/models"
)

// TestDetailWordsFollowTheReader: the receiver's own phrases in a stored detail are said in the
// reader's language, Meta's parts (button text, error details, category names) are kept, and
// English readers see the detail as stored.
func TestDetailWordsFollowTheReader(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	es := i18n.WithLocale(context.Background(), cat.Locale("es"))
	pt := i18n.WithLocale(context.Background(), cat.Locale("pt-BR"))
	for _, tc := range []struct {
		kind, stored, es, pt string
	}{
		{models.KindClick, "click on cta" + phraseAttributed, "clic en cta · atribuido: el único mensaje de MM API de este número en la ventana", "clique em cta · atribuído: a única mensagem da MM API deste número na janela"},
		{models.KindClick, "click on cta (product SKU1)" + phraseNotAttributedNone, "clic en cta (producto SKU1) · sin atribuir: ningún mensaje de MM API desde este número en los últimos 7 días", "clique em cta (produto SKU1) · não atribuído: nenhuma mensagem da MM API deste número nos últimos 7 dias"},
		{models.KindMessage, "button reply: Yes please (reply to wamid.X)", "respuesta con botón: Yes please (respuesta a wamid.X)", "resposta com botão: Yes please (resposta a wamid.X)"},
		{models.KindMessage, "button: Stop promotions", "botón: Stop promotions", "botão: Stop promotions"},
		{models.KindMessage, "Hello there", "Hello there", "Hello there"},
		{models.KindTemplateCategory, "MARKETING → UTILITY (announced) on 2026-11-29T20:00:00Z", "MARKETING → UTILITY (anunciado) el 29 nov 2026, 20:00 UTC", "MARKETING → UTILITY (anunciado) em 29 de nov. de 2026, 20:00 UTC"},
		{models.KindTemplateStatus, "reason INVALID_FORMAT; Bad header", "motivo INVALID_FORMAT; Bad header", "motivo INVALID_FORMAT; Bad header"},
		{models.KindStatus, "could not read: unexpected end of JSON input", "no se pudo leer: unexpected end of JSON input", "não foi possível ler: unexpected end of JSON input"},
	} {
		if got := DetailWords(es, tc.kind, tc.stored); got != tc.es {
			t.Errorf("es %q:\n got %q\nwant %q", tc.stored, got, tc.es)
		}
		if got := DetailWords(pt, tc.kind, tc.stored); got != tc.pt {
			t.Errorf("pt-BR %q:\n got %q\nwant %q", tc.stored, got, tc.pt)
		}
		if got := DetailWords(context.Background(), tc.kind, tc.stored); got != tc.stored {
			t.Errorf("en %q: %q", tc.stored, got)
		}
	}
}
