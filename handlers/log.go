package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"mmconsole/internal/graph"
	"mmconsole/internal/i18n"
	"mmconsole/internal/metarules"
	"mmconsole/internal/templates"
	"mmconsole/internal/webhook"
	"mmconsole/models"
	"mmconsole/views/pages"
)

// LogReader is what the log and message pages read.
type LogReader interface {
	List(ctx context.Context, scope models.Scope, f webhook.Filter, after *webhook.Cursor, limit int) (webhook.Page, error)
	Messages(ctx context.Context, scope models.Scope, f webhook.Filter, after *webhook.MessageCursor, limit int) (webhook.MessagePage, error)
	ExportEvents(ctx context.Context, scope models.Scope, f webhook.Filter, max int, emit func([]models.WebhookEvent) error) (int, error)
	ExportMessages(ctx context.Context, scope models.Scope, f webhook.Filter, max int, emit func([]models.Message) error) (int, error)
	Newer(ctx context.Context, scope models.Scope, f webhook.Filter, since webhook.Cursor) ([]models.WebhookEvent, error)
	Event(ctx context.Context, scope models.Scope, id uint) (models.WebhookEvent, error)
	Message(ctx context.Context, scope models.Scope, wamid string) (webhook.MessageStory, error)
	Rejections(ctx context.Context, scope models.Scope, limit int) ([]models.WebhookRejection, error)
	Unparseable(ctx context.Context, scope models.Scope, limit int) ([]models.WebhookDelivery, error)
	Refusals(ctx context.Context, scope models.Scope, limit int) ([]models.WebhookRefusal, error)
	Options(ctx context.Context, scope models.Scope) (webhook.FilterOptions, error)
	ConsoleSent(ctx context.Context, scope models.Scope, wamids []string) (map[string]bool, error)
	MessageRoutes(ctx context.Context, scope models.Scope, evs []models.WebhookEvent) (map[string]string, error)
	SavedFilters(ctx context.Context, userID uint) ([]models.SavedFilter, error)
	SaveFilter(ctx context.Context, u models.User, name, query string) (models.SavedFilter, error)
	DeleteFilter(ctx context.Context, userID, id uint) error
	Search(ctx context.Context, scope models.Scope, q string) ([]webhook.SearchHit, error)
}

// WebhookLog serves /log and /messages/:wamid.
type WebhookLog struct {
	Shells *Shells
	Events LogReader
	Now    func() time.Time
	// ExportMaxRows bounds one CSV export (MMC_LOG_EXPORT_MAX_ROWS); 0: DefaultExportMaxRows.
	ExportMaxRows int
}

// DefaultExportMaxRows is MMC_LOG_EXPORT_MAX_ROWS's default.
const DefaultExportMaxRows = 1_000_000

const logPageSize = 50

const formTime = "2006-01-02T15:04"

// The log's two views: one row per webhook event, or one row per message in its latest state.
const (
	viewEvents   = "events"
	viewMessages = "messages"
)

// maxFilterValue bounds every free-text filter: ids, statuses and wamids are far shorter, a
// template name is at most 512 characters.
const maxFilterValue = 512

// logRoutes are the route filter's values.
var logRoutes = []string{models.RouteMMAPI, models.RouteFallback, models.RouteCloudAPI, models.RouteUnknown}

