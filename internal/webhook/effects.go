package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
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

// sentSet is one account's sent messages in a batch, for the templates they used.
type sentSet struct {
	wamids, opaque []string
	last           time.Time
}

// applyEffects brings messages and templates up to date with the batch's new events, inside the
// batch's transaction (so an event is never stored without its effect, or the reverse). Every
// write names the account owning the event's WABA: a template id, wamid or phone number that
// belongs to another account is never touched, and an event of a WABA nobody connected changes
// no account's rows.
func (s *Service) applyEffects(tx *gorm.DB, st *txStmts, fresh []stored, owners map[string]uint) error {
	msgs := map[string]*msgState{}
	var order []string
	sent := map[uint]*sentSet{}
	var clicks []stored
	var links []testSendLink
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
			if id, ok := models.ParseTestSendOpaque(e.BizOpaque); ok {
				if acct := accountOf(owners, e.WABAID); acct != nil {
					links = append(links, testSendLink{id: id, wamid: e.WAMID, account: *acct, waba: e.WABAID})
				}
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
				if acct := accountOf(owners, e.WABAID); acct != nil {
					ss := sent[*acct]
					if ss == nil {
						ss = &sentSet{}
						sent[*acct] = ss
					}
					ss.wamids = append(ss.wamids, e.WAMID)
					if e.BizOpaque != "" {
						ss.opaque = append(ss.opaque, e.BizOpaque)
					}
					if at.After(ss.last) {
						ss.last = *at
					}
				}
			case models.MessageDelivered:
				m.delivered = earliest(m.delivered, at)
			case models.MessageRead, "played":
				m.read = earliest(m.read, at)
			case models.MessageFailed:
				m.failed = earliest(m.failed, at)
			}
		case models.KindTemplateStatus, models.KindTemplateCategory, models.KindTemplateQuality:
			if err := s.applyTemplate(tx, e, f.at, accountOf(owners, e.WABAID)); err != nil {
				return err
			}
		case models.KindClick:
			clicks = append(clicks, f)
		case models.KindUserPreference:
			if err := s.storePreference(tx, f); err != nil {
				return err
			}
		}
	}
	if len(order) > 0 {
		// In wamid order, so that two instances' writers upserting the same messages take
		// their row locks in the same order (PostgreSQL) instead of deadlocking.
		slices.Sort(order)
		if err := s.upsertMessages(st, msgs, order); err != nil {
			return err
		}
		if err := s.markFallback(tx, fresh); err != nil {
			return err
		}
	}
	if err := s.linkTestSends(tx, links); err != nil {
		return err
	}
	for acct, ss := range sent {
		if err := s.markTemplatesSent(tx, acct, ss); err != nil {
			return err
		}
	}
	for _, c := range clicks {
		if err := s.attributeClick(tx, c, accountOf(owners, c.ev.WABAID)); err != nil {
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
	if st.cache.dia.arrays() {
		return upsertMessageArrays(st, msgs, order, now)
	}
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

// testSendLink is a status webhook naming the test send it belongs to (biz_opaque_callback_data).
type testSendLink struct {
	id      uint
	wamid   string
	account uint
	waba    string
}

// linkTestSends gives a test send whose answer was lost (outcome unknown, or left "sending" by a
// crash) the wamid its status webhook reveals, and gives the message the sender's side (template,
// request) that RecordAccepted would have written. The send must belong to the account and WABA
// the webhook speaks for, and must not have a wamid yet: a webhook never re-points a send.
func (s *Service) linkTestSends(tx *gorm.DB, links []testSendLink) error {
	now := s.now()
	for _, l := range links {
		res := tx.Exec(`UPDATE test_sends SET wamid = ?, message_status = ?, error_message = '', updated_at = ?
			WHERE id = ? AND account_id = ? AND waba_id = ? AND wamid = '' AND message_status IN (?, ?)`,
			l.wamid, models.MessageAccepted, now, l.id, l.account, l.waba, models.SendUnknown, models.SendSending)
		if res.Error != nil {
			return fmt.Errorf("webhook: link test send %d: %w", l.id, res.Error)
		}
		if res.RowsAffected == 0 {
			continue
		}
		err := tx.Exec(`UPDATE messages SET
				template_name = COALESCE(template_name, (SELECT template_name FROM test_sends WHERE id = ?)),
				template_language = COALESCE(template_language, (SELECT language FROM test_sends WHERE id = ?)),
				send_request = COALESCE(send_request, (SELECT request_json FROM test_sends WHERE id = ?)),
				updated_at = ?
			WHERE wamid = ? AND account_id = ?`, l.id, l.id, l.id, now, l.wamid, l.account).Error
		if err != nil {
			return fmt.Errorf("webhook: link test send %d: %w", l.id, err)
		}
	}
	return nil
}

// markTemplatesSent sets LastSentAt on the account's templates its sent messages used: matched
// by the message's template name and language (filled by the composer) or by
// biz_opaque_callback_data holding the template's id. Both the template and the message must be
// the account's: a wamid or template id of another account marks nothing.
func (s *Service) markTemplatesSent(tx *gorm.DB, account uint, ss *sentSet) error {
	at := ss.last
	for lo := 0; lo < len(ss.wamids); lo += 500 {
		hi := min(lo+500, len(ss.wamids))
		q := tx.Exec(`UPDATE templates SET last_sent_at = ?, updated_at = ?
			WHERE account_id = ? AND (last_sent_at IS NULL OR last_sent_at < ?)
			AND EXISTS (SELECT 1 FROM messages m WHERE m.wamid IN ? AND m.account_id = templates.account_id
				AND m.waba_id = templates.waba_id
				AND m.template_name = templates.name AND m.template_language = templates.language)`,
			at, s.now(), account, at, ss.wamids[lo:hi])
		if q.Error != nil {
			return fmt.Errorf("webhook: mark templates sent: %w", q.Error)
		}
	}
	if len(ss.opaque) > 0 {
		if err := tx.Exec(`UPDATE templates SET last_sent_at = ?, updated_at = ?
			WHERE account_id = ? AND (last_sent_at IS NULL OR last_sent_at < ?) AND template_id IN ?`,
			at, s.now(), account, at, ss.opaque).Error; err != nil {
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

// applyTemplate updates the template the event names, only if the account owning the event's
// WABA owns it (account nil: a WABA nobody connected, which owns no template).
func (s *Service) applyTemplate(tx *gorm.DB, e *Event, at time.Time, account *uint) error {
	if e.TemplateID == "" || account == nil {
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
		// Meta resets the TTL on an automatic category update (message_send_ttl_seconds becomes
		// null, mm-api-reference §1.5): keeping the old one would show, and compose with, a TTL
		// the template no longer has.
		upd["ttl_seconds"] = nil
	case models.KindTemplateQuality:
		upd["quality"] = e.Quality
		upd["quality_at"] = at
	}
	if err := tx.Table("templates").Where("template_id = ? AND account_id = ?", e.TemplateID, *account).Updates(upd).Error; err != nil {
		return fmt.Errorf("webhook: update template %s: %w", e.TemplateID, err)
	}
	return nil
}

// attributeClick ties a click to a message only when exactly one MM API message was sent from
// the phone number in the click window: the payload names no message and no user. Only messages
// of the account owning the click's WABA are candidates (account nil: only messages nobody's
// account owns either).
func (s *Service) attributeClick(tx *gorm.DB, c stored, account *uint) error {
	at := c.at
	if c.ev.OccurredAt != nil {
		at = *c.ev.OccurredAt
	}
	var wamids []string
	if c.ev.PhoneNumberID != "" {
		if err := ownedBy(tx.Table("messages"), account).Where("phone_number_id = ? AND route = ? AND sent_at >= ? AND sent_at <= ?",
			c.ev.PhoneNumberID, models.RouteMMAPI, at.Add(-clickWindow), at.Add(time.Minute)).
			Limit(2).Pluck("wamid", &wamids).Error; err != nil {
			return fmt.Errorf("webhook: attribute click: %w", err)
		}
	}
	if len(wamids) != 1 {
		detail := c.ev.Detail + phraseNotAttributedMany
		if len(wamids) == 0 {
			detail = c.ev.Detail + phraseNotAttributedNone
		}
		return tx.Exec("UPDATE webhook_events SET detail = ? WHERE id = ?", detail, c.id).Error
	}
	if err := tx.Exec("UPDATE webhook_events SET wamid = ?, detail = ? WHERE id = ?", wamids[0], c.ev.Detail+phraseAttributed, c.id).Error; err != nil {
		return fmt.Errorf("webhook: attribute click: %w", err)
	}
	return ownedBy(tx.Table("messages"), account).Where("wamid = ? AND clicked_at IS NULL", wamids[0]).
		Updates(map[string]any{"clicked_at": at, "updated_at": s.now()}).Error
}

// ownedBy narrows q to the rows of account (nil: rows no account owns).
func ownedBy(q *gorm.DB, account *uint) *gorm.DB {
	if account == nil {
		return q.Where("account_id IS NULL")
	}
	return q.Where("account_id = ?", *account)
}

// storePreference keeps the recipient's latest marketing preference for the WABA, for the
// account that connected it (a WABA nobody connected has no one to warn). An older preference
// delivered late never replaces a newer one.
func (s *Service) storePreference(tx *gorm.DB, f stored) error {
	e := f.ev
	if f.account == nil || e.WABAID == "" || e.Recipient == "" {
		return nil
	}
	var p struct {
		Category string `json:"category"`
		Value    string `json:"value"`
		Detail   string `json:"detail"`
	}
	if err := json.Unmarshal([]byte(e.Raw), &p); err != nil || p.Category != "marketing_messages" {
		return nil // the log keeps it; only marketing preferences decide 131050
	}
	v := strings.ToLower(p.Value)
	if v != models.PreferenceStop && v != models.PreferenceResume {
		return nil
	}
	at := f.at
	if e.OccurredAt != nil {
		at = *e.OccurredAt
	}
	err := tx.Exec(`INSERT INTO marketing_preferences (account_id, waba_id, recipient, value, detail, at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id, waba_id, recipient) DO UPDATE SET value = excluded.value, detail = excluded.detail,
			at = excluded.at, updated_at = excluded.updated_at
		WHERE excluded.at >= marketing_preferences.at`,
		*f.account, e.WABAID, e.Recipient, v, truncate(p.Detail, 500), at.UTC(), s.now()).Error
	if err != nil {
		return fmt.Errorf("webhook: store marketing preference: %w", err)
	}
	return nil
}

// MarketingPreference returns the recipient's latest marketing preference for the WABA in the
// given account; found is false when no user_preferences webhook named them.
func (s *Service) MarketingPreference(ctx context.Context, accountID uint, wabaID, recipient string) (p models.MarketingPreference, found bool, err error) {
	err = s.db.WithContext(ctx).Where("account_id = ? AND waba_id = ? AND recipient = ?", accountID, wabaID, recipient).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("webhook: marketing preference: %w", err)
	}
	return p, true, nil
}

// markFallback turns the batch's Cloud API status events into fallback events when the
// dashboard sent their message to /marketing_messages (it holds the send request): "marketing"
// pricing on such a send is MM API falling back, not an ordinary /messages send. The send must
// be of the event's own account (IS NOT DISTINCT FROM: both may be NULL): an event of another account's WABA
// naming that wamid is not the send's, and marking it would tell that account which wamids the
// dashboard sent.
func (s *Service) markFallback(tx *gorm.DB, fresh []stored) error {
	var ids []uint
	for _, f := range fresh {
		if f.ev.Kind == models.KindStatus && f.ev.Route == models.RouteCloudAPI {
			ids = append(ids, f.id)
		}
	}
	for lo := 0; lo < len(ids); lo += 500 {
		hi := min(lo+500, len(ids))
		err := tx.Exec(`UPDATE webhook_events SET route = ? WHERE id IN ? AND EXISTS
			(SELECT 1 FROM messages m WHERE m.wamid = webhook_events.wamid AND m.send_request IS NOT NULL
				AND m.account_id IS NOT DISTINCT FROM webhook_events.account_id)`,
			models.RouteFallback, ids[lo:hi]).Error
		if err != nil {
			return fmt.Errorf("webhook: mark fallback events: %w", err)
		}
	}
	return nil
}
