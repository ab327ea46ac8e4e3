package optimize

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"mmconsole/internal/editbudget"
	"mmconsole/internal/graph"
	"mmconsole/internal/i18n"
	"mmconsole/models"
)

// Source says where a template's effective value comes from.
type Source string

// Sources, in the order the console applies them (its documented assumption: Meta does not
// document precedence between template and WABA settings [I]).
const (
	SourceTemplate    Source = "template"
	SourceWABA        Source = "waba"
	SourceMetaDefault Source = "meta_default"
)

// Label is the source as people read it, in the language of ctx.
func (s Source) Label(ctx context.Context) string {
	switch s {
	case SourceTemplate:
		return i18n.T(ctx, "opt.source.template")
	case SourceWABA:
		return i18n.T(ctx, "opt.source.waba")
	}
	return i18n.T(ctx, "opt.source.meta")
}

// Short is the matrix's compact form of the source (a letter of its name in the language).
func (s Source) Short(ctx context.Context) string {
	switch s {
	case SourceTemplate:
		return i18n.T(ctx, "opt.source.template_short")
	case SourceWABA:
		return i18n.T(ctx, "opt.source.waba_short")
	}
	return i18n.T(ctx, "opt.source.meta_short")
}

// Effective applies template > WABA > Meta's default.
func Effective(templateValue, wabaValue, metaDefault string) (string, Source) {
	switch {
	case templateValue != "":
		return templateValue, SourceTemplate
	case wabaValue != "":
		return wabaValue, SourceWABA
	}
	return metaDefault, SourceMetaDefault
}

// TemplateRow is one feature of a template.
type TemplateRow struct {
	TemplateRowID uint
	Feature       Feature
	TemplateValue string // the template's own setting as Meta last reported; "" = not set
	WABAValue     string // the WABA default as Meta last reported; "" = not set
	Effective     string
	Source        Source
	Stored        string // what the console expects at template level
	Drift         bool
	Pending       string
}

// TemplateView is what the template component shows.
type TemplateView struct {
	Template      models.Template
	Conn          models.WABAConnection
	Rows          []TemplateRow
	EditsUsed     int
	EditLimit     int
	LimitApplies  bool // only APPROVED templates are limited
	MetaDefault   string
	History       []models.OptimizationChange
	DriftCount    int
	Editable      bool // Meta allows edits in this status
	Err           *ErrorInfo
	Notice        string
	ChangedFeat   string
	WABANeverRead bool
	// Unknown is why Meta's spec of this template could not be read ("" when it could). The
	// settings are then unknown: no edit is offered, since the whole map Meta would receive
	// could not be built from it. UnknownRaw is Meta's JSON as it came.
	Unknown    string
	UnknownRaw string
	// Budget is what is left of Meta's edit limit, shown before an edit is applied.
	Budget editbudget.Budget
}

// AtLimit reports whether no edit is left.
func (v TemplateView) AtLimit() bool { return v.LimitApplies && v.EditsUsed >= v.EditLimit }

// Template returns a template's optimization view as stored (no call to Meta).
func (s *Service) Template(ctx context.Context, scope models.Scope, rowID uint) (TemplateView, error) {
	t, conn, err := s.template(ctx, scope, rowID)
	if err != nil {
		return TemplateView{}, err
	}
	return s.templateView(ctx, t, conn)
}

func editable(status string) bool {
	switch strings.ToUpper(status) {
	case "APPROVED", "REJECTED", "PAUSED":
		return true
	}
	return false
}

func (s *Service) templateView(ctx context.Context, t models.Template, conn models.WABAConnection) (TemplateView, error) {
	all, err := s.settings(ctx, conn.ID, models.OptScopeWABA, conn.WABAID)
	if err != nil {
		return TemplateView{}, err
	}
	tset, err := s.settings(ctx, conn.ID, models.OptScopeTemplate, t.TemplateID)
	if err != nil {
		return TemplateView{}, err
	}
	budget, err := s.edits.Of(ctx, t)
	if err != nil {
		return TemplateView{}, err
	}
	used := budget.Used
	hist, err := s.history(ctx, conn.ID, models.OptScopeTemplate, t.TemplateID, 20)
	if err != nil {
		return TemplateView{}, err
	}
	v := TemplateView{Template: t, Conn: conn, EditsUsed: used, EditLimit: s.opts.EditLimit,
		LimitApplies: strings.EqualFold(t.Status, "APPROVED"), MetaDefault: s.opts.MetaDefault, History: hist,
		Editable: editable(t.Status), WABANeverRead: len(all[conn.WABAID]) == 0,
		Unknown: t.OptimizationsProblem, UnknownRaw: t.OptimizationsRaw, Budget: budget}
	v.Rows = s.templateRows(t, wabaValues(all[conn.WABAID]), tset[t.TemplateID])
	for _, r := range v.Rows {
		if r.Drift {
			v.DriftCount++
		}
	}
	return v, nil
}

