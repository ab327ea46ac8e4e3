package webhook

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"mmconsole/internal/database"
	"mmconsole/internal/i18n"
	"mmconsole/models"
)

// Filter narrows the log; every field is optional and they combine.
type Filter struct {
	WABAID        string
	PhoneNumberID string
	Kind          string
	Status        string
	// Route is the route of the message an event is about (models.RouteMMAPI, RouteFallback,
	// RouteCloudAPI, RouteUnknown), not the event's own: only sent and delivered statuses carry
	// pricing, so "fallback and read" must ask the message.
	Route     string
	ErrorCode *int
	Template  string // template name or Meta template id
	Recipient string
	WAMID     string
	From, To  *time.Time // received_at range, To exclusive
}

// Cursor is a position in the log's order, newest first. The log is in the order events were
// stored (id), which is the order they were received; a page with a time range walks the time
// index instead, by received_at then id, so both are kept.
type Cursor struct {
	At time.Time
	ID uint
}

// Page is one page of the log.
type Page struct {
	Events      []models.WebhookEvent
	Total       int64
	TotalCapped bool    // Total is a lower bound: more than CountCap rows match
	Next        *Cursor // the cursor of the next (older) page, nil on the last
}

// CountCap bounds the "total matching" count, so a count never scans millions of rows.
const CountCap = 10000

// RouteCountCap is CountCap for a filter by the message's route or template, which costs one
// probe of the messages table (or of the events by wamid) per event counted.
const RouteCountCap = 1000

func countCap(f Filter) int {
	if f.Route != "" || f.Template != "" {
		return RouteCountCap
	}
	return CountCap
}

// Event kinds the log offers, in the order its filter lists them.
var Kinds = []string{models.KindStatus, models.KindMessage, models.KindClick, models.KindTemplateStatus,
	models.KindTemplateCategory, models.KindTemplateQuality, models.KindUserPreference,
	models.KindAccountUpdate, models.KindError, models.KindUnknown}

func (s *Service) filtered(ctx context.Context, scope models.Scope, f Filter) *gorm.DB {
	f = f.storable()
	q := database.Scoped(s.db.WithContext(ctx).Model(&models.WebhookEvent{}), scope, "account_id")
	eq := func(col, v string) {
		if v != "" {
			q = q.Where(col+" = ?", v)
		}
	}
	eq("waba_id", f.WABAID)
	eq("phone_number_id", f.PhoneNumberID)
	eq("kind", f.Kind)
	eq("status", f.Status)
	eq("recipient", f.Recipient)
	eq("wamid", f.WAMID)
	if f.ErrorCode != nil {
		q = q.Where("error_code = ?", *f.ErrorCode)
	}
	if f.Template != "" {
		// Status events name no template; the message does (filled by the composer). The "<> ''"
		// terms let SQLite use the partial template indexes, which leave out untemplated events.
		msgs, args := templateMessages(scope, f.Template)
		q = q.Where("((template_name = ? AND template_name <> '') OR (template_id = ? AND template_id <> '') OR "+
			s.dia.inSubquery("wamid", msgs)+")", append([]any{f.Template, f.Template}, args...)...)
	}
	if f.Route != "" {
		// Correlated, so the log still walks its own id order and stops at a page: each event
		// costs one primary-key probe of messages.
		q = q.Where("wamid <> '' AND EXISTS (SELECT 1 FROM messages m WHERE m.wamid = webhook_events.wamid AND m.route = ?)", f.Route)
	}
	if f.From != nil {
		q = q.Where("received_at >= ?", f.From.UTC())
	}
	if f.To != nil {
		q = q.Where("received_at < ?", f.To.UTC())
	}
	return q
}

// templateMessages is the SQL (and its arguments) of the wamids of the messages sent with
// template name t that the scope may see: an event of one account naming another account's
// wamid is not a send of the other account's template.
func templateMessages(scope models.Scope, t string) (string, []any) {
	if scope.AllAccounts {
		return "SELECT wamid FROM messages WHERE template_name = ?", []any{t}
	}
	return "SELECT wamid FROM messages WHERE template_name = ? AND account_id = ?", []any{t, scope.AccountID}
}

