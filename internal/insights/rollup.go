package insights

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"mmconsole/models"
)

// The webhook rollups: daily sums per WABA, template and route of the stored status and click
// events, with failures per error code. Fold reads the events after the last one it folded, in
// id order, a batch per transaction, and moves its cursor in the same transaction, guarded by
// the value it read: two instances folding at once cannot count an event twice.
//
// Ids are handed out when a row is inserted, not when its transaction commits: on PostgreSQL
// (a sequence, several instances' writers) an event can become visible after one with a higher
// id, and a cursor that had passed it would skip it forever. So a fold stops, in id order, at the
// first event received less than Settle ago: an event's received_at is taken before its id, and
// its writer commits within Settle of that, so any lower id still uncommitted when a settled
// event is read would have to belong to a transaction older than Settle.

const rollupCursor = "webhook_events"

// foldEvent is the part of a stored event the rollups need.
type foldEvent struct {
	ID           uint
	ReceivedAt   time.Time
	OccurredAt   *time.Time
	AccountID    *uint
	WABAID       string `gorm:"column:waba_id"`
	Kind         string
	Status       string
	WAMID        string `gorm:"column:wamid"`
	Route        string
	ErrorCode    *int
	ErrorTitle   string
	TemplateName string
}

// foldMessage is the part of a message the rollups need: its template and when its TTL started.
type foldMessage struct {
	WAMID        string `gorm:"column:wamid"`
	TemplateName *string
	AcceptedAt   *time.Time
	SentAt       *time.Time
}

type rollupKey struct {
	account  uint
	waba     string
	day      time.Time
	template string
	route    string
}

type errorKey struct {
	account uint
	waba    string
	day     time.Time
	code    int
}

// Fold folds every event stored since the last fold into the rollups and returns how many it
// folded.
func (s *Service) Fold(ctx context.Context) (int, error) {
	total := 0
	for ctx.Err() == nil {
		n, full, err := s.foldBatch(ctx)
		total += n
		if err != nil {
			return total, err
		}
		if !full {
			break
		}
	}
	return total, ctx.Err()
}

// foldBatch folds one batch; full says a whole batch was folded, so more may be waiting.
func (s *Service) foldBatch(ctx context.Context) (int, bool, error) {
	db := s.db.WithContext(ctx)
	if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&models.RollupCursor{Name: rollupCursor, UpdatedAt: s.now()}).Error; err != nil {
		return 0, false, fmt.Errorf("insights: rollup cursor: %w", err)
	}
	var cur models.RollupCursor
	if err := db.Where("name = ?", rollupCursor).Take(&cur).Error; err != nil {
		return 0, false, fmt.Errorf("insights: rollup cursor: %w", err)
	}
	var evs []foldEvent
	err := db.Model(&models.WebhookEvent{}).
		Select("id", "received_at", "occurred_at", "account_id", "waba_id", "kind", "status", "wamid", "route", "error_code", "error_title", "template_name").
		Where("id > ?", cur.LastEventID).Order("id").Limit(s.opts.FoldBatch).Find(&evs).Error
	if err != nil {
		return 0, false, fmt.Errorf("insights: read events: %w", err)
	}
	full := len(evs) == s.opts.FoldBatch
	cutoff := s.now().Add(-s.opts.Settle)
	for i, e := range evs {
		if e.ReceivedAt.After(cutoff) {
			evs, full = evs[:i], false
			break
		}
	}
	if len(evs) == 0 {
		return 0, false, nil
	}
	msgs, err := s.messagesOf(ctx, evs)
	if err != nil {
		return 0, false, err
	}
	rows, errs := aggregate(evs, msgs)
	days := byDay(rows)
	last := evs[len(evs)-1].ID
	err = db.Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&models.RollupCursor{}).Where("name = ? AND last_event_id = ?", rollupCursor, cur.LastEventID).
			Updates(map[string]any{"last_event_id": last, "updated_at": s.now()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return errFoldRace
		}
		return upsertRollups(tx, rows, days, errs)
	})
	if err == errFoldRace {
		return 0, false, nil // another instance folded these events
	}
	if err != nil {
		return 0, false, fmt.Errorf("insights: fold events %d–%d: %w", evs[0].ID, last, err)
	}
	return len(evs), full, nil
}

var errFoldRace = fmt.Errorf("insights: rollup cursor moved")

