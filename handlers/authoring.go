package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"mmconsole/internal/authoring"
	"mmconsole/internal/graph"
	"mmconsole/internal/i18n"
	"mmconsole/internal/metarules"
	"mmconsole/internal/optimize"
	"mmconsole/internal/templates"
	"mmconsole/models"
	"mmconsole/views/pages"
)

// AuthoringService is what the authoring pages need from internal/authoring.
type AuthoringService interface {
	Template(ctx context.Context, scope models.Scope, id uint) (models.Template, error)
	TakenNames(ctx context.Context, connID uint) (map[string]bool, error)
	Create(ctx context.Context, scope models.Scope, actor authoring.Actor, d authoring.Draft) (models.Template, error)
	EditInfo(ctx context.Context, t models.Template) (authoring.EditInfo, error)
	Edit(ctx context.Context, scope models.Scope, actor authoring.Actor, id uint, d authoring.Draft) (models.Template, error)
	Impact(ctx context.Context, scope models.Scope, id uint, all bool) (authoring.DeleteImpact, error)
	Delete(ctx context.Context, scope models.Scope, actor authoring.Actor, id uint, all bool) (authoring.DeleteImpact, error)
}

var _ AuthoringService = (*authoring.Service)(nil)

// Authoring serves /templates/new, clone, edit and delete: writers only, checked per route and
// again here and in the service.
//
// Form pattern: a refused submit re-renders the whole page with 422 and each message next to its
// field; the live check (POST /templates/check, htmx) always answers 200 with the preview and the
// field messages out of band; success flashes and redirects to the template's page.
type Authoring struct {
	Shells  *Shells
	Service AuthoringService
	Catalog AuthoringCatalog
}

// AuthoringCatalog is the part of the catalog the authoring pages read: the WABAs to create in,
// the template a clone names, and the clock every template page uses.
type AuthoringCatalog interface {
	Connections(ctx context.Context, scope models.Scope) ([]models.WABAConnection, error)
	Get(ctx context.Context, scope models.Scope, id string) (models.Template, error)
	Now() time.Time
}

// writer is the signed-in user when they may author templates.
func writer(c *fiber.Ctx) (models.User, error) {
	u, ok := CurrentUser(c)
	if !ok || !u.CanWrite() {
		return models.User{}, models.ErrForbidden
	}
	return u, nil
}

func actorOf(c *fiber.Ctx, u models.User) authoring.Actor {
	return authoring.Actor{User: u, IP: c.IP()}
}

// rowID reads the :id route parameter (our row id).
func rowID(c *fiber.Ctx) (uint, error) {
	n, err := strconv.ParseUint(c.Params("id"), 10, 64)
	if err != nil || n == 0 {
		return 0, models.ErrNotFound
	}
	return uint(n), nil
}

// writerTemplate is the signed-in writer and the template the route names, within their scope.
func (h *Authoring) writerTemplate(c *fiber.Ctx) (models.User, models.Template, error) {
	u, err := writer(c)
	if err != nil {
		return u, models.Template{}, err
	}
	id, err := rowID(c)
	if err != nil {
		return u, models.Template{}, err
	}
	t, err := h.Service.Template(c.UserContext(), CurrentScope(c), id)
	return u, t, err
}

// draftFromForm reads the form. Values no form offers are kept as typed so the checks name them.
func draftFromForm(c *fiber.Ctx) authoring.Draft {
	v := func(k string) string { return c.FormValue(k) }
	d := authoring.Draft{
		Name: strings.TrimSpace(v("name")), Language: v("language"), ParameterFormat: v("parameter_format"),
		HeaderFormat: strings.ToUpper(v("header_format")), HeaderText: v("header_text"), HeaderSample: strings.TrimSpace(v("header_sample")),
		Body: v("body"), Footer: v("footer"), TTLValue: strings.TrimSpace(v("ttl_value")), TTLUnit: strings.TrimSpace(v("ttl_unit")),
		Examples: map[string]string{}, Optimizations: map[string]string{}, CloneOf: v("clone_of"),
	}
	if d.HeaderFormat == "" {
		d.HeaderFormat = authoring.HeaderNone
	}
	if n, err := strconv.ParseUint(v("waba"), 10, 64); err == nil {
		d.ConnectionID = uint(n)
	}
	for _, name := range append(d.HeaderVars(), d.BodyVars()...) {
		d.Examples[name] = v("ex_" + name)
	}
	// One more than Meta allows, so "at most 10 buttons" can be said; more is a crafted form.
	n, _ := strconv.Atoi(v("button_count"))
	n = min(max(n, 0), metarules.MaxButtons+1)
	for i := range n {
		s := strconv.Itoa(i)
		d.Buttons = append(d.Buttons, authoring.Button{Type: strings.ToUpper(v("button_type_" + s)), Text: v("button_text_" + s),
			URL: v("button_url_" + s), Example: v("button_example_" + s), Phone: v("button_phone_" + s)})
	}
	for _, f := range optimize.Catalog() {
		if st := strings.ToUpper(v("opt_" + f.Key)); st != "" {
			d.Optimizations[f.Key] = st
		}
	}
	return d
}

