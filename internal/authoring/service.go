package authoring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"mmconsole/internal/audit"
	"mmconsole/internal/database"
	"mmconsole/internal/editbudget"
	"mmconsole/internal/graph"
	"mmconsole/internal/i18n"
	"mmconsole/internal/metarules"
	"mmconsole/models"
)

// GraphAPI is the part of *graph.Client authoring uses.
type GraphAPI interface {
	CreateTemplate(ctx context.Context, token, wabaID string, t graph.TemplateCreate) (graph.CreatedTemplate, error)
	EditTemplate(ctx context.Context, token, templateID string, e graph.TemplateEdit) error
	DeleteTemplate(ctx context.Context, token, wabaID, name, templateID string) error
}

// TokenSource gives a connection's Graph API access token (never stored or logged here).
type TokenSource interface {
	Token(ctx context.Context, conn models.WABAConnection) (string, error)
}

// Auditor appends to the audit log.
type Auditor interface {
	Record(ctx context.Context, e audit.Entry) error
}

// Audit actions of this area.
const (
	ActionCreate = "template.create"
	ActionClone  = "template.clone"
	ActionEdit   = "template.edit"
	ActionDelete = "template.delete"
)

// Service creates, edits and deletes templates at Meta and keeps the catalog in step.
type Service struct {
	db     *gorm.DB
	graph  GraphAPI
	tokens TokenSource
	opts   Options
	now    func() time.Time
}

// Options are the service's collaborators beyond the database and Meta.
type Options struct {
	// Edits is the ledger every kind of template edit shares (required: content edits count in
	// the same budget as TTL and optimization edits).
	Edits *editbudget.Ledger
	Audit Auditor // nil: changes are only logged
	Now   func() time.Time
	Log   *slog.Logger
}

// New builds the service.
func New(db *gorm.DB, g GraphAPI, tokens TokenSource, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Edits == nil {
		o.Edits = editbudget.New(db, editbudget.Options{Now: o.Now})
	}
	return &Service{db: db, graph: g, tokens: tokens, opts: o, now: func() time.Time { return o.Now().UTC() }}
}

// Actor is who makes a change, for the audit log and the edit ledger.
type Actor struct {
	User models.User
	IP   string
}

// RefusedError is Meta refusing a create or edit, with the form field the refusal concerns ("" when
// it concerns the whole template) and the refusal explained.
type RefusedError struct {
	Field string
	Graph *graph.GraphError
}

func (e *RefusedError) Error() string { return "authoring: meta refused: " + e.Graph.Error() }
func (e *RefusedError) Unwrap() error { return e.Graph }

// Explain is Meta's refusal in words, for the field's message (Meta's own details quoted as
// Meta sent them).
func (e *RefusedError) Explain(ctx context.Context) string {
	x := e.Graph.Explain(ctx)
	code := i18n.T(ctx, "authoring.refused.code", "Code", e.Graph.Code)
	if e.Graph.Subcode != 0 {
		code = i18n.T(ctx, "authoring.refused.subcode", "Code", e.Graph.Code, "Subcode", e.Graph.Subcode)
	}
	msg := code + " " + x.Title + ". " + x.Meaning + " " + x.Action
	if d := strings.TrimSpace(e.Graph.Details); d != "" {
		msg += " " + i18n.T(ctx, "authoring.refused.details", "Details", d)
	}
	return msg
}

// fieldOf names the form field a Graph refusal concerns: the field the details begin with (the
// sandbox names it, and it is more precise than a subcode shared by several fields), else the
// subcode when Meta gives one of its template subcodes, else the words of the details.
func fieldOf(ge *graph.GraphError) string {
	if f, _, ok := strings.Cut(ge.Details, ": "); ok && formField(f) {
		return f
	}
	switch ge.Subcode {
	case metarules.SubcodeDuplicate, 2388023:
		return metarules.FieldName
	case metarules.SubcodeHeaderFormat:
		return metarules.FieldHeader
	case metarules.SubcodeBodyFormat, metarules.SubcodeTooLong:
		return metarules.FieldBody
	case metarules.SubcodeFooterFormat:
		return metarules.FieldFooter
	case metarules.SubcodeButtons:
		return metarules.FieldButtons
	case metarules.SubcodeMissingExample:
		return metarules.FieldBodyExamples
	}
	lower := strings.ToLower(ge.Details + " " + ge.UserTitle + " " + ge.Title())
	switch {
	case strings.Contains(lower, "template name") || strings.Contains(lower, "parameter name"):
		return metarules.FieldName
	case strings.Contains(lower, "category"):
		return metarules.FieldCategory
	case strings.Contains(lower, "language"):
		return metarules.FieldLanguage
	case strings.Contains(lower, "message_send_ttl_seconds"):
		return "ttl"
	case strings.Contains(lower, "degrees_of_freedom_spec") || strings.Contains(lower, "enroll_status"):
		return "optimizations"
	}
	return ""
}

