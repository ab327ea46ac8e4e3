package pages

import (
	"context"
	"sort"
	"strconv"
	"time"

	"mmconsole/internal/graph"
	"mmconsole/internal/i18n"
	"mmconsole/internal/optimize"
	"mmconsole/models"
)

// OptWABAPage is the WABA-level optimizations page.
type OptWABAPage struct {
	Conns       []models.WABAConnection
	View        optimize.WABAView
	CanWrite    bool
	CSRF        string
	Notice      string
	MetaDefault string
}

// OptWABARowProps is one feature row of the WABA page (its own htmx region).
type OptWABARowProps struct {
	Row      optimize.WABARow
	CanWrite bool
	CSRF     string
}

// TemplateOptProps is what TemplateOptimizations needs. The template detail page builds it with
// NewTemplateOptProps.
type TemplateOptProps struct {
	View     optimize.TemplateView
	CanWrite bool
	// Staff see Meta's raw JSON of a spec this console could not read.
	Staff bool
	CSRF  string
}

// NewTemplateOptProps builds the props of the template optimizations component for u.
func NewTemplateOptProps(v optimize.TemplateView, u models.User, csrf string) TemplateOptProps {
	return TemplateOptProps{View: v, CanWrite: u.CanWrite(), Staff: u.Staff, CSRF: csrf}
}

func tplApplyURL(v optimize.TemplateView) string {
	return "/optimizations/template/" + u(v.Template.ID) + "/apply"
}

// canEditTemplate: a writer, edits left, and settings this console could read.
func canEditTemplate(p TemplateOptProps) bool {
	return p.CanWrite && !p.View.AtLimit() && p.View.Unknown == ""
}

// OptTemplatePage is the standalone page around the template component.
type OptTemplatePage struct {
	Props TemplateOptProps
}

// OptMatrixPage is the templates × features page with the bulk form.
type OptMatrixPage struct {
	Conns    []models.WABAConnection
	Matrix   optimize.Matrix
	CanWrite bool
	CSRF     string
	// SelectAll renders every template ticked (?select=all: select-all without JavaScript).
	SelectAll bool
}

// connOptionLabel names a WABA in the chooser: its name, whether MM API is on, and its id.
func connOptionLabel(ctx context.Context, c models.WABAConnection) string {
	name := c.Name
	if name == "" {
		name = "WABA"
	}
	if c.Onboarded() {
		return i18n.T(ctx, "opt.conn.onboarded", "Name", name, "WABA", c.WABAID)
	}
	return i18n.T(ctx, "opt.conn.not_onboarded", "Name", name, "WABA", c.WABAID)
}

// wabaDefaultOffSince is the day Meta's WABA-level default became disabled (Apr 21, 2026).
func wabaDefaultOffSince(ctx context.Context) string {
	return i18n.Date(ctx, time.Date(2026, time.April, 21, 0, 0, 0, 0, time.UTC))
}

// OptBulkPreviewProps is the preview step of a bulk change (nothing sent yet).
type OptBulkPreviewProps struct {
	Plan optimize.BulkPlan
	CSRF string
}

// OptBulkResultProps is the report of a bulk apply.
type OptBulkResultProps struct {
	Result optimize.BulkResult
	CSRF   string
}

func u(n uint) string { return strconv.FormatUint(uint64(n), 10) }

func wabaRowID(r optimize.WABARow) string {
	return "opt-waba-" + u(r.ConnectionID) + "-" + r.Feature.Key
}

func wabaPostURL(r optimize.WABARow) string {
	return "/optimizations/waba/" + u(r.ConnectionID) + "/" + r.Feature.Key
}

func tplCompID(v optimize.TemplateView) string { return "tpl-opt-" + u(v.Template.ID) }

// shownValue is the value a switch presents as selected: a pending change, else Meta's value.
func shownValue(meta, pending string) string {
	if pending != "" {
		return pending
	}
	return meta
}

func pressed(cur, v string) string {
	if cur == v {
		return "true"
	}
	return "false"
}

func btnClass(cur, v string) string {
	if cur == v {
		return ""
	}
	return "outline secondary"
}

func valueBadgeClass(v string) string {
	switch v {
	case graph.OptIn:
		return "badge badge-ok"
	case graph.OptOut:
		return "badge badge-muted"
	}
	return "badge badge-muted"
}

func valueIcon(v string) string {
	switch v {
	case graph.OptIn:
		return "●"
	case graph.OptOut:
		return "○"
	}
	return "–"
}

func stateBadgeClass(s optimize.MetaState) string {
	switch s {
	case optimize.StateActive:
		return "badge badge-ok"
	case optimize.StateComingSoon:
		return "badge badge-info"
	case optimize.StatePaused:
		return "badge badge-warn"
	}
	return "badge badge-bad"
}

