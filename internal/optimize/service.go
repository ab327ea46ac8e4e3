package optimize

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"mmconsole/internal/database"
	"mmconsole/internal/editbudget"
	"mmconsole/internal/graph"
	"mmconsole/internal/i18n"
	"mmconsole/models"
)

// Graph is the part of the Graph API client this area uses (*graph.Client satisfies it).
type Graph interface {
	GetWABA(ctx context.Context, token, wabaID string) (graph.WABA, error)
	GetTemplate(ctx context.Context, token, templateID string) (graph.Template, error)
	EditTemplate(ctx context.Context, token, templateID string, e graph.TemplateEdit) error
	SetWABAOptimizations(ctx context.Context, token, wabaID string, features map[string]string) error
}

// TokenSource opens a connection's sealed access token.
type TokenSource interface {
	Token(ctx context.Context, conn models.WABAConnection) (string, error)
}

// AuditEntry is what this area tells the audit log about a change.
type AuditEntry struct {
	AccountID  *uint
	ActorID    *uint
	ActorEmail string
	Action     string
	Target     string
	Before     any
	After      any
	IP         string
}

// Auditor records changes in the audit log.
type Auditor interface {
	Record(ctx context.Context, e AuditEntry) error
}

// AuditAction is the audit action of every optimization change.
const AuditAction = "optimization.change"

// Options tune the service. Zero values get the defaults below.
type Options struct {
	// MetaDefault is the value assumed when neither the template nor the WABA has a setting.
	// Meta's template docs say "enabled by default"; since Apr 21, 2026 the WABA-level default
	// is disabled. Which one wins is undocumented [I]; the default assumes disabled (OPT_OUT).
	MetaDefault string
	// EditLimit edits of an APPROVED template per EditWindow (Meta: 10 per 30 days).
	EditLimit  int
	EditWindow time.Duration
	// EditLimitSubcodes are error_subcodes that mean "edit limit reached". Meta documents the
	// limit but not its error [I]; the default is the sandbox's 2388299.
	EditLimitSubcodes []int
	Now               func() time.Time
	Logger            *slog.Logger
	// Edits is the ledger every kind of template edit is counted in; by default one over db
	// with EditLimit and EditWindow.
	Edits *editbudget.Ledger
}

// Service is the optimizations area.
type Service struct {
	db     *gorm.DB
	graph  Graph
	tokens TokenSource
	audit  Auditor
	opts   Options
	edits  *editbudget.Ledger
}