// formField reports whether f names one of the authoring form's fields.
func formField(f string) bool {
	switch f {
	case metarules.FieldName, metarules.FieldLanguage, metarules.FieldCategory, metarules.FieldFormat,
		metarules.FieldHeaderFormat, metarules.FieldHeader, metarules.FieldHeaderExample, metarules.FieldHeaderSample,
		metarules.FieldBody, metarules.FieldBodyExamples, metarules.FieldFooter, metarules.FieldButtons:
		return true
	}
	rest, ok := strings.CutPrefix(f, "button_")
	if !ok {
		return false
	}
	part, idx, ok := strings.Cut(rest, "_")
	if _, err := strconv.Atoi(idx); !ok || err != nil {
		return false
	}
	switch part {
	case "type", "text", "url", "example", "phone":
		return true
	}
	return false
}

// AsRefused is Meta's refusal with the form field it concerns.
func AsRefused(ge *graph.GraphError) *RefusedError {
	return &RefusedError{Field: fieldOf(ge), Graph: ge}
}

// AsRefusedFor is Meta's refusal of draft d, with the field moved to the one d actually has: a
// subcode names the header or the examples whatever the header's kind, but a media header's
// problem belongs to its sample, a text header's to its text or example, and a header that is
// not there has no field (the refusal is then said above the form).
func AsRefusedFor(ge *graph.GraphError, d Draft) *RefusedError {
	re := AsRefused(ge)
	media := d.HeaderFormat == HeaderImage || d.HeaderFormat == HeaderVideo || d.HeaderFormat == HeaderDocument
	switch re.Field {
	case metarules.FieldHeader, metarules.FieldHeaderExample, metarules.FieldHeaderSample:
		switch {
		case media:
			re.Field = metarules.FieldHeaderSample
		case d.HeaderFormat == HeaderText && re.Field == metarules.FieldHeaderSample:
			re.Field = metarules.FieldHeader
		case d.HeaderFormat != HeaderText:
			re.Field = ""
		}
	case metarules.FieldBodyExamples:
		if len(d.BodyVars()) == 0 {
			switch {
			case media:
				re.Field = metarules.FieldHeaderSample
			case len(d.HeaderVars()) > 0:
				re.Field = metarules.FieldHeaderExample
			default:
				re.Field = ""
			}
		}
	}
	return re
}

// refused wraps a Graph error as a RefusedError for draft d (other errors pass through).
func refused(err error, d Draft) error {
	if ge, ok := graph.AsGraphError(err); ok {
		return AsRefusedFor(ge, d)
	}
	return err
}

// scopedByID loads one row of T by our row id, visible in scope: another account's row is
// ErrNotFound, as a missing one is.
func scopedByID[T any](ctx context.Context, db *gorm.DB, scope models.Scope, what string, id uint) (T, error) {
	var row T
	err := database.Scoped(db.WithContext(ctx), scope, "account_id").Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return row, fmt.Errorf("authoring: %s %d: %w", what, id, models.ErrNotFound)
	}
	if err != nil {
		return row, fmt.Errorf("authoring: %s %d: %w", what, id, err)
	}
	return row, nil
}

// connection loads a connection visible in scope.
func (s *Service) connection(ctx context.Context, scope models.Scope, id uint) (models.WABAConnection, error) {
	return scopedByID[models.WABAConnection](ctx, s.db, scope, "connection", id)
}

// Template loads a template visible in scope by our row id.
func (s *Service) Template(ctx context.Context, scope models.Scope, id uint) (models.Template, error) {
	return scopedByID[models.Template](ctx, s.db, scope, "template", id)
}

// TakenNames lists the names of a connection's templates that still exist, for clone names.
func (s *Service) TakenNames(ctx context.Context, connID uint) (map[string]bool, error) {
	var names []string
	err := s.db.WithContext(ctx).Model(&models.Template{}).Where("connection_id = ? AND gone_at IS NULL", connID).Pluck("name", &names).Error
	if err != nil {
		return nil, fmt.Errorf("authoring: template names: %w", err)
	}
	out := map[string]bool{}
	for _, n := range names {
		out[n] = true
	}
	return out, nil
}

