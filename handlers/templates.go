package handlers

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"mmconsole/internal/audit"
	"mmconsole/internal/editbudget"
	"mmconsole/internal/graph"
	"mmconsole/internal/i18n"
	"mmconsole/internal/metarules"
	"mmconsole/internal/templates"
	"mmconsole/models"
	"mmconsole/views/pages"
)

// TemplateCatalog is what the template pages need from internal/templates.
type TemplateCatalog interface {
	List(ctx context.Context, scope models.Scope, f templates.Filter) (templates.CatalogPage, error)
	Get(ctx context.Context, scope models.Scope, id string) (models.Template, error)
	Connection(ctx context.Context, scope models.Scope, id uint) (models.WABAConnection, error)
	Connections(ctx context.Context, scope models.Scope) ([]models.WABAConnection, error)
	Status(ctx context.Context, scope models.Scope) ([]templates.WABAStatus, error)
	RefreshScope(ctx context.Context, scope models.Scope, connID uint) ([]templates.Outcome, error)
	SetTTL(ctx context.Context, scope models.Scope, id string, seconds int) (templates.TTLEditResult, error)
	EditBudget(ctx context.Context, t models.Template) (editbudget.Budget, error)
	Now() time.Time
}

// HistorySource gives a template's status and quality changes from the webhook log (templateID
// is Meta's id). The composition root adapts the webhook area to it.
type HistorySource interface {
	TemplateHistory(ctx context.Context, scope models.Scope, templateID string) ([]templates.HistoryItem, error)
}

var _ TemplateCatalog = (*templates.Service)(nil)

// Templates serves the template catalog and template pages.
type Templates struct {
	Shells  *Shells
	Catalog TemplateCatalog
	History HistorySource // nil: no webhook history yet
	Audit   Auditor       // nil: edits are only logged
	// Optimizations renders the creative-optimizations section of a template page (filled by
	// that area); nil renders nothing.
	Optimizations func(ctx context.Context, u models.User, t models.Template, csrf string) templ.Component
	// Insights renders the template's insights section for the period in the URL, and
	// InsightsCSV exports its daily chart (filled by the insights area); nil renders nothing.
	Insights    func(c *fiber.Ctx, t models.Template) (templ.Component, error)
	InsightsCSV func(c *fiber.Ctx, t models.Template) error
}

// parseFilter reads the catalog filters from the query string, ignoring unknown values.
func parseFilter(c *fiber.Ctx) templates.Filter {
	oneOf := func(v string, allowed []string) string {
		v = strings.ToUpper(strings.TrimSpace(v))
		for _, a := range allowed {
			if a == v {
				return v
			}
		}
		return ""
	}
	f := templates.Filter{
		Name:     strings.TrimSpace(c.Query("q")),
		Status:   oneOf(c.Query("status"), templates.Statuses),
		Category: oneOf(c.Query("category"), templates.Categories),
		Quality:  oneOf(c.Query("quality"), templates.Qualities),
		Language: strings.TrimSpace(c.Query("language")),
	}
	if n, err := strconv.ParseUint(c.Query("waba"), 10, 64); err == nil {
		f.Connection = uint(n)
	}
	if s := c.Query("state"); templates.ValidKind(s) {
		f.State = s
	}
	for _, s := range templates.Sorts {
		if c.Query("sort") == s {
			f.Sort = s
		}
	}
	f.Page, _ = strconv.Atoi(c.Query("page"))
	if len(f.Name) > 200 {
		f.Name = f.Name[:200]
	}
	return f
}

// Index is GET /templates: the whole page, or only the catalog region for htmx.
func (h *Templates) Index(c *fiber.Ctx) error {
	ctx, scope := c.UserContext(), CurrentScope(c)
	f := parseFilter(c)
	cat, err := h.Catalog.List(ctx, scope, f)
	if err != nil {
		return err
	}
	u, _ := CurrentUser(c)
	p := pages.TemplatesPage{Filter: f, Catalog: cat, Now: h.Catalog.Now(), ShowAccount: scope.AllAccounts, CSRF: CSRFToken(c), CanWrite: u.CanWrite()}
	if IsHTMX(c) {
		return Render(c, fiber.StatusOK, pages.TemplatesCatalog(p))
	}
	if p.Status, err = h.Catalog.Status(ctx, scope); err != nil {
		return err
	}
	if p.Connections, err = h.Catalog.Connections(ctx, scope); err != nil {
		return err
	}
	return Render(c, fiber.StatusOK, pages.Templates(h.Shells.Shell(c, i18n.T(ctx, "templates.title"), "templates"), p))
}

// InsightsExport answers the CSV of the template's daily insights chart.
func (h *Templates) InsightsExport(c *fiber.Ctx) error {
	if h.InsightsCSV == nil {
		return fiber.ErrNotFound
	}
	t, err := h.Catalog.Get(c.UserContext(), CurrentScope(c), c.Params("id"))
	if err != nil {
		return err
	}
	return h.InsightsCSV(c, t)
}

