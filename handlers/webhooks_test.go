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
	"gorm.io/gorm"

	"mmconsole/handlers"
	"mmconsole/internal/accounts"
	"mmconsole/internal/database"
	"mmconsole/internal/webhook"
	"mmconsole/models"
)

var secret = []byte("test-app-secret")

type env struct {
	app *fiber.App
	db  *gorm.DB
	svc *webhook.Service
}

// newEnv builds the routes with the webhook service; user (if any) is signed in by a test
// middleware standing in for the session middleware.
func newEnv(t *testing.T, user *models.User, maxBody int) env {
	t.Helper()
	db := database.OpenTest(t, append(accounts.Migrations(), webhook.Migrations()...))
	svc := webhook.New(db, webhook.NewMetrics(), webhook.Options{})
	t.Cleanup(func() { svc.Close() })
	shells := &handlers.Shells{}
	app := fiber.New(fiber.Config{ErrorHandler: handlers.ErrorHandler(shells)})
	if user != nil {
		app.Use(func(c *fiber.Ctx) error { handlers.SetCurrentUser(c, *user, ""); return c.Next() })
	}
	// The reader's language, as in the app: English unless a test sends Accept-Language.
	app.Use(handlers.Localize(catalog(t)))
	handlers.RegisterWebhooks(app, &handlers.Webhooks{VerifyToken: "tok", Secrets: webhook.AppSecretOnly(secret), MaxBody: maxBody, Store: svc})
	handlers.RegisterLog(app, &handlers.WebhookLog{Shells: shells, Events: svc})
	app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
	return env{app, db, svc}
}

func do(t *testing.T, app *fiber.App, req *http.Request) (int, string) {
	t.Helper()
	resp, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func post(body, sig string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/whatsapp", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set("X-Hub-Signature-256", sig)
	}
	return req
}

func status(waba, wamid, st, pricing string) string {
	return `{"object":"whatsapp_business_account","entry":[{"id":"` + waba + `","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"1555","phone_number_id":"200"},"statuses":[{"id":"` + wamid + `","status":"` + st + `","timestamp":"1750030073","recipient_id":"16505551234","pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"` + pricing + `"}}]}}]}]}`
}

func TestHandshakeHandler(t *testing.T) {
	e := newEnv(t, nil, 1<<20)
	cases := []struct {
		name, query string
		want        int
		body        string
	}{
		{"good", "hub.mode=subscribe&hub.verify_token=tok&hub.challenge=1158201444", 200, "1158201444"},
		{"wrong token", "hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1", 403, ""},
		{"wrong mode", "hub.mode=unsubscribe&hub.verify_token=tok&hub.challenge=1", 403, ""},
	}
	for _, c := range cases {
		code, body := do(t, e.app, httptest.NewRequest(http.MethodGet, "/webhooks/whatsapp?"+c.query, nil))
		if code != c.want || (c.body != "" && body != c.body) {
			t.Errorf("%s: %d %q", c.name, code, body)
		}
	}
}

func TestReceiveSignatureAndSize(t *testing.T) {
	e := newEnv(t, nil, 2048)
	body := status("100", "wamid.h1", "sent", "marketing_lite")
	big := `{"object":"whatsapp_business_account","entry":[],"pad":"` + strings.Repeat("x", 3000) + `"}`
	cases := []struct {
		name, body, sig string
		want            int
	}{
		{"valid", body, webhook.Sign([]byte(body), secret), 200},
		{"missing", body, "", 401},
		{"wrong", body, "sha256=" + strings.Repeat("ab", 32), 401},
		{"wrong secret", body, webhook.Sign([]byte(body), []byte("other")), 401},
		{"altered", strings.Replace(body, "sent", "sEnt", 1), webhook.Sign([]byte(body), secret), 401},
		{"too large", big, webhook.Sign([]byte(big), secret), 413},
		{"unparseable but signed", `{"object":`, webhook.Sign([]byte(`{"object":`), secret), 200},
	}
	for _, c := range cases {
		if code, _ := do(t, e.app, post(c.body, c.sig)); code != c.want {
			t.Errorf("%s: %d, want %d", c.name, code, c.want)
		}
	}
	if err := e.svc.FlushRejections(context.Background()); err != nil { // stored off the request path
		t.Fatal(err)
	}
	var deliveries, rejections int64
	e.db.Model(&models.WebhookDelivery{}).Count(&deliveries)
	e.db.Model(&models.WebhookRejection{}).Count(&rejections)
	if deliveries != 2 || rejections != 5 {
		t.Errorf("deliveries %d (want 2), rejections %d (want 5)", deliveries, rejections)
	}
}

