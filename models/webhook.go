package models

import "time"

// WebhookDelivery is one signed POST Meta made to the webhook endpoint, kept raw so nothing Meta
// sends is lost, even when it cannot be parsed.
type WebhookDelivery struct {
	ID             uint      `gorm:"primaryKey"`
	ReceivedAt     time.Time `gorm:"not null;index"`
	RemoteAddr     string    `gorm:"not null;default:''"`
	BodySize       int       `gorm:"not null"`
	Body           string    `gorm:"not null"`
	EventCount     int       `gorm:"not null;default:0"`
	DuplicateCount int       `gorm:"not null;default:0"`
	ParseError     string    `gorm:"not null;default:''"`
	// VerifiedBy is the secret that verified it: "app" (MMC_APP_SECRET, every WABA) or
	// "connection:<id>" (that connection's app secret, only its account's WABAs).
	VerifiedBy string `gorm:"not null;default:''"`
}

// Webhook event kinds.
const (
	KindStatus           = "status"
	KindMessage          = "message" // inbound message from a user
	KindClick            = "click"
	KindTemplateStatus   = "template_status"
	KindTemplateCategory = "template_category"
	KindTemplateQuality  = "template_quality"
	KindUserPreference   = "user_preference"
	KindAccountUpdate    = "account_update"
	KindError            = "error" // system-level errors in value.errors
	KindUnknown          = "unknown"
)

// WebhookEvent is one update parsed from a delivery: a status, an inbound message, a click, a
// template change… Each carries its own raw JSON; DedupeKey is unique, so a redelivered event is
// stored once. AccountID is the account owning the WABA (nil when nobody connected it: staff
// only).
type WebhookEvent struct {
	ID               uint      `gorm:"primaryKey;index:idx_wh_events_received,priority:2"`
	DeliveryID       uint      `gorm:"not null;index"`
	ReceivedAt       time.Time `gorm:"not null;index:idx_wh_events_received,priority:1"`
	AccountID        *uint
	WABAID           string `gorm:"column:waba_id;not null;default:''"`
	PhoneNumberID    string `gorm:"not null;default:''"`
	Field            string `gorm:"not null;default:''"`
	Kind             string `gorm:"not null"`
	Status           string `gorm:"not null;default:''"` // message status, template event, quality, preference…
	WAMID            string `gorm:"column:wamid;not null;default:''"`
	Recipient        string `gorm:"not null;default:''"`
	Route            string `gorm:"not null;default:''"`
	PricingCategory  string `gorm:"not null;default:''"`
	ErrorCode        *int
	ErrorTitle       string `gorm:"not null;default:''"`
	TemplateID       string `gorm:"not null;default:''"`
	TemplateName     string `gorm:"not null;default:''"`
	TemplateLanguage string `gorm:"not null;default:''"`
	Detail           string `gorm:"not null;default:''"` // one line for the log: reason, category change, click component…
	OccurredAt       *time.Time
	DedupeKey        string `gorm:"not null;uniqueIndex"`
	Raw              string `gorm:"not null"`
}

// WebhookRejection is a POST refused before processing (bad or missing signature, too large).
// Only a hash of the first bytes is kept: an unsigned body is not trusted enough to store.
type WebhookRejection struct {
	ID         uint      `gorm:"primaryKey"`
	ReceivedAt time.Time `gorm:"not null;index"`
	RemoteAddr string    `gorm:"not null;default:''"`
	Reason     string    `gorm:"not null"`
	BodySize   int       `gorm:"not null"`
	HeadHash   string    `gorm:"not null;default:''"` // SHA-256 of the first 256 bytes, hex
}

// WebhookRefusal is part of a verified delivery that its secret may not speak for: the entries
// for one WABA outside the account of the connection whose app secret signed it. They are kept
// (the delivery's raw body holds them) for staff only, and have no effect.
type WebhookRefusal struct {
	ID         uint      `gorm:"primaryKey"`
	DeliveryID uint      `gorm:"not null;index"`
	ReceivedAt time.Time `gorm:"not null;index"`
	WABAID     string    `gorm:"column:waba_id;not null;default:''"`
	VerifiedBy string    `gorm:"not null"` // "connection:<id>"
	Events     int       `gorm:"not null;default:0"`
	Reason     string    `gorm:"not null"`
}
