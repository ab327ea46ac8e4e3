package handlers

import (
	"context"
	"encoding/csv"
	"strconv"
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"mmconsole/internal/audit"
	"mmconsole/internal/i18n"
	"mmconsole/internal/insights"
	"mmconsole/models"
	"mmconsole/views/pages"
)

// ConnectionLister lists the WABA connections a scope may see.
type ConnectionLister interface {
	Connections(ctx context.Context, scope models.Scope) ([]models.WABAConnection, error)
}

// InsightsReader is what the insight pages read (internal/insights).
type InsightsReader interface {
	Now() time.Time
	Overview(ctx context.Context, f insights.Filter, p insights.Period) (insights.Overview, error)
	Template(ctx context.Context, t models.Template, p insights.Period) (insights.TemplateInsights, error)
	Connections(ctx context.Context, f insights.Filter) ([]insights.Fetch, error)
	EnableInsights(ctx context.Context, conn models.WABAConnection) error
}

// Overview serves the landing page: the insights overview of the WABAs the user may see.
type Overview struct {
	Shells      *Shells
	Connections ConnectionLister
	Insights    InsightsReader
	Audit       Auditor
}

// RegisterInsights mounts the overview's exports and the admin action that turns a WABA's
// analytics on. The overview itself is "/" (Register).
func RegisterInsights(r fiber.Router, h *Overview) {
	r.Get("/insights/daily.csv", h.DailyCSV)
	r.Post("/insights/connections/:id/enable", RequireAdmin, h.Enable)
}

// overview reads the overview the URL asks for, as the page and its CSV both show it. A
// connection the user cannot see (another account's, or none) is not found, not an empty chart.
func (h *Overview) overview(c *fiber.Ctx) (insights.Filter, insights.Period, insights.Overview, error) {
	f, p, err := h.overviewQuery(c)
	if err != nil {
		return f, p, insights.Overview{}, err
	}
	o, err := h.Insights.Overview(c.UserContext(), f, p)
	if err != nil {
		return f, p, o, err
	}
	if f.ConnectionID != 0 && len(o.Fetches) == 0 {
		return f, p, o, models.ErrNotFound
	}
	return f, p, o, nil
}

// overviewQuery reads the period and connection filter of the URL.
func (h *Overview) overviewQuery(c *fiber.Ctx) (insights.Filter, insights.Period, error) {
	f := insights.Filter{Scope: CurrentScope(c)}
	if v := c.Query("conn"); v != "" {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return f, insights.Period{}, &insights.PeriodError{Field: "conn", Reason: i18n.Key("insights.period.err.conn")}
		}
		f.ConnectionID = uint(n)
	}
	p, err := insights.ParsePeriod(c.Query("period"), c.Query("from"), c.Query("to"), h.Insights.Now())
	return f, p, err
}

// Get renders the overview.
func (h *Overview) Get(c *fiber.Ctx) error {
	scope := CurrentScope(c)
	conns, err := h.Connections.Connections(c.UserContext(), scope)
	if err != nil {
		return err
	}
	f, p, o, err := h.overview(c)
	if err != nil {
		return err
	}
	u, _ := CurrentUser(c)
	sh := h.Shells.Shell(c, i18n.T(c.UserContext(), "nav.overview"), "overview")
	// The overview has no hx- attribute: its forms are plain GET and POST. Without htmx its
	// first load has room for the chart library within the 60 KB budget.
	sh.NoHTMX = true
	return Render(c, fiber.StatusOK, pages.Overview(sh, pages.OverviewPage{
		Connections: conns, ShowAccount: scope.AllAccounts, Insights: o, Conn: f.ConnectionID,
		From: c.Query("from"), To: c.Query("to"), CanEnable: u.CanAdmin(), CSRF: CSRFToken(c),
		Query: periodQuery(p, f.ConnectionID), Assets: sh.AssetPath, Now: h.Insights.Now(),
	}))
}

// periodQuery is the query string that selects p (and conn) again, for links and exports.
func periodQuery(p insights.Period, conn uint) string {
	q := "period=" + p.Key
	if p.Key == "custom" {
		q += "&from=" + p.From.Format(time.DateOnly) + "&to=" + p.Last().Format(time.DateOnly)
	}
	if conn != 0 {
		q += "&conn=" + strconv.FormatUint(uint64(conn), 10)
	}
	return q
}