// form builds the page props around a draft.
func (h *Authoring) form(c *fiber.Ctx, mode, action string, d authoring.Draft) (pages.AuthoringForm, error) {
	f := pages.AuthoringForm{Mode: mode, Action: action, CSRF: CSRFToken(c), D: d, Features: optimize.Catalog(), Errors: map[string]string{}}
	if mode != pages.AuthorEdit {
		conns, err := h.Catalog.Connections(c.UserContext(), CurrentScope(c))
		if err != nil {
			return f, err
		}
		f.Connections = conns
		if f.D.ConnectionID == 0 && len(conns) > 0 {
			f.D.ConnectionID = conns[0].ID
		}
	}
	if f.D.Language == "" {
		f.D.Language = "en_US"
	}
	if f.D.HeaderFormat == "" {
		f.D.HeaderFormat = authoring.HeaderNone
	}
	comps, _ := json.Marshal(f.D.Components())
	f.Preview = templates.BuildPreview(string(comps))
	return f, nil
}

// checked adds the rules' messages to the form (the live check and a refused submit).
func checked(ctx context.Context, f pages.AuthoringForm) pages.AuthoringForm {
	d := f.D
	if f.Mode == pages.AuthorEdit {
		d.TTLValue, d.TTLUnit, d.Optimizations = "", "", nil
	}
	if ve := d.Check(ctx); ve != nil {
		for k, m := range ve.Fields {
			if f.Errors[k] == "" {
				f.Errors[k] = m
			}
		}
	}
	return f
}

// New is GET /templates/new.
func (h *Authoring) New(c *fiber.Ctx) error {
	if _, err := writer(c); err != nil {
		return err
	}
	f, err := h.form(c, pages.AuthorNew, "/templates/new", authoring.Draft{ParameterFormat: "POSITIONAL"})
	if err != nil {
		return err
	}
	return Render(c, fiber.StatusOK, pages.AuthoringPage(h.Shells.Shell(c, f.Title(c.UserContext()), "templates"), f))
}

// Clone is GET /templates/:id/clone: the form filled from the template, under a new name.
func (h *Authoring) Clone(c *fiber.Ctx) error {
	_, src, err := h.writerTemplate(c)
	if err != nil {
		return err
	}
	d := authoring.FromTemplate(src)
	taken, err := h.Service.TakenNames(c.UserContext(), src.ConnectionID)
	if err != nil {
		return err
	}
	d.Name, d.CloneOf = authoring.CloneName(src.Name, taken), src.TemplateID
	f, err := h.form(c, pages.AuthorClone, "/templates/new", d)
	if err != nil {
		return err
	}
	f.Source = &src
	return Render(c, fiber.StatusOK, pages.AuthoringPage(h.Shells.Shell(c, f.Title(c.UserContext()), "templates"), f))
}

// reshape applies a form action that changes the form itself (add or remove a button, a new
// header or button type): it answers the re-rendered form, or false when the action is a submit.
func (h *Authoring) reshape(c *fiber.Ctx, f pages.AuthoringForm) (bool, error) {
	action := c.FormValue("action")
	switch {
	case action == "add_button":
		if len(f.D.Buttons) < metarules.MaxButtons {
			f.D.Buttons = append(f.D.Buttons, authoring.Button{Type: "URL"})
		}
	case strings.HasPrefix(action, "remove_button_"):
		i, err := strconv.Atoi(strings.TrimPrefix(action, "remove_button_"))
		if err == nil && i >= 0 && i < len(f.D.Buttons) {
			f.D.Buttons = append(f.D.Buttons[:i], f.D.Buttons[i+1:]...)
		}
	case action == "refresh":
	default:
		return false, nil
	}
	f, err := h.form(c, f.Mode, f.Action, f.D)
	if err != nil {
		return true, err
	}
	if IsHTMX(c) {
		return true, Render(c, fiber.StatusOK, pages.AuthoringFormRegion(f))
	}
	return true, Render(c, fiber.StatusOK, pages.AuthoringPage(h.Shells.Shell(c, f.Title(c.UserContext()), "templates"), f))
}

