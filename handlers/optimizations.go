package handlers

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"mmconsole/internal/i18n"
	"mmconsole/internal/optimize"
	"mmconsole/models"
	"mmconsole/views/layout"
	"mmconsole/views/pages"
)

// OptimizationsService is what the optimizations pages need; *optimize.Service satisfies it.
type OptimizationsService interface {
	Connections(ctx context.Context, scope models.Scope) ([]models.WABAConnection, error)
	ChooseConnection(ctx context.Context, u models.User, conns []models.WABAConnection, requested uint) (uint, error)
	WABA(ctx context.Context, scope models.Scope, connID uint) (optimize.WABAView, error)
	RereadWABA(ctx context.Context, scope models.Scope, connID uint) (optimize.WABAView, error)
	SetWABA(ctx context.Context, a optimize.Actor, connID uint, feature, value string) (optimize.WABARow, error)
	AcceptMeta(ctx context.Context, a optimize.Actor, scope string, id uint) error
	Template(ctx context.Context, scope models.Scope, rowID uint) (optimize.TemplateView, error)
	RereadTemplate(ctx context.Context, scope models.Scope, rowID uint) (optimize.TemplateView, error)
	ApplyTemplate(ctx context.Context, a optimize.Actor, rowID uint, staged map[string]string, all string) (optimize.TemplateView, error)
	SetWABAAll(ctx context.Context, a optimize.Actor, connID uint, value string) (optimize.WABAView, error)
	Matrix(ctx context.Context, scope models.Scope, connID, after uint) (optimize.Matrix, error)
	BulkPreview(ctx context.Context, scope models.Scope, connID uint, templateIDs []uint, settings map[string]string) (optimize.BulkPlan, error)
	BulkApply(ctx context.Context, a optimize.Actor, connID uint, templateIDs []uint, settings map[string]string) (optimize.BulkResult, error)
	MetaDefault() string
}

// Optimizations serves the creative optimization pages: WABA defaults, one template, the matrix
// and bulk changes.
type Optimizations struct {
	Shells  *Shells
	Service OptimizationsService
}

func (h *Optimizations) user(c *fiber.Ctx) (models.User, error) {
	u, ok := CurrentUser(c)
	if !ok {
		return models.User{}, models.ErrForbidden
	}
	return u, nil
}

func (h *Optimizations) actor(c *fiber.Ctx) (optimize.Actor, error) {
	u, err := h.user(c)
	if err != nil {
		return optimize.Actor{}, err
	}
	if !u.CanWrite() {
		return optimize.Actor{}, models.ErrForbidden
	}
	return optimize.Actor{User: u, IP: c.IP()}, nil
}

func idParam(c *fiber.Ctx, name string) (uint, error) {
	n, err := strconv.ParseUint(c.Params(name), 10, 64)
	if err != nil || n == 0 {
		return 0, models.ErrNotFound
	}
	return uint(n), nil
}

// requestedConnection is ?conn= (0 when absent). A malformed value is as unknown as another
// account's connection.
func requestedConnection(c *fiber.Ctx) (uint, error) {
	raw := c.Query("conn")
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(raw, 10, 64)
	if err != nil || n == 0 {
		return 0, models.ErrNotFound
	}
	return uint(n), nil
}

// wabaChoice is what the WABA-scoped pages start from: the user, the connections they may see,
// the chosen one (?conn=, else the user's last choice, else an onboarded one) and the page shell.
type wabaChoice struct {
	user   models.User
	conns  []models.WABAConnection
	connID uint
	shell  layout.Shell
}

