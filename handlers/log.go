package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"mmconsole/internal/graph"
	"mmconsole/internal/templates"
	"mmconsole/internal/webhook"
	"mmconsole/models"
	"mmconsole/views/pages"
)

// LogReader is what the log and message pages read.
type LogReader interface {
	List(ctx context.Context, scope models.Scope, f webhook.Filter, after *webhook.Cursor, limit int) (webhook.Page, error)
	Newer(ctx context.Context, scope models.Scope, f webhook.Filter, since webhook.Cursor) ([]models.WebhookEvent, error)
	Event(ctx context.Context, scope models.Scope, id uint) (models.WebhookEvent, error)
	Message(ctx context.Context, scope models.Scope, wamid string) (webhook.MessageStory, error)
	Rejections(ctx context.Context, scope models.Scope, limit int) ([]models.WebhookRejection, error)
	Unparseable(ctx context.Context, scope models.Scope, limit int) ([]models.WebhookDelivery, error)
	Refusals(ctx context.Context, scope models.Scope, limit int) ([]models.WebhookRefusal, error)
	Options(ctx context.Context, scope models.Scope) (webhook.FilterOptions, error)
	ConsoleSent(ctx context.Context, scope models.Scope, wamids []string) (map[string]bool, error)
}

// WebhookLog serves /log and /messages/:wamid.
type WebhookLog struct {
	Shells *Shells
	Events LogReader
	Now    func() time.Time
}

const logPageSize = 50

const formTime = "2006-01-02T15:04"