func seedTenants(t *testing.T, e env) (a, b uint) {
	for i, name := range []string{"A", "B"} {
		acc := models.Account{Name: name}
		e.db.Create(&acc)
		e.db.Create(&models.WABAConnection{AccountID: acc.ID, WABAID: fmt.Sprint(100 + i), TokenSealed: []byte("x")})
		if i == 0 {
			a = acc.ID
		} else {
			b = acc.ID
		}
	}
	for _, d := range []string{status("100", "wamid.A1", "failed", "marketing"), status("999", "wamid.ORPHAN", "sent", "marketing_lite")} {
		if code, _ := do(t, e.app, post(d, webhook.Sign([]byte(d), secret))); code != 200 {
			t.Fatalf("delivery refused: %d", code)
		}
	}
	return a, b
}

func TestLogAndMessageScoping(t *testing.T) {
	acctA, acctB := uint(1), uint(2)
	cases := []struct {
		name          string
		user          models.User
		seeA, seeOrph bool
	}{
		{"owner", models.User{ID: 1, AccountID: &acctA, Role: models.RoleViewer}, true, false},
		{"other account", models.User{ID: 2, AccountID: &acctB, Role: models.RoleAdmin}, false, false},
		{"staff", models.User{ID: 3, Staff: true, Role: models.RoleViewer}, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, &c.user, 1<<20)
			seedTenants(t, e)
			code, body := do(t, e.app, httptest.NewRequest(http.MethodGet, "/log", nil))
			if code != 200 {
				t.Fatalf("/log: %d", code)
			}
			if strings.Contains(body, "wamid.A1") != c.seeA || strings.Contains(body, "wamid.ORPHAN") != c.seeOrph {
				t.Errorf("log shows A1=%v orphan=%v", strings.Contains(body, "wamid.A1"), strings.Contains(body, "wamid.ORPHAN"))
			}
			wantCode := map[bool]int{true: 200, false: 404}
			if code, _ := do(t, e.app, httptest.NewRequest(http.MethodGet, "/messages/wamid.A1", nil)); code != wantCode[c.seeA] {
				t.Errorf("/messages/wamid.A1: %d", code)
			}
			if code, _ := do(t, e.app, httptest.NewRequest(http.MethodGet, "/messages/wamid.ORPHAN", nil)); code != wantCode[c.seeOrph] {
				t.Errorf("/messages/wamid.ORPHAN: %d", code)
			}
		})
	}
}