// parseLogFilter reads the filter from get (the query string, or a saved filter's). A value that
// does not parse is kept as typed and reported in pf.Errors, next to its field; a filter with
// errors is not run, so it never shows rows it was not asked for.
func parseLogFilter(ctx context.Context, get func(string) string) (pages.LogFilter, webhook.Filter, string) {
	pf := pages.LogFilter{
		WABA: strings.TrimSpace(get("waba")), Phone: strings.TrimSpace(get("phone")), Kind: get("kind"), Status: strings.TrimSpace(get("status")),
		Route: get("route"), ErrorCode: strings.TrimSpace(get("error_code")), Template: strings.TrimSpace(get("template")),
		Recipient: strings.TrimSpace(get("recipient")), WAMID: strings.TrimSpace(get("wamid")),
		From: strings.TrimSpace(get("from")), To: strings.TrimSpace(get("to")), Live: get("live") == "1", View: get("view"),
	}
	ve := &models.ValidationError{}
	f := webhook.Filter{WABAID: pf.WABA, PhoneNumberID: pf.Phone, Status: pf.Status, Template: pf.Template, WAMID: pf.WAMID}
	for field, v := range map[string]string{"waba": pf.WABA, "phone": pf.Phone, "status": pf.Status, "template": pf.Template, "wamid": pf.WAMID} {
		if len(v) > maxFilterValue {
			ve.Add(field, i18n.T(ctx, "log.err.too_long", "Max", i18n.Num(ctx, maxFilterValue)))
		}
	}
	switch pf.View {
	case "", viewEvents:
		pf.View = viewEvents
	case viewMessages:
	default:
		ve.Add("view", i18n.T(ctx, "log.err.view"))
	}
	if pf.Kind != "" {
		if !slices.Contains(webhook.Kinds, pf.Kind) {
			ve.Add("kind", i18n.T(ctx, "log.err.kind"))
		} else if pf.View == viewEvents {
			f.Kind = pf.Kind
		}
	}
	if pf.Route != "" {
		if !slices.Contains(logRoutes, pf.Route) {
			ve.Add("route", i18n.T(ctx, "log.err.route"))
		}
		f.Route = pf.Route
	}
	if pf.Status != "" && strings.ContainsFunc(pf.Status, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
	}) {
		ve.Add("status", i18n.T(ctx, "log.err.status"))
	}
	if pf.ErrorCode != "" {
		n, err := strconv.Atoi(pf.ErrorCode)
		if err != nil || n <= 0 || len(pf.ErrorCode) > 9 {
			ve.Add("error_code", i18n.T(ctx, "log.err.error_code"))
		} else {
			f.ErrorCode = &n
		}
	}
	if pf.Recipient != "" {
		// The number in any form the composer accepts, compared as the digits Meta sends.
		d, err := metarules.NormalizePhone(pf.Recipient)
		if err != nil {
			ve.Add("recipient", upperFirst(metarules.Words(ctx, err))+".")
		}
		f.Recipient = d
	}
	for _, t := range []struct {
		field, v string
		to       **time.Time
	}{{"from", pf.From, &f.From}, {"to", pf.To, &f.To}} {
		if t.v == "" {
			continue
		}
		at, err := time.Parse(formTime, t.v)
		if err != nil {
			at, err = time.Parse(formTime+":05", t.v)
		}
		if err != nil {
			ve.Add(t.field, i18n.T(ctx, "log.err.time"))
			continue
		}
		*t.to = &at
	}
	if f.From != nil && f.To != nil && !f.To.After(*f.From) {
		ve.Add("to", i18n.T(ctx, "log.err.order"))
	}
	if err := ve.OrNil(); err != nil {
		pf.Errors = ve.Fields
	}
	q := url.Values{}
	for k, v := range map[string]string{"waba": pf.WABA, "phone": pf.Phone, "kind": pf.Kind, "status": pf.Status,
		"route": pf.Route, "error_code": pf.ErrorCode, "template": pf.Template, "recipient": pf.Recipient,
		"wamid": pf.WAMID, "from": pf.From, "to": pf.To} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if pf.View == viewMessages {
		q.Set("view", viewMessages)
	}
	if pf.Live {
		q.Set("live", "1")
	}
	return pf, f, q.Encode()
}

// upperFirst starts a sentence with a capital.
func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func encodeCursor(cur webhook.Cursor) string {
	return strconv.FormatInt(cur.At.UnixNano(), 10) + "-" + strconv.FormatUint(uint64(cur.ID), 10)
}

func decodeCursor(s string) *webhook.Cursor {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return nil
	}
	ns, err1 := strconv.ParseInt(a, 10, 64)
	id, err2 := strconv.ParseUint(b, 10, 64)
	if err1 != nil || err2 != nil {
		return nil
	}
	return &webhook.Cursor{At: time.Unix(0, ns).UTC(), ID: uint(id)}
}

func explainCode(ctx context.Context, code *int, title string) *pages.ErrorInfo {
	if code == nil {
		return nil
	}
	x := graph.Explain(ctx, *code)
	return &pages.ErrorInfo{Code: *code, Title: title, Name: x.Title, Meaning: x.Meaning, Action: x.Action}
}

// logRows maps events to rows; consoleSent (wamids the dashboard sent itself) tells which
// status routes are known rather than inferred from pricing, and names labels WABAs and phones.
func logRows(ctx context.Context, evs []models.WebhookEvent, consoleSent map[string]bool, names webhook.FilterOptions) []pages.LogRow {
	rows := make([]pages.LogRow, len(evs))
	for i, e := range evs {
		rows[i] = pages.LogRow{Event: e, Error: explainCode(ctx, e.ErrorCode, e.ErrorTitle), ConsoleSent: consoleSent[e.WAMID],
			WABAName: names.WABAName(e.WABAID), PhoneName: names.PhoneName(e.PhoneNumberID)}
	}
	return rows
}

