package models

import "time"

// Message routes: which API carried a marketing message, as its status webhooks' pricing says.
const (
	RouteMMAPI    = "mm_api"   // pricing.category marketing_lite
	RouteFallback = "fallback" // pricing.category marketing on a message sent to /marketing_messages: MM API fell back to Cloud API
	// RouteCloudAPI: pricing.category marketing on a message the dashboard did not send to
	// /marketing_messages, e.g. an ordinary /messages marketing send from another platform on
	// the same number. Inferred: only the dashboard's own sends are known to be MM API sends.
	RouteCloudAPI = "cloud_api"
	RouteUnknown  = "unknown" // no pricing seen yet, or another category
)

// Message statuses in the order a message moves through them. StatusRank orders them so a late
// or redelivered webhook never moves a message backwards; failed is final.
const (
	MessageAccepted  = "accepted" // Meta accepted the send (written by the composer)
	MessageSent      = "sent"
	MessageDelivered = "delivered"
	MessageRead      = "read"
	MessageFailed    = "failed"
)

// StatusRank orders message statuses; higher never gives way to lower.
func StatusRank(status string) int {
	switch status {
	case MessageAccepted:
		return 1
	case MessageSent:
		return 2
	case MessageDelivered:
		return 3
	case MessageRead, "played":
		return 4
	case MessageFailed:
		return 5
	}
	return 0
}

// DefaultMarketingTTL is Meta's time-to-live of a marketing message when none is set.
const DefaultMarketingTTL = 30 * 24 * time.Hour

// Message is the latest known state of one outbound message (keyed by its wamid). It is read by
// wamid, by template name (the log's template filter) and by phone, route and send time (click
// attribution), and indexed for those only: there is a row per message sent, so every index
// costs on each. Two writers
// fill it, in either order: the composer INSERTs it when Meta accepts a send (template, TTL,
// send request, accepted_at), and the webhook ingest upserts it from status webhooks (status,
// route, pricing, errors, timestamps). Each side only sets the columns it owns, so neither
// order loses anything.
type Message struct {
	WAMID            string  `gorm:"column:wamid;primaryKey"`
	AccountID        *uint   `gorm:"index:idx_messages_template_account,priority:2"`
	WABAID           string  `gorm:"column:waba_id;not null;default:''"`
	PhoneNumberID    string  `gorm:"not null;default:'';index:idx_messages_phone_sent,priority:1"`
	Recipient        string  `gorm:"not null;default:''"`
	TemplateName     *string `gorm:"index:idx_messages_template_account,priority:1"`
	TemplateLanguage *string
	Status           string `gorm:"not null;default:''"`
	StatusRank       int    `gorm:"not null;default:0"`
	Route            string `gorm:"not null;default:'unknown';index:idx_messages_phone_sent,priority:2"`
	PricingCategory  string `gorm:"not null;default:''"`
	ErrorCode        *int
	ErrorTitle       string `gorm:"not null;default:''"`
	AcceptedAt       *time.Time
	SentAt           *time.Time `gorm:"index:idx_messages_phone_sent,priority:3"`
	DeliveredAt      *time.Time
	ReadAt           *time.Time
	FailedAt         *time.Time
	ClickedAt        *time.Time
	TTLSeconds       *int
	SendRequest      *string // JSON body the dashboard sent, when it made the send
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Final reports whether no further status can change the message.
func (m Message) Final() bool { return m.Status == MessageFailed || m.Status == MessageRead }

// TTLExpiryBuffer is how long after its TTL ends an undelivered message is declared dropped.
// Meta says to assume a message without a delivered status by the end of its TTL was dropped,
// and to add a buffer because failure webhooks can lag (mm-api-reference §1.5); the size of the
// buffer is ours [I].
const TTLExpiryBuffer = time.Hour

// TTL is the TTL Meta applied to the message: the one recorded when the console sent it (the
// template's message_send_ttl_seconds, or the per-send time_to_live through Hibot's gateway),
// else Meta's marketing default, which is then only assumed (TTLKnown is false).
//
// A custom TTL is honoured only when the message goes through MM API (mm-api-reference §1.5): a
// message that went through Cloud API (a fallback) lives Meta's default, whatever was recorded.
func (m Message) TTL() time.Duration {
	if m.OnCloudAPI() {
		return DefaultMarketingTTL
	}
	if m.TTLKnown() {
		return time.Duration(*m.TTLSeconds) * time.Second
	}
	return DefaultMarketingTTL
}

// OnCloudAPI reports whether the status webhooks said the message went through Cloud API (a
// fallback of an MM API send, or a /messages marketing send), where Meta applies its default TTL.
func (m Message) OnCloudAPI() bool { return m.Route == RouteFallback || m.Route == RouteCloudAPI }

// TTLKnown reports whether the message's TTL is known rather than assumed to be Meta's default.
func (m Message) TTLKnown() bool { return m.TTLSeconds != nil && *m.TTLSeconds > 0 }

// TTLStart is when the TTL started counting: acceptance if the dashboard sent it, else the first
// sent webhook; nil when neither is known.
func (m Message) TTLStart() *time.Time {
	if m.AcceptedAt != nil {
		return m.AcceptedAt
	}
	return m.SentAt
}

// Expired reports whether the TTL (plus TTLExpiryBuffer for late webhooks) ended with no
// delivered (or read) status: Meta drops such a message. A message Meta reported as failed did
// not expire: its failure (with Meta's code) is what happened, and "dropped when the TTL ended"
// would tell a different story.
func (m Message) Expired(now time.Time) bool {
	start := m.TTLStart()
	if start == nil || m.DeliveredAt != nil || m.ReadAt != nil || m.FailedAt != nil {
		return false
	}
	end := start.Add(m.TTL()).Add(TTLExpiryBuffer)
	return now.After(end)
}
