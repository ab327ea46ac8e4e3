package optimize

import (
	"context"
	"fmt"
	"strings"

	"mmconsole/internal/i18n"
	"mmconsole/models"
)

// MatrixCell is one template × feature cell.
type MatrixCell struct {
	Value  string
	Source Source
	Drift  bool
}

// MatrixRow is one template of the matrix.
type MatrixRow struct {
	Template models.Template
	Cells    []MatrixCell // in Matrix.Features order
}

// Matrix is the templates-by-features page of one WABA.
type Matrix struct {
	Conn        models.WABAConnection
	Features    []Feature
	WABA        map[string]string
	Rows        []MatrixRow
	MetaDefault string
	Next        uint // keyset cursor of the next page; 0 on the last page
}

// MatrixPageSize bounds one matrix page.
const MatrixPageSize = 100

// MaxBulkTemplates bounds one bulk change: a WABA holds at most 6000 templates, and the ids
// become one SQL IN list, which SQLite caps at 32766 variables (more answered 500).
const MaxBulkTemplates = 6000

func (s *Service) marketingTemplates(ctx context.Context, conn models.WABAConnection, after uint, ids []uint) ([]models.Template, error) {
	var ts []models.Template
	q := s.db.WithContext(ctx).Where("connection_id = ? AND account_id = ? AND category = ?", conn.ID, conn.AccountID, "MARKETING")
	if ids != nil {
		q = q.Where("id IN ?", ids)
	} else {
		q = q.Where("id > ?", after).Limit(MatrixPageSize + 1)
	}
	if err := q.Order("id").Find(&ts).Error; err != nil {
		return nil, fmt.Errorf("optimize: list templates: %w", err)
	}
	return ts, nil
}

// Matrix lists the marketing templates of a WABA (keyset-paged by row id after `after`) with
// every feature's effective value and source.
func (s *Service) Matrix(ctx context.Context, scope models.Scope, connID, after uint) (Matrix, error) {
	conn, err := s.Connection(ctx, scope, connID)
	if err != nil {
		return Matrix{}, err
	}
	ts, err := s.marketingTemplates(ctx, conn, after, nil)
	if err != nil {
		return Matrix{}, err
	}
	m := Matrix{Conn: conn, MetaDefault: s.opts.MetaDefault}
	if len(ts) > MatrixPageSize {
		ts = ts[:MatrixPageSize]
		m.Next = ts[len(ts)-1].ID
	}
	wrows, err := s.settings(ctx, conn.ID, models.OptScopeWABA, conn.WABAID)
	if err != nil {
		return Matrix{}, err
	}
	m.WABA = wabaValues(wrows[conn.WABAID])
	targets := make([]string, 0, len(ts))
	vals := []map[string]string{m.WABA}
	for _, t := range ts {
		targets = append(targets, t.TemplateID)
		vals = append(vals, TemplateValues(t))
	}
	tset, err := s.settings(ctx, conn.ID, models.OptScopeTemplate, targets...)
	if err != nil {
		return Matrix{}, err
	}
	m.Features = FeaturesFor(vals...)
	for _, t := range ts {
		row := MatrixRow{Template: t}
		rows := s.templateRows(t, m.WABA, tset[t.TemplateID])
		byKey := map[string]TemplateRow{}
		for _, r := range rows {
			byKey[r.Feature.Key] = r
		}
		for _, f := range m.Features {
			r, ok := byKey[f.Key]
			if !ok {
				v, src := Effective("", m.WABA[f.Key], s.opts.MetaDefault)
				r = TemplateRow{Effective: v, Source: src}
			}
			row.Cells = append(row.Cells, MatrixCell{Value: r.Effective, Source: r.Source, Drift: r.Drift})
		}
		m.Rows = append(m.Rows, row)
	}
	return m, nil
}

// Leave means "do not change this feature" in a bulk choice.
const Leave = "leave"

// FeatureDiff is one feature of one template in a bulk preview.
type FeatureDiff struct {
	Feature     Feature
	From        string // template-level value now ("" = not set)
	FromEff     string // effective value now
	FromSource  Source
	To          string
	ChangesThis bool
}

// BulkItem is one template of a bulk preview.
type BulkItem struct {
	Template  models.Template
	Changes   []FeatureDiff
	Unchanged []FeatureDiff
	EditsUsed int
	AtLimit   bool
}

// BulkPlan is the preview: nothing has been sent.
type BulkPlan struct {
	Conn      models.WABAConnection
	Settings  map[string]string // feature -> OPT_IN/OPT_OUT (Leave removed)
	Items     []BulkItem
	EditLimit int
}

// Outcome statuses of a bulk apply, per template.
const (
	BulkOK           = "ok"
	BulkPending      = "pending"
	BulkFailed       = "failed"
	BulkNotSentLimit = "not_sent_limit"
	BulkUnchanged    = "unchanged"
)

// BulkOutcome is one template's result.
type BulkOutcome struct {
	Template models.Template
	Status   string
	Changes  []FeatureDiff
	Err      *ErrorInfo
}

// Retryable reports whether a retry may help (failed at Meta, or not sent because of the limit).
func (o BulkOutcome) Retryable() bool { return o.Status == BulkFailed || o.Status == BulkNotSentLimit }

// BulkResult is the report of a bulk apply.
type BulkResult struct {
	Conn     models.WABAConnection
	Settings map[string]string
	Outcomes []BulkOutcome
}

