package models

import "time"

// WebhookDelivery is one signed POST Meta made to the webhook endpoint, kept raw so nothing Meta
// sends is lost, even when it cannot be parsed. The body is stored once, zstd-compressed in
// BodyZstd (Body is then empty in the table, and filled when a delivery is read); its events
// point into it for their raw JSON.
type WebhookDelivery struct {
	ID             uint      `gorm:"primaryKey"`
	ReceivedAt     time.Time `gorm:"not null;index"`
	RemoteAddr     string    `gorm:"not null;default:''"`
	BodySize       int       `gorm:"not null"`
	Body           string    `gorm:"not null;default:''"`
	BodyZstd       []byte    `gorm:"column:body_zstd"`
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
// template change… Its raw JSON is the part RawAt/RawLen of its delivery's body (Raw holds it
// only when it could not be found there, and is filled when one event is read); DedupeHash is
// unique, so a redelivered event is stored once. AccountID is the account owning the WABA (nil
// when nobody connected it: staff only). The log's indexes are made by the migrations, not
// by tags: they are shaped by its filters (see internal/webhook).
type WebhookEvent struct {
	ID               uint      `gorm:"primaryKey"`
	DeliveryID       uint      `gorm:"not null"`
	ReceivedAt       time.Time `gorm:"not null"`
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
	DedupeHash       []byte `gorm:"not null"` // 16 bytes of SHA-256 of the parser's dedupe key
	RawAt            *int   // byte offset of the raw JSON in the delivery's body; nil: in Raw
	RawLen           int    `gorm:"not null;default:0"`
	Raw              string `gorm:"not null;default:''"`
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

// Marketing preference values (user_preferences webhook, category marketing_messages).
const (
	PreferenceStop   = "stop"   // the user stopped marketing messages: sends fail with 131050
	PreferenceResume = "resume" // the user accepts them again
)

// MarketingPreference is a recipient's latest marketing preference for one WABA, as its
// user_preferences webhooks said: one row per account, WABA and recipient, replaced only by a
// later preference.
type MarketingPreference struct {
	ID        uint      `gorm:"primaryKey"`
	AccountID uint      `gorm:"not null;uniqueIndex:idx_marketing_prefs_key,priority:1"`
	WABAID    string    `gorm:"column:waba_id;not null;uniqueIndex:idx_marketing_prefs_key,priority:2"`
	Recipient string    `gorm:"not null;uniqueIndex:idx_marketing_prefs_key,priority:3"` // wa_id, digits
	Value     string    `gorm:"not null"`                                                // PreferenceStop or PreferenceResume
	Detail    string    `gorm:"not null;default:''"`                                     // Meta's words, e.g. "User requested to stop marketing messages"
	At        time.Time `gorm:"not null"`                                                // when the user chose it (Meta's timestamp)
	UpdatedAt time.Time
}

// Stopped reports whether the recipient stopped marketing messages.
func (p MarketingPreference) Stopped() bool { return p.Value == PreferenceStop }