// messagesOf loads the messages the events are about.
func (s *Service) messagesOf(ctx context.Context, evs []foldEvent) (map[string]foldMessage, error) {
	seen := map[string]bool{}
	var wamids []string
	for _, e := range evs {
		if e.WAMID != "" && !seen[e.WAMID] {
			seen[e.WAMID] = true
			wamids = append(wamids, e.WAMID)
		}
	}
	out := make(map[string]foldMessage, len(wamids))
	for lo := 0; lo < len(wamids); lo += 500 {
		var ms []foldMessage
		err := s.db.WithContext(ctx).Model(&models.Message{}).Select("wamid", "template_name", "accepted_at", "sent_at").
			Where("wamid IN ?", wamids[lo:min(lo+500, len(wamids))]).Find(&ms).Error
		if err != nil {
			return nil, fmt.Errorf("insights: read messages: %w", err)
		}
		for _, m := range ms {
			out[m.WAMID] = m
		}
	}
	return out, nil
}

// EventDay is the day an event counts for: when Meta says it happened, else when it arrived.
func EventDay(occurred *time.Time, received time.Time) time.Time {
	if occurred != nil && !occurred.IsZero() {
		return Day(*occurred)
	}
	return Day(received)
}

// aggregate sums a batch of events into rollup rows. Only message statuses and clicks count.
func aggregate(evs []foldEvent, msgs map[string]foldMessage) ([]models.WebhookRollup, []models.WebhookErrorRollup) {
	rows := map[rollupKey]*models.WebhookRollup{}
	errs := map[errorKey]*models.WebhookErrorRollup{}
	for _, e := range evs {
		if e.Kind != models.KindStatus && e.Kind != models.KindClick {
			continue
		}
		var account uint
		if e.AccountID != nil {
			account = *e.AccountID
		}
		m := msgs[e.WAMID]
		tmpl := e.TemplateName
		if tmpl == "" && m.TemplateName != nil {
			tmpl = *m.TemplateName
		}
		route := e.Route
		if route == "" {
			route = models.RouteUnknown
		}
		day := EventDay(e.OccurredAt, e.ReceivedAt)
		k := rollupKey{account, e.WABAID, day, tmpl, route}
		r := rows[k]
		if r == nil {
			r = &models.WebhookRollup{AccountID: account, WABAID: e.WABAID, Day: day, TemplateName: tmpl, Route: route}
			rows[k] = r
		}
		at := e.ReceivedAt
		if e.OccurredAt != nil {
			at = *e.OccurredAt
		}
		start := m.AcceptedAt
		if start == nil {
			start = m.SentAt
		}
		if e.Kind == models.KindClick {
			r.Clicked++
			continue
		}
		switch e.Status {
		case models.MessageSent:
			r.Sent++
		case models.MessageDelivered:
			r.Delivered++
			if start != nil && !at.Before(*start) {
				r.DeliverSecs += int64(at.Sub(*start) / time.Second)
				r.DeliverN++
			}
		case models.MessageRead:
			r.Read++
			if start != nil && !at.Before(*start) {
				r.ReadSecs += int64(at.Sub(*start) / time.Second)
				r.ReadN++
			}
		case models.MessageFailed:
			r.Failed++
			code := 0
			if e.ErrorCode != nil {
				code = *e.ErrorCode
			}
			ek := errorKey{account, e.WABAID, day, code}
			er := errs[ek]
			if er == nil {
				er = &models.WebhookErrorRollup{AccountID: account, WABAID: e.WABAID, Day: day, ErrorCode: code, Title: truncate(e.ErrorTitle, 200)}
				errs[ek] = er
			}
			er.Count++
		}
	}
	outR := make([]models.WebhookRollup, 0, len(rows))
	for _, r := range rows {
		outR = append(outR, *r)
	}
	outE := make([]models.WebhookErrorRollup, 0, len(errs))
	for _, e := range errs {
		outE = append(outE, *e)
	}
	return outR, outE
}

type dayKey struct {
	account uint
	waba    string
	day     time.Time
	route   string
}

// byDay sums per-template rollup rows over their templates.
func byDay(rows []models.WebhookRollup) []models.WebhookDayRollup {
	m := map[dayKey]*models.WebhookDayRollup{}
	var keys []dayKey
	for _, r := range rows {
		k := dayKey{r.AccountID, r.WABAID, r.Day, r.Route}
		d := m[k]
		if d == nil {
			d = &models.WebhookDayRollup{AccountID: r.AccountID, WABAID: r.WABAID, Day: r.Day, Route: r.Route}
			m[k] = d
			keys = append(keys, k)
		}
		d.Sent += r.Sent
		d.Delivered += r.Delivered
		d.Read += r.Read
		d.Failed += r.Failed
		d.Clicked += r.Clicked
		d.DeliverSecs += r.DeliverSecs
		d.DeliverN += r.DeliverN
		d.ReadSecs += r.ReadSecs
		d.ReadN += r.ReadN
		d.Expired += r.Expired
	}
	out := make([]models.WebhookDayRollup, len(keys))
	for i, k := range keys {
		out[i] = *m[k]
	}
	return out
}

