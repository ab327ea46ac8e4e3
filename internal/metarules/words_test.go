package metarules

import (
	"context"
	"errors"
	"strings"
	"testing"

	"mmconsole/internal/i18n"
)

// TestRuleMessagesFollowTheLanguage: phone and TTL messages and durations are in the reader's
// language, while Error stays English for the logs and the sentinel errors still match.
func TestRuleMessagesFollowTheLanguage(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	_, perr := NormalizePhone("0123 4567")
	_, _, terr := ParseTTL("1.00001", UnitHours)
	rerr := CheckMarketingTTL(3600)
	if !errors.Is(terr, ErrTTLWhole) || !errors.Is(rerr, ErrTTLRange) {
		t.Fatalf("sentinels lost: %v, %v", terr, rerr)
	}
	for _, tc := range []struct {
		lang                       string
		phone, whole, rng, minutes string
	}{
		{"en", "start with the country code", "1.00001 hours is not a whole number", "1 hour is outside", "90 minutes"},
		{"es", "empieza con el código de país", "1.00001 horas no es una cantidad entera", "1 hora queda fuera", "90 minutos"},
		{"pt-BR", "comece pelo código do país", "1.00001 horas não é um número inteiro", "1 hora fica fora", "90 minutos"},
	} {
		ctx := i18n.WithLocale(context.Background(), cat.Locale(tc.lang))
		for _, c := range []struct{ got, want string }{
			{Words(ctx, perr), tc.phone}, {Words(ctx, terr), tc.whole}, {Words(ctx, rerr), tc.rng}, {HumanTTLIn(ctx, 5400), tc.minutes},
		} {
			if !strings.Contains(c.got, c.want) {
				t.Errorf("%s: %q lacks %q", tc.lang, c.got, c.want)
			}
		}
	}
	if !strings.Contains(perr.Error(), "start with the country code") || !strings.Contains(rerr.Error(), "between 12 hours and 30 days") {
		t.Errorf("Error() is not English: %q, %q", perr.Error(), rerr.Error())
	}
}