// New builds the service. auditor may be nil (nothing is audited).
func New(db *gorm.DB, g Graph, tokens TokenSource, auditor Auditor, o Options) *Service {
	if o.MetaDefault == "" {
		o.MetaDefault = graph.OptOut
	}
	if o.EditLimit <= 0 {
		o.EditLimit = 10
	}
	if o.EditWindow <= 0 {
		o.EditWindow = 30 * 24 * time.Hour
	}
	if o.EditLimitSubcodes == nil {
		o.EditLimitSubcodes = []int{2388299}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Edits == nil {
		o.Edits = editbudget.New(db, editbudget.Options{Limit: o.EditLimit, Window: o.EditWindow, Now: o.Now})
	}
	return &Service{db: db, graph: g, tokens: tokens, audit: auditor, opts: o, edits: o.Edits}
}

// Migrations creates the optimization tables.
func Migrations() []database.Migration {
	return []database.Migration{
		database.AutoMigrateStep("0005_optimize", &models.OptimizationSetting{}, &models.OptimizationChange{}),
		database.AutoMigrateStep("0200_waba_choices", &models.WABAChoice{}),
	}
}

// MetaDefault is the value assumed when nothing is set (for the "how we decide" note).
func (s *Service) MetaDefault() string { return s.opts.MetaDefault }

// EditLimit is the number of edits an approved template allows per window.
func (s *Service) EditLimit() int { return s.opts.EditLimit }

func (s *Service) now() time.Time { return s.opts.Now().UTC() }

// Actor is who asks for a change.
type Actor struct {
	User models.User
	IP   string
}

// ---- errors in words ----

// ErrorInfo is a failed change explained: Meta's code, its meaning and what to do. Title,
// Meaning and Action are in the language of the request that tried the change; Reason and the
// codes are what the change record stores, so the history chooses its words when it is shown.
type ErrorInfo struct {
	Code, Subcode int
	Reason        string // one of the Reason* tokens
	Title         string
	Meaning       string
	Action        string
	Details       string // Meta's own words, as Meta sent them
	FBTraceID     string
	EditLimit     bool
}

// Why a change failed or was not sent, as stored in models.OptimizationChange.MetaAnswer.
const (
	ReasonEditLimit       = "edit_limit"
	ReasonUnreadableSpec  = "unreadable_spec"
	ReasonUnreachable     = "unreachable"
	ReasonUnreachableSent = "unreachable_sent"
	ReasonNoAnswer        = "no_answer"
	ReasonUnexpected      = "unexpected"
	ReasonMetaError       = "meta_error"
	ReasonInternal        = "internal"
	// notSentPrefix marks a change refused before anything was sent to Meta.
	notSentPrefix = "not_sent:"
)

// Stored is the form kept in the change record: a reason token, the codes (in their own
// columns) and Meta's details, never words in one reader's language.
func (e ErrorInfo) Stored(notSent bool) string {
	s := e.Reason
	if notSent {
		s = notSentPrefix + s
	}
	if e.Details != "" {
		s += ": " + e.Details
	}
	return s
}

// Headline is the error's one line for people: Meta's code when there is one, and the title.
func (e ErrorInfo) Headline(ctx context.Context) string {
	switch {
	case e.Code == 0:
		return e.Title
	case e.Subcode != 0:
		return i18n.T(ctx, "opt.errinfo.code_sub", "Code", e.Code, "Subcode", e.Subcode, "Title", e.Title)
	}
	return i18n.T(ctx, "opt.errinfo.code", "Code", e.Code, "Title", e.Title)
}

// reasonKeys name the stored reasons for people.
var reasonKeys = map[string]string{
	ReasonEditLimit:       i18n.Key("opt.errinfo.edit_limit.title"),
	ReasonUnreadableSpec:  i18n.Key("opt.errinfo.unreadable.title"),
	ReasonUnreachable:     i18n.Key("opt.errinfo.unreachable.title"),
	ReasonUnreachableSent: i18n.Key("opt.errinfo.unreachable_sent.title"),
	ReasonNoAnswer:        i18n.Key("opt.errinfo.no_answer.title"),
	ReasonUnexpected:      i18n.Key("opt.errinfo.unexpected.title"),
	ReasonInternal:        i18n.Key("opt.errinfo.internal.title"),
}

// AnswerWords is a change record's answer from Meta in the language of ctx, built from what
// the record stores (the reason, Meta's codes and details). Records written before reasons
// were stored hold English words, shown as they are.
func AnswerWords(ctx context.Context, ch models.OptimizationChange) string {
	a := ch.MetaAnswer
	if a == "ok" {
		return i18n.T(ctx, "opt.answer.ok")
	}
	rest, notSent := strings.CutPrefix(a, notSentPrefix)
	reason, details, _ := strings.Cut(rest, ": ")
	var words string
	switch key, ok := reasonKeys[reason]; {
	case reason == ReasonMetaError || (reason == ReasonEditLimit && ch.ErrorCode != 0):
		title := graph.Explain(ctx, ch.ErrorCode).Title
		if reason == ReasonEditLimit {
			title = i18n.T(ctx, key)
		}
		words = ErrorInfo{Code: ch.ErrorCode, Subcode: ch.ErrorSubcode, Title: title}.Headline(ctx)
	case ok:
		words = i18n.T(ctx, key)
	default:
		return a
	}
	if details != "" {
		words = i18n.T(ctx, "opt.answer.details", "Answer", words, "Details", details)
	}
	if notSent {
		words = i18n.T(ctx, "opt.answer.not_sent", "Answer", words)
	}
	return words
}

func (s *Service) editLimitInfo(ctx context.Context, used int) *ErrorInfo {
	return &ErrorInfo{
		Reason:    ReasonEditLimit,
		Title:     i18n.T(ctx, "opt.errinfo.edit_limit.title"),
		Meaning:   i18n.T(ctx, "opt.errinfo.edit_limit.meaning", "Limit", s.opts.EditLimit, "Used", used),
		Action:    i18n.T(ctx, "opt.errinfo.edit_limit.action"),
		EditLimit: true,
	}
}

// internalInfo explains a failure on this side (the database) without its technical text,
// which goes to the log.
func (s *Service) internalInfo(ctx context.Context, what string, err error) *ErrorInfo {
	s.opts.Logger.ErrorContext(ctx, "optimize: "+what, "err", err)
	return &ErrorInfo{Reason: ReasonInternal, Title: i18n.T(ctx, "opt.errinfo.internal.title"),
		Meaning: i18n.T(ctx, "opt.errinfo.internal.meaning"), Action: i18n.T(ctx, "opt.errinfo.internal.action")}
}

// explain turns any error from a Graph call into words.
func (s *Service) explain(ctx context.Context, err error) *ErrorInfo {
	var unreadable *errUnreadableSpec
	if errors.As(err, &unreadable) {
		return &ErrorInfo{Reason: ReasonUnreadableSpec, Title: i18n.T(ctx, "opt.errinfo.unreadable.title"),
			Meaning: i18n.T(ctx, "opt.errinfo.unreadable.meaning", "Problem", unreadable.problem),
			Action:  i18n.T(ctx, "opt.errinfo.unreadable.action")}
	}
	if ue, ok := graph.AsUnreachable(err); ok {
		_, title, msg := ue.UserFacing(ctx)
		info := &ErrorInfo{Reason: ReasonUnreachable, Title: title, Meaning: msg, Action: i18n.T(ctx, "opt.errinfo.unreachable.action")}
		if ue.Written {
			// The edit left: Meta may have applied it (and counted it), so a blind repeat could
			// spend a second edit on the same change.
			info.Reason = ReasonUnreachableSent
			info.Action = i18n.T(ctx, "opt.errinfo.unreachable_sent.action")
		}
		return info
	}
	ge, ok := graph.AsGraphError(err)
	if !ok {
		s.opts.Logger.WarnContext(ctx, "optimize: no answer from Meta", "err", err)
		return &ErrorInfo{Reason: ReasonNoAnswer, Title: i18n.T(ctx, "opt.errinfo.no_answer.title"),
			Meaning: i18n.T(ctx, "opt.errinfo.no_answer.meaning"), Action: i18n.T(ctx, "opt.errinfo.no_answer.action")}
	}
	for _, sc := range s.opts.EditLimitSubcodes {
		if ge.Subcode == sc && sc != 0 {
			info := s.editLimitInfo(ctx, s.opts.EditLimit)
			info.Meaning = i18n.T(ctx, "opt.errinfo.edit_limit.meta_meaning", "Limit", s.opts.EditLimit)
			info.Code, info.Subcode, info.Details, info.FBTraceID = ge.Code, ge.Subcode, ge.Details, ge.FBTraceID
			return info
		}
	}
	x := ge.Explain(ctx)
	info := &ErrorInfo{Reason: ReasonMetaError, Code: ge.Code, Subcode: ge.Subcode, Title: x.Title, Meaning: x.Meaning, Action: x.Action, Details: ge.Details, FBTraceID: ge.FBTraceID}
	if ge.Code == 0 {
		// What could not be read is technical text of this console: it goes to the log.
		s.opts.Logger.WarnContext(ctx, "optimize: unexpected answer from Meta", "err", ge)
		info.Reason = ReasonUnexpected
		info.Title = i18n.T(ctx, "opt.errinfo.unexpected.title")
		info.Meaning = i18n.T(ctx, "opt.errinfo.unexpected.meaning")
		info.Action = i18n.T(ctx, "opt.errinfo.unexpected.action")
	}
	return info
}

// ---- loading ----

// Connections lists the WABA connections visible in scope.
func (s *Service) Connections(ctx context.Context, scope models.Scope) ([]models.WABAConnection, error) {
	var out []models.WABAConnection
	if err := database.Scoped(s.db.WithContext(ctx), scope, "account_id").Order("name, waba_id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("optimize: list connections: %w", err)
	}
	return out, nil
}

// Connection loads one connection; another account's answers models.ErrNotFound.
func (s *Service) Connection(ctx context.Context, scope models.Scope, id uint) (models.WABAConnection, error) {
	var c models.WABAConnection
	err := database.Scoped(s.db.WithContext(ctx), scope, "account_id").Where("id = ?", id).First(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return c, models.ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("optimize: connection %d: %w", id, err)
	}
	return c, nil
}

func (s *Service) template(ctx context.Context, scope models.Scope, id uint) (models.Template, models.WABAConnection, error) {
	var t models.Template
	err := database.Scoped(s.db.WithContext(ctx), scope, "account_id").Where("id = ?", id).First(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return t, models.WABAConnection{}, models.ErrNotFound
	}
	if err != nil {
		return t, models.WABAConnection{}, fmt.Errorf("optimize: template %d: %w", id, err)
	}
	c, err := s.Connection(ctx, scope, t.ConnectionID)
	return t, c, err
}

// TemplateValues decodes models.Template.Optimizations; a malformed column reads as empty.
func TemplateValues(t models.Template) map[string]string {
	out := map[string]string{}
	var m map[string]string
	if json.Unmarshal([]byte(t.Optimizations), &m) == nil {
		for k, v := range m {
			out[NormKey(k)] = v
		}
	}
	return out
}

func (s *Service) settings(ctx context.Context, connID uint, scope string, targets ...string) (map[string]map[string]models.OptimizationSetting, error) {
	var rows []models.OptimizationSetting
	q := s.db.WithContext(ctx).Where("connection_id = ? AND scope = ?", connID, scope)
	if len(targets) > 0 {
		q = q.Where("target_id IN ?", targets)
	}
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("optimize: read settings: %w", err)
	}
	out := map[string]map[string]models.OptimizationSetting{}
	for _, r := range rows {
		if out[r.TargetID] == nil {
			out[r.TargetID] = map[string]models.OptimizationSetting{}
		}
		out[r.TargetID][r.Feature] = r
	}
	return out, nil
}

