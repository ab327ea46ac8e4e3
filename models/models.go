// Package models holds the dashboard's entities (GORM structs), their small pure methods and the
// typed errors every layer shares. No database calls and no HTTP live here.
package models

import (
	"context"
	"time"

	"mmconsole/internal/i18n"
)

// Account is one Hibot customer. It owns WABA connections and users.
type Account struct {
	ID        uint   `gorm:"primaryKey"`
	Name      string `gorm:"not null;uniqueIndex"`
	Sandbox   bool   `gorm:"not null;default:false"` // the demo account that owns the sandbox WABAs
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Role is what a user may do inside an account.
type Role string

// Roles, from most to least powerful. Staff users (Hibot's own people) read every account; a
// staff admin also manages them.
const (
	RoleAdmin    Role = "admin"    // users, connections, plus everything a marketer does
	RoleMarketer Role = "marketer" // switch optimizations, edit TTL, send tests
	RoleViewer   Role = "viewer"   // read-only: sync state, logs, errors (support)
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleMarketer || r == RoleViewer }

// Label is the role's name in the language of ctx.
func (r Role) Label(ctx context.Context) string {
	switch r {
	case RoleAdmin:
		return i18n.T(ctx, "role.admin")
	case RoleMarketer:
		return i18n.T(ctx, "role.marketer")
	case RoleViewer:
		return i18n.T(ctx, "role.viewer")
	}
	return string(r)
}

// User is a person who signs in. AccountID is nil for Hibot staff.
type User struct {
	ID           uint  `gorm:"primaryKey"`
	AccountID    *uint `gorm:"index"`
	Account      *Account
	Email        string `gorm:"not null;uniqueIndex"`
	Name         string `gorm:"not null;default:''"`
	PasswordHash string `gorm:"not null;default:''"` // empty until an invited user sets one
	Role         Role   `gorm:"not null"`
	Staff        bool   `gorm:"not null;default:false"`
	Disabled     bool   `gorm:"not null;default:false"`
	Language     string `gorm:"not null;default:''"` // i18n code chosen on the account page; empty: the browser's
	LastSignInAt *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Scope is the part of the data a user may see. The zero value sees nothing useful (account 0).
type Scope struct {
	AllAccounts bool // Hibot staff
	AccountID   uint
}

// Scope returns what u may see.
func (u User) Scope() Scope {
	if u.Staff {
		return Scope{AllAccounts: true}
	}
	if u.AccountID == nil {
		return Scope{}
	}
	return Scope{AccountID: *u.AccountID}
}

// CanWrite reports whether u may change optimizations, TTLs and send tests. Staff change a
// customer's settings only as staff admins.
func (u User) CanWrite() bool {
	return u.Role == RoleAdmin || (u.Role == RoleMarketer && !u.Staff)
}

// CanAdmin reports whether u may manage users and connections (of its account, or of every
// account for a staff admin).
func (u User) CanAdmin() bool { return u.Role == RoleAdmin }

// Allows reports whether a row owned by accountID is visible in scope s. A nil account (an event
// for a WABA nobody connected) is visible to staff only.
func (s Scope) Allows(accountID *uint) bool {
	if s.AllAccounts {
		return true
	}
	return accountID != nil && *accountID == s.AccountID
}

// TTL flavours: where a test send's time-to-live goes (mm-api-reference §1.5). A connection's API
// decides it (WABAConnection.TTLMode).
const (
	TTLPerSend  = "per_send" // Hibot's documented "time_to_live" field in the send body
	TTLTemplate = "template" // Meta's message_send_ttl_seconds on the template
)

// APIs a connection talks to. Meta's /marketing_messages refuses properties outside its schema,
// so the per-send "time_to_live" that Hibot's gateway documents may only go through the gateway.
const (
	APIMeta         = "meta"          // Meta's Graph API directly: TTL is the template's
	APIHibotGateway = "hibot_gateway" // Hibot's gateway: per-send time_to_live
)

// WABAConnection is one WhatsApp Business Account an account has connected, with the secrets the
// Graph API needs (sealed with the secrets box, never rendered back).
type WABAConnection struct {
	ID              uint `gorm:"primaryKey"`
	AccountID       uint `gorm:"not null;index"`
	Account         *Account
	WABAID          string `gorm:"column:waba_id;not null;uniqueIndex"`
	Name            string `gorm:"not null;default:''"`
	TokenSealed     []byte `gorm:"not null"`
	TokenLast4      string `gorm:"not null;default:''"`
	AppSecretSealed []byte // optional: when this WABA's app differs from MMC_APP_SECRET
	// API is the API this WABA's requests reach (APIMeta or APIHibotGateway); it decides where the
	// TTL of a send goes.
	API              string `gorm:"column:api;not null;default:'meta'"`
	Sandbox          bool   `gorm:"not null;default:false"` // reached through the embedded sandbox
	OnboardingStatus string `gorm:"not null;default:''"`    // marketing_messages_onboarding_status as last read
	// CloudMarketingOff is disable_marketing_messages_on_cloud_api as last read: marketing
	// templates may not go through Cloud API (fallback sends answer 131063).
	CloudMarketingOff bool `gorm:"column:disable_marketing_messages_on_cloud_api;not null;default:false"`
	LastCheckedAt     *time.Time
	LastCheckError    string `gorm:"not null;default:''"`
	// GraphOKAt is when Meta last answered a Graph API call for this WABA (with the result or
	// with its own error), GraphFailedAt when one last failed and GraphFailure how (in the dashboard's words, never Meta's text). Pages that
	// need Meta show them, so a person can tell a slow or down Meta from a problem of this WABA.
	GraphOKAt     *time.Time
	GraphFailedAt *time.Time
	GraphFailure  string `gorm:"not null;default:''"`
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// TTLMode is where a send's TTL goes: the template's message_send_ttl_seconds on Meta, the
// per-send time_to_live only through Hibot's gateway. An unknown API is treated as Meta, so the
// field Meta refuses is never added by mistake.
func (c WABAConnection) TTLMode() string {
	if c.API == APIHibotGateway {
		return TTLPerSend
	}
	return TTLTemplate
}

// APILabel names the connection's API for people.
func (c WABAConnection) APILabel() string {
	if c.API == APIHibotGateway {
		return "Hibot's gateway"
	}
	return "Meta (Graph API)"
}

// Onboarded reports whether MM API sends from this WABA go through MM API (not fallback).
func (c WABAConnection) Onboarded() bool { return c.OnboardingStatus == "ONBOARDED" }

// PhoneNumber is a business phone number of a connected WABA.
type PhoneNumber struct {
	ID                 uint   `gorm:"primaryKey"`
	ConnectionID       uint   `gorm:"not null;index"`
	AccountID          uint   `gorm:"not null;index"`
	PhoneNumberID      string `gorm:"not null;uniqueIndex"`
	DisplayPhoneNumber string `gorm:"not null;default:''"`
	VerifiedName       string `gorm:"not null;default:''"`
	QualityRating      string `gorm:"not null;default:''"`
	CreatedAt          time.Time
	UpdatedAt          time.Time
}