// rowsOf is logRows for a page of events, asking which of their messages the dashboard sent.
func (h *WebhookLog) rowsOf(ctx context.Context, scope models.Scope, evs []models.WebhookEvent, names webhook.FilterOptions) ([]pages.LogRow, error) {
	var wamids []string
	for _, e := range evs {
		if e.Kind == models.KindStatus && e.WAMID != "" {
			wamids = append(wamids, e.WAMID)
		}
	}
	sent, err := h.Events.ConsoleSent(ctx, scope, wamids)
	if err != nil {
		return nil, err
	}
	routes, err := h.Events.MessageRoutes(ctx, scope, evs)
	if err != nil {
		return nil, err
	}
	rows := logRows(ctx, evs, sent, names)
	for i := range rows {
		rows[i].MessageRoute = routes[rows[i].Event.WAMID]
	}
	return rows, nil
}

// messageRows maps messages to the per-message view's rows.
func (h *WebhookLog) messageRows(ctx context.Context, ms []models.Message, names webhook.FilterOptions) []pages.MessageRow {
	now := h.now()
	rows := make([]pages.MessageRow, len(ms))
	for i, m := range ms {
		r := pages.MessageRow{Message: m, Error: explainCode(ctx, m.ErrorCode, m.ErrorTitle),
			WABAName: names.WABAName(m.WABAID), PhoneName: names.PhoneName(m.PhoneNumberID)}
		r.TTLState, r.TTLEnd = ttlState(m, now)
		rows[i] = r
	}
	return rows
}

// ttlState says where a message stands against its TTL (a catalog key: the page reads it in the
// reader's language, the CSV in English) and when the TTL ends while it still counts. A TTL
// only matters until the message is delivered or fails.
func ttlState(m models.Message, now time.Time) (string, *time.Time) {
	switch {
	case m.Status == models.MessageFailed:
		return i18n.Key("log.ttl.failed"), nil
	case m.DeliveredAt != nil || m.ReadAt != nil:
		return i18n.Key("log.ttl.delivered"), nil
	case m.Expired(now):
		return i18n.Key("log.ttl.expired"), nil
	}
	if start := m.TTLStart(); start != nil {
		end := start.Add(m.TTL())
		return i18n.Key("log.ttl.counting"), &end
	}
	return i18n.Key("log.ttl.not_started"), nil
}

func tailCursor(evs []models.WebhookEvent, fallback string) string {
	if len(evs) == 0 {
		return fallback
	}
	return encodeCursor(webhook.Cursor{At: evs[0].ReceivedAt, ID: evs[0].ID})
}

func encodeMessageCursor(cur webhook.MessageCursor) string {
	return strconv.FormatInt(cur.At.UnixNano(), 10) + "-" + cur.WAMID
}

func decodeMessageCursor(s string) *webhook.MessageCursor {
	a, w, ok := strings.Cut(s, "-")
	ns, err := strconv.ParseInt(a, 10, 64)
	if !ok || err != nil || w == "" {
		return nil
	}
	return &webhook.MessageCursor{At: time.Unix(0, ns).UTC(), WAMID: w}
}

// results reads the page of the log the filter and cursor ask for, in the filter's view. A
// filter with errors reads nothing.
func (h *WebhookLog) results(c *fiber.Ctx, pf pages.LogFilter, f webhook.Filter, query string, names webhook.FilterOptions) (pages.LogResults, error) {
	ctx, scope := c.UserContext(), CurrentScope(c)
	res := pages.LogResults{Query: query, View: pf.View, ShowAccount: scope.AllAccounts, Errors: pf.Errors,
		Live: pf.Live && pf.View == viewEvents}
	if len(pf.Errors) > 0 {
		return res, nil
	}
	if pf.View == viewMessages {
		before := decodeMessageCursor(c.Query("before"))
		page, err := h.Events.Messages(ctx, scope, f, before, logPageSize)
		if err != nil {
			return res, err
		}
		res.Messages = h.messageRows(ctx, page.Messages, names)
		res.Total, res.TotalCapped, res.Paged = page.Total, page.TotalCapped, before != nil
		if page.Next != nil {
			res.NextCursor = encodeMessageCursor(*page.Next)
		}
		return res, nil
	}
	before := decodeCursor(c.Query("before"))
	page, err := h.Events.List(ctx, scope, f, before, logPageSize)
	if err != nil {
		return res, err
	}
	if res.Rows, err = h.rowsOf(ctx, scope, page.Events, names); err != nil {
		return res, err
	}
	res.Total, res.TotalCapped, res.Paged = page.Total, page.TotalCapped, before != nil
	// With nothing shown yet, the tail starts from now.
	res.TailCursor = tailCursor(page.Events, encodeCursor(webhook.Cursor{At: h.now()}))
	if page.Next != nil {
		res.NextCursor = encodeCursor(*page.Next)
	}
	return res, nil
}