// chooseWABA resolves the connection a WABA-scoped page shows. A nil choice with a nil error
// means the user has no connection, and the page saying so has been rendered.
func (h *Optimizations) chooseWABA(c *fiber.Ctx, title string) (*wabaChoice, error) {
	u, err := h.user(c)
	if err != nil {
		return nil, err
	}
	conns, err := h.Service.Connections(c.UserContext(), u.Scope())
	if err != nil {
		return nil, err
	}
	shell := h.Shells.Shell(c, title, "optimizations")
	if len(conns) == 0 {
		return nil, Render(c, fiber.StatusOK, pages.OptNoConnections(shell))
	}
	requested, err := requestedConnection(c)
	if err != nil {
		return nil, err
	}
	connID, err := h.Service.ChooseConnection(c.UserContext(), u, conns, requested)
	if err != nil {
		return nil, err
	}
	return &wabaChoice{user: u, conns: conns, connID: connID, shell: shell}, nil
}

// Page is GET /optimizations: the WABA-wide defaults of one connection.
func (h *Optimizations) Page(c *fiber.Ctx) error {
	w, err := h.chooseWABA(c, i18n.T(c.UserContext(), "opt.title"))
	if w == nil || err != nil {
		return err
	}
	u, conns, connID, shell, ctx := w.user, w.conns, w.connID, w.shell, c.UserContext()
	v, err := h.Service.WABA(ctx, u.Scope(), connID)
	if err != nil {
		return err
	}
	return Render(c, fiber.StatusOK, pages.OptimizationsPage(shell, h.wabaPage(c, u, conns, v)))
}

func (h *Optimizations) wabaPage(c *fiber.Ctx, u models.User, conns []models.WABAConnection, v optimize.WABAView) pages.OptWABAPage {
	return pages.OptWABAPage{Conns: conns, View: v, CanWrite: u.CanWrite(), CSRF: CSRFToken(c), MetaDefault: h.Service.MetaDefault()}
}

// RereadWABA is POST /optimizations/waba/:conn/reread: read Meta's values, show drift.
func (h *Optimizations) RereadWABA(c *fiber.Ctx) error {
	u, err := h.user(c)
	if err != nil {
		return err
	}
	connID, err := idParam(c, "conn")
	if err != nil {
		return err
	}
	v, err := h.Service.RereadWABA(c.UserContext(), u.Scope(), connID)
	if err != nil {
		return err
	}
	if !IsHTMX(c) {
		Flash(c, "success", i18n.T(c.UserContext(), "opt.flash.read_waba"))
		return Redirect(c, "/optimizations?conn="+strconv.FormatUint(uint64(connID), 10))
	}
	p := h.wabaPage(c, u, nil, v)
	p.Notice = i18n.T(c.UserContext(), "opt.notice.read_now")
	return Render(c, fiber.StatusOK, pages.OptWABATable(p))
}

// AcceptWABA is POST /optimizations/waba/:conn/accept: take Meta's values as the stored ones.
func (h *Optimizations) AcceptWABA(c *fiber.Ctx) error {
	a, err := h.actor(c)
	if err != nil {
		return err
	}
	connID, err := idParam(c, "conn")
	if err != nil {
		return err
	}
	if err := h.Service.AcceptMeta(c.UserContext(), a, models.OptScopeWABA, connID); err != nil {
		return err
	}
	v, err := h.Service.WABA(c.UserContext(), a.User.Scope(), connID)
	if err != nil {
		return err
	}
	if !IsHTMX(c) {
		Flash(c, "success", i18n.T(c.UserContext(), "opt.flash.accepted"))
		return Redirect(c, "/optimizations?conn="+strconv.FormatUint(uint64(connID), 10))
	}
	return Render(c, fiber.StatusOK, pages.OptWABATable(h.wabaPage(c, a.User, nil, v)))
}

// SetWABA is POST /optimizations/waba/:conn/:feature with value=OPT_IN|OPT_OUT.
func (h *Optimizations) SetWABA(c *fiber.Ctx) error {
	a, err := h.actor(c)
	if err != nil {
		return err
	}
	connID, err := idParam(c, "conn")
	if err != nil {
		return err
	}
	row, err := h.Service.SetWABA(c.UserContext(), a, connID, c.Params("feature"), strings.ToUpper(c.FormValue("value")))
	if err != nil {
		return err
	}
	return h.wabaRowResponse(c, connID, row)
}

