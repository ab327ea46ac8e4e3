package webhook

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"mmconsole/internal/database"
	"mmconsole/models"
)

// Accepted is a send the dashboard made and Meta accepted: what only the sender knows about a
// message (template, TTL, the request), to join what the status webhooks will say.
type Accepted struct {
	WAMID            string
	AccountID        uint
	WABAID           string
	PhoneNumberID    string
	Recipient        string
	TemplateName     string
	TemplateLanguage string
	TTLSeconds       int
	AcceptedAt       time.Time
	SendRequest      string
}

// RecordAccepted writes the sender's side of a message. Webhooks may have created the row
// already (a fast sent webhook can beat the composer's commit), so this is an upsert that sets
// only the sender's columns, and moves the status to "accepted" only if nothing later is known.
func (s *Service) RecordAccepted(ctx context.Context, a Accepted) error {
	acct := a.AccountID
	name, lang, req := a.TemplateName, a.TemplateLanguage, a.SendRequest
	m := models.Message{
		WAMID: a.WAMID, AccountID: &acct, WABAID: a.WABAID, PhoneNumberID: a.PhoneNumberID, Recipient: a.Recipient,
		TemplateName: &name, TemplateLanguage: &lang, Status: models.MessageAccepted,
		StatusRank: models.StatusRank(models.MessageAccepted), Route: models.RouteUnknown, AcceptedAt: &a.AcceptedAt,
		SendRequest: &req,
	}
	if a.TTLSeconds > 0 {
		ttl := a.TTLSeconds
		m.TTLSeconds = &ttl
	}
	rank := models.StatusRank(models.MessageAccepted)
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "wamid"}},
		DoUpdates: clause.Assignments(map[string]any{
			"account_id":        acct,
			"waba_id":           a.WABAID,
			"phone_number_id":   a.PhoneNumberID,
			"recipient":         a.Recipient,
			"template_name":     name,
			"template_language": lang,
			"accepted_at":       a.AcceptedAt,
			"ttl_seconds":       m.TTLSeconds,
			"send_request":      req,
			// A status webhook that came first could not know the send went to
			// /marketing_messages: its "marketing" pricing means fallback.
			"route":       gorm.Expr("CASE WHEN messages.route = ? THEN ? ELSE messages.route END", models.RouteCloudAPI, models.RouteFallback),
			"status":      gorm.Expr("CASE WHEN messages.status_rank < ? THEN ? ELSE messages.status END", rank, models.MessageAccepted),
			"status_rank": gorm.Expr(database.Greatest(s.db)+"(messages.status_rank, ?)", rank),
			"updated_at":  time.Now().UTC(),
		}),
	}).Create(&m).Error
	if err != nil {
		return fmt.Errorf("webhook: record accepted %s: %w", a.WAMID, err)
	}
	err = s.db.WithContext(ctx).Exec("UPDATE webhook_events SET route = ? WHERE wamid = ? AND account_id = ? AND route = ?",
		models.RouteFallback, a.WAMID, acct, models.RouteCloudAPI).Error
	if err != nil {
		return fmt.Errorf("webhook: record accepted %s: %w", a.WAMID, err)
	}
	return nil
}

// MessageState is a message's latest state without its events (for live result panels); a wamid
// no webhook has mentioned yet, or another account's, is models.ErrNotFound.
func (s *Service) MessageState(ctx context.Context, scope models.Scope, wamid string) (models.Message, error) {
	var m models.Message
	err := database.Scoped(s.db.WithContext(ctx), scope, "account_id").Where("wamid = ?", wamid).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return m, models.ErrNotFound
	}
	if err != nil {
		return m, fmt.Errorf("webhook: message %s: %w", wamid, err)
	}
	return m, nil
}
