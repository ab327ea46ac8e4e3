package e2e

import (
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestLogPagesInSpanishAndPortuguese opens the webhook log (both views, and a filter with
// problems), a message's page and the search page in a browser that asks for Spanish, then
// Portuguese: the pages read in that language, axe finds nothing in either theme, and at 375 px
// the longer words make nothing scroll sideways.
func TestLogPagesInSpanishAndPortuguese(t *testing.T) {
	srv := startServer(t, nil)
	sale := templateRow(t, srv, "summer_sale", "en_US")
	ctx := browser(t, 1280)
	signIn(t, ctx, srv, demoAdmin)
	compose(t, ctx, srv, sale, storeRecipient, "CLOUD_API_FALLBACK")
	submitSend(t, ctx)
	see(t, ctx, "#composer .send-result", 20*time.Second, "✓✓ Read", "✓ Clicked")
	wamid := textOf(t, ctx, "#composer .result-facts dd a.mono")

	for _, lang := range []struct {
		code                               string
		log, messages, filter, msg, search string
	}{
		{"es", "eventos coinciden", "mensaje coincide", "Un código de error es un número", "Cronología", "Nada de lo que puedes ver coincide"},
		{"pt-BR", "eventos correspondem", "mensagem corresponde", "Um código de erro é um número", "Linha do tempo", "Nada do que você pode ver corresponde"},
	} {
		phone := browser(t, 375)
		if _, err := chromedp.Call(phone, network.Enable, network.EnableParams{}); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(phone, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": lang.code}}); err != nil {
			t.Fatal(err)
		}
		signIn(t, phone, srv, demoAdmin)
		for _, p := range []struct{ name, path, shows string }{
			{"log", "/log", lang.log},
			{"log-messages", "/log?view=messages", lang.messages},
			{"log-filter", "/log?error_code=abc", lang.filter},
			{"message", "/messages/" + url.PathEscape(wamid), lang.msg},
			{"search", "/search?q=no_such_template", lang.search},
		} {
			open(t, phone, srv, p.path)
			see(t, phone, "main", 5*time.Second, p.shows)
			if over := eval[int](t, phone, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); over > 0 {
				t.Errorf("%s %s at 375 px: the page scrolls sideways by %d px; widest: %s", lang.code, p.name, over, eval[string](t, phone, overflowingJS))
			}
			checkBothThemes(t, phone, p.name+"-"+lang.code, 375)
		}
	}
}