// SetWABAAll is POST /optimizations/waba/:conn/all with value=OPT_IN|OPT_OUT: every WABA default
// at once, in one request to Meta.
func (h *Optimizations) SetWABAAll(c *fiber.Ctx) error {
	a, err := h.actor(c)
	if err != nil {
		return err
	}
	connID, err := idParam(c, "conn")
	if err != nil {
		return err
	}
	v, err := h.Service.SetWABAAll(c.UserContext(), a, connID, strings.ToUpper(c.FormValue("value")))
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	if !IsHTMX(c) {
		switch {
		case v.Err != nil:
			Flash(c, "error", i18n.T(ctx, "opt.flash.waba_not_changed", "Error", v.Err.Headline(ctx), "Action", v.Err.Action))
		case v.Notice != "":
			Flash(c, "success", i18n.T(ctx, "opt.flash.waba_notice", "Notice", v.Notice))
		}
		return Redirect(c, "/optimizations?conn="+strconv.FormatUint(uint64(connID), 10))
	}
	p := h.wabaPage(c, a.User, nil, v)
	p.Notice = v.Notice
	if v.Err != nil {
		return renderRolledBack(c, fiber.StatusBadGateway, pages.OptWABATable(p), i18n.T(ctx, "opt.toast.waba_not_changed", "Error", v.Err.Headline(ctx)))
	}
	return Render(c, fiber.StatusOK, pages.OptWABATable(p))
}

func (h *Optimizations) wabaRowResponse(c *fiber.Ctx, connID uint, row optimize.WABARow) error {
	ctx := c.UserContext()
	if !IsHTMX(c) {
		switch {
		case row.Err != nil:
			Flash(c, "error", i18n.T(ctx, "opt.flash.feature_not_changed", "Feature", row.Feature.Name(ctx), "Error", row.Err.Headline(ctx), "Action", row.Err.Action))
		case row.Notice != "":
			Flash(c, "success", row.Feature.Name(ctx)+": "+row.Notice)
		}
		return Redirect(c, "/optimizations?conn="+strconv.FormatUint(uint64(connID), 10))
	}
	u, _ := CurrentUser(c)
	props := pages.OptWABARowProps{Row: row, CanWrite: u.CanWrite(), CSRF: CSRFToken(c)}
	if row.Err != nil {
		return renderRolledBack(c, fiber.StatusBadGateway, pages.OptWABARow(props), i18n.T(ctx, "opt.toast.not_changed", "Name", row.Feature.Name(ctx), "Error", row.Err.Headline(ctx)))
	}
	return Render(c, fiber.StatusOK, pages.OptWABARow(props))
}

// RecheckWABA is POST /optimizations/waba/:conn/:feature/recheck: read Meta again for a pending
// change.
func (h *Optimizations) RecheckWABA(c *fiber.Ctx) error {
	u, err := h.user(c)
	if err != nil {
		return err
	}
	connID, err := idParam(c, "conn")
	if err != nil {
		return err
	}
	v, err := h.Service.RereadWABA(c.UserContext(), u.Scope(), connID)
	if err != nil {
		return err
	}
	row := v.Row(optimize.NormKey(c.Params("feature")))
	if row.Pending == "" && row.MetaValue != "" {
		row.Notice = i18n.T(c.UserContext(), "opt.notice.meta_reports", "Value", optimize.ValueLabel(c.UserContext(), row.MetaValue))
	}
	return h.wabaRowResponse(c, connID, row)
}

// TemplatePage is GET /optimizations/template/:id, the standalone form of the component.
func (h *Optimizations) TemplatePage(c *fiber.Ctx) error {
	u, err := h.user(c)
	if err != nil {
		return err
	}
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	v, err := h.Service.Template(c.UserContext(), u.Scope(), id)
	if err != nil {
		return err
	}
	shell := h.Shells.Shell(c, i18n.T(c.UserContext(), "opt.tpl.page_title", "Name", v.Template.Name), "optimizations")
	return Render(c, fiber.StatusOK, pages.OptTemplatePageView(shell, pages.OptTemplatePage{
		Props: pages.NewTemplateOptProps(v, u, CSRFToken(c)),
	}))
}