// Create is POST /templates/new (a new template or a clone).
func (h *Authoring) Create(c *fiber.Ctx) error {
	u, err := writer(c)
	if err != nil {
		return err
	}
	d := draftFromForm(c)
	mode := pages.AuthorNew
	var src *models.Template
	if d.CloneOf != "" {
		mode = pages.AuthorClone
		// The source names the clone in the audit log; it must be a template the user sees.
		var srcT models.Template
		if err := h.findByMetaID(c, d.CloneOf, &srcT); err != nil {
			return err
		}
		src = &srcT
	}
	f, err := h.form(c, mode, "/templates/new", d)
	if err != nil {
		return err
	}
	f.Source = src
	if done, err := h.reshape(c, f); done {
		return err
	}
	t, err := h.Service.Create(c.UserContext(), CurrentScope(c), actorOf(c, u), d)
	if err != nil {
		return h.refusedForm(c, f, err)
	}
	Flash(c, "success", i18n.T(c.UserContext(), "authoring.flash.created", "Name", t.Name, "Language", t.Language))
	return Redirect(c, "/templates/"+strconv.FormatUint(uint64(t.ID), 10))
}

// findByMetaID loads the template a clone names, within the user's scope.
func (h *Authoring) findByMetaID(c *fiber.Ctx, metaID string, into *models.Template) error {
	t, err := h.Catalog.Get(c.UserContext(), CurrentScope(c), metaID)
	if err != nil {
		return err
	}
	*into = t
	return nil
}

// refusedForm re-renders the form after a refusal: messages next to their fields (422), Meta's
// refusal next to the field it concerns or above the form (502).
func (h *Authoring) refusedForm(c *fiber.Ctx, f pages.AuthoringForm, err error) error {
	var ve *models.ValidationError
	var re *authoring.RefusedError
	status := fiber.StatusUnprocessableEntity
	switch {
	case errors.As(err, &ve):
		for k, m := range ve.Fields {
			f.Errors[k] = m
		}
	case errors.As(err, &re):
		status = fiber.StatusBadGateway
		if re.Field != "" && f.ShowsField(re.Field) {
			f.Errors[re.Field] = re.Explain(c.UserContext())
		} else {
			x := re.Graph.Explain(c.UserContext())
			f.GraphErr = &pages.GraphErrorView{Code: re.Graph.Code, Title: x.Title, Meaning: x.Meaning, Action: x.Action, Details: re.Graph.Error()}
		}
	default:
		if ge, ok := graph.AsGraphError(err); ok {
			status = fiber.StatusBadGateway
			x := ge.Explain(c.UserContext())
			f.GraphErr = &pages.GraphErrorView{Code: ge.Code, Title: x.Title, Meaning: x.Meaning, Action: x.Action, Details: ge.Error()}
			break
		}
		return err
	}
	f = checked(c.UserContext(), f)
	return Render(c, status, pages.AuthoringPage(h.Shells.Shell(c, f.Title(c.UserContext()), "templates"), f))
}

// Check is POST /templates/check: the live preview and Meta's rules as the user types.
func (h *Authoring) Check(c *fiber.Ctx) error {
	if _, err := writer(c); err != nil {
		return err
	}
	d := draftFromForm(c)
	mode := c.FormValue("mode")
	if mode != pages.AuthorEdit && mode != pages.AuthorClone {
		mode = pages.AuthorNew
	}
	f, err := h.form(c, mode, "", d)
	if err != nil {
		return err
	}
	f = checked(c.UserContext(), f)
	return Render(c, fiber.StatusOK, pages.AuthoringCheck(f, c.FormValue("vars_key") != f.VarsKey()))
}