// List returns up to limit events matching f, newest first, starting after cursor (nil: the
// newest), with the number of matching events (capped at CountCap).
func (s *Service) List(ctx context.Context, scope models.Scope, f Filter, after *Cursor, limit int) (Page, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	var p Page
	var err error
	if p.Events, p.Next, err = s.eventsAfter(ctx, scope, f, after, limit); err != nil {
		return p, err
	}
	limit = countCap(f)
	if f.Template == "" {
		if p.Total, err = s.countUpTo(ctx, s.filtered(ctx, scope, f), limit+1); err != nil {
			return p, err
		}
	} else if p.Total, err = s.countTemplate(ctx, scope, f, limit+1); err != nil {
		return p, err
	}
	if p.Total > int64(limit) {
		p.Total, p.TotalCapped = int64(limit), true
	}
	return p, nil
}

// countUpTo counts the rows of q, stopping at n.
func (s *Service) countUpTo(ctx context.Context, q *gorm.DB, n int) (int64, error) {
	var c int64
	if err := s.db.WithContext(ctx).Table("(?) AS matching", q.Select("1").Limit(n)).Count(&c).Error; err != nil {
		return 0, fmt.Errorf("webhook: count events: %w", err)
	}
	return c, nil
}

// countTemplate counts, up to n, the events matching f with a template: those naming it
// themselves (template webhooks, through the partial template indexes), then the others whose
// message was sent with it. Counted as one OR, the database gathers every event of every such
// message before it stops (131 ms on PostgreSQL at a million events); counted apart, the second
// part walks the template's messages and their events by wamid and stops at n
// (dialect.eventsOfMessages).
func (s *Service) countTemplate(ctx context.Context, scope models.Scope, f Filter, n int) (int64, error) {
	f = f.storable()
	rest := f
	rest.Template = ""
	own, err := s.countUpTo(ctx, s.filtered(ctx, scope, rest).
		Scopes(namingTemplate(f.Template)), n)
	if err != nil || own >= int64(n) {
		return own, err
	}
	msgs, args := templateMessages(scope, f.Template)
	events := s.filtered(ctx, scope, rest).Select("1").Where("template_name <> ? AND template_id <> ?", f.Template, f.Template)
	var sent int64
	if err := s.dia.eventsOfMessages(s.db.WithContext(ctx), msgs, args, events, n-int(own)).Scan(&sent).Error; err != nil {
		return 0, fmt.Errorf("webhook: count events: %w", err)
	}
	return own + sent, nil
}

// namingTemplate keeps the events that name template t themselves (template webhooks). Their ids
// come from the partial template indexes first: asked as one OR next to the account, PostgreSQL
// walked the account's index instead and checked both columns of every event in it (130 ms at a
// million events for a template with 500 events).
func namingTemplate(t string) func(*gorm.DB) *gorm.DB {
	return func(q *gorm.DB) *gorm.DB {
		return q.Where("id IN (SELECT id FROM webhook_events WHERE template_name = ? AND template_name <> '' "+
			"UNION SELECT id FROM webhook_events WHERE template_id = ? AND template_id <> '')", t, t)
	}
}

// templateSeen reports whether any message or event in scope names template t. When none does,
// the filter's answer is empty, and the indexed query is not asked: with no match to stop at,
// it walked every event in scope (60 ms on SQLite, 200 ms on PostgreSQL at a million events, for
// a customer filtering a template only other accounts used). Both probes stop at one row on an
// index: the messages' (template, account) index and the events' partial template indexes.
func (s *Service) templateSeen(ctx context.Context, scope models.Scope, t string) (bool, error) {
	msgs, args := templateMessages(scope, t)
	var n int64
	if err := s.db.WithContext(ctx).Raw("SELECT count(*) FROM ("+msgs+" LIMIT 1) AS m", args...).Scan(&n).Error; err != nil {
		return false, fmt.Errorf("webhook: template seen: %w", err)
	}
	if n > 0 {
		return true, nil
	}
	named := s.filtered(ctx, scope, Filter{}).Select("1").Scopes(namingTemplate(t)).Limit(1)
	if err := s.db.WithContext(ctx).Raw("SELECT count(*) FROM (?) AS e", named).Scan(&n).Error; err != nil {
		return false, fmt.Errorf("webhook: template seen: %w", err)
	}
	return n > 0, nil
}

// templateWindow is how many of the newest events (matching the other filters) the template
// filter's first try looks through: at a few per cent of events sent with one template, that
// finds a page; a template that rare among the newest events takes the indexed query instead.
const templateWindow = 4000