// Create checks the draft, sends Meta's create request, and stores the new template at once as
// PENDING (with the components, TTL and optimizations sent) so every page shows it before the
// first webhook. Bad input is a *models.ValidationError and sends nothing; Meta's refusal is a
// *RefusedError.
func (s *Service) Create(ctx context.Context, scope models.Scope, actor Actor, d Draft) (models.Template, error) {
	if !actor.User.CanWrite() {
		return models.Template{}, fmt.Errorf("authoring: create: %w", models.ErrForbidden)
	}
	ve := d.Check(ctx)
	conn, err := s.connection(ctx, scope, d.ConnectionID)
	if errors.Is(err, models.ErrNotFound) {
		ve.Add("waba", i18n.T(ctx, "authoring.err.waba"))
	} else if err != nil {
		return models.Template{}, err
	}
	if ve.OrNil() == nil {
		// Meta answers 2388024 for a name it already has in that language; saying so before
		// the call spares a request and puts the message next to the name.
		var n int64
		err := s.db.WithContext(ctx).Model(&models.Template{}).
			Where("connection_id = ? AND name = ? AND language = ? AND gone_at IS NULL", conn.ID, d.Name, d.Language).Count(&n).Error
		if err != nil {
			return models.Template{}, fmt.Errorf("authoring: duplicate check: %w", err)
		}
		if n > 0 {
			ve.Add(metarules.FieldName, i18n.T(ctx, "authoring.err.duplicate", "Name", d.Name, "Language", d.Language))
		}
	}
	if err := ve.OrNil(); err != nil {
		return models.Template{}, err
	}
	token, err := s.tokens.Token(ctx, conn)
	if err != nil {
		return models.Template{}, fmt.Errorf("authoring: access token of waba %s: %w", conn.WABAID, err)
	}
	req := d.Request()
	action := ActionCreate
	if d.CloneOf != "" {
		action = ActionClone
	}
	created, err := s.graph.CreateTemplate(ctx, token, conn.WABAID, req)
	if err != nil {
		s.record(ctx, actor, conn.AccountID, action, d.Name+"/"+d.Language, d.CloneOf, req, "refused: "+err.Error())
		return models.Template{}, fmt.Errorf("authoring: create %s/%s: %w", d.Name, d.Language, refused(err, d))
	}
	now := s.now()
	comps, _ := json.Marshal(req.Components)
	opts, _ := json.Marshal(req.Optimizations)
	if req.Optimizations == nil {
		opts = []byte("{}")
	}
	status := strings.ToUpper(created.Status)
	if status == "" {
		status = "PENDING"
	}
	t := models.Template{AccountID: conn.AccountID, ConnectionID: conn.ID, WABAID: conn.WABAID, TemplateID: created.ID,
		Name: d.Name, Language: d.Language, Status: status, Category: Category, ParameterFormat: req.ParameterFormat,
		Quality: "UNKNOWN", TTLSeconds: req.TTLSeconds, Components: string(comps), Optimizations: string(opts),
		FirstSeenAt: now, RefreshedAt: now}
	if err := s.db.WithContext(ctx).Create(&t).Error; err != nil {
		// Meta has it: the next refresh brings it into the catalog.
		return t, fmt.Errorf("authoring: store template %s (created at Meta as %s): %w", d.Name, created.ID, err)
	}
	s.record(ctx, actor, conn.AccountID, action, t.TemplateID+" ("+t.Name+"/"+t.Language+")", d.CloneOf, req, "accepted: "+status)
	return t, nil
}

// EditInfo is what the edit form says before the click: the shared edit budget, and when the
// content may next be edited (zero: now).
type EditInfo struct {
	Budget      editbudget.Budget
	NextContent time.Time
	// Editable is false for a status Meta does not let edit (only APPROVED, REJECTED and PAUSED
	// templates can be); Why says so.
	Editable bool
	Why      string
}

// Blocked is the reason the edit cannot be sent now, "" when it can.
func (i EditInfo) Blocked(ctx context.Context, now time.Time) string {
	switch {
	case !i.Editable:
		return i.Why
	case i.Budget.AtLimit():
		return i.Budget.Words(ctx)
	case i.Budget.Applies && !i.NextContent.IsZero() && now.Before(i.NextContent):
		return i18n.T(ctx, "authoring.blocked.daily", "When", i18n.DateTime(ctx, i.NextContent))
	}
	return ""
}

