package webhook

import (
	"gorm.io/gorm"

	"mmconsole/internal/database"
	"mmconsole/models"
)

// logMigrations add what the log's per-message view and saved filters need.
func logMigrations() []database.Migration {
	return []database.Migration{{ID: "0180_a_message_log_order", Up: func(tx *gorm.DB) error {
		// The per-message view lists messages newest first by when they were first seen. One
		// index only: every message pays for it on the webhook's hot path (storage per event is
		// budgeted), so the view's filters ride on existing indexes (the primary key, the events'
		// recipient and template indexes, the messages' phone and template indexes) or on a walk
		// of this order that stops at a page and at MessageCountCap.
		return tx.Exec("CREATE INDEX IF NOT EXISTS idx_messages_created_at ON messages (created_at)").Error
	}}, database.AutoMigrateStep("0180_b_saved_filters", &models.SavedFilter{})}
}