// eventsAfter reads up to limit events matching f after cursor, and the cursor of the next
// batch (nil when there is none). The list's pages and the export's batches both walk it.
func (s *Service) eventsAfter(ctx context.Context, scope models.Scope, f Filter, after *Cursor, limit int) ([]models.WebhookEvent, *Cursor, error) {
	// Every filter's index ends in the rowid, so id order costs nothing; a time range instead
	// walks the received_at index in its own order (the same order, as events are stored when
	// they arrive) rather than sorting the whole range by id.
	order := "id DESC"
	page := func(q *gorm.DB) *gorm.DB {
		if f.From != nil || f.To != nil {
			if after != nil {
				q = q.Where("(received_at, id) < (?, ?)", after.At, storedID(after.ID))
			}
		} else if after != nil {
			q = q.Where("id < ?", storedID(after.ID))
		}
		return q
	}
	if f.From != nil || f.To != nil {
		order = "received_at DESC, id DESC"
	}
	var evs []models.WebhookEvent
	if f.Template != "" {
		// The template filter matches events spread over thousands of messages (every status
		// of every message sent with it): gathering them all through the indexes and sorting
		// them to find the newest took 75 ms on SQLite and 211 ms on PostgreSQL at a million
		// events. The newest events are walked first instead, each checked against its
		// message by primary key; a page found among them is exactly the query's first page.
		rest := f
		rest.Template = ""
		t := cleanText(f.Template)
		if !scope.AllAccounts {
			// A customer's template is often one only other accounts used (or none): asking
			// first whether any of its messages or events names it spares the walk, which would
			// find nothing in its 4,000 events.
			seen, err := s.templateSeen(ctx, scope, t)
			if err != nil {
				return nil, nil, err
			}
			if !seen {
				return nil, nil, nil
			}
		}
		window := page(s.filtered(ctx, scope, rest)).Select("id").Order(order).Limit(templateWindow)
		q := page(s.filtered(ctx, scope, rest)).Omit("raw")
		if f.From != nil || f.To != nil {
			q = q.Where("id IN (?)", window)
		} else {
			// A lower bound rather than IN: both engines then walk the primary key down from the
			// newest and stop at the page, instead of checking the whole window and sorting it.
			q = q.Where("id >= (SELECT MIN(id) FROM (?) AS newest)", window)
		}
		// A scalar subquery rather than EXISTS: PostgreSQL would otherwise hash every message of
		// the template first; this way each event probes its message by primary key.
		mine := ""
		args := []any{t, t, t}
		if !scope.AllAccounts {
			mine = " AND m.account_id = ?"
			args = append(args, scope.AccountID)
		}
		q = q.Where("(template_name = ? OR template_id = ? OR (wamid <> '' AND ? = (SELECT m.template_name FROM messages m WHERE m.wamid = webhook_events.wamid"+mine+")))", args...)
		if err := q.Order(order).Limit(limit + 1).Find(&evs).Error; err != nil {
			return nil, nil, fmt.Errorf("webhook: list events: %w", err)
		}
		seen := len(evs) > 0
		if !seen && len(evs) <= limit {
			var err error
			if seen, err = s.templateSeen(ctx, scope, t); err != nil {
				return nil, nil, err
			}
		}
		if seen && len(evs) <= limit {
			// Fewer than a page among the newest: the template is rare there (or the log ends),
			// and its indexes find its events. Sorting only their ids, which every index holds,
			// and reading the page's rows afterwards by primary key spares the database reading
			// each matching row from the table before it knows the newest.
			ids := page(s.filtered(ctx, scope, f)).Select("id").Order(order).Limit(limit + 1)
			evs = nil
			if err := s.db.WithContext(ctx).Model(&models.WebhookEvent{}).Omit("raw").Where("id IN (?)", ids).
				Order(order).Limit(limit + 1).Find(&evs).Error; err != nil {
				return nil, nil, fmt.Errorf("webhook: list events: %w", err)
			}
		}
	} else if err := page(s.filtered(ctx, scope, f)).Omit("raw").Order(order).Limit(limit + 1).Find(&evs).Error; err != nil {
		return nil, nil, fmt.Errorf("webhook: list events: %w", err)
	}
	if len(evs) <= limit {
		return evs, nil, nil
	}
	evs = evs[:limit]
	last := evs[limit-1]
	return evs, &Cursor{At: last.ReceivedAt, ID: last.ID}, nil
}

// Newer returns the events matching f that are newer than since (oldest first is not needed:
// newest first, like the log), for the live tail. At most 200.
func (s *Service) Newer(ctx context.Context, scope models.Scope, f Filter, since Cursor) ([]models.WebhookEvent, error) {
	var out []models.WebhookEvent
	q := s.filtered(ctx, scope, f).Omit("raw")
	if since.ID > 0 {
		q = q.Where("id > ?", storedID(since.ID))
	} else {
		// Nothing shown yet: the tail starts at a time.
		q = q.Where("received_at > ?", since.At)
	}
	err := q.Order("id DESC").Limit(200).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("webhook: newer events: %w", err)
	}
	return out, nil
}