// wabaValues is what Meta last reported for the WABA, feature -> value.
func wabaValues(rows map[string]models.OptimizationSetting) map[string]string {
	out := map[string]string{}
	for k, r := range rows {
		if r.MetaValue != "" {
			out[k] = r.MetaValue
		}
	}
	return out
}

// ---- reconciling a read ----

// applyRead stores what Meta reported for one target: MetaValue for every key Meta reports or
// the console knows, confirms pending changes Meta now reports, and keeps Value (the console's
// expectation) so that drift stays visible.
func (s *Service) applyRead(tx *gorm.DB, conn models.WABAConnection, scope, target string, meta map[string]string, existing map[string]models.OptimizationSetting) error {
	now := s.now()
	readBefore := false
	for _, r := range existing {
		if r.ReadAt != nil {
			readBefore = true
		}
	}
	keys := map[string]bool{}
	for k := range meta {
		keys[k] = true
	}
	for k := range existing {
		keys[k] = true
	}
	for k := range keys {
		mv := meta[k]
		r, ok := existing[k]
		if !ok {
			r = models.OptimizationSetting{AccountID: conn.AccountID, ConnectionID: conn.ID, Scope: scope, TargetID: target, Feature: k, Source: "meta_read"}
			if !readBefore {
				r.Value = mv // the first read is the baseline
			}
			r.MetaValue, r.ReadAt = mv, &now
			if err := tx.Create(&r).Error; err != nil {
				return fmt.Errorf("optimize: store setting %s: %w", k, err)
			}
			continue
		}
		upd := map[string]any{"meta_value": mv, "read_at": now}
		if r.PendingValue != "" && mv == r.PendingValue {
			upd["value"], upd["source"], upd["pending_value"], upd["pending_change_id"] = mv, "console_change", "", nil
			if r.PendingChangeID != nil {
				if err := tx.Model(&models.OptimizationChange{}).Where("id = ? AND status = ?", *r.PendingChangeID, models.OptChangePending).
					Updates(map[string]any{"status": models.OptChangeConfirmed, "confirmed_at": now}).Error; err != nil {
					return fmt.Errorf("optimize: confirm change: %w", err)
				}
			}
		} else if r.ReadAt == nil && r.Source == "" {
			upd["value"] = mv
		}
		if err := tx.Model(&models.OptimizationSetting{}).Where("id = ?", r.ID).Updates(upd).Error; err != nil {
			return fmt.Errorf("optimize: update setting %s: %w", k, err)
		}
	}
	return nil
}