// DailyCSV exports the overview's daily chart, the same rows and columns.
func (h *Overview) DailyCSV(c *fiber.Ctx) error {
	_, p, o, err := h.overview(c)
	if err != nil {
		return err
	}
	return writeDailyCSV(c, "insights-"+p.From.Format(time.DateOnly)+"-"+p.Last().Format(time.DateOnly)+".csv", o.Daily)
}

// writeDailyCSV writes a daily chart's table as CSV.
func writeDailyCSV(c *fiber.Ctx, name string, days []insights.DayPoint) error {
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	w := csv.NewWriter(c.Response().BodyWriter())
	rows := pages.DailyCSV(days)
	_ = w.Write(rows[0])
	for _, r := range rows[1:] {
		_ = w.Write(r)
	}
	w.Flush()
	return w.Error()
}

// Enable turns on is_enabled_for_insights for a WABA after the admin confirmed that Meta cannot
// undo it.
func (h *Overview) Enable(c *fiber.Ctx) error {
	id, err := strconv.ParseUint(c.Params("id"), 10, 32)
	if err != nil {
		return models.ErrNotFound
	}
	fs, err := h.Insights.Connections(c.UserContext(), insights.Filter{Scope: CurrentScope(c), ConnectionID: uint(id)})
	if err != nil {
		return err
	}
	if len(fs) != 1 {
		return models.ErrNotFound
	}
	conn := fs[0].Conn
	ctx := c.UserContext()
	if c.FormValue("confirm") != "irreversible" {
		Flash(c, "error", i18n.T(ctx, "insights.enable.unconfirmed", "WABA", conn.WABAID))
		return Redirect(c, "/")
	}
	err = h.Insights.EnableInsights(c.UserContext(), conn)
	aid := conn.AccountID
	after := map[string]any{"is_enabled_for_insights": err == nil}
	if err != nil {
		after["error"] = err.Error()
	}
	record(c, h.Audit, audit.Entry{AccountID: &aid, Action: audit.ActionInsightsEnabled, Target: "WABA " + conn.WABAID,
		Before: map[string]any{"is_enabled_for_insights": false}, After: after})
	if err != nil {
		// The same words the error pages use for it (Meta's code and meaning for a Graph error);
		// the error itself is in the audit entry above.
		v := Classify(ctx, err)
		if v.Status >= 500 {
			Log(c).Error("enable insights failed", "err", err, "waba", conn.WABAID)
		}
		Flash(c, "error", i18n.T(ctx, "insights.enable.failed", "WABA", conn.WABAID, "Title", v.Title, "Reason", v.Message))
		return Redirect(c, "/")
	}
	Flash(c, "success", i18n.T(ctx, "insights.enable.done", "WABA", conn.WABAID))
	return Redirect(c, "/")
}

// TemplateSection renders the insights section of a template page for the period in the URL.
func (h *Overview) TemplateSection(c *fiber.Ctx, t models.Template) (templ.Component, error) {
	p, err := insights.ParsePeriod(c.Query("period"), c.Query("from"), c.Query("to"), h.Insights.Now())
	if err != nil {
		return nil, err
	}
	ti, err := h.Insights.Template(c.UserContext(), t, p)
	if err != nil {
		return nil, err
	}
	return pages.TemplateInsightsSection(pages.TemplateInsightsProps{
		T: t, I: ti, Query: periodQuery(p, 0), From: c.Query("from"), To: c.Query("to"), Assets: h.Shells.AssetPath,
	}), nil
}

// TemplateCSV exports the template's daily chart.
func (h *Overview) TemplateCSV(c *fiber.Ctx, t models.Template) error {
	p, err := insights.ParsePeriod(c.Query("period"), c.Query("from"), c.Query("to"), h.Insights.Now())
	if err != nil {
		return err
	}
	ti, err := h.Insights.Template(c.UserContext(), t, p)
	if err != nil {
		return err
	}
	return writeDailyCSV(c, t.Name+"-"+p.From.Format(time.DateOnly)+"-"+p.Last().Format(time.DateOnly)+".csv", ti.Daily)
}