func (h *Optimizations) templateResponse(c *fiber.Ctx, v optimize.TemplateView) error {
	ctx := c.UserContext()
	if !IsHTMX(c) {
		switch {
		case v.Err != nil:
			Flash(c, "error", i18n.T(ctx, "opt.flash.not_changed", "Error", v.Err.Headline(ctx), "Action", v.Err.Action))
		case v.Notice != "":
			Flash(c, "success", v.Notice)
		}
		return Redirect(c, "/optimizations/template/"+strconv.FormatUint(uint64(v.Template.ID), 10))
	}
	u, _ := CurrentUser(c)
	props := pages.NewTemplateOptProps(v, u, CSRFToken(c))
	if v.Err != nil {
		status := fiber.StatusBadGateway
		if v.Err.EditLimit && v.Err.Code == 0 {
			status = fiber.StatusConflict // refused here, before Meta was asked
		}
		return renderRolledBack(c, status, pages.TemplateOptimizations(props), i18n.T(ctx, "opt.toast.not_changed", "Name", v.Template.Name, "Error", v.Err.Headline(ctx)))
	}
	return Render(c, fiber.StatusOK, pages.TemplateOptimizations(props))
}

// ApplyTemplate is POST /optimizations/template/:id/apply: the settings staged on the template
// page (f_<feature>=OPT_IN|OPT_OUT, or all=all_on|all_off) applied as one edit.
func (h *Optimizations) ApplyTemplate(c *fiber.Ctx) error {
	a, err := h.actor(c)
	if err != nil {
		return err
	}
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	staged := map[string]string{}
	c.Request().PostArgs().VisitAll(func(k, v []byte) {
		if key, ok := strings.CutPrefix(string(k), "f_"); ok {
			staged[key] = string(v)
		}
	})
	v, err := h.Service.ApplyTemplate(c.UserContext(), a, id, staged, c.FormValue("all"))
	if err != nil {
		return err
	}
	return h.templateResponse(c, v)
}

// RereadTemplate is POST /optimizations/template/:id/reread.
func (h *Optimizations) RereadTemplate(c *fiber.Ctx) error {
	u, err := h.user(c)
	if err != nil {
		return err
	}
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	v, err := h.Service.RereadTemplate(c.UserContext(), u.Scope(), id)
	if err != nil {
		return err
	}
	v.Notice = i18n.T(c.UserContext(), "opt.notice.read_now")
	return h.templateResponse(c, v)
}

// AcceptTemplate is POST /optimizations/template/:id/accept.
func (h *Optimizations) AcceptTemplate(c *fiber.Ctx) error {
	a, err := h.actor(c)
	if err != nil {
		return err
	}
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := h.Service.AcceptMeta(c.UserContext(), a, models.OptScopeTemplate, id); err != nil {
		return err
	}
	v, err := h.Service.Template(c.UserContext(), a.User.Scope(), id)
	if err != nil {
		return err
	}
	return h.templateResponse(c, v)
}

// Matrix is GET /optimizations/matrix: marketing templates × features.
func (h *Optimizations) Matrix(c *fiber.Ctx) error {
	w, err := h.chooseWABA(c, i18n.T(c.UserContext(), "opt.matrix.title"))
	if w == nil || err != nil {
		return err
	}
	u, conns, connID, shell, ctx := w.user, w.conns, w.connID, w.shell, c.UserContext()
	after, _ := strconv.ParseUint(c.Query("after"), 10, 64)
	m, err := h.Service.Matrix(ctx, u.Scope(), connID, uint(after))
	if err != nil {
		return err
	}
	return Render(c, fiber.StatusOK, pages.OptMatrixPageView(shell, pages.OptMatrixPage{
		Conns: conns, Matrix: m, CanWrite: u.CanWrite(), CSRF: CSRFToken(c), SelectAll: c.Query("select") == "all",
	}))
}