// ---- WABA level ----

// WABARow is one feature of the WABA page.
type WABARow struct {
	ConnectionID uint
	Feature      Feature
	MetaValue    string // what Meta reports; "" = not set
	Stored       string // what the console expects
	Drift        bool
	Pending      string
	ReadAt       *time.Time
	Err          *ErrorInfo // the change just tried failed (rolled back)
	Notice       string     // the outcome of the change just tried
}

// WABAView is the WABA page's data.
type WABAView struct {
	Conn       models.WABAConnection
	Rows       []WABARow
	ReadAt     *time.Time
	DriftCount int
	Notice     string     // the outcome of the change just tried
	Err        *ErrorInfo // the change just tried failed (nothing changed)
}

// WABA returns the WABA's optimization defaults as stored; the first visit reads them from Meta.
func (s *Service) WABA(ctx context.Context, scope models.Scope, connID uint) (WABAView, error) {
	conn, err := s.Connection(ctx, scope, connID)
	if err != nil {
		return WABAView{}, err
	}
	rows, err := s.settings(ctx, conn.ID, models.OptScopeWABA, conn.WABAID)
	if err != nil {
		return WABAView{}, err
	}
	if len(rows[conn.WABAID]) == 0 {
		return s.RereadWABA(ctx, scope, connID)
	}
	return s.wabaView(conn, rows[conn.WABAID]), nil
}