func (s *Service) templateRows(t models.Template, waba map[string]string, stored map[string]models.OptimizationSetting) []TemplateRow {
	tv := TemplateValues(t)
	var rows []TemplateRow
	for _, f := range FeaturesFor(tv, waba) {
		r := TemplateRow{TemplateRowID: t.ID, Feature: f, TemplateValue: tv[f.Key], WABAValue: waba[f.Key]}
		r.Effective, r.Source = Effective(r.TemplateValue, r.WABAValue, s.opts.MetaDefault)
		if st, ok := stored[f.Key]; ok {
			r.Stored, r.Pending = st.Value, st.PendingValue
			r.Drift = st.PendingValue == "" && st.Value != r.TemplateValue
		}
		rows = append(rows, r)
	}
	return rows
}

// RereadTemplate reads one template's settings from Meta, stores them (the Optimizations column
// and the status Meta reports) and shows drift.
func (s *Service) RereadTemplate(ctx context.Context, scope models.Scope, rowID uint) (TemplateView, error) {
	t, conn, err := s.template(ctx, scope, rowID)
	if err != nil {
		return TemplateView{}, err
	}
	if t, err = s.readTemplate(ctx, conn, t); err != nil {
		return TemplateView{}, err
	}
	return s.templateView(ctx, t, conn)
}

func (s *Service) readTemplate(ctx context.Context, conn models.WABAConnection, t models.Template) (models.Template, error) {
	tok, err := s.tokens.Token(ctx, conn)
	if err != nil {
		return t, fmt.Errorf("optimize: token of waba %s: %w", conn.WABAID, err)
	}
	gt, err := s.graph.GetTemplate(ctx, tok, t.TemplateID)
	if err != nil {
		return t, fmt.Errorf("optimize: read template %s: %w", t.TemplateID, err)
	}
	meta := normMap(gt.DegreesOfFreedom.Features)
	b, _ := json.Marshal(meta)
	problem, raw := "", ""
	if gt.DegreesOfFreedom.Unknown {
		problem, raw = gt.DegreesOfFreedom.Problem, string(gt.DegreesOfFreedom.Raw)
	}
	upd := map[string]any{"optimizations": string(b), "optimizations_problem": problem, "optimizations_raw": raw}
	if gt.Status != "" {
		upd["status"] = strings.ToUpper(gt.Status)
		t.Status = strings.ToUpper(gt.Status)
	}
	t.Optimizations, t.OptimizationsProblem, t.OptimizationsRaw = string(b), problem, raw
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&models.Template{}).Where("id = ?", t.ID).Updates(upd).Error; err != nil {
			return fmt.Errorf("optimize: store template %s: %w", t.TemplateID, err)
		}
		if problem != "" {
			// Unknown settings say nothing about drift or pending changes: keep what was stored.
			return nil
		}
		existing, err := s.settingsTx(tx, conn.ID, models.OptScopeTemplate, t.TemplateID)
		if err != nil {
			return err
		}
		return s.applyRead(tx, conn, models.OptScopeTemplate, t.TemplateID, meta, existing)
	})
	return t, err
}

// editOutcome is the result of one edit request for one template.
type editOutcome struct {
	Status string // models.OptChange*; "" when nothing needed sending
	Err    *ErrorInfo
	ReadOK bool
}

// Where an edit was made, recorded in the edit ledger.
const (
	ViaTemplatePage = "template_page"
	ViaBulk         = "bulk"
)

