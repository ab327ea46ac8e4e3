package webhook

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"mmconsole/internal/database"
	"mmconsole/models"
)

// MessageCursor is a position in the per-message log: messages newest first by when they were
// first seen, ties broken by wamid (the primary key).
type MessageCursor struct {
	At    time.Time
	WAMID string
}

// MessagePage is one page of the per-message log: each message once, in its latest state.
type MessagePage struct {
	Messages    []models.Message
	Total       int64
	TotalCapped bool
	Next        *MessageCursor
}

// selectiveRows is how many matches make a filter selective enough to read through its own
// index and sort; past it the first-seen order is walked instead, since matches are then dense.
const selectiveRows = 5000

// messagePlan is how a per-message query reads its filters: the template names the template
// filter stands for, and whether the phone and template filters use their indexes.
type messagePlan struct {
	templates    []string
	phone        bool
	walkPhone    bool
	walkTemplate bool
}

// selective reports whether a filter is known to match at most selectiveRows messages.
func (p messagePlan) selective() bool {
	return (p.phone && !p.walkPhone) || (len(p.templates) > 0 && !p.walkTemplate)
}

// planMessages resolves the template filter to names (it also takes Meta's template id) and
// decides, by an index-only count, whether the phone and template filters are selective.
func (s *Service) planMessages(ctx context.Context, scope models.Scope, f Filter) (messagePlan, error) {
	var p messagePlan
	f = f.storable()
	db := s.db.WithContext(ctx)
	dense := func(col string, v any) (bool, error) {
		var n int64
		sub := db.Model(&models.Message{}).Select("1").Where(col+" IN ?", v).Limit(selectiveRows + 1)
		if err := db.Table("(?) AS matching", sub).Count(&n).Error; err != nil {
			return false, fmt.Errorf("webhook: plan messages: %w", err)
		}
		return n > selectiveRows, nil
	}
	var err error
	if f.PhoneNumberID != "" {
		p.phone = true
		if p.walkPhone, err = dense("phone_number_id", []string{f.PhoneNumberID}); err != nil {
			return p, err
		}
	}
	if f.Template != "" {
		p.templates = []string{f.Template}
		var names []string
		if err := database.Scoped(db.Model(&models.Template{}), scope, "account_id").
			Where("template_id = ?", f.Template).Distinct("name").Pluck("name", &names).Error; err != nil {
			return p, fmt.Errorf("webhook: plan messages: %w", err)
		}
		p.templates = append(p.templates, names...)
		if p.walkTemplate, err = dense("template_name", p.templates); err != nil {
			return p, err
		}
	}
	return p, nil
}

// messagesFiltered applies f to the messages table. Kind has no meaning for a message and is
// left out; Status is the message's latest status and From/To bound when it was first seen.
func (s *Service) messagesFiltered(ctx context.Context, scope models.Scope, f Filter, p messagePlan) *gorm.DB {
	f = f.storable()
	q := database.Scoped(s.db.WithContext(ctx).Model(&models.Message{}), scope, "account_id")
	eq := func(col, v string) {
		if v != "" {
			q = q.Where(col+" = ?", v)
		}
	}
	eq("waba_id", f.WABAID)
	if f.PhoneNumberID != "" {
		col := "phone_number_id"
		if p.walkPhone {
			col = database.Unindexed(s.db, col)
		}
		q = q.Where(col+" = ?", f.PhoneNumberID)
	}
	eq("status", f.Status)
	eq("route", f.Route)
	eq("wamid", f.WAMID)
	if f.Recipient != "" {
		// messages has no recipient index (see 0180_a); the events' index names the number's
		// messages, a few hundred at most, which the primary key then finds.
		q = q.Where("recipient = ? AND wamid IN (SELECT wamid FROM webhook_events WHERE recipient = ? AND wamid <> '')", f.Recipient, f.Recipient)
	}
	if f.ErrorCode != nil {
		q = q.Where("error_code = ?", *f.ErrorCode)
	}
	if f.Template != "" {
		col := "template_name"
		if p.walkTemplate {
			col = database.Unindexed(s.db, col)
		}
		q = q.Where(col+" IN ?", p.templates)
	}
	if f.From != nil {
		q = q.Where("created_at >= ?", f.From.UTC())
	}
	if f.To != nil {
		q = q.Where("created_at < ?", f.To.UTC())
	}
	return q
}

// MessageCountCap bounds the per-message view's count. It is lower than the events' CountCap:
// most of its filters walk the first-seen order rather than an index of their own, and the
// count's cost grows with the rows walked.
const MessageCountCap = 1000

// Messages returns up to limit messages matching f, newest first, after cursor (nil: the
// newest), with the number of matching messages (capped at MessageCountCap).
func (s *Service) Messages(ctx context.Context, scope models.Scope, f Filter, after *MessageCursor, limit int) (MessagePage, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	var p MessagePage
	plan, err := s.planMessages(ctx, scope, f)
	if err != nil {
		return p, err
	}
	if p.Messages, p.Next, err = s.messagesAfter(ctx, scope, f, plan, after, limit); err != nil {
		return p, err
	}
	sub := s.messagesFiltered(ctx, scope, f, plan).Select("1").Limit(MessageCountCap + 1)
	if err := s.db.WithContext(ctx).Table("(?) AS matching", sub).Count(&p.Total).Error; err != nil {
		return p, fmt.Errorf("webhook: count messages: %w", err)
	}
	if p.Total > MessageCountCap {
		p.Total, p.TotalCapped = MessageCountCap, true
	}
	return p, nil
}

