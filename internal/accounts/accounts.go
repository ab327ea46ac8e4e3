// Package accounts owns Hibot's customers (accounts), their WABA connections and phone numbers:
// the tenant boundary every other area scopes its queries by.
package accounts

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"mmconsole/internal/database"
	"mmconsole/internal/secrets"
	"mmconsole/models"
)

// Service reads and changes accounts and connections.
type Service struct {
	db           *gorm.DB
	box          *secrets.Box
	graph        WABAReader
	sandboxGraph WABAReader
	now          func() time.Time
	onboarded    OnboardedHook
	unkeptKey    string // the sandbox key file sealing tokens, when nobody said it is kept
	metaHost     bool   // MMC_GRAPH_BASE_URL is Meta's own Graph API
}

// New builds the service; options add the secrets box, the Graph API clients and a clock.
func New(db *gorm.DB, opts ...Option) *Service {
	s := &Service{db: db, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Migrations creates the core tenant tables, for the default MMC_GRAPH_BASE_URL (Meta's).
func Migrations() []database.Migration { return MigrationsFor(true) }

// MigrationsFor creates the core tenant tables; graphIsMeta says whether MMC_GRAPH_BASE_URL is
// Meta's own Graph API, which decides what API the existing connections get in 0060.
func MigrationsFor(graphIsMeta bool) []database.Migration {
	return []database.Migration{
		database.AutoMigrateStep("0001_accounts", &models.Account{}, &models.User{}, &models.WABAConnection{}, &models.PhoneNumber{}),
		{ID: "0060_connection_api", Up: func(tx *gorm.DB) error { return migrateConnectionAPI(tx, graphIsMeta) }},
		// The Cloud API marketing switch (disable_marketing_messages_on_cloud_api), read with the
		// onboarding status.
		{ID: "0070_a_cloud_marketing_off", Up: func(tx *gorm.DB) error {
			if tx.Migrator().HasColumn(&models.WABAConnection{}, "CloudMarketingOff") {
				return nil
			}
			return tx.Migrator().AddColumn(&models.WABAConnection{}, "CloudMarketingOff")
		}},
		// When Meta last answered for each connection (graph_ok_at, graph_failed_at, graph_failure).
		{ID: "0050_graph_contact", Up: func(tx *gorm.DB) error {
			for _, col := range []string{"GraphOKAt", "GraphFailedAt", "GraphFailure"} {
				if tx.Migrator().HasColumn(&models.WABAConnection{}, col) {
					continue
				}
				if err := tx.Migrator().AddColumn(&models.WABAConnection{}, col); err != nil {
					return err
				}
			}
			return nil
		}},
	}
}

// migrateConnectionAPI replaces the connection's TTL mode with the API it talks to. A connection
// that chose the template TTL, and every sandbox connection (the sandbox models Meta's API), talks
// to Meta. A real connection on the per-send TTL (the old default) kept sending time_to_live: it
// becomes a gateway connection only when MMC_GRAPH_BASE_URL is not Meta's (its requests reach a
// proxy that may honour the field); with Meta's base URL it was sending a field Meta refuses, so
// it becomes a Meta connection and its TTL is the template's from now on.
func migrateConnectionAPI(tx *gorm.DB, graphIsMeta bool) error {
	m := tx.Migrator()
	if !m.HasColumn(&models.WABAConnection{}, "api") {
		if err := m.AddColumn(&models.WABAConnection{}, "API"); err != nil {
			return fmt.Errorf("accounts: add waba_connections.api: %w", err)
		}
	}
	if !m.HasColumn(&models.WABAConnection{}, "ttl_mode") || graphIsMeta {
		return nil // a fresh database, or every connection talks to Meta (the column's default)
	}
	err := tx.Exec("UPDATE waba_connections SET api = ? WHERE ttl_mode = ? AND sandbox = ?",
		models.APIHibotGateway, models.TTLPerSend, false).Error
	if err != nil {
		return fmt.Errorf("accounts: set waba_connections.api: %w", err)
	}
	return nil
}

// Connections lists the WABA connections visible in scope, by name.
func (s *Service) Connections(ctx context.Context, scope models.Scope) ([]models.WABAConnection, error) {
	var out []models.WABAConnection
	q := database.Scoped(s.db.WithContext(ctx).Preload("Account"), scope, "account_id")
	if err := q.Order("name, waba_id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("accounts: list connections: %w", err)
	}
	return out, nil
}