// Show is GET /templates/:id (our row id or Meta's template id).
func (h *Templates) Show(c *fiber.Ctx) error {
	p, err := h.detail(c, c.Params("id"))
	if err != nil {
		return err
	}
	if IsHTMX(c) && c.Query("fragment") == "state" {
		return Render(c, fiber.StatusOK, pages.SyncStateRegion(p))
	}
	return Render(c, fiber.StatusOK, pages.TemplateShow(h.Shells.Shell(c, p.T.Name, "templates"), p))
}

// renderDetail answers the TTL form: its fragment for htmx, else the whole page.
func (h *Templates) renderDetail(c *fiber.Ctx, status int, p pages.TemplateDetail) error {
	if IsHTMX(c) {
		return Render(c, status, pages.TTLSection(p.TTL))
	}
	return Render(c, status, pages.TemplateShow(h.Shells.Shell(c, p.T.Name, "templates"), p))
}

func (h *Templates) detail(c *fiber.Ctx, id string) (pages.TemplateDetail, error) {
	ctx, scope := c.UserContext(), CurrentScope(c)
	u, _ := CurrentUser(c)
	t, err := h.Catalog.Get(ctx, scope, id)
	if err != nil {
		return pages.TemplateDetail{}, err
	}
	conn, err := h.Catalog.Connection(ctx, scope, t.ConnectionID)
	if err != nil {
		return pages.TemplateDetail{}, err
	}
	now := h.Catalog.Now()
	p := pages.TemplateDetail{
		T: t, Conn: conn, State: templates.SyncState(t, conn.OnboardingStatus, now), Preview: templates.BuildPreview(t.Components), Now: now,
		TTL: ttlForm(t, u.CanWrite(), CSRFToken(c)), CanSend: u.CanWrite(),
	}
	if p.TTL.Budget, err = h.Catalog.EditBudget(ctx, t); err != nil {
		return pages.TemplateDetail{}, err
	}
	if h.History != nil {
		// In the template's own account (the template was found in the user's scope): for staff,
		// who see every account, another account's events naming the same template id are not
		// this template's history.
		hist, err := h.History.TemplateHistory(ctx, models.Scope{AccountID: t.AccountID}, t.TemplateID)
		if err != nil {
			Log(c).Warn("templates: webhook history", "template", t.TemplateID, "err", err)
		}
		p.History = hist
	}
	if h.Optimizations != nil {
		p.Optimizations = h.Optimizations(ctx, u, t, CSRFToken(c))
	}
	if h.Insights != nil {
		if p.Insights, err = h.Insights(c, t); err != nil {
			return pages.TemplateDetail{}, err
		}
	}
	return p, nil
}

func ttlForm(t models.Template, canWrite bool, csrf string) pages.TTLForm {
	f := pages.TTLForm{ID: strconv.FormatUint(uint64(t.ID), 10), Category: strings.ToUpper(t.Category), Current: t.TTLSeconds,
		CanWrite: canWrite, CSRF: csrf, Unit: metarules.UnitDays}
	if t.TTLSeconds != nil && *t.TTLSeconds > 0 {
		f.Value, f.Unit = metarules.SplitTTL(*t.TTLSeconds)
	}
	return f
}

// SetTTL is POST /templates/:id/ttl (writers only): validate, send to Meta, store, audit.
func (h *Templates) SetTTL(c *fiber.Ctx) error {
	u, ok := CurrentUser(c)
	if !ok || !u.CanWrite() {
		return models.ErrForbidden
	}
	p, err := h.detail(c, c.Params("id"))
	if err != nil {
		return err
	}
	// The one TTL parser of the console (the composer's too): a crafted unit is refused, not
	// read as days.
	p.TTL.Value, p.TTL.Unit = strings.TrimSpace(c.FormValue("ttl_value")), strings.TrimSpace(c.FormValue("ttl_unit"))
	ctx := c.UserContext()
	seconds, set, perr := metarules.ParseTTL(p.TTL.Value, p.TTL.Unit)
	switch {
	case perr != nil:
		p.TTL.Error = templates.TTLInputError(ctx, perr, p.TTL.Value, p.TTL.Unit)
	case !set:
		p.TTL.Error = i18n.T(ctx, "ttl.err.empty")
	}
	if p.TTL.Error != "" {
		return h.renderDetail(c, fiber.StatusUnprocessableEntity, p)
	}
	res, err := h.Catalog.SetTTL(ctx, CurrentScope(c), p.TTL.ID, seconds)
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		p.TTL.Error = ve.Fields["ttl"]
		return h.renderDetail(c, fiber.StatusUnprocessableEntity, p)
	case err != nil:
		ge, isGraph := graph.AsGraphError(err)
		if !isGraph {
			return err
		}
		h.audit(c, u, p.T, res.Before, seconds, "error "+strconv.Itoa(ge.Code)+": "+ge.Error())
		x := ge.Explain(c.UserContext())
		p.TTL.GraphErr = &pages.GraphErrorView{Code: ge.Code, Title: x.Title, Meaning: x.Meaning, Action: x.Action, Details: ge.Error()}
		return h.renderDetail(c, fiber.StatusBadGateway, p)
	}
	h.audit(c, u, p.T, res.Before, seconds, "success")
	Flash(c, "success", i18n.T(ctx, "ttl.saved", "Name", p.T.Name, "Language", p.T.Language, "TTL", templates.HumanTTL(ctx, &seconds, p.T.Category)))
	return Redirect(c, "/templates/"+p.TTL.ID)
}