func (s *Service) wabaView(conn models.WABAConnection, rows map[string]models.OptimizationSetting) WABAView {
	v := WABAView{Conn: conn}
	for _, f := range FeaturesFor(wabaValues(rows)) {
		r := rows[f.Key]
		row := WABARow{ConnectionID: conn.ID, Feature: f, MetaValue: r.MetaValue, Stored: r.Value, Pending: r.PendingValue, ReadAt: r.ReadAt}
		row.Drift = r.ID != 0 && r.PendingValue == "" && r.Value != r.MetaValue
		if row.Drift {
			v.DriftCount++
		}
		if r.ReadAt != nil && (v.ReadAt == nil || r.ReadAt.After(*v.ReadAt)) {
			v.ReadAt = r.ReadAt
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

// Row picks one feature's row from a view.
func (v WABAView) Row(feature string) WABARow {
	for _, r := range v.Rows {
		if r.Feature.Key == feature {
			return r
		}
	}
	return WABARow{ConnectionID: v.Conn.ID, Feature: Lookup(feature)}
}

// RereadWABA asks Meta for the WABA's settings, stores them and shows drift.
func (s *Service) RereadWABA(ctx context.Context, scope models.Scope, connID uint) (WABAView, error) {
	conn, err := s.Connection(ctx, scope, connID)
	if err != nil {
		return WABAView{}, err
	}
	if err := s.readWABA(ctx, conn); err != nil {
		return WABAView{}, err
	}
	rows, err := s.settings(ctx, conn.ID, models.OptScopeWABA, conn.WABAID)
	if err != nil {
		return WABAView{}, err
	}
	return s.wabaView(conn, rows[conn.WABAID]), nil
}

func (s *Service) readWABA(ctx context.Context, conn models.WABAConnection) error {
	tok, err := s.tokens.Token(ctx, conn)
	if err != nil {
		return fmt.Errorf("optimize: token of waba %s: %w", conn.WABAID, err)
	}
	w, err := s.graph.GetWABA(ctx, tok, conn.WABAID)
	if err != nil {
		return fmt.Errorf("optimize: read waba %s: %w", conn.WABAID, err)
	}
	meta := normMap(w.DegreesOfFreedom.Features)
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Two re-reads of one WABA (two instances, or a click during the scheduled one) must not
		// both compare Meta's answer with the same stored settings.
		if err := database.LockKey(tx, fmt.Sprintf("optimize:waba:%d", conn.ID)); err != nil {
			return err
		}
		existing, err := s.settingsTx(tx, conn.ID, models.OptScopeWABA, conn.WABAID)
		if err != nil {
			return err
		}
		return s.applyRead(tx, conn, models.OptScopeWABA, conn.WABAID, meta, existing)
	})
}

func (s *Service) settingsTx(tx *gorm.DB, connID uint, scope, target string) (map[string]models.OptimizationSetting, error) {
	var rows []models.OptimizationSetting
	if err := tx.Where("connection_id = ? AND scope = ? AND target_id = ?", connID, scope, target).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("optimize: read settings: %w", err)
	}
	out := map[string]models.OptimizationSetting{}
	for _, r := range rows {
		out[r.Feature] = r
	}
	return out, nil
}

