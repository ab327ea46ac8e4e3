package accounts

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"mmconsole/models"
)

// SandboxWABA is one WABA of the embedded sandbox, as the composition root hands it over.
type SandboxWABA struct {
	ID, Name, Token, OnboardingStatus string
	Phones                            []SandboxPhone
}

// SandboxPhone is one phone number of a sandbox WABA.
type SandboxPhone struct {
	ID, DisplayPhoneNumber, VerifiedName string
}

// EnsureSandboxConnections connects the sandbox's WABAs to the demo account, so a fresh start
// shows live data. It is idempotent: an existing connection keeps its id (and so every row that
// refers to it) and gets the sandbox's current token and onboarding status.
func EnsureSandboxConnections(ctx context.Context, db *gorm.DB, accountID uint, wabas []SandboxWABA, seal func(string) ([]byte, error)) error {
	now := time.Now().UTC()
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, w := range wabas {
			sealed, err := seal(w.Token)
			if err != nil {
				return fmt.Errorf("accounts: seal sandbox token: %w", err)
			}
			conn := models.WABAConnection{
				AccountID: accountID, WABAID: w.ID, Name: w.Name, TokenSealed: sealed, TokenLast4: last4(w.Token),
				API: models.APIMeta, Sandbox: true, OnboardingStatus: w.OnboardingStatus, LastCheckedAt: &now,
			}
			if err := tx.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "waba_id"}},
				DoUpdates: clause.AssignmentColumns([]string{"token_sealed", "token_last4", "sandbox", "onboarding_status", "last_checked_at", "updated_at"}),
			}).Create(&conn).Error; err != nil {
				return fmt.Errorf("accounts: sandbox connection %s: %w", w.ID, err)
			}
			if err := tx.Where("waba_id = ?", w.ID).First(&conn).Error; err != nil {
				return fmt.Errorf("accounts: sandbox connection %s: %w", w.ID, err)
			}
			for _, p := range w.Phones {
				pn := models.PhoneNumber{ConnectionID: conn.ID, AccountID: conn.AccountID, PhoneNumberID: p.ID,
					DisplayPhoneNumber: p.DisplayPhoneNumber, VerifiedName: p.VerifiedName}
				if err := tx.Clauses(clause.OnConflict{
					Columns:   []clause.Column{{Name: "phone_number_id"}},
					DoUpdates: clause.AssignmentColumns([]string{"display_phone_number", "verified_name", "updated_at"}),
				}).Create(&pn).Error; err != nil {
					return fmt.Errorf("accounts: sandbox phone %s: %w", p.ID, err)
				}
			}
		}
		return nil
	})
}
