package templates

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"mmconsole/internal/database"
	"mmconsole/internal/graph"
	"mmconsole/internal/i18n"
	"mmconsole/models"
)

// Triggers of a refresh, recorded in its history row.
const (
	TriggerStart    = "start"
	TriggerSchedule = "schedule"
	TriggerManual   = "manual"
	TriggerWebhook  = "webhook"
)

// listFields are the template fields the catalog keeps. ad_id is filled only for WABAs onboarded
// to MM API, once the template's ad sync produced its ad (mm-api-reference §7).
var listFields = []string{
	"id", "name", "language", "status", "category", "sub_category", "parameter_format",
	"components", "quality_score", "rejected_reason", "message_send_ttl_seconds",
	"degrees_of_freedom_spec", "previous_category", "correct_category", "ad_id",
}

// BusyError: another request or instance is refreshing this WABA right now.
type BusyError struct{ WABA string }

func (e *BusyError) Error() string {
	return "templates: refresh of waba " + e.WABA + " already running"
}

// UserFacing words for the central error handler.
func (e *BusyError) UserFacing(ctx context.Context) (int, string, string) {
	return http.StatusConflict, i18n.T(ctx, "templates.busy.title"), i18n.T(ctx, "templates.busy.message", "WABA", e.WABA)
}

// TooSoonError: a manual refresh right after another one, refused to spare Meta's rate limit.
type TooSoonError struct {
	WABA string
	Wait time.Duration
}

func (e *TooSoonError) Error() string { return "templates: waba " + e.WABA + " refreshed moments ago" }

// UserFacing words for the central error handler.
func (e *TooSoonError) UserFacing(ctx context.Context) (int, string, string) {
	return http.StatusTooManyRequests, i18n.T(ctx, "templates.too_soon.title"),
		i18n.T(ctx, "templates.too_soon.message", "WABA", e.WABA, "Seconds", e.WaitSeconds())
}

// WaitSeconds is how long to wait, in whole seconds rounded up, as the messages say it.
func (e *TooSoonError) WaitSeconds() int {
	return int(e.Wait.Seconds()) + 1
}

// RefreshAll refreshes every connection that was not refreshed successfully within half an
// interval (by this or another instance). Failures are recorded in the history, not returned.
// The composition root runs it as a job (internal/jobs), once per interval across instances;
// the skip and the per-WABA lease still keep it from repeating a refresh that "Sync now" or
// another instance just made.
func (s *Service) RefreshAll(ctx context.Context, trigger string) {
	var conns []models.WABAConnection
	if err := s.db.WithContext(ctx).Order("id").Find(&conns).Error; err != nil {
		s.log.Error("templates: list connections", "error", err)
		return
	}
	for _, c := range conns {
		if ctx.Err() != nil {
			return
		}
		if s.opts.Interval > 0 {
			var n int64
			s.db.WithContext(ctx).Model(&models.TemplateRefresh{}).
				Where("connection_id = ? AND ok = ? AND started_at > ?", c.ID, true, s.now().Add(-s.opts.Interval/2)).Count(&n)
			if n > 0 {
				continue
			}
		}
		if _, err := s.RefreshConnection(ctx, c, trigger); err != nil {
			s.log.Warn("templates: refresh failed", "waba", c.WABAID, "trigger", trigger, "error", err)
		}
	}
}

// Outcome is the result of refreshing one WABA on demand.
type Outcome struct {
	Conn    models.WABAConnection
	Refresh models.TemplateRefresh
	Err     error
}

// RefreshScope is "Sync now": it refreshes one connection (connID) or, with 0, every connection
// visible in scope.
func (s *Service) RefreshScope(ctx context.Context, scope models.Scope, connID uint) ([]Outcome, error) {
	var conns []models.WABAConnection
	if connID != 0 {
		c, err := s.Connection(ctx, scope, connID)
		if err != nil {
			return nil, err
		}
		conns = []models.WABAConnection{c}
	} else {
		var err error
		if conns, err = s.Connections(ctx, scope); err != nil {
			return nil, err
		}
	}
	out := make([]Outcome, 0, len(conns))
	for _, c := range conns {
		r, err := s.RefreshConnection(ctx, c, TriggerManual)
		out = append(out, Outcome{Conn: c, Refresh: r, Err: err})
	}
	return out, nil
}

