// Package templates owns the template catalog: the templates of every connected WABA copied
// from the Graph API into the database (refreshed at start, on a schedule, on demand and after
// template webhooks), their MM API sync state (SyncState; Meta exposes no sync flag, so it is
// derived from approvals, sends and 134101 answers), the catalog queries with their filters and
// counts, and the template TTL edit.
package templates

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"gorm.io/gorm"

	"mmconsole/internal/database"
	"mmconsole/internal/editbudget"
	"mmconsole/internal/graph"
	"mmconsole/models"
)

// TokenSource gives the Graph API access token of a connection (the composition root unseals it
// with the secrets box). Tokens are never stored or logged by this package.
type TokenSource interface {
	Token(ctx context.Context, conn models.WABAConnection) (string, error)
}

// GraphAPI is the part of *graph.Client the catalog uses.
type GraphAPI interface {
	ListAllTemplates(ctx context.Context, token, wabaID string, q graph.TemplateQuery) ([]graph.Template, error)
	GetTemplate(ctx context.Context, token, templateID string) (graph.Template, error)
	EditTemplate(ctx context.Context, token, templateID string, e graph.TemplateEdit) error
}

// Options tune the service. Zero values get the defaults.
type Options struct {
	// Interval between scheduled refreshes (config MMC_TEMPLATE_REFRESH); 0 = only at start and
	// on demand.
	Interval time.Duration
	// MinManualGap refuses a "Sync now" of a WABA refreshed less than this long ago, to protect
	// Meta's 200 template calls per hour per WABA. Default 30s.
	MinManualGap time.Duration
	// Lease bounds how long one instance may hold a WABA's refresh (a crashed holder's lease
	// expires). Default 2 minutes.
	Lease time.Duration
	// PageSize is the Graph page size for listing templates. Default 100 (fewer calls).
	PageSize int
	Now      func() time.Time
	Logger   *slog.Logger
	// Edits counts TTL edits against Meta's edit limit, in the ledger every kind of template edit
	// shares; by default one over db.
	Edits *editbudget.Ledger
}

// Service is the template catalog.
type Service struct {
	db     *gorm.DB
	graph  GraphAPI
	tokens TokenSource
	opts   Options
	now    func() time.Time
	log    *slog.Logger
	holder string // this instance's name in refresh leases
}