// Get renders the log, or only its results region for htmx. A filter with errors answers 422,
// with each message next to its field.
func (h *WebhookLog) Get(c *fiber.Ctx) error {
	pf, f, query := parseLogFilter(c.UserContext(), func(k string) string { return c.Query(k) })
	return h.render(c, pf, f, query, "")
}

func (h *WebhookLog) render(c *fiber.Ctx, pf pages.LogFilter, f webhook.Filter, query, saveError string) error {
	ctx, scope := c.UserContext(), CurrentScope(c)
	names, err := h.Events.Options(ctx, scope)
	if err != nil {
		return err
	}
	res, err := h.results(c, pf, f, query, names)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if len(pf.Errors) > 0 || saveError != "" {
		status = fiber.StatusUnprocessableEntity
	}
	if IsHTMX(c) {
		res.OOBErrors = true
		return Render(c, status, pages.LogResultsRegion(res))
	}
	p := pages.LogPage{Filter: pf, Kinds: webhook.Kinds, WABAs: choices(names.WABAs), Phones: choices(names.Phones),
		Results: res, SaveError: saveError}
	if u, ok := CurrentUser(c); ok {
		if p.Saved, err = h.Events.SavedFilters(ctx, u.ID); err != nil {
			return err
		}
	}
	// Refused deliveries reached the shared callback and belong to no account: staff only.
	if scope.AllAccounts {
		p.ShowRejects = true
		if p.Rejections, err = h.Events.Rejections(ctx, scope, 20); err != nil {
			return err
		}
		if p.Refusals, err = h.Events.Refusals(ctx, scope, 20); err != nil {
			return err
		}
	}
	if p.Unparseable, err = h.Events.Unparseable(ctx, scope, 10); err != nil {
		return err
	}
	return Render(c, status, pages.Log(h.Shells.Shell(c, i18n.T(ctx, "log.title"), "log"), p))
}

func choices(cs []webhook.Choice) []pages.Choice {
	out := make([]pages.Choice, len(cs))
	for i, c := range cs {
		out[i] = pages.Choice{Value: c.Value, Label: c.Label}
	}
	return out
}

// Tail answers the live tail's poll with the events newer than the newest shown.
func (h *WebhookLog) Tail(c *fiber.Ctx) error {
	ctx, scope := c.UserContext(), CurrentScope(c)
	pf, f, query := parseLogFilter(ctx, func(k string) string { return c.Query(k) })
	if len(pf.Errors) > 0 {
		return &models.ValidationError{Fields: pf.Errors}
	}
	after := c.Query("after")
	since := decodeCursor(after)
	if since == nil {
		since = &webhook.Cursor{At: h.now()}
		after = encodeCursor(*since)
	}
	evs, err := h.Events.Newer(ctx, scope, f, *since)
	if err != nil {
		return err
	}
	names, err := h.Events.Options(ctx, scope)
	if err != nil {
		return err
	}
	rows, err := h.rowsOf(ctx, scope, evs, names)
	if err != nil {
		return err
	}
	return Render(c, fiber.StatusOK, pages.LogTail(rows, scope.AllAccounts, query, tailCursor(evs, after)))
}

// Raw renders one event's raw JSON, pretty-printed.
func (h *WebhookLog) Raw(c *fiber.Ctx) error {
	id, err := strconv.ParseUint(c.Params("id"), 10, 64)
	if err != nil {
		return models.ErrNotFound
	}
	e, err := h.Events.Event(c.UserContext(), CurrentScope(c), uint(id))
	if err != nil {
		return err
	}
	return Render(c, fiber.StatusOK, pages.RawJSON(prettyJSON(e.Raw)))
}

func prettyJSON(s string) string {
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(s), "", "  "); err != nil {
		return s
	}
	return b.String()
}

func (h *WebhookLog) now() time.Time {
	if h.Now != nil {
		return h.Now().UTC()
	}
	return time.Now().UTC()
}

