package handlers_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"mmconsole/handlers"
	"mmconsole/internal/webhook"
	"mmconsole/models"
)

func get(t *testing.T, e env, path string, htmx bool) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	return do(t, e.app, req)
}

// Every filter value that does not parse is refused next to its field, kept as typed, and the
// filter is not run; htmx answers refresh the messages next to the fields out of band.
func TestLogFilterRefusesBadValues(t *testing.T) {
	staff := models.User{ID: 3, Staff: true, Role: models.RoleAdmin}
	e := newEnv(t, &staff, 1<<20)
	seedTenants(t, e)
	cases := []struct{ query, field, message string }{
		{"error_code=abc", "error_code", "An error code is a number"},
		{"error_code=-5", "error_code", "An error code is a number"},
		{"kind=nonsense", "kind", "Choose a kind from the list"},
		{"route=carrier_pigeon", "route", "Choose a route from the list"},
		{"recipient=12ab34", "recipient", "is not a phone number"},
		{"recipient=123", "recipient", "8 to 15 digits"},
		{"status=read+or+sent", "status", "A status is one word"},
		{"from=yesterday", "from", "A date and time such as"},
		{"from=2026-04-21T10:00&to=2026-04-21T09:00", "to", "must be after"},
		{"view=cards", "view", "one row per event or one row per message"},
	}
	for _, c := range cases {
		code, body := get(t, e, "/log?"+c.query, false)
		if code != fiber.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422", c.query, code)
		}
		slot := `id="log-err-` + c.field + `" class="field-error">`
		i := strings.Index(body, slot)
		if i < 0 || !strings.Contains(body[i:min(len(body), i+300)], c.message) {
			t.Errorf("%s: no %q next to %s", c.query, c.message, c.field)
		}
		if strings.Contains(body, "wamid.A1") || !strings.Contains(body, "nothing was searched") {
			t.Errorf("%s: the refused filter still listed rows", c.query)
		}
		code, frag := get(t, e, "/log?"+c.query, true)
		if code != fiber.StatusUnprocessableEntity || !strings.Contains(frag, `id="log-err-`+c.field+`" class="field-error" hx-swap-oob="true">`+"") || !strings.Contains(frag, c.message) {
			t.Errorf("%s (htmx): %d %.300s", c.query, code, frag)
		}
	}
	// The typed value stays in the box.
	if _, body := get(t, e, "/log?error_code=abc", false); !strings.Contains(body, `name="error_code" inputmode="numeric" maxlength="9" value="abc"`) {
		t.Error("error_code=abc not kept as typed")
	}
}

// The recipient filter finds a number in every format the composer accepts.
func TestLogRecipientFilterTakesComposerFormats(t *testing.T) {
	staff := models.User{ID: 3, Staff: true, Role: models.RoleAdmin}
	e := newEnv(t, &staff, 1<<20)
	seedTenants(t, e) // both messages go to 16505551234
	for _, typed := range []string{"16505551234", "+16505551234", "+1 650 555 1234", "1-650-555-1234", "+1 (650) 555.1234"} {
		for _, view := range []string{"events", "messages"} {
			code, body := get(t, e, "/log?view="+view+"&recipient="+url.QueryEscape(typed), true)
			if code != 200 || !strings.Contains(body, "wamid.A1") {
				t.Errorf("%s view, recipient %q: %d, wamid.A1 not found", view, typed, code)
			}
		}
	}
	if _, body := get(t, e, "/log?recipient="+url.QueryEscape("+1 650 555 0000"), true); strings.Contains(body, "wamid.A1") {
		t.Error("another number matched")
	}
}

// "Cloud API fallback" and "read" finds the read status of a fallback send: the route is the
// message's, though the read webhook carries no pricing.
func TestLogRouteFilterByMessage(t *testing.T) {
	staff := models.User{ID: 3, Staff: true, Role: models.RoleAdmin}
	e := newEnv(t, &staff, 1<<20)
	a, _ := seedTenants(t, e)
	err := e.svc.RecordAccepted(context.Background(), webhook.Accepted{WAMID: "wamid.FB1", AccountID: a, WABAID: "100", PhoneNumberID: "200",
		Recipient: "16505551234", TemplateName: "spring_sale", TemplateLanguage: "en_US", AcceptedAt: time.Now().UTC(), SendRequest: `{"to":"16505551234"}`})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{status("100", "wamid.FB1", "sent", "marketing"), strings.Replace(status("100", "wamid.FB1", "read", "marketing"), `,"pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"}`, "", 1)} {
		if code, _ := do(t, e.app, post(d, webhook.Sign([]byte(d), secret))); code != 200 {
			t.Fatalf("delivery refused: %d", code)
		}
	}
	_, body := get(t, e, "/log?route=fallback&status=read", true)
	if !strings.Contains(body, "wamid.FB1") || !strings.Contains(body, "1 event matches") {
		t.Errorf("route=fallback&status=read: %.600s", body)
	}
	if _, body := get(t, e, "/log?route=mm_api&status=read", true); strings.Contains(body, "wamid.FB1") {
		t.Error("route=mm_api found the fallback message")
	}
}