// Event returns one event with its raw JSON (cut from its delivery's body when it is kept
// there); another account's event is ErrNotFound.
func (s *Service) Event(ctx context.Context, scope models.Scope, id uint) (models.WebhookEvent, error) {
	var e models.WebhookEvent
	if !idInRange(id) {
		return e, models.ErrNotFound
	}
	err := database.Scoped(s.db.WithContext(ctx), scope, "account_id").Where("id = ?", id).Take(&e).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return e, models.ErrNotFound
	}
	if err != nil || e.RawAt == nil {
		return e, err
	}
	// The delivery may hold other accounts' events too; only this event's part of it leaves here.
	var d models.WebhookDelivery
	if err := s.db.WithContext(ctx).Where("id = ?", e.DeliveryID).Take(&d).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return e, fmt.Errorf("webhook: event %d: %w", id, ErrRawMissing)
		}
		return e, fmt.Errorf("webhook: event %d: %w", id, err)
	}
	if err := s.codec.body(&d); err != nil {
		return e, err
	}
	at, end := *e.RawAt, *e.RawAt+e.RawLen
	if at < 0 || end > len(d.Body) {
		return e, fmt.Errorf("webhook: event %d: %w", id, ErrRawMissing)
	}
	e.Raw = d.Body[at:end]
	return e, nil
}

// Delivery returns a stored delivery (raw body, parse error). Deliveries may span accounts, so
// only staff read them whole.
func (s *Service) Delivery(ctx context.Context, scope models.Scope, id uint) (models.WebhookDelivery, error) {
	var d models.WebhookDelivery
	if !scope.AllAccounts || !idInRange(id) {
		return d, models.ErrNotFound
	}
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&d).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return d, models.ErrNotFound
	}
	if err != nil {
		return d, err
	}
	return d, s.codec.body(&d)
}

// Unparseable lists the newest deliveries that could not be read (staff only: a body that
// cannot be parsed cannot be attributed to an account).
func (s *Service) Unparseable(ctx context.Context, scope models.Scope, limit int) ([]models.WebhookDelivery, error) {
	var out []models.WebhookDelivery
	if !scope.AllAccounts {
		return nil, nil
	}
	err := s.db.WithContext(ctx).Where("parse_error <> ''").Order("id DESC").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, err
	}
	for i := range out {
		if err := s.codec.body(&out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Rejections lists the newest refused deliveries (staff only: an unsigned or oversized body
// belongs to no account, and the callback is shared, so a customer would see other parties'
// traffic and addresses).
func (s *Service) Rejections(ctx context.Context, scope models.Scope, limit int) ([]models.WebhookRejection, error) {
	var out []models.WebhookRejection
	if !scope.AllAccounts {
		return nil, nil
	}
	err := s.db.WithContext(ctx).Order("id DESC").Limit(limit).Find(&out).Error
	return out, err
}

// Refusals lists the newest entries refused because the connection secret that signed their
// delivery does not cover their WABA (staff only: they are another party's claims about a WABA,
// and the delivery's raw body is only shown to staff).
func (s *Service) Refusals(ctx context.Context, scope models.Scope, limit int) ([]models.WebhookRefusal, error) {
	var out []models.WebhookRefusal
	if !scope.AllAccounts {
		return nil, nil
	}
	err := s.db.WithContext(ctx).Order("id DESC").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("webhook: refused entries: %w", err)
	}
	return out, nil
}

// MessageStory is a message's latest state and every event about it, in the order they
// happened.
type MessageStory struct {
	Message models.Message
	Events  []models.WebhookEvent
	// Preference is the recipient's latest marketing preference for the message's WABA (in the
	// message's account), nil when none is known: it explains a 131050 failure.
	Preference *models.MarketingPreference
}

// Message returns a message and its events; another account's wamid is ErrNotFound.
func (s *Service) Message(ctx context.Context, scope models.Scope, wamid string) (MessageStory, error) {
	var st MessageStory
	err := database.Scoped(s.db.WithContext(ctx), scope, "account_id").Where("wamid = ?", wamid).Take(&st.Message).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return st, models.ErrNotFound
	}
	if err != nil {
		return st, fmt.Errorf("webhook: message %s: %w", wamid, err)
	}
	// The message's own events: those of its account, and those of its WABA stored before an
	// account connected it. For staff (every account in scope), another account's events naming
	// the same wamid are not this message's.
	evs := s.db.WithContext(ctx).Where("wamid = ?", wamid)
	if m := st.Message; m.AccountID != nil {
		evs = evs.Where("(account_id = ? OR (account_id IS NULL AND waba_id = ?))", *m.AccountID, m.WABAID)
	} else {
		evs = evs.Where("account_id IS NULL")
	}
	err = database.Scoped(evs, scope, "account_id").Order("id").Limit(500).Omit("raw").Find(&st.Events).Error
	if err != nil {
		return st, fmt.Errorf("webhook: events of message %s: %w", wamid, err)
	}
	if m := st.Message; m.AccountID != nil && m.Recipient != "" {
		p, found, err := s.MarketingPreference(ctx, *m.AccountID, m.WABAID, m.Recipient)
		if err != nil {
			return st, err
		}
		if found {
			st.Preference = &p
		}
	}
	return st, nil
}

// TemplateHistory lists a template's status, category and quality webhooks, newest first.
func (s *Service) TemplateHistory(ctx context.Context, scope models.Scope, templateID string) ([]models.WebhookEvent, error) {
	var out []models.WebhookEvent
	err := database.Scoped(s.db.WithContext(ctx), scope, "account_id").
		Where("template_id = ? AND template_id <> '' AND kind IN ?", templateID,
			[]string{models.KindTemplateStatus, models.KindTemplateCategory, models.KindTemplateQuality}).
		Order("id DESC").Limit(200).Omit("raw").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("webhook: template %s history: %w", templateID, err)
	}
	return out, nil
}