func TestLogPageShowsRouteErrorsAndFilters(t *testing.T) {
	staff := models.User{ID: 3, Staff: true, Role: models.RoleAdmin}
	e := newEnv(t, &staff, 1<<20)
	seedTenants(t, e)
	_, body := do(t, e.app, httptest.NewRequest(http.MethodGet, "/log", nil))
	for _, want := range []string{"Cloud API (/messages)", "inferred from pricing", "MM API", "Rejected deliveries", "unconnected WABA", `name="live"`} {
		if !strings.Contains(body, want) {
			t.Errorf("log page lacks %q", want)
		}
	}
	req := httptest.NewRequest(http.MethodGet, "/log?route=mm_api&live=1", nil)
	req.Header.Set("HX-Request", "true")
	code, frag := do(t, e.app, req)
	if code != 200 || strings.Contains(frag, "<html") || strings.Contains(frag, "wamid.A1") || !strings.Contains(frag, "wamid.ORPHAN") || !strings.Contains(frag, "/log/tail?") {
		t.Errorf("filtered fragment wrong (%d): %s", code, frag)
	}
	// A cursor with no event id is a time: everything received after 1970 is newer.
	_, tail := do(t, e.app, httptest.NewRequest(http.MethodGet, "/log/tail?after=1-0", nil))
	if !strings.Contains(tail, "wamid.A1") || !strings.Contains(tail, "afterbegin:#log-rows") {
		t.Errorf("tail lacks newer rows: %s", tail)
	}
	_, msg := do(t, e.app, httptest.NewRequest(http.MethodGet, "/messages/wamid.A1", nil))
	if !strings.Contains(msg, "Cloud API (/messages)") || !strings.Contains(msg, "Timeline") {
		t.Errorf("message page: %s", msg)
	}
	_, raw := do(t, e.app, httptest.NewRequest(http.MethodGet, "/log/events/1", nil))
	if !strings.Contains(raw, "&#34;status&#34;: &#34;failed&#34;") {
		t.Errorf("raw json not pretty-printed: %s", raw)
	}
}

// Wamids are base64 and may hold "/" and "+": the log links to the message page escaped, and the
// page (and its live timeline) finds the message from the escaped path.
func TestMessagePageOfWAMIDWithSlash(t *testing.T) {
	staff := models.User{ID: 3, Staff: true, Role: models.RoleAdmin}
	e := newEnv(t, &staff, 1<<20)
	seedTenants(t, e)
	const wamid = "wamid.HBg/LM+Tk="
	d := status("100", wamid, "sent", "marketing_lite")
	if code, _ := do(t, e.app, post(d, webhook.Sign([]byte(d), secret))); code != 200 {
		t.Fatalf("delivery refused: %d", code)
	}
	escaped := "/messages/" + url.PathEscape(wamid)
	if _, body := do(t, e.app, httptest.NewRequest(http.MethodGet, "/log", nil)); !strings.Contains(body, `href="`+escaped+`"`) {
		t.Errorf("the log does not link to %s", escaped)
	}
	for _, path := range []string{escaped, escaped + "/timeline"} {
		code, body := do(t, e.app, httptest.NewRequest(http.MethodGet, path, nil))
		if code != 200 || !strings.Contains(body, "MM API") {
			t.Errorf("%s: %d", path, code)
		}
	}
}

// Refused deliveries reach the shared callback and belong to no account: a customer's admin
// must not see other parties' rejected traffic (addresses, sizes, times); staff do.
func TestRejectedDeliveriesAreStaffOnly(t *testing.T) {
	acct := uint(1)
	cases := []struct {
		name string
		user models.User
		see  bool
	}{
		{"customer admin", models.User{ID: 1, AccountID: &acct, Role: models.RoleAdmin}, false},
		{"customer viewer", models.User{ID: 2, AccountID: &acct, Role: models.RoleViewer}, false},
		{"staff viewer", models.User{ID: 3, Staff: true, Role: models.RoleViewer}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, &c.user, 1<<20)
			seedTenants(t, e)
			if code, _ := do(t, e.app, post(`{"x":1}`, "sha256="+strings.Repeat("ab", 32))); code != 401 {
				t.Fatalf("unsigned delivery: %d", code)
			}
			if err := e.svc.FlushRejections(context.Background()); err != nil {
				t.Fatal(err)
			}
			_, body := do(t, e.app, httptest.NewRequest(http.MethodGet, "/log", nil))
			if got := strings.Contains(body, "Rejected deliveries"); got != c.see {
				t.Errorf("rejections shown: %v, want %v", got, c.see)
			}
			if rs, _ := e.svc.Rejections(context.Background(), c.user.Scope(), 10); (len(rs) > 0) != c.see {
				t.Errorf("service returned %d rejections", len(rs))
			}
		})
	}
}