// The per-message view shows each message once in its latest state, and the filters show
// WABAs and phones by name, with the id in a tooltip; rows name them too.
func TestLogPerMessageViewAndNames(t *testing.T) {
	staff := models.User{ID: 3, Staff: true, Role: models.RoleAdmin}
	e := newEnv(t, &staff, 1<<20)
	seedTenants(t, e)
	e.db.Model(&models.WABAConnection{}).Where("waba_id = ?", "100").Update("name", "Acme Mexico")
	var conn models.WABAConnection
	e.db.Where("waba_id = ?", "100").Take(&conn)
	e.db.Create(&models.PhoneNumber{ConnectionID: conn.ID, AccountID: conn.AccountID, PhoneNumberID: "200", DisplayPhoneNumber: "+1 555-0100", VerifiedName: "Acme"})
	d := status("100", "wamid.A1", "failed", "marketing") // a second event of the same message
	do(t, e.app, post(strings.Replace(d, "1750030073", "1750030099", 1), webhook.Sign([]byte(strings.Replace(d, "1750030073", "1750030099", 1)), secret)))

	code, body := get(t, e, "/log?view=messages", false)
	if code != 200 {
		t.Fatalf("/log?view=messages: %d", code)
	}
	for _, want := range []string{`title="WABA ID 100"`, ">Acme Mexico</option>", `title="Phone number ID 200"`, ">Acme +1 555-0100</option>",
		`value="messages" checked`, "First seen", "Clicked", "TTL", "2 messages match"} {
		if !strings.Contains(body, want) {
			t.Errorf("per-message view lacks %q", want)
		}
	}
	if n := strings.Count(body, `href="/messages/wamid.A1"`); n != 1 {
		t.Errorf("wamid.A1 listed %d times in the per-message view, want once", n)
	}
	_, events := get(t, e, "/log", true)
	if !strings.Contains(events, ">Acme Mexico</span>") || !strings.Contains(events, ">Acme +1 555-0100</span>") {
		t.Errorf("event rows do not name the WABA and phone: %.400s", events)
	}
}