// editTemplate sends changes (feature -> value) for one template as one edit, records one change
// per feature and one edit in the ledger, then reads the template back to confirm.
//
// The body carries the whole map, not only the changed keys: Meta does not document whether a
// POST of degrees_of_freedom_spec merges into or replaces the template's spec, and its examples
// always send every feature. So the current spec is read from Meta (not only our copy, which may
// be stale), the changes are applied to it, and the whole map is sent; either reading of the POST
// then ends in the same spec.
func (s *Service) editTemplate(ctx context.Context, a Actor, conn models.WABAConnection, t models.Template, changes map[string]string, via string) editOutcome {
	if len(changes) == 0 {
		return editOutcome{}
	}
	key := newRequestKey()
	now := s.now()
	rowID := t.ID
	records := func(old map[string]string) []models.OptimizationChange {
		recs := make([]models.OptimizationChange, 0, len(changes))
		for _, f := range sortedKeys(changes) {
			recs = append(recs, models.OptimizationChange{
				AccountID: conn.AccountID, ConnectionID: conn.ID, Scope: models.OptScopeTemplate, TargetID: t.TemplateID,
				TemplateRowID: &rowID, Feature: f, OldValue: old[f], NewValue: changes[f], ActorID: &a.User.ID,
				ActorEmail: a.User.Email, Status: models.OptChangePending, RequestKey: key, CreatedAt: now,
			})
		}
		return recs
	}
	// refuse records changes that were not sent (or failed before Meta was asked): the record
	// keeps the reason and codes, and the words are chosen when the history is shown.
	refuse := func(recs []models.OptimizationChange, status string, info *ErrorInfo) editOutcome {
		for i := range recs {
			recs[i].Status, recs[i].MetaAnswer = status, info.Stored(true)
			recs[i].ErrorCode, recs[i].ErrorSubcode = info.Code, info.Subcode
		}
		if err := s.db.WithContext(ctx).Create(&recs).Error; err != nil {
			s.opts.Logger.ErrorContext(ctx, "optimize: record refused change", "err", err)
		}
		for _, ch := range recs {
			s.record(ctx, a, conn, ch)
		}
		return editOutcome{Status: status, Err: info}
	}
	budget, err := s.edits.Of(ctx, t)
	if err != nil {
		return editOutcome{Status: models.OptChangeFailed, Err: s.internalInfo(ctx, "count edits", err)}
	}
	if budget.AtLimit() {
		return refuse(records(TemplateValues(t)), models.OptChangeNotSent, s.editLimitInfo(ctx, budget.Used))
	}
	tok, err := s.tokens.Token(ctx, conn)
	var current graph.Template
	if err == nil {
		current, err = s.graph.GetTemplate(ctx, tok, t.TemplateID)
	}
	if err != nil {
		info := s.explain(ctx, err)
		info.Meaning = i18n.T(ctx, "opt.errinfo.read_before", "Meaning", info.Meaning)
		return refuse(records(TemplateValues(t)), models.OptChangeFailed, info)
	}
	if current.DegreesOfFreedom.Unknown {
		info := &ErrorInfo{Reason: ReasonUnreadableSpec, Title: i18n.T(ctx, "opt.errinfo.tpl_unreadable.title"),
			Meaning: i18n.T(ctx, "opt.errinfo.tpl_unreadable.meaning", "Problem", current.DegreesOfFreedom.Problem),
			Action:  i18n.T(ctx, "opt.errinfo.tpl_unreadable.action")}
		return refuse(records(TemplateValues(t)), models.OptChangeNotSent, info)
	}
	old := normMap(current.DegreesOfFreedom.Features)
	full := make(map[string]string, len(old)+len(changes))
	for k, v := range old {
		full[k] = v
	}
	for k, v := range changes {
		full[k] = v
	}
	recs := records(old)
	if err := s.db.WithContext(ctx).Create(&recs).Error; err != nil {
		return editOutcome{Status: models.OptChangeFailed, Err: s.internalInfo(ctx, "record the change", err)}
	}
	err = s.graph.EditTemplate(ctx, tok, t.TemplateID, graph.TemplateEdit{Optimizations: full})
	if err != nil {
		info := s.explain(ctx, err)
		for i := range recs {
			s.finishFailed(ctx, &recs[i], info)
			s.record(ctx, a, conn, recs[i])
		}
		return editOutcome{Status: models.OptChangeFailed, Err: info}
	}
	if err := s.edits.Record(ctx, editbudget.Edit{Template: t, Kind: models.EditKindOptimizations, Via: via,
		// The detail names the features by their keys, which read the same in every language.
		Detail: strings.Join(sortedKeys(changes), ", "), Actor: a.User, RequestKey: key}); err != nil {
		s.opts.Logger.ErrorContext(ctx, "optimize: record edit", "template", t.TemplateID, "err", err)
	}
	limited := budget.Applies
	stored, _ := s.settingsTx(s.db.WithContext(ctx), conn.ID, models.OptScopeTemplate, t.TemplateID)
	for i := range recs {
		s.markSent(ctx, &recs[i], limited)
		if err := s.setPending(ctx, conn, models.OptScopeTemplate, t.TemplateID, recs[i].Feature, recs[i].NewValue, stored[recs[i].Feature], recs[i].ID); err != nil {
			s.opts.Logger.ErrorContext(ctx, "optimize: store pending", "err", err)
		}
	}
	_, rerr := s.readTemplate(ctx, conn, t)
	out := editOutcome{Status: models.OptChangeConfirmed, ReadOK: rerr == nil}
	for i := range recs {
		_ = s.db.WithContext(ctx).First(&recs[i], recs[i].ID).Error
		if recs[i].Status != models.OptChangeConfirmed {
			out.Status = models.OptChangePending
		}
		s.record(ctx, a, conn, recs[i])
	}
	return out
}