// bulkForm reads conn, template (repeated) and set_<feature> fields.
func bulkForm(c *fiber.Ctx) (uint, []uint, map[string]string, error) {
	conn, err := strconv.ParseUint(c.FormValue("conn"), 10, 64)
	if err != nil {
		return 0, nil, nil, models.ErrNotFound
	}
	var ids []uint
	for _, raw := range c.Request().PostArgs().PeekMulti("template") {
		n, err := strconv.ParseUint(string(raw), 10, 64)
		if err != nil {
			return 0, nil, nil, &models.ValidationError{Fields: map[string]string{"templates": i18n.T(c.UserContext(), "opt.err.bad_selection")}}
		}
		ids = append(ids, uint(n))
	}
	settings := map[string]string{}
	c.Request().PostArgs().VisitAll(func(k, v []byte) {
		if key, ok := strings.CutPrefix(string(k), "set_"); ok {
			settings[key] = string(v)
		}
	})
	return uint(conn), ids, settings, nil
}

func (h *Optimizations) bulkErr(c *fiber.Ctx, err error) error {
	var ve *models.ValidationError
	if errors.As(err, &ve) && IsHTMX(c) {
		return Render(c, fiber.StatusUnprocessableEntity, pages.OptBulkErrors(ve.Fields))
	}
	return err
}

// BulkPreview is POST /optimizations/bulk/preview: the difference per template; nothing is sent.
func (h *Optimizations) BulkPreview(c *fiber.Ctx) error {
	a, err := h.actor(c)
	if err != nil {
		return err
	}
	conn, ids, settings, err := bulkForm(c)
	if err != nil {
		return h.bulkErr(c, err)
	}
	plan, err := h.Service.BulkPreview(c.UserContext(), a.User.Scope(), conn, ids, settings)
	if err != nil {
		return h.bulkErr(c, err)
	}
	return Render(c, fiber.StatusOK, pages.OptBulkPreview(pages.OptBulkPreviewProps{Plan: plan, CSRF: CSRFToken(c)}))
}

// BulkApply is POST /optimizations/bulk/apply: send, and report each template's result.
func (h *Optimizations) BulkApply(c *fiber.Ctx) error {
	a, err := h.actor(c)
	if err != nil {
		return err
	}
	conn, ids, settings, err := bulkForm(c)
	if err != nil {
		return h.bulkErr(c, err)
	}
	res, err := h.Service.BulkApply(c.UserContext(), a, conn, ids, settings)
	if err != nil {
		return h.bulkErr(c, err)
	}
	return Render(c, fiber.StatusOK, pages.OptBulkResult(pages.OptBulkResultProps{Result: res, CSRF: CSRFToken(c)}))
}

// TemplateSection renders a template's optimizations for the template page (/templates/:id),
// so marketers switch them where they read the template. A failure to load them is shown in the
// section instead of failing the whole page.
func (h *Optimizations) TemplateSection(ctx context.Context, u models.User, t models.Template, csrf string) templ.Component {
	if !strings.EqualFold(t.Category, "MARKETING") {
		return pages.OptimizationsNotApplicable(t.Category)
	}
	v, err := h.Service.Template(ctx, u.Scope(), t.ID)
	if err != nil {
		return pages.OptimizationsUnavailable(Classify(ctx, err).Message)
	}
	return pages.TemplateOptimizations(pages.NewTemplateOptProps(v, u, csrf))
}

// renderRolledBack answers a change Meta (or the edit limit) refused: the fragment re-rendered
// with the old value and the explanation, plus an out-of-band error toast.
func renderRolledBack(c *fiber.Ctx, status int, fragment templ.Component, toast string) error {
	if err := Render(c, status, fragment); err != nil {
		return err
	}
	return pages.OptToastOOB(toast).Render(c.UserContext(), c.Response().BodyWriter())
}
