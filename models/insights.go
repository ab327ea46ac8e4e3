package models

import "time"

// Insight products: whose sends a daily point counts (Meta's product_type).
const (
	ProductMMAPI    = "mm_api"    // MM API (marketing_lite)
	ProductCloudAPI = "cloud_api" // Cloud API, including MM API fallbacks
)

// InsightPoint is one day of Meta's template analytics for one template and product: what
// Meta counted, stored so pages never call Meta. The last 7 days are re-fetched, since Meta's
// read and click counts keep changing for 7 days after a send. Day is the UTC midnight. Besides
// the key, one covering index (internal/insights' migration) serves the overview's sums.
type InsightPoint struct {
	ID           uint      `gorm:"primaryKey"`
	AccountID    uint      `gorm:"not null"`
	ConnectionID uint      `gorm:"not null;uniqueIndex:idx_insight_points_key,priority:1"`
	WABAID       string    `gorm:"column:waba_id;not null"`
	TemplateID   string    `gorm:"not null;uniqueIndex:idx_insight_points_key,priority:2"` // Meta's id
	Day          time.Time `gorm:"not null;uniqueIndex:idx_insight_points_key,priority:3"`
	Product      string    `gorm:"not null;uniqueIndex:idx_insight_points_key,priority:4"`
	Sent         int64     `gorm:"not null;default:0"`
	Delivered    int64     `gorm:"not null;default:0"`
	Read         int64     `gorm:"not null;default:0"`
	Clicked      int64     `gorm:"not null;default:0"`
	Cost         float64   `gorm:"not null;default:0"` // amount_spent, in the WABA's currency
	HasCost      bool      `gorm:"not null;default:false"`
	FetchedAt    time.Time `gorm:"not null"`
}

// InsightConversion is one conversion metric (WEBSITE_PURCHASES, …) of one template, day and
// product, as Meta's analytics gave it: MM API only, and sparse, so kept apart from the points.
type InsightConversion struct {
	ID           uint      `gorm:"primaryKey"`
	AccountID    uint      `gorm:"not null;index"`
	ConnectionID uint      `gorm:"not null;uniqueIndex:idx_insight_conversions_key,priority:1"`
	TemplateID   string    `gorm:"not null;uniqueIndex:idx_insight_conversions_key,priority:2"`
	Day          time.Time `gorm:"not null;uniqueIndex:idx_insight_conversions_key,priority:3"`
	Product      string    `gorm:"not null;uniqueIndex:idx_insight_conversions_key,priority:4"`
	Metric       string    `gorm:"not null;uniqueIndex:idx_insight_conversions_key,priority:5"`
	Value        float64   `gorm:"not null;default:0"`
}

// InsightFetch is the analytics fetch state of one connection: which MM API product_type
// spelling Meta took, when the last fetch ran and how it ended, Meta's lasting refusals
// (insights not enabled, region) and the rate-limit backoff. LeaseUntil keeps two instances
// from fetching the same WABA at once.
type InsightFetch struct {
	ConnectionID  uint   `gorm:"primaryKey;autoIncrement:false"`
	AccountID     uint   `gorm:"not null;index"`
	WABAID        string `gorm:"column:waba_id;not null"`
	ProductType   string `gorm:"not null;default:''"` // the MM API spelling that worked; '' = not known yet
	StartedAt     *time.Time
	FinishedAt    *time.Time
	OKAt          *time.Time // last fetch in which every batch answered
	CoveredFrom   *time.Time // earliest day fetched (the 90-day look-back is done once)
	Refusal       string     `gorm:"not null;default:''"` // graph.RefusalNotEnabled, RefusalRegion
	RefusalText   string     `gorm:"not null;default:''"`
	LastError     string     `gorm:"not null;default:''"`
	FailedBatches int        `gorm:"not null;default:0"`
	Batches       int        `gorm:"not null;default:0"`
	BackoffUntil  *time.Time
	Backoffs      int `gorm:"not null;default:0"` // rate limits in a row, for the exponential backoff
	LeaseUntil    *time.Time
}

