package app

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestAdminPagesSpeakSpanishAndPortuguese: the settings, audit and glossary pages, the
// connection form's validation, the field-length refusal and the CSRF refusal are in the
// browser's language, with no English sentence left; stored audit action names stay as stored.
func TestAdminPagesSpeakSpanishAndPortuguese(t *testing.T) {
	f := newFixture(t)
	f.signIn("admin")
	send := func(lang, method, path string, form url.Values) (int, string) {
		var req = httptest.NewRequest(method, path, nil)
		if form != nil {
			req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set("Accept", "text/html")
		req.Header.Set("Accept-Language", lang)
		req.AddCookie(f.sessions["admin"])
		resp, body := do(t, f.a, req)
		return resp.StatusCode, body
	}
	type check struct {
		name, method, path string
		form               url.Values
		status             int
		want, notWant      []string
	}
	badWABA := func() url.Values {
		return url.Values{"_csrf": {f.csrf["admin"]}, "waba_id": {"not digits"}, "access_token": {strings.Repeat("t", 40)}, "api": {"meta"}}
	}
	longName := func() url.Values {
		return url.Values{"_csrf": {f.csrf["admin"]}, "waba_id": {"123"}, "name": {strings.Repeat("n", 121)}, "api": {"meta"}}
	}
	staleForm := url.Values{"_csrf": {"stale"}, "waba_id": {"123"}}
	for lang, checks := range map[string][]check{
		"es-MX,es;q=0.9": {
			{"settings", "GET", "/settings", nil, 200,
				[]string{`lang="es"`, "Configuración", "Conexiones de WABA", "Probar conexión", "Invitar a un usuario", "Último inicio de sesión"},
				[]string{"WABA connections", "Test connection", "Invite a user", "Last sign-in", "Add a WABA connection"}},
			{"audit", "GET", "/audit", nil, 200,
				[]string{"Registro de auditoría", "Cuándo", "Inició sesión", "auth.sign_in", "Solo se agregan entradas"},
				[]string{"Audit log", "Append-only", "Actor email", "Signed in"}},
			{"glossary", "GET", "/glossary", nil, 200,
				[]string{"Glosario", "Término de Meta:", "Respaldo de Cloud API (fallback)", "deducido por el panel", "message_send_ttl_seconds"},
				[]string{"Meta's term", "Falling back", "worked out by the dashboard", "Template still syncing"}},
			{"bad WABA ID", "POST", "/settings/connections", badWABA(), 422,
				[]string{"Escribe el ID de WABA", "Agregar conexión"},
				[]string{"Enter the WABA ID", "Add connection"}},
			{"too long", "POST", "/settings/connections", longName(), 422,
				[]string{"Nombre: texto demasiado largo, como máximo 120 caracteres; este valor tiene 121."},
				[]string{"is too long", "this one has"}},
			{"stale form", "POST", "/settings/connections", staleForm, 403,
				[]string{"El formulario caducó", "token de seguridad"},
				[]string{"Form expired", "security token"}},
		},
		"pt-BR": {
			{"settings", "GET", "/settings", nil, 200,
				[]string{`lang="pt-BR"`, "Configurações", "Conexões de WABA", "Testar conexão", "Convidar um usuário", "Último acesso"},
				[]string{"WABA connections", "Test connection", "Invite a user", "Last sign-in", "Add a WABA connection"}},
			{"audit", "GET", "/audit", nil, 200,
				[]string{"Registro de auditoria", "Quando", "Entrou", "auth.sign_in", "Somente inclusão"},
				[]string{"Audit log", "Append-only", "Actor email", "Signed in"}},
			{"glossary", "GET", "/glossary", nil, 200,
				[]string{"Glossário", "Termo da Meta:", "Fallback para a Cloud API", "deduzido pelo painel", "message_send_ttl_seconds"},
				[]string{"Meta's term", "Falling back", "worked out by the dashboard", "Template still syncing"}},
			{"bad WABA ID", "POST", "/settings/connections", badWABA(), 422,
				[]string{"Digite o ID da WABA", "Adicionar conexão"},
				[]string{"Enter the WABA ID", "Add connection"}},
			{"too long", "POST", "/settings/connections", longName(), 422,
				[]string{"Nome: texto longo demais, no máximo 120 caracteres; este valor tem 121."},
				[]string{"is too long", "this one has"}},
			{"stale form", "POST", "/settings/connections", staleForm, 403,
				[]string{"Formulário expirado", "token de segurança"},
				[]string{"Form expired", "security token"}},
		},
	} {
		for _, c := range checks {
			st, body := send(lang, c.method, c.path, c.form)
			if st != c.status {
				t.Errorf("%s %s: %d, want %d: %.300s", lang, c.name, st, c.status, body)
				continue
			}
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("%s %s: lacks %q", lang, c.name, w)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(body, w) {
					t.Errorf("%s %s: still says %q in English", lang, c.name, w)
				}
			}
		}
	}
}
