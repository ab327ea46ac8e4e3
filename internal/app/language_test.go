package app

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"mmconsole/models"
)

// TestLanguageFollowsTheBrowserThenTheUsersChoice: before sign-in Accept-Language decides (with
// English as the fallback); a language chosen on the account page wins over the browser's, is
// stored on the user, is audited, and "my browser's language" goes back to the header.
func TestLanguageFollowsTheBrowserThenTheUsersChoice(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ header, lang, words string }{
		{"es-MX,es;q=0.9", `lang="es"`, "Iniciar sesión"},
		{"pt-BR", `lang="pt-BR"`, "Entrar"},
		{"fr", `lang="en"`, "Sign in"},
	} {
		req := httptest.NewRequest("GET", "/login", nil)
		req.Header.Set("Accept-Language", tc.header)
		resp, body := do(t, f.a, req)
		if resp.StatusCode != 200 || !strings.Contains(body, tc.lang) || !strings.Contains(body, tc.words) {
			t.Errorf("/login with Accept-Language %q: %d, want %s and %q in %.300s", tc.header, resp.StatusCode, tc.lang, tc.words, body)
		}
	}

	f.signIn("marketer")
	get := func(header string) string {
		req := httptest.NewRequest("GET", "/account", nil)
		req.Header.Set("Accept", "text/html")
		req.Header.Set("Accept-Language", header)
		req.AddCookie(f.sessions["marketer"])
		_, body := do(t, f.a, req)
		return body
	}
	if body := get("es"); !strings.Contains(body, `lang="es"`) || !strings.Contains(body, "Tu cuenta") {
		t.Fatalf("account page with a Spanish browser: %.400s", body)
	}
	resp, body := f.post("marketer", "/account/language", url.Values{"language": {"pt-BR"}, "_csrf": {f.csrf["marketer"]}})
	if resp.StatusCode != 303 {
		t.Fatalf("choose pt-BR: %d %.300s", resp.StatusCode, body)
	}
	if body := get("es"); !strings.Contains(body, `lang="pt-BR"`) || !strings.Contains(body, "Sua conta") || !strings.Contains(body, "Visão geral") {
		t.Fatalf("the user's choice does not win over the browser's: %.600s", body)
	}
	var u models.User
	f.a.DB().Where("email = ?", emailOf("marketer")).First(&u)
	if u.Language != "pt-BR" {
		t.Fatalf("stored language %q", u.Language)
	}
	var n int64
	f.a.DB().Model(&models.AuditEntry{}).Where("action = ?", "auth.language_changed").Count(&n)
	if n != 1 {
		t.Fatalf("audit entries for the change: %d", n)
	}

	// A language that is not offered changes nothing.
	resp, body = f.post("marketer", "/account/language", url.Values{"language": {"xx"}, "_csrf": {f.csrf["marketer"]}})
	if resp.StatusCode != 422 || !strings.Contains(body, "field-error") {
		t.Fatalf("unknown language: %d %.300s", resp.StatusCode, body)
	}
	f.a.DB().Where("email = ?", emailOf("marketer")).First(&u)
	if u.Language != "pt-BR" {
		t.Fatalf("an unknown language changed the stored one to %q", u.Language)
	}

	// Back to the browser's language.
	f.post("marketer", "/account/language", url.Values{"language": {""}, "_csrf": {f.csrf["marketer"]}})
	if body := get("es"); !strings.Contains(body, `lang="es"`) {
		t.Fatalf("after choosing the browser's language: %.300s", body)
	}
}

// TestTemplateAuthoringSpeaksTheUsersLanguage: the new-template page and the rules Meta would
// apply, checked as the user types, are in Spanish and in Portuguese; language names come from
// CLDR in the reader's language; the English words are gone.
func TestTemplateAuthoringSpeaksTheUsersLanguage(t *testing.T) {
	f := newFixture(t)
	f.signIn("marketer")
	for _, tc := range []struct{ code, title, rule, lang, english string }{
		{"es", "Nueva plantilla de marketing", "Escribe un nombre.", "portugués", "New marketing template"},
		{"pt-BR", "Novo modelo de marketing", "Digite um nome.", "espanhol", "New marketing template"},
	} {
		if resp, body := f.post("marketer", "/account/language", url.Values{"language": {tc.code}, "_csrf": {f.csrf["marketer"]}}); resp.StatusCode != 303 {
			t.Fatalf("choose %s: %d %.300s", tc.code, resp.StatusCode, body)
		}
		_, page := f.get("marketer", "/templates/new")
		if !strings.Contains(page, tc.title) || strings.Contains(page, tc.english) || !strings.Contains(page, tc.lang) {
			t.Errorf("%s: the authoring page is not translated (want %q and %q):\n%.1500s", tc.code, tc.title, tc.lang, page)
		}
		_, check := f.post("marketer", "/templates/check", url.Values{"_csrf": {f.csrf["marketer"]}, "name": {""}, "body": {"Hola"}, "language": {"es_MX"}})
		if !strings.Contains(check, tc.rule) || strings.Contains(check, "Enter a name.") {
			t.Errorf("%s: the live check does not say the rule in the language (want %q):\n%.1500s", tc.code, tc.rule, check)
		}
	}
}
