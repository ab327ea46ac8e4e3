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
	}}, database.AutoMigrateStep("0180_b_saved_filters", &models.SavedFilter{}),
		// Nothing reads the events' route index: the route filter asks the message (an event's own
		// route is set only on the statuses that carry pricing), and the updates of an event's
		// route find it by id or wamid. Every status event paid for it on insert and on disk
		// (about 14 bytes).
		{ID: "0270_a_drop_event_route_index", Up: func(tx *gorm.DB) error {
			return tx.Exec("DROP INDEX IF EXISTS idx_wh_ev_route").Error
		}},
		// A customer's template filter asks for the wamids of its own messages sent with a
		// template. On the template index alone that read every message of the template, every
		// account's (60 ms on SQLite and 200 ms on PostgreSQL at a million events for a customer
		// that never used it); with the account as the index's second column it reads only its
		// own. The index replaces the old one (a query by template alone uses its first column),
		// so each message pays a few bytes more, not a second index.
		{ID: "0300_a_message_template_account_index", Up: func(tx *gorm.DB) error {
			if err := tx.Exec("CREATE INDEX IF NOT EXISTS idx_messages_template_account ON messages (template_name, account_id)").Error; err != nil {
				return err
			}
			return tx.Exec("DROP INDEX IF EXISTS idx_messages_template_name").Error
		}}}
}