// New builds the service.
func New(db *gorm.DB, g GraphAPI, tokens TokenSource, o Options) *Service {
	if o.MinManualGap == 0 {
		o.MinManualGap = 30 * time.Second
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.PageSize <= 0 {
		o.PageSize = 100
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Edits == nil {
		o.Edits = editbudget.New(db, editbudget.Options{Now: o.Now})
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return &Service{db: db, graph: g, tokens: tokens, opts: o, log: o.Logger,
		now: func() time.Time { return o.Now().UTC() }, holder: hex.EncodeToString(b)}
}

// Migrations creates the catalog tables.
func Migrations() []database.Migration {
	// The edit ledger counts edits of these templates; every area that edits one shares it.
	return append([]database.Migration{
		database.AutoMigrateStep("0004_templates", &models.Template{}, &models.TemplateRefresh{}, &models.TemplateRefreshLease{}),
		{ID: "0070_d_template_analytics", Up: func(tx *gorm.DB) error {
			for _, f := range []string{"MetaLastSentAt", "MetaSentReadAt"} {
				if !tx.Migrator().HasColumn(&models.Template{}, f) {
					if err := tx.Migrator().AddColumn(&models.Template{}, f); err != nil {
						return err
					}
				}
			}
			return nil
		}},
		// Adds the columns of an unreadable degrees_of_freedom_spec.
		database.AutoMigrateStep("0080_template_dfs_unknown", &models.Template{}),
	}, editbudget.Migrations()...)
}

// Now is the service's clock (the handlers compute states with the same time).
func (s *Service) Now() time.Time { return s.now() }

// find loads a template by Meta's id, or by our row id when the id is all digits and no Meta
// id matches, limited to scope. Another account's template is ErrNotFound.
func (s *Service) find(ctx context.Context, tx *gorm.DB, scope *models.Scope, id string) (models.Template, error) {
	var t models.Template
	q := func() *gorm.DB {
		q := tx.WithContext(ctx).Model(&models.Template{})
		if scope != nil {
			q = database.Scoped(q, *scope, "account_id")
		}
		return q
	}
	err := q().Where("template_id = ?", id).Take(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		// Row ids are SQLite integers: digits past int64 name no row (and the driver refuses
		// them), so they are simply not found.
		if n, perr := strconv.ParseInt(id, 10, 64); perr == nil && n > 0 {
			err = q().Where("id = ?", n).Take(&t).Error
		}
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return t, fmt.Errorf("templates: template %s: %w", id, models.ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("templates: template %s: %w", id, err)
	}
	return t, nil
}

// Get returns one template visible in scope; id is our row id or Meta's template id.
func (s *Service) Get(ctx context.Context, scope models.Scope, id string) (models.Template, error) {
	return s.find(ctx, s.db, &scope, id)
}

// Connection returns a connection visible in scope.
func (s *Service) Connection(ctx context.Context, scope models.Scope, id uint) (models.WABAConnection, error) {
	var c models.WABAConnection
	err := database.Scoped(s.db.WithContext(ctx), scope, "account_id").Where("id = ?", id).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return c, fmt.Errorf("templates: connection %d: %w", id, models.ErrNotFound)
	}
	return c, err
}

// Connections lists the WABA connections visible in scope, by name.
func (s *Service) Connections(ctx context.Context, scope models.Scope) ([]models.WABAConnection, error) {
	var out []models.WABAConnection
	q := database.Scoped(s.db.WithContext(ctx), scope, "account_id")
	if err := q.Order("name, waba_id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("templates: list connections: %w", err)
	}
	return out, nil
}

// NoteSend records a send of the template at `at` (the composer's own sends and sent webhooks).
// When the template was dormant, that send starts a new 10-minute sync window.
func (s *Service) NoteSend(ctx context.Context, templateID string, at time.Time) error {
	at = at.UTC()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := database.LockKey(tx, "templates:template:"+templateID); err != nil {
			return err
		}
		t, err := s.find(ctx, tx, nil, templateID)
		if err != nil {
			return err
		}
		upd := map[string]any{}
		if t.LastSentAt == nil || at.After(*t.LastSentAt) {
			upd["last_sent_at"] = at
		}
		var onboarding string
		if err := tx.Model(&models.WABAConnection{}).Where("id = ? AND account_id = ?", t.ConnectionID, t.AccountID).
			Pluck("onboarding_status", &onboarding).Error; err != nil {
			return fmt.Errorf("templates: note send of %s: %w", templateID, err)
		}
		if SyncState(t, onboarding, at).Kind == KindDormant {
			upd["sync_started_at"] = at
			upd["sync_reason"] = ReasonDormantSend
		}
		if len(upd) == 0 {
			return nil
		}
		if err := tx.Model(&models.Template{}).Where("id = ?", t.ID).Updates(upd).Error; err != nil {
			return fmt.Errorf("templates: note send of %s: %w", templateID, err)
		}
		return nil
	})
}

// NoteSyncing records that Meta answered 134101 ("still syncing") at `at`: a sync window starts
// there, or is extended when one was already running.
func (s *Service) NoteSyncing(ctx context.Context, templateID string, at time.Time) error {
	at = at.UTC()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := database.LockKey(tx, "templates:template:"+templateID); err != nil {
			return err
		}
		t, err := s.find(ctx, tx, nil, templateID)
		if err != nil {
			return err
		}
		if t.SyncStartedAt != nil && !at.After(*t.SyncStartedAt) {
			return nil // an older answer than the window we know
		}
		err = tx.Model(&models.Template{}).Where("id = ?", t.ID).
			Updates(map[string]any{"sync_started_at": at, "sync_reason": ReasonMeta134101}).Error
		if err != nil {
			return fmt.Errorf("templates: note syncing of %s: %w", templateID, err)
		}
		return nil
	})
}

// NoteOnboarded starts the sync window of every approved marketing template of conn at `at`:
// the WABA has just become onboarded to MM API, and only now does Meta create the templates'
// ads (before, there was nothing to sync). Called by whichever path saw the onboarding status
// change (Test connection, the account_update webhook, the periodic re-read).
func (s *Service) NoteOnboarded(ctx context.Context, conn models.WABAConnection, at time.Time) error {
	err := s.db.WithContext(ctx).Model(&models.Template{}).
		Where("connection_id = ? AND account_id = ? AND status = ? AND category = ?", conn.ID, conn.AccountID, "APPROVED", "MARKETING").
		Updates(map[string]any{"sync_started_at": at.UTC(), "sync_reason": ReasonOnboarded, "updated_at": s.now()}).Error
	if err != nil {
		return fmt.Errorf("templates: start sync windows of waba %s: %w", conn.WABAID, err)
	}
	return nil
}