// EditInfo reads the budget of an edit of t.
func (s *Service) EditInfo(ctx context.Context, t models.Template) (EditInfo, error) {
	b, err := s.opts.Edits.Of(ctx, t)
	if err != nil {
		return EditInfo{}, err
	}
	next, err := s.opts.Edits.NextContentEdit(ctx, t.TemplateID)
	if err != nil {
		return EditInfo{}, err
	}
	info := EditInfo{Budget: b, NextContent: next, Editable: true}
	switch strings.ToUpper(t.Status) {
	case "APPROVED", "REJECTED", "PAUSED":
	default:
		info.Editable, info.Why = false, i18n.T(ctx, "authoring.blocked.status", "Status", t.Status)
	}
	if !strings.EqualFold(t.Category, Category) {
		info.Editable, info.Why = false, i18n.T(ctx, "authoring.blocked.category")
	}
	return info, nil
}

// Edit replaces the components of a template at Meta (name, language and category stay), counts
// the edit in the shared ledger, and stores the new components with the status back to PENDING:
// an edited template goes through Meta's review again.
func (s *Service) Edit(ctx context.Context, scope models.Scope, actor Actor, id uint, d Draft) (models.Template, error) {
	if !actor.User.CanWrite() {
		return models.Template{}, fmt.Errorf("authoring: edit: %w", models.ErrForbidden)
	}
	t, err := s.Template(ctx, scope, id)
	if err != nil {
		return t, err
	}
	d.Name, d.Language, d.ConnectionID = t.Name, t.Language, t.ConnectionID
	d.TTLValue, d.TTLUnit, d.Optimizations = "", "", nil // their own editors change those
	if t.ParameterFormat != "" {
		// An edit sends components only: the variables keep the kind the template has.
		d.ParameterFormat = t.ParameterFormat
	}
	if ve := d.Check(ctx); ve.OrNil() != nil {
		return t, ve
	}
	info, err := s.EditInfo(ctx, t)
	if err != nil {
		return t, err
	}
	if why := info.Blocked(ctx, s.now()); why != "" {
		ve := &models.ValidationError{}
		ve.Add("edit", why)
		return t, ve
	}
	conn, err := s.connection(ctx, scope, t.ConnectionID)
	if err != nil {
		return t, err
	}
	token, err := s.tokens.Token(ctx, conn)
	if err != nil {
		return t, fmt.Errorf("authoring: access token of waba %s: %w", conn.WABAID, err)
	}
	comps, _ := json.Marshal(d.Components())
	target := t.TemplateID + " (" + t.Name + "/" + t.Language + ")"
	edit := graph.TemplateEdit{Components: comps}
	if err := s.graph.EditTemplate(ctx, token, t.TemplateID, edit); err != nil {
		s.record(ctx, actor, t.AccountID, ActionEdit, target, "", json.RawMessage(comps), "refused: "+err.Error())
		return t, fmt.Errorf("authoring: edit %s: %w", t.TemplateID, refused(err, d))
	}
	if err := s.opts.Edits.Record(ctx, editbudget.Edit{Template: t, Kind: models.EditKindComponents, Via: "authoring_form",
		Detail: "components replaced", Actor: actor.User}); err != nil {
		return t, err
	}
	err = s.db.WithContext(ctx).Model(&models.Template{}).Where("id = ? AND account_id = ?", t.ID, t.AccountID).
		Updates(map[string]any{"components": string(comps), "parameter_format": d.format(), "status": "PENDING",
			"rejected_reason": "", "updated_at": s.now()}).Error
	if err != nil {
		return t, fmt.Errorf("authoring: store edit of %s: %w", t.TemplateID, err)
	}
	s.record(ctx, actor, t.AccountID, ActionEdit, target, "", map[string]any{"components": json.RawMessage(comps), "status_before": t.Status}, "accepted: back to review")
	return s.Template(ctx, scope, id)
}

// DeleteImpact is what a deletion removes, said before it happens.
type DeleteImpact struct {
	Template models.Template
	All      bool              // every language of the name
	Removed  []models.Template // the templates that go
	// RecentSends counts the dashboard's sends of the removed name/languages in the last 7 days.
	RecentSends int64
}