// parseLogFilter reads the filter from the query string; values that do not parse are ignored
// (and shown as typed), since a filter narrows and never fails.
func parseLogFilter(c *fiber.Ctx) (pages.LogFilter, webhook.Filter, string) {
	pf := pages.LogFilter{
		WABA: c.Query("waba"), Phone: c.Query("phone"), Kind: c.Query("kind"), Status: strings.TrimSpace(c.Query("status")),
		Route: c.Query("route"), ErrorCode: strings.TrimSpace(c.Query("error_code")), Template: strings.TrimSpace(c.Query("template")),
		Recipient: strings.TrimSpace(c.Query("recipient")), WAMID: strings.TrimSpace(c.Query("wamid")),
		From: c.Query("from"), To: c.Query("to"), Live: c.Query("live") == "1",
	}
	f := webhook.Filter{WABAID: pf.WABA, PhoneNumberID: pf.Phone, Kind: pf.Kind, Status: pf.Status, Route: pf.Route,
		Template: pf.Template, Recipient: strings.TrimPrefix(pf.Recipient, "+"), WAMID: pf.WAMID}
	if n, err := strconv.Atoi(pf.ErrorCode); err == nil {
		f.ErrorCode = &n
	}
	if t, err := time.Parse(formTime, pf.From); err == nil {
		f.From = &t
	}
	if t, err := time.Parse(formTime, pf.To); err == nil {
		f.To = &t
	}
	q := url.Values{}
	for k, v := range map[string]string{"waba": pf.WABA, "phone": pf.Phone, "kind": pf.Kind, "status": pf.Status,
		"route": pf.Route, "error_code": pf.ErrorCode, "template": pf.Template, "recipient": pf.Recipient,
		"wamid": pf.WAMID, "from": pf.From, "to": pf.To} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if pf.Live {
		q.Set("live", "1")
	}
	return pf, f, q.Encode()
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

func explainCode(code *int, title string) *pages.ErrorInfo {
	if code == nil {
		return nil
	}
	x := graph.Explain(*code)
	return &pages.ErrorInfo{Code: *code, Title: title, Name: x.Title, Meaning: x.Meaning, Action: x.Action}
}

// logRows maps events to rows; consoleSent (wamids the dashboard sent itself) tells which
// status routes are known rather than inferred from pricing.
func logRows(evs []models.WebhookEvent, consoleSent map[string]bool) []pages.LogRow {
	rows := make([]pages.LogRow, len(evs))
	for i, e := range evs {
		rows[i] = pages.LogRow{Event: e, Error: explainCode(e.ErrorCode, e.ErrorTitle), ConsoleSent: consoleSent[e.WAMID]}
	}
	return rows
}

// rowsOf is logRows for a page of events, asking which of their messages the dashboard sent.
func (h *WebhookLog) rowsOf(ctx context.Context, scope models.Scope, evs []models.WebhookEvent) ([]pages.LogRow, error) {
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
	return logRows(evs, sent), nil
}

func tailCursor(evs []models.WebhookEvent, fallback string) string {
	if len(evs) == 0 {
		return fallback
	}
	return encodeCursor(webhook.Cursor{At: evs[0].ReceivedAt, ID: evs[0].ID})
}

// Get renders the log, or only its results region for htmx.
func (h *WebhookLog) Get(c *fiber.Ctx) error {
	ctx, scope := c.UserContext(), CurrentScope(c)
	pf, f, query := parseLogFilter(c)
	before := decodeCursor(c.Query("before"))
	page, err := h.Events.List(ctx, scope, f, before, logPageSize)
	if err != nil {
		return err
	}
	rows, err := h.rowsOf(ctx, scope, page.Events)
	if err != nil {
		return err
	}
	res := pages.LogResults{Rows: rows, Total: page.Total, TotalCapped: page.TotalCapped, Query: query,
		Paged: before != nil, ShowAccount: scope.AllAccounts, Live: pf.Live,
		// With nothing shown yet, the tail starts from now.
		TailCursor: tailCursor(page.Events, encodeCursor(webhook.Cursor{At: h.now()}))}
	if page.Next != nil {
		res.NextCursor = encodeCursor(*page.Next)
	}
	if IsHTMX(c) {
		return Render(c, fiber.StatusOK, pages.LogResultsRegion(res))
	}
	opts, err := h.Events.Options(ctx, scope)
	if err != nil {
		return err
	}
	p := pages.LogPage{Filter: pf, Kinds: webhook.Kinds, WABAs: opts.WABAs, Phones: opts.Phones, Results: res}
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
	return Render(c, fiber.StatusOK, pages.Log(h.Shells.Shell(c, "Webhook log", "log"), p))
}

// Tail answers the live tail's poll with the events newer than the newest shown.
func (h *WebhookLog) Tail(c *fiber.Ctx) error {
	scope := CurrentScope(c)
	_, f, query := parseLogFilter(c)
	after := c.Query("after")
	since := decodeCursor(after)
	if since == nil {
		since = &webhook.Cursor{At: h.now()}
		after = encodeCursor(*since)
	}
	evs, err := h.Events.Newer(c.UserContext(), scope, f, *since)
	if err != nil {
		return err
	}
	rows, err := h.rowsOf(c.UserContext(), scope, evs)
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

func (h *WebhookLog) timeline(st webhook.MessageStory) pages.MessageTimeline {
	m := st.Message
	t := pages.MessageTimeline{WAMID: m.WAMID, Message: m, Events: logRows(st.Events, map[string]bool{m.WAMID: m.SendRequest != nil}),
		Error: explainCode(m.ErrorCode, m.ErrorTitle), Expired: m.Expired(h.now()), Preference: st.Preference}
	var clickNote string
	if m.ClickedAt != nil {
		clickNote = "(attributed: the only MM API message from this number then)"
	}
	t.Steps = []pages.TimelineStep{}
	if m.AcceptedAt != nil || m.SendRequest != nil {
		t.Steps = append(t.Steps, pages.TimelineStep{Label: "Accepted by Meta", At: m.AcceptedAt})
	}
	clicked := pages.TimelineStep{Label: "Clicked", At: m.ClickedAt, Note: clickNote}
	// Click webhooks exist for MM API messages only (mm-api-reference §4).
	switch {
	case m.ClickedAt != nil:
	case m.Route == models.RouteFallback:
		clicked.Untracked = "not tracked on Cloud API fallback"
	case m.Route == models.RouteCloudAPI:
		clicked.Untracked = "not tracked on Cloud API sends"
	}
	t.Steps = append(t.Steps,
		pages.TimelineStep{Label: "Sent", At: m.SentAt},
		pages.TimelineStep{Label: "Delivered", At: m.DeliveredAt},
		pages.TimelineStep{Label: "Read", At: m.ReadAt},
		clicked)
	if m.FailedAt != nil {
		t.Steps = append(t.Steps, pages.TimelineStep{Label: "Failed", At: m.FailedAt, Failed: true})
	}
	switch {
	case m.OnCloudAPI():
		t.TTLLabel = "30 days, Meta's default: the message went through Cloud API, where a template's custom TTL does not apply"
	case m.TTLKnown():
		t.TTLLabel = templates.HumanTTL(m.TTLSeconds, "MARKETING") + " (the TTL Meta applied to this send)"
	default:
		t.TTLAssumed = true
		t.TTLLabel = "30 days, assumed: Meta's default for marketing (this send's TTL is not known)"
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
	p := pages.MessagePage{Timeline: h.timeline(st)}
	if st.Message.SendRequest != nil {
		p.SendRequest = prettyJSON(*st.Message.SendRequest)
	}
	return Render(c, fiber.StatusOK, pages.Message(h.Shells.Shell(c, "Message", "log"), p))
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
	return Render(c, fiber.StatusOK, pages.MessageTimelineRegion(h.timeline(st)))
}