func normMap(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[NormKey(k)] = v
	}
	return out
}

func validate(ctx context.Context, feature, value string) error {
	ve := &models.ValidationError{}
	if !ValidKey(feature) {
		ve.Add("feature", i18n.T(ctx, "opt.err.feature_key"))
	}
	if !ValidValue(value) {
		ve.Add("value", i18n.T(ctx, "opt.err.value"))
	}
	return ve.OrNil()
}

func newRequestKey() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// SetWABA switches one feature's WABA-wide default. The change is sent to Meta, then read back:
// confirmed when Meta reports the new value, pending otherwise. On failure nothing is stored as
// changed and the row carries the explained error.
func (s *Service) SetWABA(ctx context.Context, a Actor, connID uint, feature, value string) (WABARow, error) {
	if !a.User.CanWrite() {
		return WABARow{}, models.ErrForbidden
	}
	feature = NormKey(feature)
	if err := validate(ctx, feature, value); err != nil {
		return WABARow{}, err
	}
	v, err := s.setWABA(ctx, a, connID, func([]WABARow) map[string]string { return map[string]string{feature: value} })
	if err != nil {
		return WABARow{}, err
	}
	row := v.Row(feature)
	row.Notice, row.Err = v.Notice, v.Err
	return row, nil
}

// SetWABAAll switches every listed feature's WABA default to value in one POST ("all on" / "all
// off"). WABA defaults do not count against a template's edit limit.
func (s *Service) SetWABAAll(ctx context.Context, a Actor, connID uint, value string) (WABAView, error) {
	if !ValidValue(value) {
		return WABAView{}, &models.ValidationError{Fields: map[string]string{"value": i18n.T(ctx, "opt.err.value")}}
	}
	return s.setWABA(ctx, a, connID, func(rows []WABARow) map[string]string {
		m := map[string]string{}
		for _, r := range rows {
			if r.Feature.InAll(r.MetaValue) {
				m[r.Feature.Key] = value
			}
		}
		return m
	})
}