// Saving names the current filter for the user; a refused filter or name changes nothing, and
// another user's saved filter cannot be deleted.
func TestLogSavedFilters(t *testing.T) {
	acct := uint(1)
	u := models.User{ID: 7, AccountID: &acct, Role: models.RoleViewer}
	e := newEnv(t, &u, 1<<20)
	seedTenants(t, e)
	form := func(v url.Values) *http.Request {
		req := httptest.NewRequest(http.MethodPost, "/log/filters", strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	}
	code, _ := do(t, e.app, form(url.Values{"name": {"Failed"}, "query": {"status=failed&view=messages"}}))
	if code != fiber.StatusSeeOther {
		t.Fatalf("save: %d", code)
	}
	_, body := get(t, e, "/log", false)
	if !strings.Contains(body, `href="/log?status=failed&amp;view=messages">Failed</a>`) {
		t.Errorf("saved filter not listed: %.300s", body[strings.Index(body, "Saved filters"):])
	}
	for _, bad := range []url.Values{{"name": {""}, "query": {"status=failed"}}, {"name": {"Bad"}, "query": {"error_code=abc"}}} {
		if code, body := do(t, e.app, form(bad)); code != fiber.StatusUnprocessableEntity || !strings.Contains(body, `id="save-filter-err" class="field-error">`) {
			t.Errorf("save %v: %d", bad, code)
		}
	}
	var n int64
	e.db.Model(&models.SavedFilter{}).Count(&n)
	if n != 1 {
		t.Errorf("%d saved filters after refused saves, want 1", n)
	}
	theirs := models.SavedFilter{UserID: 99, Name: "Theirs", Query: "status=read"}
	e.db.Create(&theirs)
	del := func(id uint) int {
		req := httptest.NewRequest(http.MethodPost, "/log/filters/"+strconv.FormatUint(uint64(id), 10)+"/delete", nil)
		code, _ := do(t, e.app, req)
		return code
	}
	if code := del(theirs.ID); code != 404 {
		t.Errorf("deleting another user's filter: %d, want 404", code)
	}
	if _, body := get(t, e, "/log", false); strings.Contains(body, "Theirs") {
		t.Error("another user's saved filter is listed")
	}
	var mine models.SavedFilter
	e.db.Where("user_id = ?", u.ID).Take(&mine)
	if code := del(mine.ID); code != fiber.StatusSeeOther {
		t.Errorf("deleting my filter: %d", code)
	}
	e.db.Model(&models.SavedFilter{}).Count(&n)
	if n != 1 {
		t.Errorf("%d saved filters left, want only the other user's", n)
	}
}

// The CSV export holds exactly the filtered rows, in the log's order, streamed; a refused filter
// exports nothing; the bound ends the file with a row that says so.
func TestLogExportCSV(t *testing.T) {
	staff := models.User{ID: 3, Staff: true, Role: models.RoleAdmin}
	e := newEnv(t, &staff, 1<<20)
	seedTenants(t, e)
	for _, w := range []string{"wamid.X1", "wamid.X2", "wamid.X3"} {
		d := status("100", w, "delivered", "marketing_lite")
		do(t, e.app, post(d, webhook.Sign([]byte(d), secret)))
	}
	read := func(path string, app *fiber.App) (*http.Response, [][]string) {
		resp, err := app.Test(httptest.NewRequest(http.MethodGet, path, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(resp.Body).ReadAll()
		if err != nil && resp.StatusCode == 200 {
			t.Fatalf("%s: %v", path, err)
		}
		return resp, recs
	}
	resp, recs := read("/log/export.csv?status=delivered", e.app)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("headers: %s / %s", ct, resp.Header.Get("Content-Disposition"))
	}
	p, err := e.svc.List(context.Background(), models.Scope{AllAccounts: true}, webhook.Filter{Status: "delivered"}, nil, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(p.Events)+1 || recs[0][0] != "received_at" {
		t.Fatalf("%d CSV rows for %d events: %v", len(recs)-1, len(p.Events), recs)
	}
	for i, ev := range p.Events {
		if recs[i+1][3] != ev.WAMID || recs[i+1][2] != "delivered" || recs[i+1][13] != ev.WABAID {
			t.Errorf("row %d: %v, want event %s", i+1, recs[i+1], ev.WAMID)
		}
	}
	_, msgs := read("/log/export.csv?view=messages", e.app)
	if len(msgs) != 1+5 || msgs[0][0] != "first_seen_at" {
		t.Errorf("message export: %d rows %v", len(msgs)-1, msgs)
	}
	if resp, _ := read("/log/export.csv?error_code=abc", e.app); resp.StatusCode != fiber.StatusUnprocessableEntity {
		t.Errorf("refused filter exported: %d", resp.StatusCode)
	}
	// A bounded export: the same routes with a bound of two rows.
	app := fiber.New(fiber.Config{ErrorHandler: handlers.ErrorHandler(&handlers.Shells{})})
	app.Use(func(c *fiber.Ctx) error { handlers.SetCurrentUser(c, staff, ""); return c.Next() })
	handlers.RegisterLog(app, &handlers.WebhookLog{Shells: &handlers.Shells{}, Events: e.svc, ExportMaxRows: 2})
	_, capped := read("/log/export.csv", app)
	if len(capped) != 4 || !strings.HasPrefix(capped[3][0], "stopped at 2 rows") {
		t.Errorf("bounded export: %v", capped)
	}
}

// The header's search goes straight to the one thing it finds, lists several, and sees only the
// searcher's account.
func TestHeaderSearch(t *testing.T) {
	acctA, acctB := uint(1), uint(2)
	for _, c := range []struct {
		name     string
		user     models.User
		q, where string // where: the redirect, or "" for the results page
		body     string
	}{
		{"wamid", models.User{ID: 1, AccountID: &acctA}, "wamid.A1", "/messages/wamid.A1", ""},
		{"number as the composer takes it", models.User{ID: 1, AccountID: &acctA}, "+1 650 555 1234", "/log?recipient=16505551234", ""},
		{"template", models.User{ID: 1, AccountID: &acctA}, "spring_sale", "/templates/111", ""},
		{"ambiguous", models.User{ID: 1, AccountID: &acctA}, "spring", "", "2 matches"},
		{"another account's wamid", models.User{ID: 2, AccountID: &acctB}, "wamid.A1", "", "Nothing you can see matches"},
		{"too long", models.User{ID: 1, AccountID: &acctA}, strings.Repeat("x", 600), "", "at most 512 characters"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, &c.user, 1<<20)
			seedTenants(t, e)
			for _, tp := range []struct{ id, name string }{{"111", "spring_sale"}, {"112", "spring_launch"}} {
				e.db.Create(&models.Template{AccountID: acctA, ConnectionID: 1, WABAID: "100", TemplateID: tp.id, Name: tp.name, Language: "en_US", Status: "APPROVED", Category: "MARKETING"})
			}
			resp, err := e.app.Test(httptest.NewRequest(http.MethodGet, "/search?q="+url.QueryEscape(c.q), nil), -1)
			if err != nil {
				t.Fatal(err)
			}
			if c.where != "" {
				if resp.StatusCode != fiber.StatusSeeOther || resp.Header.Get("Location") != c.where {
					t.Errorf("%d to %q, want 303 to %q", resp.StatusCode, resp.Header.Get("Location"), c.where)
				}
				return
			}
			_, body := do(t, e.app, httptest.NewRequest(http.MethodGet, "/search?q="+url.QueryEscape(c.q), nil))
			if !strings.Contains(body, c.body) {
				t.Errorf("results page lacks %q", c.body)
			}
		})
	}
}
