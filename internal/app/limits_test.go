package app

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"mmconsole/internal/i18n"
	"mmconsole/models"
)

// formFields names the text fields of each form route: the inputs a person types into. Every
// POST route of the app must be listed (an empty list for forms without text fields); each is
// also sent an unnamed field, which the default limit bounds.
func formFields() map[string][]string {
	return map[string][]string{
		"POST /login":                                     {"email", "password", "next"},
		"POST /logout":                                    {},
		"POST /setup":                                     {"email", "name", "password", "confirm"},
		"POST /invite/:token":                             {"password", "confirm"},
		"POST /account/password":                          {"current", "new", "confirm"},
		"POST /account/language":                          {"language"},
		"POST /settings/accounts":                         {"name"},
		"POST /settings/users":                            {"email", "name", "role"},
		"POST /settings/users/:id/role":                   {"role"},
		"POST /settings/users/:id/disabled":               {"disabled"},
		"POST /settings/connections":                      {"waba_id", "name", "access_token", "app_secret", "api"},
		"POST /settings/connections/:id":                  {"waba_id", "name", "access_token", "app_secret", "api"},
		"POST /settings/connections/:id/delete":           {},
		"POST /settings/connections/:id/test":             {},
		"POST /templates/sync":                            {"waba", "back"},
		"POST /templates/new":                             {"name", "language", "body", "header_text", "header_sample", "footer", "button_text_0", "button_url_0", "button_phone_0", "button_example_0", "ex_1", "vars_key"},
		"POST /templates/check":                           {"name", "body", "header_text", "footer", "button_text_0", "ex_1"},
		"POST /templates/:id/edit":                        {"body", "header_text", "header_sample", "footer", "button_text_0", "button_url_0", "ex_1"},
		"POST /templates/:id/delete":                      {"scope", "confirm"},
		"POST /templates/:id/ttl":                         {"ttl_value", "ttl_unit", "back"},
		"POST /optimizations/template/:id/reread":         {},
		"POST /optimizations/template/:id/accept":         {},
		"POST /optimizations/template/:id/apply":          {"f_image_touchups", "all"},
		"POST /optimizations/waba/:conn/all":              {"value"},
		"POST /optimizations/waba/:conn/reread":           {},
		"POST /optimizations/waba/:conn/accept":           {},
		"POST /optimizations/waba/:conn/:feature/recheck": {},
		"POST /optimizations/waba/:conn/:feature":         {"value"},
		"POST /optimizations/bulk/preview":                {"conn", "template", "set_image_touchups"},
		"POST /optimizations/bulk/apply":                  {"conn", "template", "set_image_touchups"},
		"POST /sandbox/trigger":                           {"kind", "waba", "number", "template", "value"},
		"POST /log/filters":                               {"name", "query"},
		"POST /log/filters/:id/delete":                    {},
		"POST /insights/connections/:id/enable":           {"confirm"},
		"POST /send/recipients":                           {"name", "number", "account"},
		"POST /send/recipients/:id/delete":                {},
		"POST /send/preview":                              {"connection", "phone", "template", "recipient", "ttl_value", "var.body.1", "var.button.0", "var.header_media", "key"},
		"POST /send":                                      {"connection", "phone", "template", "recipient", "ttl_value", "var.body.1", "var.button.0", "var.header_media", "key"},
	}
}

// counts is the number of rows of every table a form can change.
func (f *fixture) counts() map[string]int64 {
	out := map[string]int64{}
	for _, m := range []any{&models.User{}, &models.Account{}, &models.WABAConnection{}, &models.AuditEntry{},
		&models.Session{}, &models.TestSend{}, &models.Invite{}, &models.OptimizationSetting{}, &models.OptimizationChange{}} {
		var n int64
		if err := f.a.DB().Model(m).Count(&n).Error; err != nil {
			f.t.Fatal(err)
		}
		out[fmt.Sprintf("%T", m)] = n
	}
	return out
}

func TestEveryFormRefusesAFieldOverItsLimitAndChangesNothing(t *testing.T) {
	f := newFixture(t)
	table, fields := expectations(), formFields()
	for key := range table {
		if strings.HasPrefix(key, "POST ") && !strings.HasPrefix(key, "POST /webhooks/") {
			if _, ok := fields[key]; !ok {
				t.Errorf("form route %s is not in formFields(): list its text fields so their limits are tested", key)
			}
		}
	}
	// Paths first: some create the object they address (a fresh connection to delete), and
	// every refused request must leave the rows as they were after that.
	paths := map[string]string{}
	for key := range fields {
		if rule, ok := table[key]; ok {
			paths[key] = rule.path(f)
		} else {
			t.Errorf("formFields lists %s, which the route matrix does not", key)
		}
	}
	before := f.counts()
	for key, names := range fields {
		rule, ok := table[key]
		if !ok {
			continue
		}
		role := "admin"
		switch rule.access {
		case public:
			role = "anonymous"
		case staffAdm:
			role = "staff-admin"
		}
		for _, name := range append(names, "unlisted_field") {
			limit := models.FormFieldMax(paths[key], name)
			form := url.Values{}
			if rule.form != nil {
				form = rule.form(f)
			}
			form.Set(name, strings.Repeat("7", limit+1))
			var extra []*http.Cookie
			if role == "anonymous" {
				pre := f.preSession()
				extra = append(extra, pre)
				form.Set("_csrf", pre.Value)
			} else {
				form.Set("_csrf", f.csrf[role])
			}
			resp, body := f.post(role, paths[key], form, extra...)
			// Numbers are grouped the English way (1,024) in a request without a language.
			want := fmt.Sprintf("at most %s characters, this one has %s.",
				i18n.Num(context.Background(), int64(limit)), i18n.Num(context.Background(), int64(limit+1)))
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, want) {
				t.Errorf("%s with %s of %d characters: %d %.300s, want 422 saying %q", key, name, limit+1, resp.StatusCode, body, want)
			}
		}
	}
	if after := f.counts(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("refused forms changed rows: before %v, after %v", before, after)
	}
}

