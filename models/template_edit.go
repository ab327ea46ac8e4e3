package models

import "time"

// Kinds of template edit the console makes; each is one of Meta's edits of an approved template.
const (
	EditKindOptimizations = "optimizations" // degrees_of_freedom_spec (template page, bulk/matrix)
	EditKindTTL           = "ttl"           // message_send_ttl_seconds (template page, composer)
	EditKindComponents    = "components"    // the template's content (authoring form); sends it back to review
)

// TemplateEdit is one edit of an APPROVED template that Meta accepted: the ledger that counts
// Meta's limit of 10 edits per 30 days, whatever kind of edit it was and wherever it was made.
type TemplateEdit struct {
	ID           uint   `gorm:"primaryKey"`
	AccountID    uint   `gorm:"not null;index"`
	ConnectionID uint   `gorm:"not null;index"`
	TemplateID   string `gorm:"not null;index:idx_template_edits_tpl_at,priority:1"` // Meta's id
	Kind         string `gorm:"not null"`                                            // EditKind*
	Via          string `gorm:"not null;default:''"`                                 // where: template_page, bulk, composer…
	Detail       string `gorm:"not null;default:''"`                                 // e.g. "2 features" or "7 days → 3 days"
	ActorID      *uint
	ActorEmail   string    `gorm:"not null;default:''"`
	RequestKey   string    `gorm:"not null;default:''"` // the optimization change's request key, when one
	CreatedAt    time.Time `gorm:"index:idx_template_edits_tpl_at,priority:2"`
}
