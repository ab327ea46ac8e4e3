package send

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"mmconsole/internal/database"
	"mmconsole/internal/i18n"
	"mmconsole/models"
)

// DBCatalog is the default Catalog: scoped reads of the connections, phone numbers and
// templates tables. The composition root may replace it with the owning areas' services.
type DBCatalog struct{ db *gorm.DB }

// NewDBCatalog builds a DBCatalog.
func NewDBCatalog(db *gorm.DB) *DBCatalog { return &DBCatalog{db: db} }

// Connections lists the connections in scope, by name.
func (c *DBCatalog) Connections(ctx context.Context, scope models.Scope) ([]models.WABAConnection, error) {
	var out []models.WABAConnection
	q := database.Scoped(c.db.WithContext(ctx).Preload("Account"), scope, "account_id")
	if err := q.Order("name, waba_id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("send: list connections: %w", err)
	}
	return out, nil
}

// Connection reads one connection in scope.
func (c *DBCatalog) Connection(ctx context.Context, scope models.Scope, id uint) (models.WABAConnection, error) {
	var out models.WABAConnection
	err := database.Scoped(c.db.WithContext(ctx), scope, "account_id").Where("id = ?", id).First(&out).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return out, models.ErrNotFound
	}
	if err != nil {
		return out, fmt.Errorf("send: connection %d: %w", id, err)
	}
	return out, nil
}

// Phones lists a connection's phone numbers.
func (c *DBCatalog) Phones(ctx context.Context, scope models.Scope, connectionID uint) ([]models.PhoneNumber, error) {
	var out []models.PhoneNumber
	q := database.Scoped(c.db.WithContext(ctx), scope, "account_id").Where("connection_id = ?", connectionID)
	if err := q.Order("display_phone_number, phone_number_id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("send: phones of connection %d: %w", connectionID, err)
	}
	return out, nil
}

// Templates lists a connection's templates by name and language.
func (c *DBCatalog) Templates(ctx context.Context, scope models.Scope, connectionID uint) ([]models.Template, error) {
	var out []models.Template
	q := database.Scoped(c.db.WithContext(ctx), scope, "account_id").Where("connection_id = ?", connectionID)
	if err := q.Order("name, language").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("send: templates of connection %d: %w", connectionID, err)
	}
	return out, nil
}

// Template finds one template by row id or Meta id.
func (c *DBCatalog) Template(ctx context.Context, scope models.Scope, ref string) (models.Template, error) {
	var out models.Template
	ref = strings.TrimSpace(ref)
	scoped := func() *gorm.DB { return database.Scoped(c.db.WithContext(ctx), scope, "account_id") }
	// Meta's id first, so that a link from Meta's world never lands on an unrelated row whose
	// row id happens to be the same digits.
	err := scoped().Where("template_id = ?", ref).First(&out).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		// Row ids are SQLite integers: digits past int64 name no row (and the driver refuses
		// them), so they are simply not found.
		if n, perr := strconv.ParseInt(ref, 10, 64); perr == nil && n > 0 {
			err = scoped().Where("id = ?", n).First(&out).Error
		}
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return out, models.ErrNotFound
	}
	if err != nil {
		return out, fmt.Errorf("send: template %s: %w", ref, err)
	}
	return out, nil
}

// SetTemplateTTL stores the template's new TTL.
func (c *DBCatalog) SetTemplateTTL(ctx context.Context, templateRowID uint, ttlSeconds int) error {
	err := c.db.WithContext(ctx).Model(&models.Template{}).Where("id = ?", templateRowID).
		Updates(map[string]any{"ttl_seconds": ttlSeconds, "updated_at": time.Now().UTC()}).Error
	if err != nil {
		return fmt.Errorf("send: store ttl of template %d: %w", templateRowID, err)
	}
	return nil
}

// The MM API sync rules (mm-api-reference §7): up to 10 minutes after creation or after the
// first send following 7 days unused.
const (
	SyncWindow   = 10 * time.Minute
	DormantAfter = 7 * 24 * time.Hour
)

// DefaultSync is a SyncInfo from the template row's timestamps, used until the templates
// catalog's own rule is wired in.
type DefaultSync struct{}