func (h *Templates) audit(c *fiber.Ctx, u models.User, t models.Template, before *int, after int, meta string) {
	Log(c).Info("template ttl edit", "template", t.TemplateID, "user", u.ID, "before", before, "after", after, "meta", meta)
	if h.Audit == nil {
		return
	}
	acc := t.AccountID
	uid := u.ID
	err := h.Audit.Record(c.UserContext(), audit.Entry{
		AccountID: &acc, ActorID: &uid, ActorEmail: u.Email, Action: "template.ttl.edit",
		Target: "template:" + t.TemplateID + " (" + t.Name + "/" + t.Language + ")",
		Before: map[string]any{"ttl_seconds": before},
		After:  map[string]any{"ttl_seconds": after, "meta_answer": meta},
		IP:     c.IP(),
	})
	if err != nil {
		Log(c).Error("audit: record template ttl edit", "err", err)
	}
}

// Sync is POST /templates/sync: refresh one WABA (form field waba) or all the user may see now.
func (h *Templates) Sync(c *fiber.Ctx) error {
	if _, ok := CurrentUser(c); !ok {
		return models.ErrForbidden
	}
	var connID uint
	if v := c.FormValue("waba"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return models.ErrNotFound
		}
		connID = uint(n)
	}
	outs, err := h.Catalog.RefreshScope(c.UserContext(), CurrentScope(c), connID)
	if err != nil {
		return err
	}
	kind, msg := syncFlash(c.UserContext(), outs)
	Flash(c, kind, msg)
	return Redirect(c, "/templates"+backQuery(c.FormValue("back")))
}

// syncFlash says what "Sync now" / "Sync all" did for each WABA. A WABA refreshed moments ago
// (by Sync all, the background refresh or another person) is not a failure: its data is fresh,
// so it is said plainly, with when a refresh may run again; only real failures make the message
// an error.
func syncFlash(ctx context.Context, outs []templates.Outcome) (kind, msg string) {
	var okParts, freshParts, badParts []string
	for _, o := range outs {
		name := o.Conn.Name
		if name == "" {
			name = o.Conn.WABAID
		}
		var soon *templates.TooSoonError
		var busy *templates.BusyError
		var uf interface {
			UserFacing(ctx context.Context) (int, string, string)
		}
		switch {
		case o.Err == nil:
			okParts = append(okParts, i18n.N(ctx, "templates.sync.ok_part", o.Refresh.Seen, "Name", name))
		case errors.As(o.Err, &soon):
			freshParts = append(freshParts, i18n.T(ctx, "templates.sync.too_soon_part", "Name", name, "Seconds", soon.WaitSeconds()))
		case errors.As(o.Err, &busy):
			freshParts = append(freshParts, i18n.T(ctx, "templates.sync.busy_part", "Name", name))
		case errors.As(o.Err, &uf):
			_, title, _ := uf.UserFacing(ctx)
			badParts = append(badParts, i18n.T(ctx, "templates.sync.failed_part", "Name", name, "Title", title))
		default:
			badParts = append(badParts, i18n.T(ctx, "templates.sync.failed_kept_part", "Name", name, "Title", templates.Explain(ctx, o.Refresh).Title))
		}
	}
	list := func(parts []string) string { return strings.Join(parts, "; ") }
	var sentences []string
	if len(badParts) > 0 {
		sentences = append(sentences, i18n.T(ctx, "templates.sync.failed", "List", list(badParts)))
	}
	if len(okParts) > 0 {
		sentences = append(sentences, i18n.T(ctx, "templates.sync.refreshed", "List", list(okParts)))
	}
	if len(freshParts) > 0 {
		sentences = append(sentences, i18n.T(ctx, "templates.sync.fresh", "List", list(freshParts)))
	}
	switch {
	case len(badParts) > 0:
		kind = "error"
	case len(okParts) > 0:
		kind = "success"
	case len(freshParts) > 0:
		kind = "info"
	default:
		return "info", i18n.T(ctx, "templates.sync.none")
	}
	return kind, strings.Join(sentences, " ")
}

// backQuery re-encodes the catalog query the form came from, so the redirect can only go back to
// the catalog with its filters.
func backQuery(raw string) string {
	v, err := url.ParseQuery(raw)
	if err != nil || len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}