// Choice is one value of a filter menu and what a person reads for it.
type Choice struct {
	Value string // the id the filter matches
	Label string // the name and number a person knows it by
}

// FilterOptions are the values the log's filter menus offer in scope.
type FilterOptions struct {
	WABAs  []Choice
	Phones []Choice
}

// WABAName is the label of a WABA id (the id itself when no connection names it).
func (o FilterOptions) WABAName(id string) string { return labelOf(o.WABAs, id) }

// PhoneName is the label of a phone number id (the id itself when it is not known).
func (o FilterOptions) PhoneName(id string) string { return labelOf(o.Phones, id) }

func labelOf(cs []Choice, id string) string {
	for _, c := range cs {
		if c.Value == id {
			return c.Label
		}
	}
	return id
}

// Options lists the WABAs and phone numbers the scope can filter by, with their names: a WABA by
// its connection's name, a number by its display number and verified name.
func (s *Service) Options(ctx context.Context, scope models.Scope) (FilterOptions, error) {
	var o FilterOptions
	var wabas []models.WABAConnection
	if err := database.Scoped(s.db.WithContext(ctx).Model(&models.WABAConnection{}), scope, "account_id").
		Select("waba_id", "name").Order("name, waba_id").Find(&wabas).Error; err != nil {
		return o, fmt.Errorf("webhook: filter wabas: %w", err)
	}
	for _, w := range wabas {
		label := w.Name
		if label == "" {
			label = "WABA " + w.WABAID
		}
		o.WABAs = append(o.WABAs, Choice{Value: w.WABAID, Label: label})
	}
	var phones []models.PhoneNumber
	if err := database.Scoped(s.db.WithContext(ctx).Model(&models.PhoneNumber{}), scope, "account_id").
		Select("phone_number_id", "display_phone_number", "verified_name").Order("verified_name, display_phone_number, phone_number_id").
		Find(&phones).Error; err != nil {
		return o, fmt.Errorf("webhook: filter phones: %w", err)
	}
	for _, p := range phones {
		label := strings.TrimSpace(p.VerifiedName + " " + p.DisplayPhoneNumber)
		if label == "" {
			label = i18n.T(ctx, "webhook.option.phone", "ID", p.PhoneNumberID)
		}
		o.Phones = append(o.Phones, Choice{Value: p.PhoneNumberID, Label: label})
	}
	return o, nil
}

// ConsoleSent reports which of wamids (visible in scope) the dashboard itself sent to
// /marketing_messages: it holds their send request. Any other message's route is inferred from
// its pricing alone.
func (s *Service) ConsoleSent(ctx context.Context, scope models.Scope, wamids []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(wamids) == 0 {
		return out, nil
	}
	var sent []string
	err := database.Scoped(s.db.WithContext(ctx).Model(&models.Message{}), scope, "account_id").
		Where("wamid IN ? AND send_request IS NOT NULL", wamids).Pluck("wamid", &sent).Error
	if err != nil {
		return nil, fmt.Errorf("webhook: console sends: %w", err)
	}
	for _, w := range sent {
		out[w] = true
	}
	return out, nil
}
