package models

import "time"

// Optimization scopes: a WABA-wide default or one template's own setting.
const (
	OptScopeWABA     = "waba"
	OptScopeTemplate = "template"
)

// Statuses of an optimization change sent to Meta.
const (
	OptChangePending   = "pending"   // Meta accepted the request but has not reported the new value yet
	OptChangeConfirmed = "confirmed" // Meta reports the new value
	OptChangeFailed    = "failed"    // Meta refused (or could not be reached); nothing changed
	OptChangeNotSent   = "not_sent"  // refused locally (e.g. edit limit), never sent to Meta
)

// OptimizationSetting is one creative feature's setting for a WABA (scope waba, target = WABA id)
// or a template (scope template, target = Meta's template id), as the console knows it.
//
// Value is what the console expects (learned on the first read, or confirmed after its own
// change); MetaValue is what Meta reported on the last read. They differ when someone changed the
// setting outside the console (drift). An empty value means "not set at this level".
type OptimizationSetting struct {
	ID              uint   `gorm:"primaryKey"`
	AccountID       uint   `gorm:"not null;index"`
	ConnectionID    uint   `gorm:"not null;uniqueIndex:idx_opt_settings_target,priority:1"`
	Scope           string `gorm:"not null;uniqueIndex:idx_opt_settings_target,priority:2"`
	TargetID        string `gorm:"not null;uniqueIndex:idx_opt_settings_target,priority:3"`
	Feature         string `gorm:"not null;uniqueIndex:idx_opt_settings_target,priority:4"`
	Value           string `gorm:"not null;default:''"`
	MetaValue       string `gorm:"not null;default:''"`
	Source          string `gorm:"not null;default:''"` // "meta_read" or "console_change"
	PendingValue    string `gorm:"not null;default:''"`
	PendingChangeID *uint
	ReadAt          *time.Time // last time Meta was asked
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// OptimizationChange records one feature change the console asked Meta for: who, when, what from
// and to, and Meta's answer. One edit request (one POST to Meta) can carry several features; they
// share RequestKey, which is what Meta's edit limit counts.
type OptimizationChange struct {
	ID            uint   `gorm:"primaryKey"`
	AccountID     uint   `gorm:"not null;index"`
	ConnectionID  uint   `gorm:"not null;index"`
	Scope         string `gorm:"not null;index:idx_opt_changes_target,priority:1"`
	TargetID      string `gorm:"not null;index:idx_opt_changes_target,priority:2"`
	TemplateRowID *uint  `gorm:"index"`
	Feature       string `gorm:"not null"`
	OldValue      string `gorm:"not null;default:''"`
	NewValue      string `gorm:"not null"`
	ActorID       *uint
	ActorEmail    string `gorm:"not null;default:''"`
	Status        string `gorm:"not null;index"`
	MetaAnswer    string `gorm:"not null;default:''"` // "ok", or the Graph error in words
	ErrorCode     int    `gorm:"not null;default:0"`
	ErrorSubcode  int    `gorm:"not null;default:0"`
	RequestKey    string `gorm:"not null;index"`
	// CountsTowardLimit: Meta accepted an edit of an APPROVED template (10 per 30 days).
	CountsTowardLimit bool      `gorm:"not null;default:false"`
	CreatedAt         time.Time `gorm:"index:idx_opt_changes_target,priority:3"`
	ConfirmedAt       *time.Time
}

// WABAChoice is the WABA a user last chose on the WABA-scoped pages (optimizations and the
// matrix), so the next visit opens on it instead of the first WABA in alphabetical order. A row
// per user; ConnectionID is not a foreign key, so deleting a connection never fails on it: a
// choice that names a connection the user no longer sees is ignored.
type WABAChoice struct {
	UserID       uint `gorm:"primaryKey;autoIncrement:false"`
	ConnectionID uint `gorm:"not null"`
	UpdatedAt    time.Time
}
