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
}

// New builds the service; options add the secrets box, the Graph API clients and a clock.
func New(db *gorm.DB, opts ...Option) *Service {
	s := &Service{db: db, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Migrations creates the core tenant tables.
func Migrations() []database.Migration {
	return []database.Migration{
		database.AutoMigrateStep("0001_accounts", &models.Account{}, &models.User{}, &models.WABAConnection{}, &models.PhoneNumber{}),
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

// Connections lists the WABA connections visible in scope, by name.
func (s *Service) Connections(ctx context.Context, scope models.Scope) ([]models.WABAConnection, error) {
	var out []models.WABAConnection
	q := database.Scoped(s.db.WithContext(ctx).Preload("Account"), scope, "account_id")
	if err := q.Order("name, waba_id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("accounts: list connections: %w", err)
	}
	return out, nil
}
