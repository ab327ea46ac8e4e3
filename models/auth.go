package models

import "time"

// Session is a signed-in browser. The cookie holds a random token; only its SHA-256 is stored,
// so a copy of the database cannot be replayed as a cookie.
type Session struct {
	ID         uint   `gorm:"primaryKey"`
	UserID     uint   `gorm:"not null;index"`
	User       *User  `gorm:"constraint:OnDelete:CASCADE"`
	TokenHash  string `gorm:"not null;uniqueIndex"`
	CSRFToken  string `gorm:"column:csrf_token;not null"` // per-session token every unsafe request must echo
	IP         string `gorm:"not null;default:''"`
	CreatedAt  time.Time
	LastSeenAt time.Time `gorm:"not null;index"`
}

// Invite is a one-time link through which an invited user sets a password. Only the token's
// SHA-256 is stored.
type Invite struct {
	ID        uint   `gorm:"primaryKey"`
	UserID    uint   `gorm:"not null;index"`
	User      *User  `gorm:"constraint:OnDelete:CASCADE"`
	TokenHash string `gorm:"not null;uniqueIndex"`
	ExpiresAt time.Time
	UsedAt    *time.Time
	CreatedAt time.Time
}

// SignInThrottle counts sign-in attempts for one subject ("pair:<email>|<address>" or
// "email:<email>") in the database, so every instance of the dashboard agrees on who is locked
// out. An attempt is counted before its password is checked and given back when it was right.
type SignInThrottle struct {
	Subject       string    `gorm:"primaryKey"`
	Failures      int       `gorm:"not null;default:0"`
	WindowStart   time.Time `gorm:"not null"`
	LastFailureAt *time.Time
	LockedUntil   *time.Time
	// Trusted marks a pair that has signed in successfully: the per-email limit does not pause
	// it, so guesses from elsewhere cannot lock the owner out of their own address.
	Trusted bool `gorm:"not null;default:false"`
}

// AuditEntry is one line of the append-only audit log. Before and After are JSON and never hold
// secrets.
type AuditEntry struct {
	ID         uint      `gorm:"primaryKey"`
	AccountID  *uint     `gorm:"index:idx_audit_account_id,priority:1"`
	ActorID    *uint     `gorm:"index"`
	ActorEmail string    `gorm:"not null;default:'';index"`
	Action     string    `gorm:"not null;index"`
	Target     string    `gorm:"not null;default:''"`
	Before     string    `gorm:"not null;default:''"`
	After      string    `gorm:"not null;default:''"`
	IP         string    `gorm:"not null;default:''"`
	At         time.Time `gorm:"not null;index"`
}