// RefreshConnection re-reads one WABA's templates and records the attempt. On failure the
// catalog keeps its last good data and the error is stored with the attempt (and returned).
func (s *Service) RefreshConnection(ctx context.Context, conn models.WABAConnection, trigger string) (models.TemplateRefresh, error) {
	db := s.db.WithContext(ctx)
	now := s.now()
	if trigger == TriggerManual {
		var last models.TemplateRefresh
		err := db.Where("connection_id = ?", conn.ID).Order("started_at DESC, id DESC").Take(&last).Error
		if err == nil && now.Sub(last.StartedAt) < s.opts.MinManualGap {
			return models.TemplateRefresh{}, &TooSoonError{WABA: conn.WABAID, Wait: s.opts.MinManualGap - now.Sub(last.StartedAt)}
		}
	}
	ok, err := s.claim(ctx, conn.WABAID)
	if err != nil {
		return models.TemplateRefresh{}, fmt.Errorf("templates: lease of waba %s: %w", conn.WABAID, err)
	}
	if !ok {
		return models.TemplateRefresh{}, &BusyError{WABA: conn.WABAID}
	}
	defer s.release(context.WithoutCancel(ctx), conn.WABAID)

	r := models.TemplateRefresh{AccountID: conn.AccountID, ConnectionID: conn.ID, WABAID: conn.WABAID, Trigger: trigger, StartedAt: now}
	if err := db.Create(&r).Error; err != nil {
		return r, fmt.Errorf("templates: record refresh: %w", err)
	}
	remote, ferr := s.fetch(ctx, conn)
	if ferr == nil {
		ferr = s.store(ctx, conn, remote, &r)
	}
	fin := s.now()
	r.FinishedAt = &fin
	r.OK = ferr == nil
	if ferr != nil {
		r.ErrorText = ferr.Error()
		if ge, ok := graph.AsGraphError(ferr); ok {
			r.ErrorCode = ge.Code
		}
	}
	err = db.Model(&models.TemplateRefresh{}).Where("id = ?", r.ID).Select("finished_at", "ok", "seen", "added", "gone", "error_code", "error_text").
		Updates(&r).Error
	if err != nil {
		return r, errors.Join(ferr, fmt.Errorf("templates: record refresh: %w", err))
	}
	if ferr != nil {
		return r, fmt.Errorf("templates: refresh waba %s: %w", conn.WABAID, ferr)
	}
	return r, nil
}

func (s *Service) fetch(ctx context.Context, conn models.WABAConnection) ([]graph.Template, error) {
	token, err := s.tokens.Token(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("access token: %w", err)
	}
	return s.graph.ListAllTemplates(ctx, token, conn.WABAID, graph.TemplateQuery{Fields: listFields, Limit: s.opts.PageSize})
}

// store upserts what Meta returned and marks the connection's templates Meta no longer lists.
func (s *Service) store(ctx context.Context, conn models.WABAConnection, remote []graph.Template, r *models.TemplateRefresh) error {
	now := s.now()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// A manual refresh and a scheduled one (perhaps on another instance) must not both
		// decide from the same stored catalog.
		if err := database.LockKey(tx, fmt.Sprintf("templates:connection:%d", conn.ID)); err != nil {
			return err
		}
		var existing []models.Template
		if err := tx.Where("connection_id = ?", conn.ID).Find(&existing).Error; err != nil {
			return err
		}
		byID := make(map[string]models.Template, len(existing))
		for _, t := range existing {
			byID[t.TemplateID] = t
		}
		seen := map[string]bool{}
		for _, rt := range remote {
			if rt.ID == "" || seen[rt.ID] {
				continue
			}
			seen[rt.ID] = true
			old, found := byID[rt.ID]
			if !found {
				// The template may already be in another connection's catalog (same WABA
				// connected twice is refused by the unique WABA ID, so this is a re-read).
				if err := tx.Where("template_id = ?", rt.ID).Take(&old).Error; err == nil {
					found = true
				} else if !errors.Is(err, gorm.ErrRecordNotFound) {
					return err
				}
				// Only the same WABA, connected again, may take its templates over. A template
				// id that another WABA's catalog holds is not this WABA's: moving it would hand
				// another account's row (and its history) to this one.
				if found && old.WABAID != conn.WABAID {
					s.log.Warn("templates: refresh listed a template of another WABA; ignored",
						"template", rt.ID, "waba", conn.WABAID, "owner_waba", old.WABAID)
					continue
				}
			}
			if found {
				if err := tx.Model(&models.Template{}).Where("id = ?", old.ID).Updates(updateFrom(old, rt, conn, now)).Error; err != nil {
					return fmt.Errorf("update template %s: %w", rt.ID, err)
				}
				continue
			}
			t := newFrom(rt, conn, now)
			if err := tx.Create(&t).Error; err != nil {
				return fmt.Errorf("add template %s: %w", rt.ID, err)
			}
			r.Added++
		}
		r.Seen = len(seen)
		for _, t := range existing {
			if seen[t.TemplateID] || t.GoneAt != nil {
				continue
			}
			err := tx.Model(&models.Template{}).Where("id = ?", t.ID).
				Updates(map[string]any{"status": "DELETED", "gone_at": now, "refreshed_at": now}).Error
			if err != nil {
				return fmt.Errorf("mark template %s deleted: %w", t.TemplateID, err)
			}
			r.Gone++
		}
		return nil
	})
}