func changeStatusClass(s string) string {
	switch s {
	case models.OptChangeConfirmed:
		return "badge badge-ok"
	case models.OptChangePending:
		return "badge badge-info"
	case models.OptChangeNotSent:
		return "badge badge-warn"
	}
	return "badge badge-bad"
}

func changeStatusLabel(ctx context.Context, s string) string {
	switch s {
	case models.OptChangeConfirmed:
		return "✓ " + i18n.T(ctx, "opt.change.confirmed")
	case models.OptChangePending:
		return "… " + i18n.T(ctx, "opt.change.pending")
	case models.OptChangeNotSent:
		return "! " + i18n.T(ctx, "opt.change.not_sent")
	}
	return "✕ " + i18n.T(ctx, "opt.change.failed")
}

func bulkStatusLabel(ctx context.Context, s string) string {
	switch s {
	case optimize.BulkOK:
		return "✓ " + i18n.T(ctx, "opt.bulk.status.ok")
	case optimize.BulkPending:
		return "… " + i18n.T(ctx, "opt.bulk.status.pending")
	case optimize.BulkNotSentLimit:
		return "! " + i18n.T(ctx, "opt.bulk.status.not_sent_limit")
	case optimize.BulkUnchanged:
		return "= " + i18n.T(ctx, "opt.bulk.status.unchanged")
	}
	return "✕ " + i18n.T(ctx, "opt.change.failed")
}

func bulkStatusClass(s string) string {
	switch s {
	case optimize.BulkOK:
		return "badge badge-ok"
	case optimize.BulkPending, optimize.BulkUnchanged:
		return "badge badge-info"
	case optimize.BulkNotSentLimit:
		return "badge badge-warn"
	}
	return "badge badge-bad"
}

func connSelected(c models.WABAConnection, id uint) bool { return c.ID == id }

func settingOpts() []string { return []string{optimize.Leave, graph.OptIn, graph.OptOut} }

func settingOptLabel(ctx context.Context, v string) string {
	if v == optimize.Leave {
		return i18n.T(ctx, "opt.bulk.leave")
	}
	return optimize.ValueLabel(ctx, v)
}

func fromLabel(ctx context.Context, d optimize.FeatureDiff) string {
	if d.From == "" {
		return i18n.T(ctx, "opt.bulk.from_not_set", "Value", optimize.ValueLabel(ctx, d.FromEff), "Source", d.FromSource.Label(ctx))
	}
	return optimize.ValueLabel(ctx, d.From)
}

func cellWord(ctx context.Context, v string) string {
	switch v {
	case graph.OptIn:
		return i18n.T(ctx, "opt.value.on")
	case graph.OptOut:
		return i18n.T(ctx, "opt.value.off")
	}
	return "?"
}

func templateIDs(p optimize.BulkPlan) []uint {
	ids := make([]uint, 0, len(p.Items))
	for _, it := range p.Items {
		ids = append(ids, it.Template.ID)
	}
	return ids
}

func sortedSettingKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// splitFeatures separates items whose feature acts today from the secondary ones (coming soon,
// paused, known only from a BSP; optimize.Feature.Secondary), keeping each group's order.
func splitFeatures[T any](items []T, feature func(T) optimize.Feature) (main, rest []T) {
	for _, it := range items {
		if feature(it).Secondary() {
			rest = append(rest, it)
		} else {
			main = append(main, it)
		}
	}
	return main, rest
}

func wabaRowFeature(r optimize.WABARow) optimize.Feature         { return r.Feature }
func templateRowFeature(r optimize.TemplateRow) optimize.Feature { return r.Feature }
func sameFeature(f optimize.Feature) optimize.Feature            { return f }

// secondaryWABARows and the like split a page's rows for the templates (a templ loop cannot
// destructure two results).
func mainWABARows(rows []optimize.WABARow) []optimize.WABARow {
	m, _ := splitFeatures(rows, wabaRowFeature)
	return m
}

func secondaryWABARows(rows []optimize.WABARow) []optimize.WABARow {
	_, r := splitFeatures(rows, wabaRowFeature)
	return r
}

func mainTemplateRows(rows []optimize.TemplateRow) []optimize.TemplateRow {
	m, _ := splitFeatures(rows, templateRowFeature)
	return m
}

func secondaryTemplateRows(rows []optimize.TemplateRow) []optimize.TemplateRow {
	_, r := splitFeatures(rows, templateRowFeature)
	return r
}

func mainFeatures(fs []optimize.Feature) []optimize.Feature {
	m, _ := splitFeatures(fs, sameFeature)
	return m
}

func secondaryFeatures(fs []optimize.Feature) []optimize.Feature {
	_, r := splitFeatures(fs, sameFeature)
	return r
}

// secondarySummary is the summary line of the collapsed group: how many, and why they wait.
func secondarySummary(ctx context.Context, n int) string {
	return i18n.N(ctx, "opt.more", n)
}