// editForm builds the edit page of a template.
func (h *Authoring) editForm(c *fiber.Ctx, t models.Template, d authoring.Draft) (pages.AuthoringForm, error) {
	f, err := h.form(c, pages.AuthorEdit, "/templates/"+strconv.FormatUint(uint64(t.ID), 10)+"/edit", d)
	if err != nil {
		return f, err
	}
	f.Template = t
	info, err := h.Service.EditInfo(c.UserContext(), t)
	if err != nil {
		return f, err
	}
	f.Budget = i18n.T(c.UserContext(), "authoring.edit.budget", "Budget", info.Budget.Words(c.UserContext()))
	if !info.Budget.Applies {
		f.Budget = info.Budget.Words(c.UserContext())
	}
	f.Blocked = info.Blocked(c.UserContext(), h.Catalog.Now())
	if f.Blocked != "" {
		f.Errors["edit"] = f.Blocked
	}
	return f, nil
}

// EditForm is GET /templates/:id/edit.
func (h *Authoring) EditForm(c *fiber.Ctx) error {
	_, t, err := h.writerTemplate(c)
	if err != nil {
		return err
	}
	f, err := h.editForm(c, t, authoring.FromTemplate(t))
	if err != nil {
		return err
	}
	return Render(c, fiber.StatusOK, pages.AuthoringPage(h.Shells.Shell(c, f.Title(c.UserContext()), "templates"), f))
}

// Edit is POST /templates/:id/edit.
func (h *Authoring) Edit(c *fiber.Ctx) error {
	u, t, err := h.writerTemplate(c)
	if err != nil {
		return err
	}
	id := t.ID
	d := draftFromForm(c)
	d.Name, d.Language, d.ConnectionID = t.Name, t.Language, t.ConnectionID
	f, err := h.editForm(c, t, d)
	if err != nil {
		return err
	}
	if done, err := h.reshape(c, f); done {
		return err
	}
	if _, err := h.Service.Edit(c.UserContext(), CurrentScope(c), actorOf(c, u), id, d); err != nil {
		return h.refusedForm(c, f, err)
	}
	Flash(c, "success", i18n.T(c.UserContext(), "authoring.flash.edited", "Name", t.Name, "Language", t.Language))
	return Redirect(c, "/templates/"+strconv.FormatUint(uint64(t.ID), 10))
}

// DeleteConfirm is GET /templates/:id/delete[?scope=name]: what stops working, before it does.
func (h *Authoring) DeleteConfirm(c *fiber.Ctx) error {
	if _, err := writer(c); err != nil {
		return err
	}
	id, err := rowID(c)
	if err != nil {
		return err
	}
	imp, err := h.Service.Impact(c.UserContext(), CurrentScope(c), id, c.Query("scope") == "name")
	if err != nil {
		return err
	}
	return Render(c, fiber.StatusOK, pages.DeletePage(h.Shells.Shell(c, i18n.T(c.UserContext(), "authoring.delete.title", "Name", imp.Template.Name), "templates"), pages.DeleteConfirm{Impact: imp, CSRF: CSRFToken(c)}))
}

// Delete is POST /templates/:id/delete (scope=name: every language; confirm=yes required).
func (h *Authoring) Delete(c *fiber.Ctx) error {
	u, err := writer(c)
	if err != nil {
		return err
	}
	id, err := rowID(c)
	if err != nil {
		return err
	}
	all := c.FormValue("scope") == "name"
	if c.FormValue("confirm") != "yes" {
		// Nothing is deleted without the confirmation naming what stops working.
		imp, err := h.Service.Impact(c.UserContext(), CurrentScope(c), id, all)
		if err != nil {
			return err
		}
		return Render(c, fiber.StatusUnprocessableEntity, pages.DeletePage(h.Shells.Shell(c, i18n.T(c.UserContext(), "authoring.delete.title", "Name", imp.Template.Name), "templates"), pages.DeleteConfirm{Impact: imp, CSRF: CSRFToken(c)}))
	}
	imp, err := h.Service.Delete(c.UserContext(), CurrentScope(c), actorOf(c, u), id, all)
	if err != nil {
		if ge, ok := graph.AsGraphError(err); ok {
			x := ge.Explain(c.UserContext())
			Flash(c, "error", i18n.T(c.UserContext(), "authoring.flash.delete_refused", "Code", ge.Code, "Title", x.Title, "Action", x.Action))
			return Redirect(c, "/templates/"+strconv.FormatUint(uint64(id), 10))
		}
		return err
	}
	langs := make([]string, 0, len(imp.Removed))
	for _, t := range imp.Removed {
		langs = append(langs, t.Language)
	}
	Flash(c, "success", i18n.T(c.UserContext(), "authoring.flash.deleted", "Name", imp.Template.Name, "Languages", strings.Join(langs, ", ")))
	return Redirect(c, "/templates")
}
