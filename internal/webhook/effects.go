package webhook

import (
	"fmt"
	"time"

	"gorm.io/gorm"

	"mmconsole/models"
)

// clickWindow is how long after a send Meta reports link clicks (mm-api-reference §6.5).
const clickWindow = 7 * 24 * time.Hour

// msgState is the merged effect of one batch's status events on one message.
type msgState struct {
	wamid, waba, phone, recipient string
	account                       *uint
	status                        string
	rank                          int
	route, category               string
	errCode                       *int
	errTitle                      string
	sent, delivered, read, failed *time.Time
}

func earliest(a, b *time.Time) *time.Time {
	if a == nil || (b != nil && b.Before(*a)) {
		return b
	}
	return a
}

// applyEffects brings messages and templates up to date with the batch's new events, inside the
// batch's transaction (so an event is never stored without its effect, or the reverse).
func (s *Service) applyEffects(tx *gorm.DB, st *txStmts, fresh []stored, owners map[string]uint) error {
	msgs := map[string]*msgState{}
	var order []string
	var sentWAMIDs, opaque []string
	var lastSent time.Time
	var clicks []stored
	for _, f := range fresh {
		e := f.ev
		switch e.Kind {
		case models.KindStatus:
			m := msgs[e.WAMID]
			if m == nil {
				m = &msgState{wamid: e.WAMID, route: models.RouteUnknown}
				msgs[e.WAMID] = m
				order = append(order, e.WAMID)
			}
			m.waba = firstNonEmpty(m.waba, e.WABAID)
			m.phone = firstNonEmpty(m.phone, e.PhoneNumberID)
			m.recipient = firstNonEmpty(m.recipient, e.Recipient)
			if m.account == nil {
				m.account = accountOf(owners, e.WABAID)
			}
			if r := models.StatusRank(e.Status); r > m.rank {
				m.rank, m.status = r, e.Status
			}
			if e.Route != models.RouteUnknown {
				m.route = e.Route
			}
			if e.PricingCategory != "" {
				m.category = e.PricingCategory
			}
			if e.ErrorCode != nil {
				m.errCode, m.errTitle = e.ErrorCode, e.ErrorTitle
			}
			at := e.OccurredAt
			if at == nil {
				at = &f.at
			}
			switch e.Status {
			case models.MessageSent:
				m.sent = earliest(m.sent, at)
				sentWAMIDs = append(sentWAMIDs, e.WAMID)
				if e.BizOpaque != "" {
					opaque = append(opaque, e.BizOpaque)
				}
				if at.After(lastSent) {
					lastSent = *at
				}
			case models.MessageDelivered:
				m.delivered = earliest(m.delivered, at)
			case models.MessageRead, "played":
				m.read = earliest(m.read, at)
			case models.MessageFailed:
				m.failed = earliest(m.failed, at)
			}
		case models.KindTemplateStatus, models.KindTemplateCategory, models.KindTemplateQuality:
			if err := s.applyTemplate(tx, e, f.at); err != nil {
				return err
			}
		case models.KindClick:
			clicks = append(clicks, f)
		}
	}
	if len(order) > 0 {
		if err := s.upsertMessages(st, msgs, order); err != nil {
			return err
		}
	}
	if len(sentWAMIDs) > 0 {
		if err := s.markTemplatesSent(tx, sentWAMIDs, opaque, lastSent); err != nil {
			return err
		}
	}
	for _, c := range clicks {
		if err := s.attributeClick(tx, c); err != nil {
			return err
		}
	}
	return nil
}

// upsertMessages creates or advances each message. The composer may have inserted the row
// already (with template, TTL and send request) or may insert it later; the upsert only touches
// the columns webhooks own, and never moves the status backwards.
func (s *Service) upsertMessages(st *txStmts, msgs map[string]*msgState, order []string) error {
	now := s.now()
	args := make([]any, 0, min(len(order), maxRows)*17)
	for left := order; len(left) > 0; {
		n := chunk(len(left))
		args = args[:0]
		for _, w := range left[:n] {
			m := msgs[w]
			args = append(args, m.wamid, m.account, m.waba, m.phone, m.recipient, m.status, m.rank, m.route,
				m.category, m.errCode, m.errTitle, m.sent, m.delivered, m.read, m.failed, now, now)
		}
		left = left[n:]
		up, err := st.get(stmtKey{kind: stmtMessages, rows: n})
		if err != nil {
			return err
		}
		if _, err := up.ExecContext(st.ctx, args...); err != nil {
			return fmt.Errorf("webhook: update messages: %w", err)
		}
	}
	return nil
}

