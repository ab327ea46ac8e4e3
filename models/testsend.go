package models

import (
	"strconv"
	"strings"
	"time"
)

// TestSend is one send made from the test send composer: who sent which template to whom, the
// exact request, Meta's answer and what the status webhooks said since. It is the audit trail
// of the composer and the source of the /sends history.
type TestSend struct {
	ID            uint   `gorm:"primaryKey;index:idx_test_sends_account_id,priority:2;index:idx_test_sends_account_template,priority:3;index:idx_test_sends_account_recipient,priority:3;index:idx_test_sends_account_user,priority:3"`
	AccountID     uint   `gorm:"not null;index:idx_test_sends_account_id,priority:1;index:idx_test_sends_account_template,priority:1;index:idx_test_sends_account_recipient,priority:1;index:idx_test_sends_account_user,priority:1"`
	ConnectionID  uint   `gorm:"not null;index"`
	WABAID        string `gorm:"column:waba_id;not null;default:''"`
	PhoneNumberID string `gorm:"not null;default:''"`
	TemplateRowID uint   `gorm:"not null;default:0"`
	TemplateID    string `gorm:"not null;default:''"` // Meta's template id
	TemplateName  string `gorm:"not null;default:'';index:idx_test_sends_account_template,priority:2;index"`
	Language      string `gorm:"not null;default:''"`
	Recipient     string `gorm:"not null;default:'';index:idx_test_sends_account_recipient,priority:2;index"` // digits only
	TTLSeconds    int    `gorm:"not null;default:0"`
	TTLMode       string `gorm:"not null;default:''"`
	ProductPolicy string `gorm:"not null;default:''"`
	RequestJSON   string `gorm:"not null;default:''"`
	ResponseJSON  string `gorm:"not null;default:''"`
	WAMID         string `gorm:"column:wamid;not null;default:'';index"`
	// MessageStatus is the synchronous answer: accepted, held_for_quality_assessment, paused;
	// "sending" while the request is in flight, "error" when Meta refused it (or the request
	// never left), "unknown" when the request left but no answer came back (Meta may have
	// accepted it: its status webhooks, matched by biz_opaque_callback_data, will tell).
	MessageStatus string `gorm:"not null;default:''"`
	// Status and Route are the latest the webhook log told us (sent, delivered, read, failed;
	// mm_api, fallback, unknown), cached here for the history list.
	Status       string `gorm:"not null;default:''"`
	Route        string `gorm:"not null;default:''"`
	ErrorCode    int    `gorm:"not null;default:0"`
	ErrorMessage string `gorm:"not null;default:''"`
	UserID       uint   `gorm:"not null;default:0;index:idx_test_sends_account_user,priority:2"`
	UserEmail    string `gorm:"not null;default:'';index"`
	// IdempotencyKey is generated when the form renders; a second POST with the same key shows
	// this row instead of sending again.
	IdempotencyKey string `gorm:"not null;uniqueIndex"`
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// TableName is test_sends.
func (TestSend) TableName() string { return "test_sends" }

// Pending reports whether the request to Meta has not been answered yet.
func (t TestSend) Pending() bool { return t.MessageStatus == "sending" }

// Send states of TestSend.MessageStatus that the dashboard sets itself (the others are Meta's).
const (
	SendSending = "sending"
	SendError   = "error"
	SendUnknown = "unknown"
)

// OutcomeUnknown reports whether the request went out but no answer came back.
func (t TestSend) OutcomeUnknown() bool { return t.MessageStatus == SendUnknown }

// CarriesOpaque reports whether the send's request carried biz_opaque_callback_data, so that its
// status webhooks can name it even when Meta's answer was lost.
func (t TestSend) CarriesOpaque() bool {
	return strings.Contains(t.RequestJSON, `"biz_opaque_callback_data"`)
}

// testSendOpaquePrefix marks the biz_opaque_callback_data of a test send; Meta echoes it in the
// message's status webhooks, which is how a send whose answer was lost finds its wamid.
const testSendOpaquePrefix = "mmc-test-send:"

// TestSendOpaque is the biz_opaque_callback_data a test send carries.
func TestSendOpaque(id uint) string { return testSendOpaquePrefix + strconv.FormatUint(uint64(id), 10) }

// ParseTestSendOpaque reads the test send id back from biz_opaque_callback_data.
func ParseTestSendOpaque(s string) (uint, bool) {
	rest, ok := strings.CutPrefix(s, testSendOpaquePrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(rest, 10, 64)
	if err != nil || n == 0 {
		return 0, false
	}
	return uint(n), true
}
