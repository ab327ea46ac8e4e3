package audit

import (
	"context"
	"testing"

	"mmconsole/internal/i18n"
)

// Actions read as words in the reader's language; an action without a label reads as its
// stored name, never as a catalog key.
func TestActionLabelsFollowTheLanguage(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ lang, action, want string }{
		{"en", ActionUserRoleChanged, "Role changed"},
		{"es", ActionUserRoleChanged, "Rol cambiado"},
		{"pt-BR", ActionUserRoleChanged, "Função alterada"},
		{"es", "send.test", "Envío de prueba"},
		{"pt-BR", "sandbox.trigger", "Webhook do sandbox enviado"},
		{"es", "future.action", "future.action"},
	} {
		ctx := i18n.WithLocale(context.Background(), cat.Locale(tc.lang))
		if got := ActionLabel(ctx, tc.action); got != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.lang, tc.action, got, tc.want)
		}
	}
}