// setWABA sends the WABA defaults chosen by pick (given the current rows) in one POST of the
// whole map, records one change per feature that differs, and reads back to confirm.
func (s *Service) setWABA(ctx context.Context, a Actor, connID uint, pick func([]WABARow) map[string]string) (WABAView, error) {
	if !a.User.CanWrite() {
		return WABAView{}, models.ErrForbidden
	}
	conn, err := s.Connection(ctx, a.User.Scope(), connID)
	if err != nil {
		return WABAView{}, err
	}
	existing, err := s.settingsTx(s.db.WithContext(ctx), conn.ID, models.OptScopeWABA, conn.WABAID)
	if err != nil {
		return WABAView{}, err
	}
	view := s.wabaView(conn, existing)
	changes := map[string]string{}
	for k, val := range pick(view.Rows) {
		cur := existing[k]
		if cur.MetaValue == val && cur.PendingValue == "" && cur.ReadAt != nil {
			continue
		}
		changes[k] = val
	}
	if len(changes) == 0 {
		view.Notice = i18n.T(ctx, "opt.notice.nothing_sent")
		return view, nil
	}
	key := newRequestKey()
	chs := make([]models.OptimizationChange, 0, len(changes))
	for _, k := range sortedKeys(changes) {
		chs = append(chs, models.OptimizationChange{
			AccountID: conn.AccountID, ConnectionID: conn.ID, Scope: models.OptScopeWABA, TargetID: conn.WABAID,
			Feature: k, OldValue: existing[k].MetaValue, NewValue: changes[k], ActorID: &a.User.ID, ActorEmail: a.User.Email,
			Status: models.OptChangePending, RequestKey: key, CreatedAt: s.now(),
		})
	}
	if err := s.db.WithContext(ctx).Create(&chs).Error; err != nil {
		return WABAView{}, fmt.Errorf("optimize: record change: %w", err)
	}
	// The whole map is sent, built from Meta's current one: see editTemplate for why.
	tok, err := s.tokens.Token(ctx, conn)
	if err == nil {
		var full map[string]string
		if full, err = s.fullWABAMap(ctx, tok, conn, changes); err == nil {
			err = s.graph.SetWABAOptimizations(ctx, tok, conn.WABAID, full)
		}
	}
	if err != nil {
		info := s.explain(ctx, err)
		for i := range chs {
			s.finishFailed(ctx, &chs[i], info)
			s.record(ctx, a, conn, chs[i])
		}
		view.Err = info
		return view, nil
	}
	for i := range chs {
		s.markSent(ctx, &chs[i], false)
		// Meta accepted: remember the pending value, then read back to confirm.
		if err := s.setPending(ctx, conn, models.OptScopeWABA, conn.WABAID, chs[i].Feature, chs[i].NewValue, existing[chs[i].Feature], chs[i].ID); err != nil {
			return WABAView{}, err
		}
	}
	rerr := s.readWABA(ctx, conn)
	status := models.OptChangeConfirmed
	for i := range chs {
		_ = s.db.WithContext(ctx).First(&chs[i], chs[i].ID).Error
		s.record(ctx, a, conn, chs[i])
		if chs[i].Status != models.OptChangeConfirmed {
			status = chs[i].Status
		}
	}
	rows, err := s.settingsTx(s.db.WithContext(ctx), conn.ID, models.OptScopeWABA, conn.WABAID)
	if err != nil {
		return WABAView{}, err
	}
	view = s.wabaView(conn, rows)
	view.Notice = noticeFor(ctx, status, rerr == nil)
	return view, nil
}

// errUnreadableSpec: Meta answered a spec this console cannot read, so no whole map is sent.
type errUnreadableSpec struct{ problem string }

func (e *errUnreadableSpec) Error() string {
	return "optimize: Meta's degrees_of_freedom_spec is unreadable (" + e.problem + "); nothing was sent"
}

// fullWABAMap reads the WABA's current defaults from Meta and applies changes to them.
func (s *Service) fullWABAMap(ctx context.Context, tok string, conn models.WABAConnection, changes map[string]string) (map[string]string, error) {
	w, err := s.graph.GetWABA(ctx, tok, conn.WABAID)
	if err != nil {
		return nil, fmt.Errorf("optimize: read waba %s before the change: %w", conn.WABAID, err)
	}
	if w.DegreesOfFreedom.Unknown {
		return nil, &errUnreadableSpec{problem: w.DegreesOfFreedom.Problem}
	}
	full := normMap(w.DegreesOfFreedom.Features)
	for k, v := range changes {
		full[k] = v
	}
	return full, nil
}

func noticeFor(ctx context.Context, status string, readOK bool) string {
	if status == models.OptChangeConfirmed {
		return i18n.T(ctx, "opt.notice.confirmed")
	}
	if !readOK {
		return i18n.T(ctx, "opt.notice.pending_read_failed")
	}
	return i18n.T(ctx, "opt.notice.pending")
}

func (s *Service) setPending(ctx context.Context, conn models.WABAConnection, scope, target, feature, value string, cur models.OptimizationSetting, changeID uint) error {
	if cur.ID == 0 {
		cur = models.OptimizationSetting{AccountID: conn.AccountID, ConnectionID: conn.ID, Scope: scope, TargetID: target, Feature: feature, Source: "console_change"}
		cur.PendingValue, cur.PendingChangeID = value, &changeID
		return s.db.WithContext(ctx).Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "connection_id"}, {Name: "scope"}, {Name: "target_id"}, {Name: "feature"}},
			DoUpdates: clause.AssignmentColumns([]string{"pending_value", "pending_change_id", "updated_at"}),
		}).Create(&cur).Error
	}
	// The console asked for this value: a former drift on this feature is settled by the change.
	return s.db.WithContext(ctx).Model(&models.OptimizationSetting{}).Where("id = ?", cur.ID).
		Updates(map[string]any{"pending_value": value, "pending_change_id": changeID}).Error
}