// RetryIDs are the template rows whose change did not go through.
func (r BulkResult) RetryIDs() []uint {
	var ids []uint
	for _, o := range r.Outcomes {
		if o.Retryable() {
			ids = append(ids, o.Template.ID)
		}
	}
	return ids
}

func cleanSettings(ctx context.Context, settings map[string]string) (map[string]string, error) {
	out := map[string]string{}
	ve := &models.ValidationError{}
	for k, v := range settings {
		k = NormKey(k)
		if v == "" || v == Leave {
			continue
		}
		if !ValidKey(k) || !ValidValue(v) {
			ve.Add("setting_"+k, i18n.T(ctx, "opt.err.setting"))
			continue
		}
		out[k] = v
	}
	if len(out) == 0 {
		ve.Add("settings", i18n.T(ctx, "opt.err.no_setting"))
	}
	return out, ve.OrNil()
}

// BulkPreview computes, per chosen template, which features would change from what to what.
// Nothing is sent.
func (s *Service) BulkPreview(ctx context.Context, scope models.Scope, connID uint, templateIDs []uint, settings map[string]string) (BulkPlan, error) {
	conn, err := s.Connection(ctx, scope, connID)
	if err != nil {
		return BulkPlan{}, err
	}
	clean, err := cleanSettings(ctx, settings)
	templateIDs = uniq(templateIDs)
	if len(templateIDs) == 0 || len(templateIDs) > MaxBulkTemplates {
		ve := &models.ValidationError{}
		if err != nil {
			ve = err.(*models.ValidationError)
		}
		if len(templateIDs) == 0 {
			ve.Add("templates", i18n.T(ctx, "opt.err.no_template"))
		} else {
			ve.Add("templates", i18n.T(ctx, "opt.err.too_many", "Max", i18n.Num(ctx, MaxBulkTemplates)))
		}
		err = ve
	}
	if err != nil {
		return BulkPlan{}, err
	}
	ts, err := s.marketingTemplates(ctx, conn, 0, templateIDs)
	if err != nil {
		return BulkPlan{}, err
	}
	// Every chosen id must be a marketing template of this connection (and so of the user's
	// account): one foreign or unknown id refuses the whole request rather than silently
	// shrinking it.
	if len(ts) != len(templateIDs) {
		return BulkPlan{}, models.ErrNotFound
	}
	wrows, err := s.settings(ctx, conn.ID, models.OptScopeWABA, conn.WABAID)
	if err != nil {
		return BulkPlan{}, err
	}
	waba := wabaValues(wrows[conn.WABAID])
	plan := BulkPlan{Conn: conn, Settings: clean, EditLimit: s.opts.EditLimit}
	for _, t := range ts {
		it := BulkItem{Template: t}
		tv := TemplateValues(t)
		// In catalog order, the order of the matrix's columns and of every page listing features.
		for _, f := range FeaturesFor(clean) {
			k := f.Key
			if _, ok := clean[k]; !ok {
				continue
			}
			eff, src := Effective(tv[k], waba[k], s.opts.MetaDefault)
			d := FeatureDiff{Feature: Lookup(k), From: tv[k], FromEff: eff, FromSource: src, To: clean[k], ChangesThis: tv[k] != clean[k]}
			if d.ChangesThis {
				it.Changes = append(it.Changes, d)
			} else {
				it.Unchanged = append(it.Unchanged, d)
			}
		}
		if it.EditsUsed, err = s.EditsUsed(ctx, t.TemplateID); err != nil {
			return BulkPlan{}, err
		}
		it.AtLimit = strings.EqualFold(t.Status, "APPROVED") && it.EditsUsed >= s.opts.EditLimit && len(it.Changes) > 0
		plan.Items = append(plan.Items, it)
	}
	return plan, nil
}

func uniq(ids []uint) []uint {
	seen := map[uint]bool{}
	var out []uint
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// BulkApply sends, per template, one edit with the features that change, and reports each
// template's result. Templates at the edit limit are reported as not sent; unchanged ones as
// unchanged. Nothing is skipped silently.
func (s *Service) BulkApply(ctx context.Context, a Actor, connID uint, templateIDs []uint, settings map[string]string) (BulkResult, error) {
	if !a.User.CanWrite() {
		return BulkResult{}, models.ErrForbidden
	}
	plan, err := s.BulkPreview(ctx, a.User.Scope(), connID, templateIDs, settings)
	if err != nil {
		return BulkResult{}, err
	}
	res := BulkResult{Conn: plan.Conn, Settings: plan.Settings}
	for _, it := range plan.Items {
		o := BulkOutcome{Template: it.Template, Changes: it.Changes}
		if len(it.Changes) == 0 {
			o.Status = BulkUnchanged
			res.Outcomes = append(res.Outcomes, o)
			continue
		}
		changes := map[string]string{}
		for _, d := range it.Changes {
			changes[d.Feature.Key] = d.To
		}
		out := s.editTemplate(ctx, a, plan.Conn, it.Template, changes, ViaBulk)
		o.Err = out.Err
		switch out.Status {
		case "", "confirmed":
			o.Status = BulkOK
		case "pending":
			o.Status = BulkPending
		case "not_sent":
			o.Status = BulkNotSentLimit
		default:
			o.Status = BulkFailed
		}
		res.Outcomes = append(res.Outcomes, o)
	}
	return res, nil
}