// RefreshTemplate re-reads one template (Meta's id or our row id) right away, e.g. after a
// template webhook: one Graph call instead of a whole WABA.
func (s *Service) RefreshTemplate(ctx context.Context, templateID string) error {
	t, err := s.find(ctx, s.db, nil, templateID)
	if err != nil {
		return err
	}
	var conn models.WABAConnection
	if err := s.db.WithContext(ctx).Where("id = ?", t.ConnectionID).Take(&conn).Error; err != nil {
		return fmt.Errorf("templates: connection of template %s: %w", templateID, err)
	}
	token, err := s.tokens.Token(ctx, conn)
	if err != nil {
		return fmt.Errorf("templates: access token of waba %s: %w", conn.WABAID, err)
	}
	rt, err := s.graph.GetTemplate(ctx, token, t.TemplateID)
	if err != nil {
		return fmt.Errorf("templates: refresh template %s: %w", t.TemplateID, err)
	}
	err = s.db.WithContext(ctx).Model(&models.Template{}).Where("id = ?", t.ID).Updates(updateFrom(t, rt, conn, s.now())).Error
	if err != nil {
		return fmt.Errorf("templates: store template %s: %w", t.TemplateID, err)
	}
	return nil
}

// remoteColumns are the columns a read from Meta sets.
func remoteColumns(rt graph.Template, now time.Time) map[string]any {
	comps, _ := json.Marshal(rt.Components)
	if rt.Components == nil {
		comps = []byte("[]")
	}
	opt, _ := json.Marshal(rt.DegreesOfFreedom.Features)
	if rt.DegreesOfFreedom.Features == nil {
		opt = []byte("{}")
	}
	// An unreadable spec makes this template's settings unknown; the others decode as usual.
	problem, rawSpec := "", ""
	if rt.DegreesOfFreedom.Unknown {
		problem, rawSpec = rt.DegreesOfFreedom.Problem, string(rt.DegreesOfFreedom.Raw)
		if problem == "" {
			problem = "unreadable degrees_of_freedom_spec"
		}
	}
	raw := string(rt.Raw)
	if raw == "" {
		raw = "{}"
	}
	m := map[string]any{
		"name":                  rt.Name,
		"language":              rt.Language,
		"status":                strings.ToUpper(rt.Status),
		"category":              strings.ToUpper(rt.Category),
		"sub_category":          rt.SubCategory,
		"parameter_format":      strings.ToUpper(rt.ParameterFormat),
		"rejected_reason":       rt.RejectedReason,
		"ttl_seconds":           rt.MessageSendTTLSeconds,
		"components":            string(comps),
		"optimizations":         string(opt),
		"optimizations_problem": problem,
		"optimizations_raw":     rawSpec,
		"raw":                   raw,
		"refreshed_at":          now,
		"gone_at":               nil,
		"quality":               "",
		"quality_at":            nil,
	}
	if q := rt.QualityScore; q != nil {
		m["quality"] = q.Score
		if !q.Date.IsZero() {
			m["quality_at"] = q.Date.UTC()
		}
	}
	return m
}

// approvalColumns start the sync window of a template the dashboard sees approved for the first
// time (newly approved, or approved when first seen).
func approvalColumns(m map[string]any, category string, now time.Time, reason string) {
	m["approved_at"] = now
	if strings.EqualFold(category, "MARKETING") {
		m["sync_started_at"] = now
		m["sync_reason"] = reason
	}
}

func updateFrom(old models.Template, rt graph.Template, conn models.WABAConnection, now time.Time) map[string]any {
	m := remoteColumns(rt, now)
	m["account_id"] = conn.AccountID
	m["connection_id"] = conn.ID
	m["waba_id"] = conn.WABAID
	// A status the webhook already set to APPROVED without a time counts as approved now.
	if strings.EqualFold(rt.Status, "APPROVED") && (!strings.EqualFold(old.Status, "APPROVED") || old.ApprovedAt == nil && old.SyncStartedAt == nil) {
		approvalColumns(m, rt.Category, now, ReasonApproved)
	}
	return m
}

