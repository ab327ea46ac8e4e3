package handlers

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"mmconsole/internal/i18n"
	"mmconsole/internal/metarules"
	"mmconsole/internal/webhook"
	"mmconsole/models"
	"mmconsole/views/pages"
)

// exportTimeout bounds how long one export may hold a database connection: a million rows
// stream in well under a minute on a quiet machine.
const exportTimeout = 10 * time.Minute

var eventColumns = []string{"received_at", "kind", "status", "wamid", "recipient", "message_route", "event_route",
	"pricing_category", "error_code", "error_title", "template_name", "template_language", "template_id",
	"waba_id", "waba_name", "phone_number_id", "phone_name", "account_id", "detail"}

var messageColumns = []string{"first_seen_at", "wamid", "status", "route", "pricing_category", "error_code", "error_title",
	"template_name", "template_language", "recipient", "waba_id", "waba_name", "phone_number_id", "phone_name",
	"account_id", "sent_at", "delivered_at", "read_at", "failed_at", "clicked_at", "ttl_seconds", "ttl_state"}

// Export streams the current filter's rows as CSV, in the view the filter names. Rows are
// written as they are read, a batch at a time, so the response never holds the whole result;
// at most ExportMaxRows are written, and a last row says so when the export stopped there.
func (h *WebhookLog) Export(c *fiber.Ctx) error {
	scope := CurrentScope(c)
	pf, f, _ := parseLogFilter(c.UserContext(), func(k string) string { return c.Query(k) })
	if len(pf.Errors) > 0 {
		return &models.ValidationError{Fields: pf.Errors}
	}
	names, err := h.Events.Options(c.UserContext(), scope)
	if err != nil {
		return err
	}
	max := h.ExportMaxRows
	if max <= 0 {
		max = DefaultExportMaxRows
	}
	now := h.now()
	name := "webhook-log-" + pf.View + "-" + now.Format("20060102-150405") + ".csv"
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	// The stream is written after this handler returns, when the request's context may be gone:
	// the export keeps its values (request id, client address) but has its own deadline.
	parent := context.WithoutCancel(c.UserContext())
	log := Log(c)
	view := pf.View
	c.Context().SetBodyStreamWriter(func(bw *bufio.Writer) {
		ctx, cancel := context.WithTimeout(parent, exportTimeout)
		defer cancel()
		w := csv.NewWriter(bw)
		flush := func() error {
			w.Flush()
			if err := w.Error(); err != nil {
				return err
			}
			return bw.Flush() // an error here: the client went away
		}
		var n int
		var err error
		if view == viewMessages {
			_ = w.Write(messageColumns)
			n, err = h.Events.ExportMessages(ctx, scope, f, max, func(ms []models.Message) error {
				for _, m := range ms {
					_ = w.Write(messageRecord(m, names, now))
				}
				return flush()
			})
		} else {
			_ = w.Write(eventColumns)
			n, err = h.Events.ExportEvents(ctx, scope, f, max, func(evs []models.WebhookEvent) error {
				routes, err := h.Events.MessageRoutes(ctx, scope, evs)
				if err != nil {
					return err
				}
				for _, e := range evs {
					_ = w.Write(eventRecord(e, routes[e.WAMID], names))
				}
				return flush()
			})
		}
		if err != nil {
			log.Error("log export stopped", "rows", n, "err", err)
			return
		}
		if n >= max {
			last := make([]string, len(eventColumns))
			if view == viewMessages {
				last = make([]string, len(messageColumns))
			}
			// The one line a person reads in the file: in their language.
			last[0] = i18n.T(ctx, "log.export.stopped", "Max", i18n.Num(ctx, int64(max)))
			_ = w.Write(last)
		}
		if err := flush(); err != nil {
			log.Error("log export: write", "err", err)
		}
	})
	return nil
}

func csvTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func csvInt(n *int) string {
	if n == nil {
		return ""
	}
	return strconv.Itoa(*n)
}

func csvAccount(id *uint) string {
	if id == nil {
		return ""
	}
	return strconv.FormatUint(uint64(*id), 10)
}

// cell keeps text that came from outside (Meta's titles, template names, details) from being
// read as a formula by a spreadsheet.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func eventRecord(e models.WebhookEvent, messageRoute string, names webhook.FilterOptions) []string {
	return []string{csvTime(&e.ReceivedAt), e.Kind, cell(e.Status), cell(e.WAMID), cell(e.Recipient), messageRoute, e.Route,
		cell(e.PricingCategory), csvInt(e.ErrorCode), cell(e.ErrorTitle), cell(e.TemplateName), cell(e.TemplateLanguage),
		cell(e.TemplateID), cell(e.WABAID), cell(names.WABAName(e.WABAID)), cell(e.PhoneNumberID),
		cell(names.PhoneName(e.PhoneNumberID)), csvAccount(e.AccountID), cell(e.Detail)}
}

