package handlers

import (
	"context"
	"io"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"mmconsole/internal/authoring"
	"mmconsole/internal/graph"
	"mmconsole/internal/templates"
	"mmconsole/models"
)

// newTemplateForm is a valid authoring form: image header, a URL button with a suffix and two
// optimizations off, on the Store WABA.
func newTemplateForm(e *tplEnv, t *testing.T, name string) url.Values {
	var conn models.WABAConnection
	mustT(t, e.db.Where("name = ?", "Demo Store").Take(&conn).Error)
	return url.Values{
		"waba": {strconv.FormatUint(uint64(conn.ID), 10)}, "name": {name}, "language": {"en_US"}, "parameter_format": {"POSITIONAL"},
		"header_format": {"IMAGE"}, "header_sample": {"https://cdn.example/summer.jpg"},
		"body": {"Hi {{1}}, our summer sale is on. See you!"}, "ex_1": {"Ana"}, "footer": {"Reply STOP to opt out"},
		"button_count": {"1"}, "button_type_0": {"URL"}, "button_text_0": {"Shop now"},
		"button_url_0": {"https://shop.example/p/{{1}}"}, "button_example_0": {"https://shop.example/p/summer"},
		"ttl_value": {"2"}, "ttl_unit": {"days"},
		"opt_image_touchups": {"OPT_OUT"}, "opt_text_formatting_optimization": {"OPT_OUT"},
	}
}

func TestAuthoringPagesAreForWriters(t *testing.T) {
	e := newTplEnv(t)
	for _, path := range []string{"/templates/new"} {
		if st, _ := e.do(t, "viewer", "GET", path, nil, false); st != 403 {
			t.Errorf("viewer GET %s = %d, want 403", path, st)
		}
	}
	before := e.posts.Load()
	if st, _ := e.do(t, "viewer", "POST", "/templates/new", newTemplateForm(e, t, "viewer_try"), false); st != 403 {
		t.Errorf("viewer POST = %d, want 403", st)
	}
	if e.posts.Load() != before {
		t.Error("a viewer's create reached Meta")
	}
	st, body := e.do(t, "marketer", "GET", "/templates/new", nil, false)
	for _, want := range []string{"Only marketing templates go through MM API", `name="ttl_value"`, `name="opt_image_touchups"`, "WABA default", "Demo Store", "English (US)", `id="authoring-live"`} {
		if st != 200 || !strings.Contains(body, want) {
			t.Errorf("new template form (%d) lacks %q", st, want)
		}
	}
}

// TestCreateFromTheFormAppearsPendingAtOnce: a valid form creates the template at Meta and the
// catalog lists it as PENDING right after the redirect; the audit entry holds the request.
func TestCreateFromTheFormAppearsPendingAtOnce(t *testing.T) {
	e := newTplEnv(t)
	st, body := e.do(t, "marketer", "POST", "/templates/new", newTemplateForm(e, t, "summer_flash"), false)
	if st != 303 {
		t.Fatalf("create = %d:\n%.3000s", st, body)
	}
	row := e.row(t, "summer_flash", "en_US")
	if row.Status != "PENDING" || !strings.Contains(row.Optimizations, `"image_touchups":"OPT_OUT"`) || row.TTLSeconds == nil || *row.TTLSeconds != 172800 {
		t.Fatalf("stored %+v", row)
	}
	_, body = e.do(t, "viewer", "GET", "/templates?q=summer_flash", nil, true)
	if !strings.Contains(body, "summer_flash") || !strings.Contains(body, "PENDING") {
		t.Errorf("catalog does not list it as PENDING:\n%.2000s", body)
	}
	var found bool
	for _, a := range e.audit.events {
		if a.Action == authoring.ActionCreate {
			found = true
		}
	}
	if !found {
		t.Errorf("no audit entry: %+v", e.audit.events)
	}
}