// maxTies bounds the messages first seen at one same instant that a page reads whole; times
// are kept to the microsecond or finer, so a real tie is a handful of messages.
const maxTies = 1000

// messagesAfter reads up to limit messages after cursor in (created_at, wamid) order, newest
// first. The query orders by created_at alone, which the one created_at index serves on both
// databases (SQLite will not walk it for a two-column order and sorts the whole table instead);
// the messages sharing the page's last instant are then read whole and ordered by wamid here,
// so the order, and the cursor, are exact.
func (s *Service) messagesAfter(ctx context.Context, scope models.Scope, f Filter, plan messagePlan, after *MessageCursor, limit int) ([]models.Message, *MessageCursor, error) {
	base := func() *gorm.DB {
		// The request body can be large; a list row never shows it.
		q := s.messagesFiltered(ctx, scope, f, plan).Omit("send_request")
		if after != nil {
			at := after.At.UTC()
			q = q.Where("created_at <= ? AND NOT (created_at = ? AND wamid >= ?)", at, at, cleanText(after.WAMID))
		}
		return q
	}
	var ms []models.Message
	if plan.selective() {
		// At most selectiveRows match: read them through their filter's index, unordered (an
		// ORDER BY would tempt SQLite to walk the first-seen order instead), and order them here.
		if err := base().Limit(selectiveRows + 1).Find(&ms).Error; err != nil {
			return nil, nil, fmt.Errorf("webhook: list messages: %w", err)
		}
	} else {
		if err := base().Order("created_at DESC").Limit(limit + 1).Find(&ms).Error; err != nil {
			return nil, nil, fmt.Errorf("webhook: list messages: %w", err)
		}
		if len(ms) > limit {
			edge := ms[len(ms)-1].CreatedAt
			kept := ms[:0]
			for _, m := range ms {
				if !m.CreatedAt.Equal(edge) {
					kept = append(kept, m)
				}
			}
			var ties []models.Message
			if err := base().Where("created_at = ?", edge).Limit(maxTies).Find(&ties).Error; err != nil {
				return nil, nil, fmt.Errorf("webhook: list messages: %w", err)
			}
			ms = append(kept, ties...)
		}
	}
	slices.SortStableFunc(ms, func(a, b models.Message) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.WAMID, a.WAMID)
	})
	if len(ms) <= limit {
		return ms, nil, nil
	}
	ms = ms[:limit]
	last := ms[limit-1]
	return ms, &MessageCursor{At: last.CreatedAt, WAMID: last.WAMID}, nil
}

// exportBatch is how many rows an export reads per query: large enough that the query cost is
// spread thin, small enough that a batch is a few hundred kilobytes in memory.
const exportBatch = 1000

// ExportEvents calls emit with the events matching f, newest first, in batches, until max rows
// have been emitted (max <= 0: no bound), emit fails or ctx ends. Only one batch is held at a
// time, so an export of any size keeps memory flat. It returns how many rows were emitted.
func (s *Service) ExportEvents(ctx context.Context, scope models.Scope, f Filter, max int, emit func([]models.WebhookEvent) error) (int, error) {
	return exportPaged(max, func(after *Cursor, size int) ([]models.WebhookEvent, *Cursor, error) {
		return s.eventsAfter(ctx, scope, f, after, size)
	}, emit)
}

// ExportMessages is ExportEvents for the per-message view.
func (s *Service) ExportMessages(ctx context.Context, scope models.Scope, f Filter, max int, emit func([]models.Message) error) (int, error) {
	plan, err := s.planMessages(ctx, scope, f)
	if err != nil {
		return 0, err
	}
	return exportPaged(max, func(after *MessageCursor, size int) ([]models.Message, *MessageCursor, error) {
		return s.messagesAfter(ctx, scope, f, plan, after, size)
	}, emit)
}

// exportPaged walks a keyset-paged list batch by batch (page reads one batch after a cursor).
func exportPaged[T, C any](max int, page func(after *C, size int) ([]T, *C, error), emit func([]T) error) (int, error) {
	n := 0
	var after *C
	for {
		size := exportBatch
		if max > 0 && max-n < size {
			size = max - n
		}
		if size <= 0 {
			return n, nil
		}
		rows, next, err := page(after, size)
		if err != nil {
			return n, err
		}
		if len(rows) > 0 {
			if err := emit(rows); err != nil {
				return n, err
			}
			n += len(rows)
		}
		if next == nil {
			return n, nil
		}
		after = next
	}
}

// MessageRoutes maps the wamids of evs (visible in scope) to their message's route: only sent
// and delivered statuses carry pricing, so an event's own route is often empty.
func (s *Service) MessageRoutes(ctx context.Context, scope models.Scope, evs []models.WebhookEvent) (map[string]string, error) {
	out := map[string]string{}
	var wamids []string
	for _, e := range evs {
		if e.WAMID != "" {
			wamids = append(wamids, e.WAMID)
		}
	}
	if len(wamids) == 0 {
		return out, nil
	}
	var ms []models.Message
	err := database.Scoped(s.db.WithContext(ctx).Model(&models.Message{}), scope, "account_id").
		Select("wamid", "route").Where("wamid IN ?", wamids).Find(&ms).Error
	if err != nil {
		return nil, fmt.Errorf("webhook: message routes: %w", err)
	}
	for _, m := range ms {
		out[m.WAMID] = m.Route
	}
	return out, nil
}