func TestAFieldAtItsLimitIsAccepted(t *testing.T) {
	f := newFixture(t)
	// The invitation that made the settings page a million pixels wide, at the limit instead.
	name := strings.Repeat("n", models.FieldMax("name"))
	email := strings.Repeat("e", models.FieldMax("email")-len("@acme.example")) + "@acme.example"
	form := url.Values{"email": {email}, "name": {name}, "role": {"viewer"}, "_csrf": {f.csrf["admin"]}}
	resp, body := f.post("admin", fmt.Sprintf("/settings/users?account=%d", f.accA.ID), form)
	if resp.StatusCode >= 400 {
		t.Fatalf("invitation at the limits: %d %.300s", resp.StatusCode, body)
	}
	var n int64
	f.a.DB().Model(&models.User{}).Where("name = ?", name).Count(&n)
	if n != 1 {
		t.Errorf("invited users with the %d-character name: %d, want 1", len(name), n)
	}
}

var (
	inputTag   = regexp.MustCompile(`<(input|textarea)\b[^>]*>`)
	attrOf     = func(tag, attr string) (string, bool) { return attrValue(tag, attr) }
	notTypable = map[string]bool{"hidden": true, "checkbox": true, "radio": true, "submit": true, "button": true,
		"date": true, "datetime-local": true, "number": true, "file": true, "range": true, "color": true}
)

func attrValue(tag, attr string) (string, bool) {
	m := regexp.MustCompile(`\s` + regexp.QuoteMeta(attr) + `(?:="([^"]*)")?[\s/>]`).FindStringSubmatch(tag)
	if m == nil {
		return "", false
	}
	return m[1], true
}

func TestEveryTextInputRendersTheServerLimit(t *testing.T) {
	f := newFixture(t)
	pages := map[string]string{
		"/login": "anonymous", "/account/password": "admin", "/templates": "admin",
		fmt.Sprintf("/templates/%d", f.tmplA.ID): "admin", fmt.Sprintf("/settings?account=%d", f.accA.ID): "admin",
		fmt.Sprintf("/settings/connections/%d", f.connA.ID): "admin", "/settings": "staff-admin",
		"/send": "admin", "/sends": "admin", "/log": "admin", "/audit": "admin", "/optimizations": "admin",
		"/optimizations/matrix": "admin", fmt.Sprintf("/optimizations/template/%d", f.tmplA.ID): "admin", "/": "admin",
		"/templates/new": "admin", fmt.Sprintf("/templates/%d/edit", f.tmplA.ID): "admin",
		fmt.Sprintf("/templates/%d/clone", f.tmplA.ID): "admin", "/glossary": "admin", "/send/recipients": "admin",
	}
	checked := 0
	for path, role := range pages {
		resp, body := f.get(role, path)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s as %s: %d", path, role, resp.StatusCode)
			continue
		}
		for _, tag := range inputTag.FindAllString(body, -1) {
			typ, _ := attrOf(tag, "type")
			if notTypable[typ] {
				continue
			}
			if _, ro := attrOf(tag, "readonly"); ro {
				continue
			}
			name, _ := attrOf(tag, "name")
			got, ok := attrOf(tag, "maxlength")
			// The page may be stricter where Meta is (a coupon code's 15 characters shares
			// button_example_<n> with a URL's example), never looser than the server.
			n, err := strconv.Atoi(got)
			if limit := models.FormFieldMax(path, name); !ok || err != nil || n > limit {
				t.Errorf("%s: %s has maxlength %q, want at most %d (the server's limit for %q)", path, tag, got, limit, name)
			}
			checked++
		}
	}
	if checked < 20 {
		t.Errorf("checked only %d text inputs: the pages did not render their forms", checked)
	}
}

func TestGlossaryIsLinkedWhereTheTermsAppear(t *testing.T) {
	f := newFixture(t)
	_, glossary := f.get("viewer", "/glossary")
	link := regexp.MustCompile(`href="/glossary#([a-z0-9-]+)"`)
	for path, want := range map[string]string{
		"/templates":                                          "sync",
		fmt.Sprintf("/templates/%d", f.tmplA.ID):              "template-ttl",
		fmt.Sprintf("/optimizations/template/%d", f.tmplA.ID): "ycloud-key",
		fmt.Sprintf("/settings/connections/%d", f.connA.ID):   "send-ttl",
	} {
		resp, body := f.get("admin", path)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
			continue
		}
		found := map[string]bool{}
		for _, m := range link.FindAllStringSubmatch(body, -1) {
			found[m[1]] = true
			if !strings.Contains(glossary, `id="`+m[1]+`"`) {
				t.Errorf("%s links /glossary#%s, which the glossary does not have", path, m[1])
			}
		}
		if !found[want] {
			t.Errorf("%s does not link its term to /glossary#%s (links: %v)", path, want, found)
		}
	}
	// Every entry leads with plain words and names Meta's term; the inferred ones say so.
	for _, term := range []string{"134101", "ad_id", "first sighting", "time_to_live", "message_send_ttl_seconds", "YCloud key"} {
		if !regexp.MustCompile(`<code>[^<]*` + regexp.QuoteMeta(term)).MatchString(glossary) {
			t.Errorf("the glossary does not explain %q", term)
		}
	}
	if strings.Count(glossary, "worked out by the dashboard") < 3 {
		t.Error("the glossary does not mark the inferred terms as worked out by the dashboard")
	}
}
