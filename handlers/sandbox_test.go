package handlers_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"mmconsole/handlers"
	"mmconsole/internal/audit"
	"mmconsole/internal/i18n"
	"mmconsole/internal/sandbox"
	"mmconsole/models"
)

type sandboxConns []models.WABAConnection

type sandboxAuditor struct{ events []audit.Entry }

func (r *sandboxAuditor) Record(_ context.Context, e audit.Entry) error {
	r.events = append(r.events, e)
	return nil
}

func (s sandboxConns) Connections(_ context.Context, scope models.Scope) ([]models.WABAConnection, error) {
	var out []models.WABAConnection
	for _, c := range s {
		if scope.AllAccounts || c.AccountID == scope.AccountID {
			out = append(out, c)
		}
	}
	return out, nil
}

func sandboxApp(t *testing.T, sb handlers.SandboxTriggers) (func(user string, form url.Values) (int, string), *sandbox.Sandbox, *sandboxAuditor) {
	t.Helper()
	real := sandbox.New(sandbox.Options{EventDelay: -1})
	t.Cleanup(func() { real.Close() })
	if sb == nil {
		sb = real
	}
	demo, other := uint(1), uint(2)
	conns := sandboxConns{
		{AccountID: demo, WABAID: sandbox.StoreWABAID, Name: "Store", Sandbox: true},
		{AccountID: demo, WABAID: sandbox.PharmaWABAID, Name: "Pharma", Sandbox: true},
		{AccountID: other, WABAID: "555", Name: "Real"},
	}
	users := map[string]models.User{
		"admin":       {ID: 1, AccountID: &demo, Email: "a@demo.example", Role: models.RoleAdmin},
		"marketer":    {ID: 2, AccountID: &demo, Email: "m@demo.example", Role: models.RoleMarketer},
		"other-admin": {ID: 3, AccountID: &other, Email: "a@other.example", Role: models.RoleAdmin},
	}
	shells := &handlers.Shells{}
	app := fiber.New(fiber.Config{ErrorHandler: handlers.ErrorHandler(shells)})
	app.Use(func(c *fiber.Ctx) error {
		if u, ok := users[c.Get("X-Test-User")]; ok {
			handlers.SetCurrentUser(c, u, "A")
		}
		return c.Next()
	})
	aud := &sandboxAuditor{}
	handlers.RegisterSandbox(app, &handlers.SandboxPage{Shells: shells, Sandbox: sb, Connections: conns, Audit: aud})
	do := func(user string, form url.Values) (int, string) {
		method, path := "GET", "/sandbox"
		var body io.Reader
		if form != nil {
			method, path, body = "POST", "/sandbox/trigger", strings.NewReader(form.Encode())
		}
		req := httptest.NewRequest(method, path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set("X-Test-User", user)
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	return do, real, aud
}

// TestSandboxPageTriggersOnlyTheAccountsSandboxWABAs: an admin sees and triggers the sandbox
// WABAs of their account; another account's admin sees none and gets 404 for them; bad input
// answers 422 with the reason and sends nothing.
func TestSandboxPageTriggersOnlyTheAccountsSandboxWABAs(t *testing.T) {
	do, sb, _ := sandboxApp(t, nil)
	st, body := do("admin", nil)
	if st != 200 || !strings.Contains(body, "Hibot Demo Store") || !strings.Contains(body, `value="terms"`) {
		t.Fatalf("admin page = %d", st)
	}
	st, body = do("other-admin", nil)
	if st != 200 || strings.Contains(body, "Hibot Demo Store") || !strings.Contains(body, "no sandbox WABA") {
		t.Errorf("other account's admin page = %d; must list no sandbox WABA", st)
	}
	if st, _ := do("marketer", nil); st != http.StatusForbidden {
		t.Errorf("marketer page = %d, want 403", st)
	}
	if st, _ := do("other-admin", url.Values{"kind": {"terms"}, "waba": {sandbox.PharmaWABAID}}); st != http.StatusNotFound {
		t.Errorf("other account's admin trigger = %d, want 404", st)
	}
	if st, _ := do("marketer", url.Values{"kind": {"terms"}, "waba": {sandbox.PharmaWABAID}}); st != http.StatusForbidden {
		t.Errorf("marketer trigger = %d, want 403", st)
	}
	for name, form := range map[string]url.Values{
		"unknown kind":  {"kind": {"explode"}, "waba": {sandbox.StoreWABAID}},
		"bad number":    {"kind": {"stop"}, "waba": {sandbox.StoreWABAID}, "number": {"call me"}},
		"bad quality":   {"kind": {"quality"}, "waba": {sandbox.StoreWABAID}, "template": {"572279198452401"}, "value": {"PURPLE"}},
		"onboarded one": {"kind": {"terms"}, "waba": {sandbox.StoreWABAID}},
	} {
		st, body := do("admin", form)
		if st != http.StatusUnprocessableEntity || !strings.Contains(body, "Not sent:") {
			t.Errorf("%s: %d, want 422 with the reason", name, st)
		}
	}
	if n := len(sb.Deliveries()); n != 0 {
		t.Fatalf("refused triggers sent %d webhooks", n)
	}
	st, _ = do("admin", url.Values{"kind": {"terms"}, "waba": {sandbox.PharmaWABAID}})
	if st != http.StatusSeeOther {
		t.Fatalf("terms signed = %d, want 303", st)
	}
	for _, w := range sb.Triggers() {
		if w.ID == sandbox.PharmaWABAID && w.Onboarding != "ONBOARDED" {
			t.Errorf("Pharma after terms signed: %s", w.Onboarding)
		}
	}
}

// TestSandboxPageRejectsAPendingTemplate: an admin picks a template in review and a reason; the
// sandbox sends REJECTED with that reason, and the trigger is audited. A template not in review,
// an unknown reason, a marketer or another account's admin change nothing.
func TestSandboxPageRejectsAPendingTemplate(t *testing.T) {
	do, sb, aud := sandboxApp(t, nil)
	const pending, approved = "572279198452406", "572279198452401" // spring_preview, summer_sale
	st, body := do("admin", nil)
	if st != 200 || !strings.Contains(body, `value="reject"`) || !strings.Contains(body, "spring_preview") || !strings.Contains(body, "TAG_CONTENT_MISMATCH") {
		t.Fatalf("admin page = %d; want the reject form with the pending template and Meta's reasons", st)
	}
	for name, form := range map[string]url.Values{
		"unknown reason": {"kind": {"reject"}, "waba": {sandbox.StoreWABAID}, "template": {pending}, "value": {"BORING"}},
		"not in review":  {"kind": {"reject"}, "waba": {sandbox.StoreWABAID}, "template": {approved}, "value": {"SCAM"}},
		"other WABA":     {"kind": {"reject"}, "waba": {sandbox.PharmaWABAID}, "template": {pending}, "value": {"SCAM"}},
	} {
		if st, body := do("admin", form); st != http.StatusUnprocessableEntity || !strings.Contains(body, "Not sent:") {
			t.Errorf("%s: %d, want 422 with the reason", name, st)
		}
	}
	reject := url.Values{"kind": {"reject"}, "waba": {sandbox.StoreWABAID}, "template": {pending}, "value": {"PROMOTIONAL"}}
	if st, _ := do("marketer", reject); st != http.StatusForbidden {
		t.Errorf("marketer reject = %d, want 403", st)
	}
	if st, _ := do("other-admin", reject); st != http.StatusNotFound {
		t.Errorf("other account's admin reject = %d, want 404", st)
	}
	if n := len(sb.Deliveries()); n != 0 || len(aud.events) != 0 {
		t.Fatalf("refused rejects sent %d webhooks and wrote %d audit entries", n, len(aud.events))
	}
	if st, _ := do("admin", reject); st != http.StatusSeeOther {
		t.Fatalf("reject = %d, want 303", st)
	}
	for _, w := range sb.Triggers() {
		for _, tp := range w.Templates {
			if tp.ID == pending && tp.Status != "REJECTED" {
				t.Errorf("spring_preview after the reject: %s", tp.Status)
			}
		}
	}
	if len(aud.events) != 1 || aud.events[0].Action != "sandbox.trigger" || aud.events[0].Target != "waba:"+sandbox.StoreWABAID ||
		!strings.Contains(fmt.Sprint(aud.events[0].After), "PROMOTIONAL") {
		t.Errorf("audit = %+v, want one sandbox.trigger naming the reason", aud.events)
	}
}

func TestSandboxPageIsGoneWhenTheSandboxIsOff(t *testing.T) {
	off := &handlers.SandboxPage{Shells: &handlers.Shells{}, Connections: sandboxConns{}}
	app := fiber.New(fiber.Config{ErrorHandler: handlers.ErrorHandler(off.Shells)})
	demo := uint(1)
	app.Use(func(c *fiber.Ctx) error {
		handlers.SetCurrentUser(c, models.User{ID: 1, AccountID: &demo, Role: models.RoleAdmin}, "A")
		return c.Next()
	})
	handlers.RegisterSandbox(app, off)
	resp, err := app.Test(httptest.NewRequest("GET", "/sandbox", nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("sandbox off: GET /sandbox = %d, want 404", resp.StatusCode)
	}
}

// TestSandboxPageSpeaksTheBrowsersLanguage: the page, a refused trigger's reason and the flash
// of a sent one are in Spanish or Portuguese; Meta's tokens stay as Meta spells them.
func TestSandboxPageSpeaksTheBrowsersLanguage(t *testing.T) {
	sb := sandbox.New(sandbox.Options{EventDelay: -1})
	t.Cleanup(func() { sb.Close() })
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	demo := uint(1)
	shells := &handlers.Shells{}
	app := fiber.New(fiber.Config{ErrorHandler: handlers.ErrorHandler(shells)})
	app.Use(func(c *fiber.Ctx) error {
		handlers.SetCurrentUser(c, models.User{ID: 1, AccountID: &demo, Email: "a@demo.example", Role: models.RoleAdmin}, "A")
		return c.Next()
	}, handlers.Localize(cat))
	conns := sandboxConns{{AccountID: demo, WABAID: sandbox.StoreWABAID, Name: "Store", Sandbox: true},
		{AccountID: demo, WABAID: sandbox.PharmaWABAID, Name: "Pharma", Sandbox: true}}
	handlers.RegisterSandbox(app, &handlers.SandboxPage{Shells: shells, Sandbox: sb, Connections: conns})
	do := func(lang string, form url.Values) (*http.Response, string) {
		req := httptest.NewRequest("GET", "/sandbox", nil)
		if form != nil {
			req = httptest.NewRequest("POST", "/sandbox/trigger", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set("Accept-Language", lang)
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	onboarded := url.Values{"kind": {"terms"}, "waba": {sandbox.StoreWABAID}}
	for _, tc := range []struct {
		lang          string
		page, refusal []string
		english       []string
	}{
		{"es", []string{"Un destinatario deja de recibir", "Términos firmados", "Cambiar calidad", "Registro de webhooks", "<code>MM_LITE_TERMS_SIGNED</code>"},
			[]string{"No enviado:", "ya está incorporada; Meta envía MM_LITE_TERMS_SIGNED una sola vez"},
			[]string{"A recipient stops", "Terms signed", "Change quality", "Not sent:", "already onboarded"}},
		{"pt-BR", []string{"Um destinatário para de receber", "Termos assinados", "Alterar qualidade", "Registro de webhooks", "<code>MM_LITE_TERMS_SIGNED</code>"},
			[]string{"Não enviado:", "já está integrada; a Meta envia MM_LITE_TERMS_SIGNED uma única vez"},
			[]string{"A recipient stops", "Terms signed", "Change quality", "Not sent:", "already onboarded"}},
	} {
		_, page := do(tc.lang, nil)
		resp, refusal := do(tc.lang, onboarded)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("%s: terms for an onboarded WABA = %d, want 422", tc.lang, resp.StatusCode)
		}
		for _, w := range tc.page {
			if !strings.Contains(page, w) {
				t.Errorf("%s page lacks %q", tc.lang, w)
			}
		}
		for _, w := range tc.refusal {
			if !strings.Contains(refusal, w) {
				t.Errorf("%s refusal lacks %q", tc.lang, w)
			}
		}
		for _, w := range tc.english {
			if strings.Contains(page, w) || strings.Contains(refusal, w) {
				t.Errorf("%s: still says %q", tc.lang, w)
			}
		}
	}
	resp, _ := do("pt-BR", url.Values{"kind": {"stop"}, "waba": {sandbox.StoreWABAID}, "number": {"+52 55 1234 5678"}})
	var flash string
	for _, c := range resp.Cookies() {
		if c.Name == "mmc_flash" {
			flash, _ = url.QueryUnescape(c.Value)
		}
	}
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(flash, "parou de receber mensagens de marketing de Hibot Demo Store") {
		t.Errorf("sent trigger: %d, flash %q; want the Portuguese sentence", resp.StatusCode, flash)
	}
}
