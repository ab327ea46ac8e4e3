// Package insights owns the numbers of the overview and the template pages: Meta's template
// analytics, fetched in the background per WABA and stored as daily points, and the console's
// own webhook data, folded incrementally into daily rollups. Pages read only these tables.
package insights

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"mmconsole/internal/database"
	"mmconsole/internal/graph"
	"mmconsole/models"
)

// Migrations creates the insight tables.
func Migrations() []database.Migration {
	return []database.Migration{
		{ID: "0210_insights", Up: func(tx *gorm.DB) error {
			if err := tx.AutoMigrate(&models.InsightPoint{}, &models.InsightConversion{}, &models.InsightFetch{},
				&models.WebhookRollup{}, &models.WebhookDayRollup{}, &models.WebhookErrorRollup{}, &models.RollupCursor{}); err != nil {
				return err
			}
			// The overview sums every visible connection's points of a period by day and by
			// template: with every summed column in the index, neither read touches the table.
			if err := tx.Exec(`CREATE INDEX IF NOT EXISTS idx_insight_points_cover ON insight_points
				(connection_id, day, template_id, product, sent, delivered, read, clicked, cost, has_cost)`).Error; err != nil {
				return err
			}
			// The template page sums one template's webhook rollups of a period by route.
			return tx.Exec(`CREATE INDEX IF NOT EXISTS idx_webhook_rollups_template ON webhook_rollups
				(account_id, waba_id, template_name, day)`).Error
		}},
	}
}

// GraphAPI is the part of *graph.Client the insights use.
type GraphAPI interface {
	TemplateAnalytics(ctx context.Context, token, wabaID string, q graph.AnalyticsQuery) ([]graph.AnalyticsPoint, error)
	EnableInsights(ctx context.Context, token, wabaID string) error
}

// TokenSource opens a connection's access token.
type TokenSource interface {
	Token(ctx context.Context, conn models.WABAConnection) (string, error)
}

// Options tune the background work.
type Options struct {
	// Interval between analytics fetches of a WABA (MMC_INSIGHTS_REFRESH); 0 = at start only.
	Interval time.Duration
	// Lease bounds how long one instance may hold a WABA's fetch. Default 5 minutes.
	Lease time.Duration
	// RefusedRetry is how long a WABA whose analytics Meta refused (insights off, region) waits
	// before it is asked again. Default 6 hours.
	RefusedRetry time.Duration
	// BackoffBase and BackoffMax bound the wait after a rate limit, doubled per limit in a row.
	// Defaults 5 minutes and 2 hours.
	BackoffBase, BackoffMax time.Duration
	// FoldBatch is how many events one fold transaction reads. Default 2000.
	FoldBatch int
	// Settle is how old an event must be before it is folded: longer than any webhook writer
	// takes from receiving a delivery to committing it (queue wait plus one group commit), so
	// no lower id can still commit after it (see rollup.go). Default 2 minutes: the numbers
	// are daily, and a commit that slow has long since failed Meta's request.
	Settle time.Duration
	Now    func() time.Time
	Logger *slog.Logger
}

// Service fetches, folds and answers the insight queries.
type Service struct {
	db     *gorm.DB
	graph  GraphAPI
	tokens TokenSource
	opts   Options
	log    *slog.Logger
	now    func() time.Time
}

// New builds the service; g and tokens may be nil when only queries and rollups are used.
func New(db *gorm.DB, g GraphAPI, tokens TokenSource, o Options) *Service {
	if o.Lease <= 0 {
		o.Lease = 5 * time.Minute
	}
	if o.RefusedRetry <= 0 {
		o.RefusedRetry = 6 * time.Hour
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = 5 * time.Minute
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 2 * time.Hour
	}
	if o.FoldBatch <= 0 {
		o.FoldBatch = 2000
	}
	if o.Settle <= 0 {
		o.Settle = 2 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, graph: g, tokens: tokens, opts: o, log: o.Logger,
		now: func() time.Time { return o.Now().UTC() }}
}

// Day is the UTC midnight starting t's day: the key of every daily point.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Now is the service's clock (pages compute periods with the same time).
func (s *Service) Now() time.Time { return s.now() }

// EnableInsights sets is_enabled_for_insights on conn's WABA (irreversible at Meta; the caller
// has the admin's confirmation) and makes the WABA due for a fetch at the next tick.
func (s *Service) EnableInsights(ctx context.Context, conn models.WABAConnection) error {
	if s.graph == nil || s.tokens == nil {
		return fmt.Errorf("insights: enable waba %s: no Graph API client", conn.WABAID)
	}
	token, err := s.tokens.Token(ctx, conn)
	if err != nil {
		return fmt.Errorf("insights: enable waba %s: access token: %w", conn.WABAID, err)
	}
	if err := s.graph.EnableInsights(ctx, token, conn.WABAID); err != nil {
		return fmt.Errorf("insights: enable waba %s: %w", conn.WABAID, err)
	}
	err = s.db.WithContext(ctx).Model(&models.InsightFetch{}).Where("connection_id = ?", conn.ID).
		Updates(map[string]any{"refusal": "", "refusal_text": "", "started_at": nil, "finished_at": nil}).Error
	if err != nil {
		return fmt.Errorf("insights: enable waba %s: %w", conn.WABAID, err)
	}
	return nil
}