func (h *WebhookLog) timeline(ctx context.Context, st webhook.MessageStory) pages.MessageTimeline {
	m := st.Message
	t := pages.MessageTimeline{WAMID: m.WAMID, Message: m, Events: logRows(ctx, st.Events, map[string]bool{m.WAMID: m.SendRequest != nil}, webhook.FilterOptions{}),
		Error: explainCode(ctx, m.ErrorCode, m.ErrorTitle), Expired: m.Expired(h.now()), Preference: st.Preference}
	var clickNote string
	if m.ClickedAt != nil {
		clickNote = i18n.T(ctx, "message.step.attributed")
	}
	t.Steps = []pages.TimelineStep{}
	if m.AcceptedAt != nil || m.SendRequest != nil {
		t.Steps = append(t.Steps, pages.TimelineStep{Label: i18n.T(ctx, "message.step.accepted"), At: m.AcceptedAt})
	}
	clicked := pages.TimelineStep{Label: i18n.T(ctx, "message.step.clicked"), At: m.ClickedAt, Note: clickNote}
	// Click webhooks exist for MM API messages only (mm-api-reference §4).
	switch {
	case m.ClickedAt != nil:
	case m.Route == models.RouteFallback:
		clicked.Untracked = i18n.T(ctx, "message.step.untracked_fallback")
	case m.Route == models.RouteCloudAPI:
		clicked.Untracked = i18n.T(ctx, "message.step.untracked_cloud")
	}
	t.Steps = append(t.Steps,
		pages.TimelineStep{Label: i18n.T(ctx, "message.step.sent"), At: m.SentAt},
		pages.TimelineStep{Label: i18n.T(ctx, "message.step.delivered"), At: m.DeliveredAt},
		pages.TimelineStep{Label: i18n.T(ctx, "message.step.read"), At: m.ReadAt},
		clicked)
	if m.FailedAt != nil {
		t.Steps = append(t.Steps, pages.TimelineStep{Label: i18n.T(ctx, "message.step.failed"), At: m.FailedAt, Failed: true})
	}
	defaultTTL := int(models.DefaultMarketingTTL / time.Second)
	switch {
	case m.OnCloudAPI():
		t.TTLLabel = i18n.T(ctx, "message.ttl.cloud", "TTL", templates.HumanTTL(ctx, &defaultTTL, "MARKETING"))
	case m.TTLKnown():
		t.TTLLabel = i18n.T(ctx, "message.ttl.known", "TTL", templates.HumanTTL(ctx, m.TTLSeconds, "MARKETING"))
	default:
		t.TTLAssumed = true
		t.TTLLabel = i18n.T(ctx, "message.ttl.assumed", "TTL", templates.HumanTTL(ctx, &defaultTTL, "MARKETING"))
	}
	if start := m.TTLStart(); start != nil {
		end := start.Add(m.TTL())
		t.TTLEnd = &end
	}
	t.Live = !m.Final() && !t.Expired
	return t
}

// wamidParam is the :wamid path segment decoded: wamids are base64 and may hold "/", which
// links escape as %2F, and Fiber leaves parameters escaped.
func wamidParam(c *fiber.Ctx) (string, error) {
	w, err := url.PathUnescape(c.Params("wamid"))
	if err != nil {
		return "", models.ErrNotFound
	}
	return w, nil
}

// Message renders one message's story; another account's wamid is 404.
func (h *WebhookLog) Message(c *fiber.Ctx) error {
	wamid, err := wamidParam(c)
	if err != nil {
		return err
	}
	st, err := h.Events.Message(c.UserContext(), CurrentScope(c), wamid)
	if err != nil {
		return err
	}
	p := pages.MessagePage{Timeline: h.timeline(c.UserContext(), st)}
	if st.Message.SendRequest != nil {
		p.SendRequest = prettyJSON(*st.Message.SendRequest)
	}
	return Render(c, fiber.StatusOK, pages.Message(h.Shells.Shell(c, i18n.T(c.UserContext(), "message.title"), "log"), p))
}

// Timeline renders the message's timeline region, for its live refresh.
func (h *WebhookLog) Timeline(c *fiber.Ctx) error {
	wamid, err := wamidParam(c)
	if err != nil {
		return err
	}
	st, err := h.Events.Message(c.UserContext(), CurrentScope(c), wamid)
	if err != nil {
		return err
	}
	return Render(c, fiber.StatusOK, pages.MessageTimelineRegion(h.timeline(c.UserContext(), st)))
}