// WebhookRollup is one day of the console's own webhook data for one WABA, template and route:
// kept up to date incrementally from the stored events (internal/insights), so pages never
// count raw events. Sums of seconds with their counts give the mean times to delivered and read.
type WebhookRollup struct {
	ID           uint      `gorm:"primaryKey"`
	AccountID    uint      `gorm:"not null;uniqueIndex:idx_webhook_rollups_key,priority:1"` // 0: no account (staff only)
	WABAID       string    `gorm:"column:waba_id;not null;uniqueIndex:idx_webhook_rollups_key,priority:2"`
	Day          time.Time `gorm:"not null;uniqueIndex:idx_webhook_rollups_key,priority:3;index"`
	TemplateName string    `gorm:"not null;uniqueIndex:idx_webhook_rollups_key,priority:4"` // '' when neither the event nor its message names one
	Route        string    `gorm:"not null;uniqueIndex:idx_webhook_rollups_key,priority:5"`
	Sent         int64     `gorm:"not null;default:0"`
	Delivered    int64     `gorm:"not null;default:0"`
	Read         int64     `gorm:"not null;default:0"`
	Failed       int64     `gorm:"not null;default:0"`
	Clicked      int64     `gorm:"not null;default:0"`
	DeliverSecs  int64     `gorm:"not null;default:0"`
	DeliverN     int64     `gorm:"not null;default:0"`
	ReadSecs     int64     `gorm:"not null;default:0"`
	ReadN        int64     `gorm:"not null;default:0"`
	// Expired counts messages whose TTL ended without a delivered status (models.Message.Expired),
	// by the day their TTL started; recomputed for the days a TTL can still end in.
	Expired int64 `gorm:"not null;default:0"`
}

// WebhookDayRollup is WebhookRollup summed over templates: one row per WABA, day and route, so
// the overview reads a few hundred rows where the per-template rollups hold tens of thousands.
// Folded in the same transaction as WebhookRollup, from the same events.
type WebhookDayRollup struct {
	ID          uint      `gorm:"primaryKey"`
	AccountID   uint      `gorm:"not null;uniqueIndex:idx_webhook_day_rollups_key,priority:1"`
	WABAID      string    `gorm:"column:waba_id;not null;uniqueIndex:idx_webhook_day_rollups_key,priority:2"`
	Day         time.Time `gorm:"not null;uniqueIndex:idx_webhook_day_rollups_key,priority:3"`
	Route       string    `gorm:"not null;uniqueIndex:idx_webhook_day_rollups_key,priority:4"`
	Sent        int64     `gorm:"not null;default:0"`
	Delivered   int64     `gorm:"not null;default:0"`
	Read        int64     `gorm:"not null;default:0"`
	Failed      int64     `gorm:"not null;default:0"`
	Clicked     int64     `gorm:"not null;default:0"`
	DeliverSecs int64     `gorm:"not null;default:0"`
	DeliverN    int64     `gorm:"not null;default:0"`
	ReadSecs    int64     `gorm:"not null;default:0"`
	ReadN       int64     `gorm:"not null;default:0"`
	Expired     int64     `gorm:"not null;default:0"`
}

// WebhookErrorRollup counts failed statuses per day, WABA and error code.
type WebhookErrorRollup struct {
	ID        uint      `gorm:"primaryKey"`
	AccountID uint      `gorm:"not null;uniqueIndex:idx_webhook_error_rollups_key,priority:1"`
	WABAID    string    `gorm:"column:waba_id;not null;uniqueIndex:idx_webhook_error_rollups_key,priority:2"`
	Day       time.Time `gorm:"not null;uniqueIndex:idx_webhook_error_rollups_key,priority:3;index"`
	ErrorCode int       `gorm:"not null;uniqueIndex:idx_webhook_error_rollups_key,priority:4"`
	Title     string    `gorm:"not null;default:''"`
	Count     int64     `gorm:"not null;default:0"`
}

// RollupCursor remembers the last webhook event folded into the rollups.
type RollupCursor struct {
	Name        string `gorm:"primaryKey"`
	LastEventID uint   `gorm:"not null;default:0"`
	UpdatedAt   time.Time
}
