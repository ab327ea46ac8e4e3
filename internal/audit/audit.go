// Package audit is the append-only record of who did what: sign-ins, user and connection
// changes, and whatever other areas record. Entries are only ever inserted; there is no update
// or delete code path, and on SQLite a trigger aborts any UPDATE or DELETE of the table.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"mmconsole/internal/database"
	"mmconsole/models"
)

// Entry is one thing that happened. AccountID is the account it concerns (nil: Hibot-wide, e.g.
// a staff sign-in); ActorID is nil for an anonymous actor (a failed sign-in). Before and After
// are marshalled to JSON: pass values that never hold secrets.
type Entry struct {
	AccountID  *uint
	ActorID    *uint
	ActorEmail string
	Action     string
	Target     string
	Before     any
	After      any
	IP         string
	At         time.Time
}

// Actions recorded by the sign-in, users and connections areas. Other areas add their own.
const (
	ActionSignIn            = "auth.sign_in"
	ActionSignInFailed      = "auth.sign_in_failed"
	ActionSignOut           = "auth.sign_out"
	ActionPasswordChanged   = "auth.password_changed"
	ActionLanguageChanged   = "auth.language_changed"
	ActionSetupAdmin        = "auth.setup_admin"
	ActionInviteAccepted    = "auth.invite_accepted"
	ActionUserInvited       = "user.invited"
	ActionUserRoleChanged   = "user.role_changed"
	ActionUserDisabled      = "user.disabled"
	ActionUserEnabled       = "user.enabled"
	ActionAccountCreated    = "account.created"
	ActionConnectionAdded   = "connection.added"
	ActionConnectionChanged = "connection.changed"
	ActionConnectionDeleted = "connection.deleted"
	ActionConnectionTested  = "connection.tested"
	// A connection's own app secret decides which deliveries may speak for its account's WABAs:
	// each setting, change and clearing is recorded on its own (never the value).
	ActionConnectionSecretSet     = "connection.app_secret_set"
	ActionConnectionSecretChanged = "connection.app_secret_changed"
	ActionConnectionSecretCleared = "connection.app_secret_cleared"
	ActionInsightsEnabled         = "connection.insights_enabled"
)

// Log writes and reads the audit log.
type Log struct {
	db  *gorm.DB
	now func() time.Time
}

// New builds the log; now stamps entries that come without a time.
func New(db *gorm.DB, now func() time.Time) *Log {
	if now == nil {
		now = time.Now
	}
	return &Log{db: db, now: now}
}

// Migrations creates the table and the triggers that make it append-only (SQLite's RAISE, or
// on PostgreSQL a trigger function that raises the same message).
func Migrations() []database.Migration {
	return []database.Migration{{ID: "0002_audit", Up: func(tx *gorm.DB) error {
		if err := tx.AutoMigrate(&models.AuditEntry{}); err != nil {
			return err
		}
		if database.IsPostgres(tx) {
			return appendOnlyPostgres(tx)
		}
		for _, op := range []string{"UPDATE", "DELETE"} {
			sql := fmt.Sprintf(`CREATE TRIGGER audit_entries_no_%s BEFORE %s ON audit_entries
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END`, strings.ToLower(op), op)
			if err := tx.Exec(sql).Error; err != nil {
				return err
			}
		}
		return nil
	}}}
}

// appendOnlyPostgres is migration 0002's PostgreSQL branch: one function raising the message
// SQLite's triggers raise, fired before any UPDATE or DELETE of a row and before a TRUNCATE,
// which skips row triggers.
func appendOnlyPostgres(tx *gorm.DB) error {
	for _, q := range []string{
		`CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit entries are append-only'; END $$`,
		`CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()`,
		`CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()`,
		`CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()`,
	} {
		if err := tx.Exec(q).Error; err != nil {
			return err
		}
	}
	return nil
}

// Migrations is the package-level list, also reachable from a Log for symmetry with services.
func (l *Log) Migrations() []database.Migration { return Migrations() }

// Record appends e.
func (l *Log) Record(ctx context.Context, e Entry) error {
	if e.At.IsZero() {
		e.At = l.now()
	}
	if e.IP == "" {
		e.IP = clientIP(ctx)
	}
	row := models.AuditEntry{
		AccountID: e.AccountID, ActorID: e.ActorID, ActorEmail: e.ActorEmail, Action: e.Action,
		Target: e.Target, IP: e.IP, At: e.At.UTC(),
	}
	var err error
	if row.Before, err = marshal(e.Before); err != nil {
		return fmt.Errorf("audit: record %s: before: %w", e.Action, err)
	}
	if row.After, err = marshal(e.After); err != nil {
		return fmt.Errorf("audit: record %s: after: %w", e.Action, err)
	}
	if err := l.db.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("audit: record %s: %w", e.Action, err)
	}
	return nil
}

func marshal(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Filter narrows the list. Text filters match anywhere (case-insensitive); From and To are whole
// days (To inclusive). Before is the keyset cursor: entries with a smaller ID.
type Filter struct {
	Actor  string
	Action string
	Target string
	From   time.Time
	To     time.Time
	Before uint
	Limit  int
}

// Page is one page of entries, newest first, and the cursor of the next page (0: no more).
type Page struct {
	Entries []models.AuditEntry
	Next    uint
}

// List returns entries visible in scope, newest first.
func (l *Log) List(ctx context.Context, scope models.Scope, f Filter) (Page, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	q := database.Scoped(l.db.WithContext(ctx).Model(&models.AuditEntry{}), scope, "account_id")
	if s := strings.TrimSpace(f.Actor); s != "" {
		q = q.Where("LOWER(actor_email) LIKE ?", "%"+strings.ToLower(s)+"%")
	}
	if s := strings.TrimSpace(f.Action); s != "" {
		q = q.Where("action = ?", s)
	}
	if s := strings.TrimSpace(f.Target); s != "" {
		q = q.Where("LOWER(target) LIKE ?", "%"+strings.ToLower(s)+"%")
	}
	if !f.From.IsZero() {
		q = q.Where("at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("at < ?", f.To.UTC().AddDate(0, 0, 1))
	}
	if f.Before > 0 {
		q = q.Where("id < ?", f.Before)
	}
	var rows []models.AuditEntry
	if err := q.Order("id DESC").Limit(f.Limit + 1).Find(&rows).Error; err != nil {
		return Page{}, fmt.Errorf("audit: list: %w", err)
	}
	p := Page{Entries: rows}
	if len(rows) > f.Limit {
		p.Entries = rows[:f.Limit]
		p.Next = p.Entries[f.Limit-1].ID
	}
	return p, nil
}

// Actions lists the distinct actions in scope, for the filter's choices.
func (l *Log) Actions(ctx context.Context, scope models.Scope) ([]string, error) {
	var out []string
	q := database.Scoped(l.db.WithContext(ctx).Model(&models.AuditEntry{}), scope, "account_id")
	if err := q.Distinct("action").Order("action").Pluck("action", &out).Error; err != nil {
		return nil, fmt.Errorf("audit: actions: %w", err)
	}
	return out, nil
}
