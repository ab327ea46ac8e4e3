package models

import (
	"time"
)

// Template is one message template of a connected WABA, as last read from the Graph API and
// updated by webhooks. The MM API sync state is derived from the timestamps (SyncState), since
// Meta exposes no sync flag.
type Template struct {
	ID              uint   `gorm:"primaryKey"`
	AccountID       uint   `gorm:"not null;index:idx_templates_account_name,priority:1"`
	ConnectionID    uint   `gorm:"not null;index"`
	WABAID          string `gorm:"column:waba_id;not null;index"`
	TemplateID      string `gorm:"not null;uniqueIndex"` // Meta's id
	Name            string `gorm:"not null;index:idx_templates_account_name,priority:2"`
	Language        string `gorm:"not null;index"`
	Status          string `gorm:"not null;index"` // APPROVED, PENDING, REJECTED, PAUSED, DISABLED, …
	Category        string `gorm:"not null;index"` // MARKETING, UTILITY, AUTHENTICATION
	SubCategory     string `gorm:"not null;default:''"`
	ParameterFormat string `gorm:"not null;default:''"` // NAMED or POSITIONAL
	Quality         string `gorm:"not null;default:'';index"`
	QualityAt       *time.Time
	RejectedReason  string `gorm:"not null;default:''"`
	TTLSeconds      *int   // message_send_ttl_seconds; nil = Meta's default (30 days for marketing)
	Components      string `gorm:"not null;default:'[]'"` // JSON array as Meta returns it
	Optimizations   string `gorm:"not null;default:'{}'"` // template-level creative features, JSON {lower_key: OPT_IN|OPT_OUT}
	// OptimizationsProblem is set when Meta's degrees_of_freedom_spec for this template could
	// not be read (an odd shape such as value:{}): the settings are then unknown, Optimizations
	// is "{}", and OptimizationsRaw keeps Meta's JSON for staff to see.
	OptimizationsProblem string `gorm:"not null;default:''"`
	OptimizationsRaw     string `gorm:"not null;default:''"`
	Raw                  string `gorm:"not null;default:'{}'"` // the whole object as last read
	FirstSeenAt          time.Time
	ApprovedAt           *time.Time // when the dashboard saw it become APPROVED (webhook or refresh)
	LastSentAt           *time.Time // the last send the dashboard knows of (its own, or a sent webhook)
	// MetaLastSentAt is the latest day Meta's template analytics counted MM API sends of the
	// template (the start of that day, UTC); MetaSentReadAt is when analytics last answered for
	// it (nil: never, e.g. insights off). Together they decide dormancy for sends the dashboard
	// never sees (campaigns from other platforms).
	MetaLastSentAt *time.Time
	MetaSentReadAt *time.Time
	SyncStartedAt  *time.Time // start of the current 10-minute MM API sync window, if one is known
	SyncReason     string     `gorm:"not null;default:''"` // why that window started
	RefreshedAt    time.Time
	GoneAt         *time.Time // when a refresh no longer found it at Meta (Status is then DELETED)
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// TemplateRefresh is one attempt to re-read a WABA's templates from the Graph API: the refresh
// history shown on the catalog, and what a failed refresh answered (the catalog keeps the last
// good data meanwhile).
type TemplateRefresh struct {
	ID           uint      `gorm:"primaryKey"`
	AccountID    uint      `gorm:"not null;index"`
	ConnectionID uint      `gorm:"not null;index:idx_template_refreshes_conn_started,priority:1"`
	WABAID       string    `gorm:"column:waba_id;not null"`
	Trigger      string    `gorm:"not null;default:''"` // start, schedule, manual, webhook
	StartedAt    time.Time `gorm:"not null;index:idx_template_refreshes_conn_started,priority:2"`
	FinishedAt   *time.Time
	OK           bool   `gorm:"not null;default:false"`
	Seen         int    `gorm:"not null;default:0"` // templates Meta returned
	Added        int    `gorm:"not null;default:0"`
	Gone         int    `gorm:"not null;default:0"` // newly marked DELETED
	ErrorCode    int    `gorm:"not null;default:0"` // Graph error code, 0 when none or not a Graph error
	ErrorText    string `gorm:"not null;default:''"`
}

// TemplateRefreshLease lets one dashboard instance at a time refresh a WABA, so several instances
// running the refresh loop do not spend the WABA's Graph budget twice.
type TemplateRefreshLease struct {
	WABAID    string    `gorm:"column:waba_id;primaryKey"`
	Holder    string    `gorm:"not null"`
	ExpiresAt time.Time `gorm:"not null"`
}