// markTemplatesSent sets LastSentAt on the templates the batch's sent messages used: matched by
// the message's template name and language (filled by the composer) or by
// biz_opaque_callback_data holding the template's id.
func (s *Service) markTemplatesSent(tx *gorm.DB, wamids, opaque []string, at time.Time) error {
	for lo := 0; lo < len(wamids); lo += 500 {
		hi := min(lo+500, len(wamids))
		q := tx.Exec(`UPDATE templates SET last_sent_at = ?, updated_at = ?
			WHERE (last_sent_at IS NULL OR last_sent_at < ?)
			AND EXISTS (SELECT 1 FROM messages m WHERE m.wamid IN ? AND m.waba_id = templates.waba_id
				AND m.template_name = templates.name AND m.template_language = templates.language)`,
			at, s.now(), at, wamids[lo:hi])
		if q.Error != nil {
			return fmt.Errorf("webhook: mark templates sent: %w", q.Error)
		}
	}
	if len(opaque) > 0 {
		if err := tx.Exec(`UPDATE templates SET last_sent_at = ?, updated_at = ?
			WHERE (last_sent_at IS NULL OR last_sent_at < ?) AND template_id IN ?`, at, s.now(), at, opaque).Error; err != nil {
			return fmt.Errorf("webhook: mark templates sent: %w", err)
		}
	}
	return nil
}

// templateStatus maps a status-update event to the template status it leaves behind; "" for
// events that do not change the status (a flag, an unarchive whose status the next refresh reads).
func templateStatus(event string) string {
	switch event {
	case "REINSTATED":
		return "APPROVED"
	case "FLAGGED", "UNARCHIVED", "":
		return ""
	}
	return event
}

func (s *Service) applyTemplate(tx *gorm.DB, e *Event, at time.Time) error {
	if e.TemplateID == "" {
		return nil
	}
	upd := map[string]any{"updated_at": s.now()}
	switch e.Kind {
	case models.KindTemplateStatus:
		st := templateStatus(e.Status)
		if st == "" {
			return nil
		}
		upd["status"] = st
		if e.Category != "" {
			upd["category"] = e.Category
		}
		switch st {
		case "APPROVED":
			upd["approved_at"] = at
			upd["rejected_reason"] = ""
		case "REJECTED":
			upd["rejected_reason"] = e.Detail
		}
	case models.KindTemplateCategory:
		if e.Category == "" {
			return nil // an announcement: the category changes in 24 h, with its own webhook
		}
		upd["category"] = e.Category
	case models.KindTemplateQuality:
		upd["quality"] = e.Quality
		upd["quality_at"] = at
	}
	if err := tx.Table("templates").Where("template_id = ?", e.TemplateID).Updates(upd).Error; err != nil {
		return fmt.Errorf("webhook: update template %s: %w", e.TemplateID, err)
	}
	return nil
}

// attributeClick ties a click to a message only when exactly one MM API message was sent from
// the phone number in the click window: the payload names no message and no user.
func (s *Service) attributeClick(tx *gorm.DB, c stored) error {
	at := c.at
	if c.ev.OccurredAt != nil {
		at = *c.ev.OccurredAt
	}
	var wamids []string
	if c.ev.PhoneNumberID != "" {
		if err := tx.Table("messages").Where("phone_number_id = ? AND route = ? AND sent_at >= ? AND sent_at <= ?",
			c.ev.PhoneNumberID, models.RouteMMAPI, at.Add(-clickWindow), at.Add(time.Minute)).
			Limit(2).Pluck("wamid", &wamids).Error; err != nil {
			return fmt.Errorf("webhook: attribute click: %w", err)
		}
	}
	if len(wamids) != 1 {
		detail := c.ev.Detail + " · not attributed: several MM API messages were sent from this number in the last 7 days"
		if len(wamids) == 0 {
			detail = c.ev.Detail + " · not attributed: no MM API message from this number in the last 7 days"
		}
		return tx.Exec("UPDATE webhook_events SET detail = ? WHERE id = ?", detail, c.id).Error
	}
	if err := tx.Exec("UPDATE webhook_events SET wamid = ?, detail = ? WHERE id = ?", wamids[0], c.ev.Detail+" · attributed: the only MM API message from this number in the window", c.id).Error; err != nil {
		return fmt.Errorf("webhook: attribute click: %w", err)
	}
	return tx.Exec("UPDATE messages SET clicked_at = ?, updated_at = ? WHERE wamid = ? AND clicked_at IS NULL", at, s.now(), wamids[0]).Error
}