// SetTemplate switches one feature of one template: ApplyTemplate with one staged setting (one
// edit of the template at Meta, refused locally when an approved template has used its edits).
func (s *Service) SetTemplate(ctx context.Context, a Actor, rowID uint, feature, value string) (TemplateView, error) {
	if !a.User.CanWrite() {
		return TemplateView{}, models.ErrForbidden
	}
	feature = NormKey(feature)
	if err := validate(ctx, feature, value); err != nil {
		return TemplateView{}, err
	}
	return s.ApplyTemplate(ctx, a, rowID, map[string]string{feature: value}, "")
}

// All-on / all-off choices of a staged apply.
const (
	AllOn  = "all_on"
	AllOff = "all_off"
)

// ApplyTemplate applies the changes staged on the template page as ONE edit of the template:
// staged maps feature -> OPT_IN/OPT_OUT ("" or absent leaves it), and all (AllOn, AllOff or "")
// sets every listed feature at once. Features already at the staged value are not sent; when
// nothing changes no edit is spent.
func (s *Service) ApplyTemplate(ctx context.Context, a Actor, rowID uint, staged map[string]string, all string) (TemplateView, error) {
	if !a.User.CanWrite() {
		return TemplateView{}, models.ErrForbidden
	}
	t, conn, err := s.template(ctx, a.User.Scope(), rowID)
	if err != nil {
		return TemplateView{}, err
	}
	v, err := s.templateView(ctx, t, conn)
	if err != nil {
		return TemplateView{}, err
	}
	want := map[string]string{}
	ve := &models.ValidationError{}
	switch all {
	case "":
		for k, val := range staged {
			k, val = NormKey(k), strings.ToUpper(strings.TrimSpace(val))
			if val == "" {
				continue
			}
			if err := validate(ctx, k, val); err != nil {
				ve.Add("f_"+k, i18n.T(ctx, "opt.err.choose_on_off", "Feature", Lookup(k).Name(ctx)))
				continue
			}
			want[k] = val
		}
	case AllOn, AllOff:
		val := graph.OptIn
		if all == AllOff {
			val = graph.OptOut
		}
		for _, r := range v.Rows {
			if r.Feature.InAll(r.TemplateValue) {
				want[r.Feature.Key] = val
			}
		}
	default:
		ve.Add("all", i18n.T(ctx, "opt.err.all"))
	}
	if err := ve.OrNil(); err != nil {
		return TemplateView{}, err
	}
	cur := TemplateValues(t)
	changes := map[string]string{}
	for k, val := range want {
		if cur[k] != val {
			changes[k] = val
		}
	}
	if len(changes) == 0 {
		v.Notice = i18n.T(ctx, "opt.notice.no_change")
		return v, nil
	}
	out := s.editTemplate(ctx, a, conn, t, changes, ViaTemplatePage)
	t2, _, err := s.template(ctx, a.User.Scope(), rowID)
	if err != nil {
		return TemplateView{}, err
	}
	if v, err = s.templateView(ctx, t2, conn); err != nil {
		return TemplateView{}, err
	}
	v.Err = out.Err
	v.ChangedFeat = strings.Join(sortedKeys(changes), ", ")
	switch out.Status {
	case models.OptChangeConfirmed:
		v.Notice = i18n.N(ctx, "opt.notice.changed_confirmed", len(changes))
	case models.OptChangePending:
		v.Notice = i18n.N(ctx, "opt.notice.changed_pending", len(changes), "Then", noticeFor(ctx, out.Status, out.ReadOK))
	}
	return v, nil
}