// Impact lists what deleting t (all: every language of its name) removes.
func (s *Service) Impact(ctx context.Context, scope models.Scope, id uint, all bool) (DeleteImpact, error) {
	t, err := s.Template(ctx, scope, id)
	if err != nil {
		return DeleteImpact{}, err
	}
	if t.GoneAt != nil {
		// Already gone at Meta: a second DELETE would name nothing, or, by name, a template
		// re-created since under the same name.
		return DeleteImpact{}, fmt.Errorf("authoring: template %d is already deleted: %w", id, models.ErrNotFound)
	}
	imp := DeleteImpact{Template: t, All: all}
	q := s.db.WithContext(ctx).Where("connection_id = ? AND account_id = ? AND name = ? AND gone_at IS NULL", t.ConnectionID, t.AccountID, t.Name)
	if !all {
		q = q.Where("id = ?", t.ID)
	}
	if err := q.Order("language").Find(&imp.Removed).Error; err != nil {
		return imp, fmt.Errorf("authoring: templates of %s: %w", t.Name, err)
	}
	langs := make([]string, 0, len(imp.Removed))
	for _, r := range imp.Removed {
		langs = append(langs, r.Language)
	}
	if len(langs) > 0 {
		err = s.db.WithContext(ctx).Model(&models.Message{}).
			// The WABA too: another WABA of the account may have a template of the same name,
			// and its sends do not stop.
			Where("account_id = ? AND waba_id = ? AND template_name = ? AND template_language IN ? AND accepted_at >= ?", t.AccountID, t.WABAID, t.Name, langs, s.now().Add(-7*24*time.Hour)).
			Count(&imp.RecentSends).Error
		if err != nil {
			return imp, fmt.Errorf("authoring: recent sends of %s: %w", t.Name, err)
		}
	}
	return imp, nil
}

// Delete deletes t at Meta (all: every language of its name, by name; otherwise only t, by id)
// and marks the removed templates DELETED in the catalog.
func (s *Service) Delete(ctx context.Context, scope models.Scope, actor Actor, id uint, all bool) (DeleteImpact, error) {
	if !actor.User.CanWrite() {
		return DeleteImpact{}, fmt.Errorf("authoring: delete: %w", models.ErrForbidden)
	}
	imp, err := s.Impact(ctx, scope, id, all)
	if err != nil {
		return imp, err
	}
	t := imp.Template
	conn, err := s.connection(ctx, scope, t.ConnectionID)
	if err != nil {
		return imp, err
	}
	token, err := s.tokens.Token(ctx, conn)
	if err != nil {
		return imp, fmt.Errorf("authoring: access token of waba %s: %w", conn.WABAID, err)
	}
	hsm := t.TemplateID
	target := t.Name + " (all languages)"
	if all {
		hsm = ""
	} else {
		target = t.TemplateID + " (" + t.Name + "/" + t.Language + ")"
	}
	request := map[string]string{"method": "DELETE", "path": "/" + conn.WABAID + "/message_templates", "name": t.Name}
	if hsm != "" {
		request["hsm_id"] = hsm
	}
	if err := s.graph.DeleteTemplate(ctx, token, conn.WABAID, t.Name, hsm); err != nil {
		s.record(ctx, actor, t.AccountID, ActionDelete, target, "", request, "refused: "+err.Error())
		return imp, fmt.Errorf("authoring: delete %s: %w", target, refused(err, Draft{}))
	}
	ids := make([]uint, 0, len(imp.Removed))
	for _, r := range imp.Removed {
		ids = append(ids, r.ID)
	}
	now := s.now()
	if len(ids) > 0 {
		err = s.db.WithContext(ctx).Model(&models.Template{}).Where("id IN ? AND account_id = ?", ids, t.AccountID).
			Updates(map[string]any{"status": "DELETED", "gone_at": now, "updated_at": now}).Error
		if err != nil {
			return imp, fmt.Errorf("authoring: mark %s deleted: %w", target, err)
		}
	}
	s.record(ctx, actor, t.AccountID, ActionDelete, target, "", request, fmt.Sprintf("accepted: %d template(s) deleted", len(ids)))
	return imp, nil
}

// record appends one audit entry with the request as sent (never a token) and Meta's answer.
func (s *Service) record(ctx context.Context, actor Actor, account uint, action, target, cloneOf string, request any, answer string) {
	s.opts.Log.Info("template change", "action", action, "target", target, "user", actor.User.ID, "meta", answer)
	if s.opts.Audit == nil {
		return
	}
	after := map[string]any{"request": request, "meta_answer": answer}
	var before any
	if cloneOf != "" {
		before = map[string]any{"cloned_from": cloneOf}
	}
	e := audit.Entry{AccountID: &account, ActorEmail: actor.User.Email, Action: action, Target: "template:" + target,
		Before: before, After: after, IP: actor.IP}
	if actor.User.ID != 0 {
		uid := actor.User.ID
		e.ActorID = &uid
	}
	// The audit log is a record, not a gate: Meta already acted, so a failed write is logged and
	// the change stands.
	if err := s.opts.Audit.Record(ctx, e); err != nil {
		s.opts.Log.Error("audit: record template change", "action", action, "target", target, "err", err)
	}
}
