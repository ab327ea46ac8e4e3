package models

import "time"

// SavedFilter is a log filter a user named, to apply it again in one click. It belongs to one
// user: nobody else lists, applies or deletes it. Query is the filter as the log's URL carries
// it, already validated when it was saved.
type SavedFilter struct {
	ID        uint   `gorm:"primaryKey"`
	UserID    uint   `gorm:"not null;uniqueIndex:idx_saved_filters_user_name,priority:1"`
	AccountID *uint  // the user's account when saved (nil: Hibot staff); kept for the audit of data per account
	Name      string `gorm:"not null;uniqueIndex:idx_saved_filters_user_name,priority:2"`
	Query     string `gorm:"not null"`
	CreatedAt time.Time
}