// State classifies t at now, on a WABA whose onboarding status is onboarding.
func (DefaultSync) State(ctx context.Context, t models.Template, onboarding string, now time.Time) (kind, label string, readyAt *time.Time) {
	if reason, ok := Unavailable(ctx, t); ok {
		if !strings.EqualFold(t.Category, "MARKETING") {
			return SyncNotForMMAPI, reason, nil
		}
		return SyncNotSendable, reason, nil
	}
	if onboarding != "" && !strings.EqualFold(onboarding, "ONBOARDED") {
		return SyncFallback, i18n.T(ctx, "send.sync.fallback"), nil
	}
	if t.SyncStartedAt != nil {
		end := t.SyncStartedAt.Add(SyncWindow)
		if now.Before(end) {
			return SyncSyncing, i18n.T(ctx, "send.sync.syncing"), &end
		}
	}
	last := t.FirstSeenAt
	for _, p := range []*time.Time{t.ApprovedAt, t.LastSentAt, t.SyncStartedAt} {
		if p != nil && p.After(last) {
			last = *p
		}
	}
	if !last.IsZero() && now.Sub(last) > DormantAfter {
		return SyncDormant, i18n.T(ctx, "send.sync.dormant"), nil
	}
	return SyncReady, i18n.T(ctx, "send.sync.ready"), nil
}

// DBNotes is a TemplateNotes over the templates table, used until the catalog's own is wired.
type DBNotes struct{ db *gorm.DB }

// NewDBNotes builds a DBNotes.
func NewDBNotes(db *gorm.DB) *DBNotes { return &DBNotes{db: db} }

// NoteSend stores the send time; a template that was dormant starts a new sync window.
func (n *DBNotes) NoteSend(ctx context.Context, templateID string, at time.Time) error {
	var t models.Template
	if err := n.db.WithContext(ctx).Where("template_id = ?", templateID).First(&t).Error; err != nil {
		return fmt.Errorf("send: note send of template %s: %w", templateID, err)
	}
	at = at.UTC()
	upd := map[string]any{"last_sent_at": at, "updated_at": at}
	var onboarding string
	if err := n.db.WithContext(ctx).Model(&models.WABAConnection{}).Where("id = ? AND account_id = ?", t.ConnectionID, t.AccountID).
		Pluck("onboarding_status", &onboarding).Error; err != nil {
		return fmt.Errorf("send: note send of template %s: %w", templateID, err)
	}
	if kind, _, _ := (DefaultSync{}).State(ctx, t, onboarding, at); kind == SyncDormant {
		upd["sync_started_at"] = at
		upd["sync_reason"] = "first send after 7 days unused"
	}
	return n.db.WithContext(ctx).Model(&models.Template{}).Where("id = ?", t.ID).Updates(upd).Error
}

// NoteSyncing starts a sync window now unless one is already running.
func (n *DBNotes) NoteSyncing(ctx context.Context, templateID string, at time.Time) error {
	at = at.UTC()
	return n.db.WithContext(ctx).Model(&models.Template{}).
		Where("template_id = ? AND (sync_started_at IS NULL OR sync_started_at < ?)", templateID, at.Add(-SyncWindow)).
		Updates(map[string]any{"sync_started_at": at, "sync_reason": "Meta answered 134101", "updated_at": at}).Error
}

// Unavailable says why a template cannot be sent through MM API ("UTILITY: …", "PAUSED: …"),
// in the language of ctx; ok is false for an approved marketing template.
func Unavailable(ctx context.Context, t models.Template) (reason string, ok bool) {
	cat := strings.ToUpper(t.Category)
	switch cat {
	case "MARKETING":
	case "UTILITY":
		return i18n.T(ctx, "send.unavailable.utility"), true
	case "AUTHENTICATION":
		return i18n.T(ctx, "send.unavailable.authentication"), true
	default:
		return i18n.T(ctx, "send.unavailable.category", "Category", cat), true
	}
	switch st := strings.ToUpper(t.Status); st {
	case "APPROVED":
		return "", false
	case "PENDING":
		return i18n.T(ctx, "send.unavailable.pending"), true
	case "REJECTED":
		if t.RejectedReason != "" && t.RejectedReason != "NONE" {
			return i18n.T(ctx, "send.unavailable.rejected_why", "Reason", t.RejectedReason), true
		}
		return i18n.T(ctx, "send.unavailable.rejected"), true
	case "PAUSED":
		return i18n.T(ctx, "send.unavailable.paused"), true
	case "DISABLED":
		return i18n.T(ctx, "send.unavailable.disabled"), true
	case "":
		return i18n.T(ctx, "send.unavailable.unknown"), true
	default:
		return i18n.T(ctx, "send.unavailable.not_approved", "Status", st), true
	}
}