func messageRecord(m models.Message, names webhook.FilterOptions, now time.Time) []string {
	tpl, lang := "", ""
	if m.TemplateName != nil {
		tpl = *m.TemplateName
	}
	if m.TemplateLanguage != nil {
		lang = *m.TemplateLanguage
	}
	state, _ := ttlState(m, now)
	state = i18n.T(context.Background(), state) // machine-readable: English, like the headers
	return []string{csvTime(&m.CreatedAt), cell(m.WAMID), m.Status, m.Route, cell(m.PricingCategory), csvInt(m.ErrorCode),
		cell(m.ErrorTitle), cell(tpl), cell(lang), cell(m.Recipient), cell(m.WABAID), cell(names.WABAName(m.WABAID)),
		cell(m.PhoneNumberID), cell(names.PhoneName(m.PhoneNumberID)), csvAccount(m.AccountID), csvTime(m.SentAt),
		csvTime(m.DeliveredAt), csvTime(m.ReadAt), csvTime(m.FailedAt), csvTime(m.ClickedAt), csvInt(m.TTLSeconds), state}
}

// SaveFilter names the filter the user is looking at, for them alone. Saving a name they already
// use replaces that filter.
func (h *WebhookLog) SaveFilter(c *fiber.Ctx) error {
	u, _ := CurrentUser(c)
	vals, err := url.ParseQuery(c.FormValue("query"))
	if err != nil {
		vals = url.Values{}
	}
	pf, f, query := parseLogFilter(c.UserContext(), vals.Get)
	if len(pf.Errors) > 0 {
		return h.render(c, pf, f, query, i18n.T(c.UserContext(), "log.saved.fix_first"))
	}
	saved, err := h.Events.SaveFilter(c.UserContext(), u, c.FormValue("name"), query)
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		pf.SaveName = c.FormValue("name")
		return h.render(c, pf, f, query, ve.Fields["name"])
	}
	if err != nil {
		return err
	}
	Flash(c, "success", i18n.T(c.UserContext(), "log.saved.done", "Name", saved.Name))
	return Redirect(c, "/log?"+query)
}

// DeleteFilter deletes one of the user's saved filters (another user's is 404).
func (h *WebhookLog) DeleteFilter(c *fiber.Ctx) error {
	u, _ := CurrentUser(c)
	id, err := strconv.ParseUint(c.Params("id"), 10, 64)
	if err != nil {
		return models.ErrNotFound
	}
	if err := h.Events.DeleteFilter(c.UserContext(), u.ID, uint(id)); err != nil {
		return err
	}
	Flash(c, "success", i18n.T(c.UserContext(), "log.saved.deleted"))
	return Redirect(c, "/log")
}

// Search answers the header's search box: one hit goes straight to its page; none or several
// show a short results page.
func (h *WebhookLog) Search(c *fiber.Ctx) error {
	q := strings.TrimSpace(c.Query("q"))
	hits, err := h.Events.Search(c.UserContext(), CurrentScope(c), q)
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		return Render(c, fiber.StatusUnprocessableEntity, pages.Search(h.Shells.Shell(c, i18n.T(c.UserContext(), "search.title"), ""), pages.SearchPage{Query: q, Error: ve.Fields["q"]}))
	}
	if err != nil {
		return err
	}
	p := pages.SearchPage{Query: q}
	for _, hit := range hits {
		p.Hits = append(p.Hits, pages.SearchHit{Kind: hit.Kind, Label: hit.Label, Detail: hit.Detail, Href: hitPath(hit)})
	}
	if len(p.Hits) == 1 {
		return Redirect(c, p.Hits[0].Href)
	}
	if q != "" && len(p.Hits) == 0 {
		if d, err := metarules.NormalizePhone(q); err == nil {
			// A number no message names yet: the filtered log is still where it would appear.
			p.LogHref = "/log?recipient=" + url.QueryEscape(d)
		}
	}
	return Render(c, fiber.StatusOK, pages.Search(h.Shells.Shell(c, i18n.T(c.UserContext(), "search.title"), ""), p))
}

// hitPath is the page a search hit leads to.
func hitPath(hit webhook.SearchHit) string {
	switch hit.Kind {
	case webhook.HitMessage:
		return "/messages/" + url.PathEscape(hit.Key)
	case webhook.HitNumber:
		return "/log?recipient=" + url.QueryEscape(hit.Key)
	default:
		return "/templates/" + url.PathEscape(hit.Key)
	}
}
