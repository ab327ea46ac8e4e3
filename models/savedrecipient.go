package models

import "time"

// SavedRecipient is a named test number of an account, for sending one test to a few known
// phones at once from the composer.
type SavedRecipient struct {
	ID        uint   `gorm:"primaryKey"`
	AccountID uint   `gorm:"not null;uniqueIndex:idx_saved_recipients_number,priority:1"`
	Name      string `gorm:"not null"`
	Recipient string `gorm:"not null;uniqueIndex:idx_saved_recipients_number,priority:2"` // digits only
	// CreatedBy is the email of who saved it, kept as text so the row outlives the user.
	CreatedBy string `gorm:"not null;default:''"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TableName is saved_recipients.
func (SavedRecipient) TableName() string { return "saved_recipients" }