func (s *Service) finishFailed(ctx context.Context, ch *models.OptimizationChange, info *ErrorInfo) {
	ch.Status, ch.MetaAnswer, ch.ErrorCode, ch.ErrorSubcode = models.OptChangeFailed, info.Stored(false), info.Code, info.Subcode
	if err := s.db.WithContext(ctx).Model(&models.OptimizationChange{}).Where("id = ?", ch.ID).
		Updates(map[string]any{"status": ch.Status, "meta_answer": ch.MetaAnswer, "error_code": ch.ErrorCode, "error_subcode": ch.ErrorSubcode}).Error; err != nil {
		s.opts.Logger.ErrorContext(ctx, "optimize: record failed change", "change", ch.ID, "err", err)
	}
}

func (s *Service) markSent(ctx context.Context, ch *models.OptimizationChange, counts bool) {
	ch.MetaAnswer, ch.CountsTowardLimit = "ok", counts
	if err := s.db.WithContext(ctx).Model(&models.OptimizationChange{}).Where("id = ?", ch.ID).
		Updates(map[string]any{"meta_answer": "ok", "counts_toward_limit": counts}).Error; err != nil {
		s.opts.Logger.ErrorContext(ctx, "optimize: record sent change", "change", ch.ID, "err", err)
	}
}

func (s *Service) record(ctx context.Context, a Actor, conn models.WABAConnection, ch models.OptimizationChange) {
	if s.audit == nil {
		return
	}
	acc := conn.AccountID
	target := ch.Scope + ":" + ch.TargetID + ":" + ch.Feature
	err := s.audit.Record(ctx, AuditEntry{
		AccountID: &acc, ActorID: &a.User.ID, ActorEmail: a.User.Email, Action: AuditAction, Target: target,
		Before: map[string]string{"value": ch.OldValue},
		After:  map[string]string{"value": ch.NewValue, "status": ch.Status, "meta_answer": ch.MetaAnswer},
		IP:     a.IP,
	})
	if err != nil {
		s.opts.Logger.ErrorContext(ctx, "optimize: audit", "change", ch.ID, "err", err)
	}
}

// AcceptMeta makes Meta's reported values the console's expectation for one target (clearing
// drift) without sending anything. scope is models.OptScopeWABA (target = connection) or
// models.OptScopeTemplate (target = template row id).
func (s *Service) AcceptMeta(ctx context.Context, a Actor, scope string, id uint) error {
	if !a.User.CanWrite() {
		return models.ErrForbidden
	}
	var connID uint
	var target string
	switch scope {
	case models.OptScopeWABA:
		conn, err := s.Connection(ctx, a.User.Scope(), id)
		if err != nil {
			return err
		}
		connID, target = conn.ID, conn.WABAID
	case models.OptScopeTemplate:
		t, conn, err := s.template(ctx, a.User.Scope(), id)
		if err != nil {
			return err
		}
		connID, target = conn.ID, t.TemplateID
	default:
		return models.ErrNotFound
	}
	return s.db.WithContext(ctx).Model(&models.OptimizationSetting{}).
		Where("connection_id = ? AND scope = ? AND target_id = ? AND pending_value = ''", connID, scope, target).
		Updates(map[string]any{"value": gorm.Expr("meta_value"), "source": "meta_read"}).Error
}

// History lists the latest changes of one target, newest first.
func (s *Service) history(ctx context.Context, connID uint, scope, target string, limit int) ([]models.OptimizationChange, error) {
	var out []models.OptimizationChange
	err := s.db.WithContext(ctx).Where("connection_id = ? AND scope = ? AND target_id = ?", connID, scope, target).
		Order("created_at DESC, id DESC").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("optimize: history: %w", err)
	}
	return out, nil
}

// EditsUsed counts the recorded edits of a template in the limit window, every kind of edit
// (optimizations, TTL) through the one ledger.
func (s *Service) EditsUsed(ctx context.Context, templateID string) (int, error) {
	return s.edits.Used(ctx, templateID)
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
