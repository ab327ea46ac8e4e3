// Package editbudget is the one place that counts Meta's edit limit of approved templates (10
// edits per 30 days, mm-api-reference §4): every kind of edit the console sends (creative
// optimizations from the template page or the matrix, the template TTL from the template page
// or the composer) is recorded here once Meta accepts it, and every screen that offers an edit
// asks here what is left before offering it. Edits made outside the console are not seen.
package editbudget

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"mmconsole/internal/database"
	"mmconsole/internal/i18n"
	"mmconsole/models"
)

// Meta's documented limit: an approved template allows 10 edits in 30 days.
const (
	DefaultLimit  = 10
	DefaultWindow = 30 * 24 * time.Hour
	// LowLeft is how few edits left make a screen warn that an action spends the last ones.
	LowLeft = 2
	// ContentGap is Meta's other limit: the content (components) of an approved template may be
	// edited once in 24 hours (mm-api-reference §3.4). TTL and optimization edits count toward
	// the 10 in 30 days only, as the sandbox models it.
	ContentGap = 24 * time.Hour
)

// Options tune the ledger; zero values get Meta's documented limit.
type Options struct {
	Limit  int
	Window time.Duration
	Now    func() time.Time
}

// Ledger records and counts template edits.
type Ledger struct {
	db   *gorm.DB
	opts Options
}

// New builds the ledger.
func New(db *gorm.DB, o Options) *Ledger {
	if o.Limit <= 0 {
		o.Limit = DefaultLimit
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Ledger{db: db, opts: o}
}

// Migrations creates the ledger and carries over the optimization edits counted before it
// existed (one edit per accepted request), so no used edit is forgotten.
func Migrations() []database.Migration {
	return []database.Migration{{ID: "0080_template_edits", Up: func(tx *gorm.DB) error {
		if err := tx.AutoMigrate(&models.TemplateEdit{}); err != nil {
			return err
		}
		if !tx.Migrator().HasTable(&models.OptimizationChange{}) {
			return nil
		}
		return tx.Exec(`INSERT INTO template_edits (account_id, connection_id, template_id, kind, via, detail, actor_email, request_key, created_at)
			SELECT MIN(account_id), MIN(connection_id), target_id, ?, 'template_page', '', MIN(actor_email), request_key, MIN(created_at)
			FROM optimization_changes WHERE scope = ? AND counts_toward_limit = ? GROUP BY target_id, request_key`,
			models.EditKindOptimizations, models.OptScopeTemplate, true).Error
	}}}
}

// Limit is the number of edits per window.
func (l *Ledger) Limit() int { return l.opts.Limit }

// Budget is what is left of one template's edits.
type Budget struct {
	Applies bool // only APPROVED templates are limited
	Used    int
	Limit   int
}

// Left is the number of edits left (0 when none; the limit when it does not apply).
func (b Budget) Left() int {
	if !b.Applies {
		return b.Limit
	}
	return max(0, b.Limit-b.Used)
}

// AtLimit reports whether no edit is left.
func (b Budget) AtLimit() bool { return b.Applies && b.Used >= b.Limit }

// SpendsLast reports whether one more edit would leave LowLeft or fewer: the moment a screen
// warns before the click.
func (b Budget) SpendsLast() bool { return b.Applies && !b.AtLimit() && b.Left()-1 < LowLeft }

// Words says the budget for people, before an edit, in the language of ctx: "3 of 10 edits
// used in the last 30 days; this spends 1 edit, 6 left after it".
func (b Budget) Words(ctx context.Context) string {
	if !b.Applies {
		return i18n.T(ctx, "editbudget.not_limited")
	}
	if b.AtLimit() {
		return i18n.T(ctx, "editbudget.at_limit", "Limit", b.Limit)
	}
	return i18n.N(ctx, "editbudget.left", b.Left()-1, "Used", b.Used, "Limit", b.Limit)
}

// Limited reports whether Meta limits a template's edits (it does for APPROVED ones).
func Limited(t models.Template) bool { return strings.EqualFold(t.Status, "APPROVED") }

// Of counts a template's edits in the window.
func (l *Ledger) Of(ctx context.Context, t models.Template) (Budget, error) {
	n, err := l.Used(ctx, t.TemplateID)
	if err != nil {
		return Budget{}, err
	}
	return Budget{Applies: Limited(t), Used: n, Limit: l.opts.Limit}, nil
}

// Used counts the recorded edits of a template (Meta's id) in the window.
func (l *Ledger) Used(ctx context.Context, templateID string) (int, error) {
	var n int64
	since := l.opts.Now().UTC().Add(-l.opts.Window)
	err := l.db.WithContext(ctx).Model(&models.TemplateEdit{}).
		Where("template_id = ? AND created_at >= ?", templateID, since).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("editbudget: count edits of %s: %w", templateID, err)
	}
	return int(n), nil
}

// NextContentEdit is when the template's content may next be edited: the zero time when it may
// be now, else 24 hours after the last content edit recorded.
func (l *Ledger) NextContentEdit(ctx context.Context, templateID string) (time.Time, error) {
	var last models.TemplateEdit
	err := l.db.WithContext(ctx).Where("template_id = ? AND kind = ? AND created_at >= ?", templateID, models.EditKindComponents,
		l.opts.Now().UTC().Add(-ContentGap)).Order("created_at DESC").Limit(1).Find(&last).Error
	if err != nil {
		return time.Time{}, fmt.Errorf("editbudget: last content edit of %s: %w", templateID, err)
	}
	if last.ID == 0 {
		return time.Time{}, nil
	}
	return last.CreatedAt.Add(ContentGap).UTC(), nil
}

// Edit is one accepted edit to record.
type Edit struct {
	Template   models.Template
	Kind       string
	Via        string
	Detail     string
	Actor      models.User
	RequestKey string
}

// Record adds an edit Meta accepted. Edits of templates Meta does not limit are not recorded.
func (l *Ledger) Record(ctx context.Context, e Edit) error {
	if !Limited(e.Template) {
		return nil
	}
	row := models.TemplateEdit{
		AccountID: e.Template.AccountID, ConnectionID: e.Template.ConnectionID, TemplateID: e.Template.TemplateID,
		Kind: e.Kind, Via: e.Via, Detail: e.Detail, ActorEmail: e.Actor.Email, RequestKey: e.RequestKey,
		CreatedAt: l.opts.Now().UTC(),
	}
	if e.Actor.ID != 0 {
		id := e.Actor.ID
		row.ActorID = &id
	}
	if err := l.db.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("editbudget: record edit of %s: %w", e.Template.TemplateID, err)
	}
	return nil
}