func newFrom(rt graph.Template, conn models.WABAConnection, now time.Time) models.Template {
	m := remoteColumns(rt, now)
	t := models.Template{
		AccountID: conn.AccountID, ConnectionID: conn.ID, WABAID: conn.WABAID, TemplateID: rt.ID,
		Name: rt.Name, Language: rt.Language, Status: m["status"].(string), Category: m["category"].(string),
		SubCategory: rt.SubCategory, ParameterFormat: m["parameter_format"].(string), Quality: m["quality"].(string),
		RejectedReason: rt.RejectedReason, TTLSeconds: rt.MessageSendTTLSeconds,
		Components: m["components"].(string), Optimizations: m["optimizations"].(string), Raw: m["raw"].(string),
		OptimizationsProblem: m["optimizations_problem"].(string), OptimizationsRaw: m["optimizations_raw"].(string),
		FirstSeenAt: now, RefreshedAt: now,
	}
	if qa, ok := m["quality_at"].(time.Time); ok {
		t.QualityAt = &qa
	}
	switch {
	case t.Status == "APPROVED" && t.Category == "MARKETING" && rt.AdID != "":
		// An ad already exists, so the initial sync is done (§7: a populated ad_id probably
		// means so). The approval time stays unknown; a window that ended just now records it.
		done := now.Add(-SyncWindow)
		t.SyncStartedAt = &done
		t.SyncReason = ReasonAdSynced
	case t.Status == "APPROVED":
		// Meta does not say when a template was approved; the first sighting is the earliest
		// time the dashboard knows, so a template created minutes ago shows its sync window.
		// On a WABA that is not onboarded SyncState ignores the window (no ad sync exists), as
		// it does for approvals seen by webhook: one rule for every path.
		t.ApprovedAt = &now
		if t.Category == "MARKETING" {
			t.SyncStartedAt = &now
			t.SyncReason = ReasonFirstSeen
		}
	}
	return t
}

func (s *Service) claim(ctx context.Context, wabaID string) (bool, error) {
	db := s.db.WithContext(ctx)
	now := s.now()
	l := models.TemplateRefreshLease{WABAID: wabaID, Holder: s.holder, ExpiresAt: now.Add(s.opts.Lease)}
	res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&l)
	if res.Error != nil {
		return false, res.Error
	}
	if res.RowsAffected == 1 {
		return true, nil
	}
	res = db.Model(&models.TemplateRefreshLease{}).Where("waba_id = ? AND expires_at < ?", wabaID, now).
		Updates(map[string]any{"holder": s.holder, "expires_at": l.ExpiresAt})
	return res.RowsAffected == 1, res.Error
}

func (s *Service) release(ctx context.Context, wabaID string) {
	err := s.db.WithContext(ctx).Where("waba_id = ? AND holder = ?", wabaID, s.holder).Delete(&models.TemplateRefreshLease{}).Error
	if err != nil {
		s.log.Warn("templates: release refresh lease", "waba", wabaID, "error", err)
	}
}

// WABAStatus is what the catalog shows about one connection's refreshes.
type WABAStatus struct {
	Conn   models.WABAConnection
	Last   *models.TemplateRefresh // the latest attempt
	LastOK *models.TemplateRefresh // the latest successful one (the data shown comes from it)
	Recent []models.TemplateRefresh
}

// Status lists the refresh state of every connection visible in scope.
func (s *Service) Status(ctx context.Context, scope models.Scope) ([]WABAStatus, error) {
	conns, err := s.Connections(ctx, scope)
	if err != nil {
		return nil, err
	}
	out := make([]WABAStatus, 0, len(conns))
	db := s.db.WithContext(ctx)
	for _, c := range conns {
		st := WABAStatus{Conn: c}
		if err := db.Where("connection_id = ?", c.ID).Order("started_at DESC, id DESC").Limit(5).Find(&st.Recent).Error; err != nil {
			return nil, fmt.Errorf("templates: refresh history: %w", err)
		}
		if len(st.Recent) > 0 {
			st.Last = &st.Recent[0]
		}
		var ok models.TemplateRefresh
		err := db.Where("connection_id = ? AND ok = ?", c.ID, true).Order("started_at DESC, id DESC").Take(&ok).Error
		if err == nil {
			st.LastOK = &ok
		} else if !errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, fmt.Errorf("templates: refresh history: %w", err)
		}
		out = append(out, st)
	}
	return out, nil
}

// Explain turns a failed refresh into words, in the language of ctx: Meta's code explained when
// there is one.
func Explain(ctx context.Context, r models.TemplateRefresh) graph.Explanation {
	if r.ErrorCode != 0 {
		return graph.Explain(ctx, r.ErrorCode)
	}
	if strings.Contains(r.ErrorText, "access token:") {
		return graph.Explanation{
			Title:   i18n.T(ctx, "templates.refresh.no_token.title"),
			Meaning: i18n.T(ctx, "templates.refresh.no_token.meaning"),
			Action:  i18n.T(ctx, "templates.refresh.no_token.action"),
		}
	}
	return graph.Explanation{
		Title:     i18n.T(ctx, "templates.refresh.unreadable.title"),
		Meaning:   i18n.T(ctx, "templates.refresh.unreadable.meaning"),
		Action:    i18n.T(ctx, "templates.refresh.unreadable.action"),
		Transient: true,
	}
}