// TestFormRefusalsNextToTheirFields: a refused submit re-renders with 422, the user's values and
// each message in its field's slot; Meta is not called.
func TestFormRefusalsNextToTheirFields(t *testing.T) {
	e := newTplEnv(t)
	f := newTemplateForm(e, t, "Bad Name")
	f.Set("body", "{{1}} starts the body")
	f.Set("button_url_0", "https://shop.example/{{1}}/x")
	before := e.posts.Load()
	st, body := e.do(t, "marketer", "POST", "/templates/new", f, false)
	if st != 422 || e.posts.Load() != before {
		t.Fatalf("refused create = %d (posts %d→%d)", st, before, e.posts.Load())
	}
	for _, want := range []string{
		`id="err-name" class="field-error">Use only lowercase letters`,
		`id="err-body" class="field-error">The body cannot start or end with a variable`,
		`id="err-button_url_0" class="field-error">Button 1: a link holds one variable`,
		`value="Bad Name"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("refused form lacks %q", want)
		}
	}
	// Meta's duplicate refusal lands on the name, explained.
	mustT(t, e.db.Where("name = ? AND language = ?", "summer_sale", "en_US").Delete(&models.Template{}).Error)
	st, body = e.do(t, "marketer", "POST", "/templates/new", newTemplateForm(e, t, "summer_sale"), false)
	if st != 502 || !strings.Contains(body, `id="err-name" class="field-error">Meta refused it (error 100, subcode 2388024): Template already exists`) {
		t.Errorf("Meta's duplicate = %d:\n%.4000s", st, body)
	}
}

// TestLiveCheckAsYouType: the live check answers the preview and every field's message out of
// band, and re-renders the examples only when the variables changed.
func TestLiveCheckAsYouType(t *testing.T) {
	e := newTplEnv(t)
	f := newTemplateForm(e, t, "summer_flash")
	f.Set("mode", "new")
	f.Set("body", "Hi {{1}}, sale ends {{2}} okay")
	f.Set("vars_key", "POSITIONAL|1")
	st, body := e.do(t, "marketer", "POST", "/templates/check", f, true)
	if st != 200 || !strings.Contains(body, `id="authoring-live"`) || !strings.Contains(body, `<mark class="wa-var" title="variable">{{2}}</mark>`) {
		t.Fatalf("live check = %d:\n%.2000s", st, body)
	}
	if !strings.Contains(body, `id="authoring-examples" hx-swap-oob="true"`) || !strings.Contains(body, `name="ex_2"`) {
		t.Error("a new variable must bring its example input")
	}
	if !strings.Contains(body, `id="err-body_examples" class="field-error">Meta reviews templates with an example of each variable: give one for {{2}}`) {
		t.Errorf("the missing example is not said next to the examples:\n%.3000s", body)
	}
	f.Set("vars_key", "POSITIONAL|1|2")
	_, body = e.do(t, "marketer", "POST", "/templates/check", f, true)
	if strings.Contains(body, `id="authoring-examples"`) {
		t.Error("unchanged variables must not re-render the example inputs under the user's fingers")
	}
	if !strings.Contains(body, `id="err-body_examples" class="field-error" hx-swap-oob="true">Meta reviews templates`) {
		t.Error("with the inputs kept, the examples' message is swapped out of band")
	}
	f.Set("ex_2", "Sunday")
	_, body = e.do(t, "marketer", "POST", "/templates/check", f, true)
	if !strings.Contains(body, "rules checked here pass") {
		t.Errorf("a valid form should pass the live check:\n%.2000s", body)
	}
}

// TestCloneEditDeletePages: clone fills the form under a new name; edit says it goes back to
// review and shows the shared budget; delete asks first and names what stops working.
func TestCloneEditDeletePages(t *testing.T) {
	e := newTplEnv(t)
	src := e.row(t, "summer_sale", "en_US")
	id := strconv.FormatUint(uint64(src.ID), 10)
	st, body := e.do(t, "marketer", "GET", "/templates/"+id+"/clone", nil, false)
	if st != 200 || !strings.Contains(body, `value="summer_sale_copy"`) || !strings.Contains(body, `name="clone_of" value="`+src.TemplateID+`"`) {
		t.Errorf("clone form = %d", st)
	}
	st, body = e.do(t, "marketer", "GET", "/templates/"+id+"/edit", nil, false)
	if st != 200 || !strings.Contains(body, "An edit sends the template back to Meta's review") || !strings.Contains(body, "0 of 10 edits used") {
		t.Errorf("edit form = %d:\n%.3000s", st, body)
	}
	if strings.Contains(body, `id="a-format"`) || !strings.Contains(body, `name="parameter_format" value="`+src.ParameterFormat+`"`) {
		t.Error("an edit keeps the template's kind of variables: no choice offered")
	}
	st, body = e.do(t, "marketer", "GET", "/templates/"+id+"/delete?scope=name", nil, false)
	if st != 200 || !strings.Contains(body, "What stops working") || !strings.Contains(body, "132001") || !strings.Contains(body, "es_MX") {
		t.Errorf("delete confirmation = %d", st)
	}
	before := e.posts.Load()
	if st, _ := e.do(t, "marketer", "POST", "/templates/"+id+"/delete", url.Values{"scope": {"name"}}, false); st != 422 || e.posts.Load() != before {
		t.Errorf("delete without confirmation = %d", st)
	}
	if st, _ := e.do(t, "marketer", "POST", "/templates/"+id+"/delete", url.Values{"scope": {"one"}, "confirm": {"yes"}}, false); st != 303 {
		t.Errorf("confirmed delete = %d", st)
	}
	if r := e.row(t, "summer_sale", "en_US"); r.Status != "DELETED" {
		t.Errorf("after delete: %s", r.Status)
	}
	if r := e.row(t, "summer_sale", "es_MX"); r.Status == "DELETED" {
		t.Error("deleting one language deleted the other")
	}
	// Another account's template is not found.
	other := strconv.FormatUint(uint64(e.other.ID), 10)
	if st, _ := e.do(t, "marketer", "GET", "/templates/"+other+"/edit", nil, false); st != 404 {
		t.Errorf("another account's edit page = %d", st)
	}
}

// TestAuthoringRefusesViewersAndOtherAccounts: a viewer reaches none of clone, edit, delete or the
// live check, and a writer gets 404 for another account's template, connection or clone source,
// by URL or by form; nothing reaches Meta and nothing changes.
func TestAuthoringRefusesViewersAndOtherAccounts(t *testing.T) {
	e := newTplEnv(t)
	own := e.row(t, "summer_sale", "en_US")
	id, other := strconv.FormatUint(uint64(own.ID), 10), strconv.FormatUint(uint64(e.other.ID), 10)
	before := e.posts.Load()
	edit := newTemplateForm(e, t, "summer_sale")
	for _, c := range []struct {
		user, method, path string
		form               url.Values
		want               int
	}{
		{"viewer", "GET", "/templates/" + id + "/clone", nil, 403},
		{"viewer", "GET", "/templates/" + id + "/edit", nil, 403},
		{"viewer", "POST", "/templates/" + id + "/edit", edit, 403},
		{"viewer", "GET", "/templates/" + id + "/delete", nil, 403},
		{"viewer", "POST", "/templates/" + id + "/delete", url.Values{"scope": {"name"}, "confirm": {"yes"}}, 403},
		{"viewer", "POST", "/templates/check", edit, 403},
		{"marketer", "GET", "/templates/" + other + "/clone", nil, 404},
		{"marketer", "POST", "/templates/" + other + "/edit", edit, 404},
		{"marketer", "GET", "/templates/" + other + "/delete", nil, 404},
		{"marketer", "POST", "/templates/" + other + "/delete", url.Values{"scope": {"name"}, "confirm": {"yes"}}, 404},
		{"marketer", "POST", "/templates/" + other + "/delete", url.Values{"scope": {"one"}, "confirm": {"yes"}}, 404},
	} {
		if st, _ := e.do(t, c.user, c.method, c.path, c.form, false); st != c.want {
			t.Errorf("%s %s %s = %d, want %d", c.user, c.method, c.path, st, c.want)
		}
	}
	// Another account's connection in the form's waba field.
	f := newTemplateForm(e, t, "foreign_waba")
	f.Set("waba", strconv.FormatUint(uint64(e.other.ConnectionID), 10))
	if st, body := e.do(t, "marketer", "POST", "/templates/new", f, false); st != 422 || !strings.Contains(body, "Choose one of your WABAs") {
		t.Errorf("create in another account's WABA = %d", st)
	}
	// Another account's template as the clone source.
	f = newTemplateForm(e, t, "foreign_clone")
	f.Set("clone_of", e.other.TemplateID)
	if st, _ := e.do(t, "marketer", "POST", "/templates/new", f, false); st != 404 {
		t.Errorf("clone of another account's template = %d, want 404", st)
	}
	if e.posts.Load() != before {
		t.Errorf("%d refused requests reached Meta", e.posts.Load()-before)
	}
	if r := e.row(t, "summer_sale", "en_US"); r.Status != own.Status || r.Components != own.Components {
		t.Errorf("a refused request changed the template: %s", r.Status)
	}
	var o models.Template
	mustT(t, e.db.Take(&o, e.other.ID).Error)
	if o.Status != "APPROVED" || o.GoneAt != nil {
		t.Errorf("another account's template changed: %s", o.Status)
	}
	if len(e.audit.events) != 0 {
		t.Errorf("refused requests were audited as changes: %+v", e.audit.events)
	}
}

// TestAuthoringInputsAreBounded: every text the form sends has a limit on the server, said next to
// its field, and the form's maxlength says the same; nothing reaches Meta.
func TestAuthoringInputsAreBounded(t *testing.T) {
	e := newTplEnv(t)
	long := func(n int) string { return strings.Repeat("x", n) }
	cases := []struct{ field, value, errField, words string }{
		{"name", strings.Repeat("a", 513), "name", "at most 512"},
		{"header_sample", "https://cdn.example/" + long(2100), "header_sample", "at most 2048"},
		{"body", "Hi {{1}} " + long(1100), "body", "at most 1024"},
		{"ex_1", long(1025), "body_examples", "at most 1024"},
		{"footer", long(61), "footer", "at most 60"},
		{"button_text_0", long(26), "button_text_0", "at most 25"},
		{"button_url_0", "https://shop.example/" + long(2000), "button_url_0", "at most 2000"},
		{"button_example_0", "https://shop.example/p/" + long(2000), "button_example_0", "at most 2000"},
		{"ttl_value", strings.Repeat("9", 40), "ttl", "TTL"},
	}
	before := e.posts.Load()
	for _, c := range cases {
		f := newTemplateForm(e, t, "bounded_input")
		f.Set(c.field, c.value)
		st, body := e.do(t, "marketer", "POST", "/templates/new", f, false)
		slot := `id="err-` + c.errField + `" class="field-error">`
		if c.errField == "ttl" {
			slot = `class="field-error" id="a-ttl-help">`
		}
		if st != 422 || !strings.Contains(body, slot) || !strings.Contains(body, c.words) {
			t.Errorf("%s of %d characters = %d, want 422 with %q next to the field", c.field, len(c.value), st, c.words)
		}
	}
	// A text header's example: bounded like the header it fills.
	f := newTemplateForm(e, t, "bounded_input")
	f.Set("header_format", "TEXT")
	f.Set("header_text", "Hello {{1}}")
	f.Set("body", "Our sale is on, see you.")
	f.Set("ex_1", long(61))
	if st, body := e.do(t, "marketer", "POST", "/templates/new", f, false); st != 422 || !strings.Contains(body, `id="err-header_example" class="field-error">The example of {{1}} has at most 60`) {
		t.Errorf("header example of 61 characters = %d, want 422 next to the header's example", st)
	}
	if e.posts.Load() != before {
		t.Error("an over-long input reached Meta")
	}
	// The form's maxlength says the same limits.
	f.Set("ex_1", "Ana")
	_, body := e.do(t, "marketer", "POST", "/templates/new", url.Values{"action": {"refresh"}, "waba": f["waba"], "header_format": {"IMAGE"},
		"body": {"Hi {{1}}, bye."}, "button_count": {"1"}, "button_type_0": {"URL"}}, false)
	for _, want := range []string{`name="name" value="" maxlength="512"`, `name="header_sample" value="" maxlength="2048"`, `name="ex_1" value="" maxlength="1024"`,
		`name="button_example_0" value="" maxlength="2000"`, `name="button_url_0" value="" maxlength="2000"`} {
		if !strings.Contains(body, want) {
			t.Errorf("form lacks %s", want)
		}
	}
}

// refusingEdits is the authoring service with Meta refusing every edit with one error.
type refusingEdits struct {
	AuthoringService
	ge graph.GraphError
}

func (r refusingEdits) Edit(context.Context, models.Scope, authoring.Actor, uint, authoring.Draft) (models.Template, error) {
	ge := r.ge
	return models.Template{}, authoring.AsRefused(&ge)
}

// TestRefusalOfAFieldTheEditDoesNotShow: Meta's refusal of an edit that names a field the edit
// form has no input for (the name, the TTL) is said above the form, as an alert with Meta's
// code and words, not only in the summary of a slot that is not rendered.
func TestRefusalOfAFieldTheEditDoesNotShow(t *testing.T) {
	e := newTplEnv(t)
	src := e.row(t, "summer_sale", "en_US")
	catalog := templates.New(e.db, e.graph, e.tokens, templates.Options{MinManualGap: -1})
	real := authoring.New(e.db, e.graph, e.tokens, authoring.Options{})
	for _, ge := range []graph.GraphError{
		{Code: 100, Subcode: 2388023, Message: "Invalid parameter", Details: "The template name is being deleted"},
		{Code: 100, Message: "Invalid parameter", Details: "message_send_ttl_seconds for MARKETING templates must be between 43200 and 2592000"},
	} {
		shells := &Shells{}
		app := fiber.New(fiber.Config{ErrorHandler: ErrorHandler(shells)})
		app.Use(func(c *fiber.Ctx) error { SetCurrentUser(c, e.users["marketer"], "Shop"); return c.Next() })
		RegisterAuthoring(app, &Authoring{Shells: shells, Catalog: catalog, Service: refusingEdits{AuthoringService: real, ge: ge}})
		form := newTemplateForm(e, t, "summer_sale")
		form.Set("header_format", "NONE")
		req := httptest.NewRequest("POST", "/templates/"+strconv.FormatUint(uint64(src.ID), 10)+"/edit", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := app.Test(req, -1)
		mustT(t, err)
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 502 || !strings.Contains(string(b), `class="graph-error" role="alert"`) || !strings.Contains(string(b), ge.Details) {
			t.Errorf("refusal %q: %d, and Meta's words must be on the page:\n%.3000s", ge.Details, resp.StatusCode, b)
		}
	}
}
