// Package send is the test send composer: it turns a template's components into the inputs a
// person fills in, checks everything it can before anything leaves (template state, onboarding,
// TTL range, recipient, missing variables), shows the exact MM API request, sends it once per
// form (idempotency key), records who sent what and Meta's answer in test_sends, and follows the
// message through the webhook log. It never sees *fiber.Ctx; its collaborators are the narrow
// interfaces below, wired by the composition root.
package send

import (
	"context"
	"time"

	"mmconsole/internal/graph"
	"mmconsole/models"
)

// Graph is the part of the Graph API client the composer uses.
type Graph interface {
	SendMarketingMessage(ctx context.Context, token, phoneNumberID string, req graph.MarketingMessageRequest) (graph.SendResult, error)
	EditTemplate(ctx context.Context, token, templateID string, e graph.TemplateEdit) error
}

// TokenSource opens the access token of a WABA connection (never rendered or logged).
type TokenSource interface {
	Token(ctx context.Context, conn models.WABAConnection) (string, error)
}

// TokenFunc adapts a function to TokenSource.
type TokenFunc func(ctx context.Context, conn models.WABAConnection) (string, error)

// Token calls f.
func (f TokenFunc) Token(ctx context.Context, conn models.WABAConnection) (string, error) {
	return f(ctx, conn)
}

// Catalog reads what the composer offers: connections, their phone numbers and templates, all
// restricted to scope (another account's object is models.ErrNotFound). NewDBCatalog is a
// default over the shared tables.
type Catalog interface {
	Connections(ctx context.Context, scope models.Scope) ([]models.WABAConnection, error)
	Connection(ctx context.Context, scope models.Scope, id uint) (models.WABAConnection, error)
	Phones(ctx context.Context, scope models.Scope, connectionID uint) ([]models.PhoneNumber, error)
	Templates(ctx context.Context, scope models.Scope, connectionID uint) ([]models.Template, error)
	// Template finds a template by row id or Meta id.
	Template(ctx context.Context, scope models.Scope, ref string) (models.Template, error)
	// SetTemplateTTL stores a TTL that was just changed on Meta (template TTL mode).
	SetTemplateTTL(ctx context.Context, templateRowID uint, ttlSeconds int) error
}

// Sync kinds returned by SyncInfo.State.
const (
	SyncReady       = "ready"
	SyncFallback    = "ready_fallback" // approved, but the WABA is not onboarded: sends fall back
	SyncSyncing     = "syncing"
	SyncDormant     = "dormant"
	SyncNotForMMAPI = "not_mm_api"
	SyncNotSendable = "not_sendable"
)

// SyncInfo tells the MM API sync state of a template (the templates catalog owns the rule;
// DefaultSync is a stand-in with the documented 10-minute window and 7-day dormancy).
type SyncInfo interface {
	// onboarding is the WABA's marketing_messages_onboarding_status as last read ("" = unknown).
	State(ctx context.Context, t models.Template, onboarding string, now time.Time) (kind, label string, readyAt *time.Time)
}

// TemplateNotes tells the templates catalog what a send taught us: an accepted send (the
// template is in use, and a dormant one starts syncing) or a 134101 (it is syncing now).
// templateID is Meta's template id.
type TemplateNotes interface {
	NoteSend(ctx context.Context, templateID string, at time.Time) error
	NoteSyncing(ctx context.Context, templateID string, at time.Time) error
}

// AcceptedMessage is a send Meta accepted, for the webhook log to match status webhooks to.
type AcceptedMessage struct {
	WAMID         string
	AccountID     uint
	ConnectionID  uint
	WABAID        string
	PhoneNumberID string
	Recipient     string
	TemplateID    string
	TemplateName  string
	Language      string
	TTLSeconds    int
	ProductPolicy string
	AcceptedAt    time.Time
	RequestJSON   string
}

// MessageRecorder registers an accepted wamid with the webhook log.
type MessageRecorder interface {
	RecordAccepted(ctx context.Context, m AcceptedMessage) error
}

// Routes as the webhook log reports them (from pricing.category).
const (
	RouteMMAPI    = "mm_api"   // marketing_lite
	RouteFallback = "fallback" // marketing: sent through Cloud API
	RouteUnknown  = "unknown"
)

// StatusView is what the webhook log knows about one wamid. The zero value means no webhook
// has arrived yet.
type StatusView struct {
	Status      string // sent, delivered, read, failed (latest)
	Route       string // RouteMMAPI, RouteFallback, RouteUnknown or ""
	ErrorCode   int
	ErrorTitle  string
	SentAt      *time.Time
	DeliveredAt *time.Time
	ReadAt      *time.Time
	ClickedAt   *time.Time
	FailedAt    *time.Time
}

// MessageStatus reads the webhook log. A wamid with no webhook yet answers the zero StatusView
// or models.ErrNotFound.
type MessageStatus interface {
	Status(ctx context.Context, scope models.Scope, wamid string) (StatusView, error)
}

// Auditor records who did what (action "send.test" for every test send, accepted or not).
type Auditor interface {
	Record(ctx context.Context, actor models.User, action, target string, before, after any) error
}

// Clock is the time source; time.Now in production.
type Clock func() time.Time