// upsertRollups adds the rows' sums to the stored ones (portable ON CONFLICT … DO UPDATE).
func upsertRollups(tx *gorm.DB, rows []models.WebhookRollup, days []models.WebhookDayRollup, errs []models.WebhookErrorRollup) error {
	add := func(table string, cols ...string) clause.Set {
		set := make(clause.Set, len(cols))
		for i, c := range cols {
			set[i] = clause.Assignment{Column: clause.Column{Name: c}, Value: gorm.Expr(table + "." + c + " + excluded." + c)}
		}
		return set
	}
	if len(rows) > 0 {
		err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "account_id"}, {Name: "waba_id"}, {Name: "day"}, {Name: "template_name"}, {Name: "route"}},
			DoUpdates: add("webhook_rollups", "sent", "delivered", "read", "failed", "clicked", "deliver_secs", "deliver_n", "read_secs", "read_n"),
		}).CreateInBatches(rows, 200).Error
		if err != nil {
			return err
		}
	}
	if len(days) > 0 {
		err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "account_id"}, {Name: "waba_id"}, {Name: "day"}, {Name: "route"}},
			DoUpdates: add("webhook_day_rollups", "sent", "delivered", "read", "failed", "clicked", "deliver_secs", "deliver_n", "read_secs", "read_n"),
		}).CreateInBatches(days, 200).Error
		if err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "account_id"}, {Name: "waba_id"}, {Name: "day"}, {Name: "error_code"}},
			DoUpdates: add("webhook_error_rollups", "count"),
		}).CreateInBatches(errs, 200).Error
	}
	return nil
}

// expiryWindow is how far back a message's TTL can still be running: Meta's longest marketing
// TTL (30 days) and the buffer for late webhooks, plus a day.
const expiryWindow = models.DefaultMarketingTTL + models.TTLExpiryBuffer + 24*time.Hour

// RecountExpired recomputes, for the days whose messages' TTLs may have ended since, how many
// messages expired undelivered (models.Message.Expired). It reads only undelivered messages of
// those days, once per fold, never per page view.
func (s *Service) RecountExpired(ctx context.Context) error {
	now := s.now()
	since := Day(now.Add(-expiryWindow))
	var ms []models.Message
	err := s.db.WithContext(ctx).Model(&models.Message{}).
		Select("wamid", "account_id", "waba_id", "template_name", "route", "accepted_at", "sent_at", "delivered_at", "read_at", "failed_at", "ttl_seconds").
		Where("delivered_at IS NULL AND read_at IS NULL AND failed_at IS NULL").
		Where("(accepted_at >= ? OR (accepted_at IS NULL AND sent_at >= ?))", since, since).Find(&ms).Error
	if err != nil {
		return fmt.Errorf("insights: read undelivered messages: %w", err)
	}
	rows := map[rollupKey]*models.WebhookRollup{}
	for _, m := range ms {
		if !m.Expired(now) {
			continue
		}
		var account uint
		if m.AccountID != nil {
			account = *m.AccountID
		}
		tmpl := ""
		if m.TemplateName != nil {
			tmpl = *m.TemplateName
		}
		route := m.Route
		if route == "" {
			route = models.RouteUnknown
		}
		day := Day(*m.TTLStart())
		k := rollupKey{account, m.WABAID, day, tmpl, route}
		if rows[k] == nil {
			rows[k] = &models.WebhookRollup{AccountID: account, WABAID: m.WABAID, Day: day, TemplateName: tmpl, Route: route}
		}
		rows[k].Expired++
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, m := range []any{&models.WebhookRollup{}, &models.WebhookDayRollup{}} {
			if err := tx.Model(m).Where("day >= ? AND expired <> 0", since).Update("expired", 0).Error; err != nil {
				return err
			}
		}
		if len(rows) == 0 {
			return nil
		}
		out := make([]models.WebhookRollup, 0, len(rows))
		for _, r := range rows {
			out = append(out, *r)
		}
		err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "account_id"}, {Name: "waba_id"}, {Name: "day"}, {Name: "template_name"}, {Name: "route"}},
			DoUpdates: clause.AssignmentColumns([]string{"expired"}),
		}).CreateInBatches(out, 200).Error
		if err != nil {
			return err
		}
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "account_id"}, {Name: "waba_id"}, {Name: "day"}, {Name: "route"}},
			DoUpdates: clause.AssignmentColumns([]string{"expired"}),
		}).CreateInBatches(byDay(out), 200).Error
	})
}
