package webhook

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"mmconsole/models"
)

// flexString accepts a JSON string or number (Meta sends ids and timestamps as either,
// depending on the field and the API version) and keeps its text.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		*f = flexString(b)
	default:
		return fmt.Errorf("want a string or a number, got %s", truncate(string(b), 20))
	}
	return nil
}

// unixTime reads a Unix timestamp in seconds (as text); nil when absent or not a number.
func unixTime(s flexString) *time.Time {
	if s == "" {
		return nil
	}
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil || f <= 0 {
		return nil
	}
	t := time.Unix(int64(f), 0).UTC()
	return &t
}

// Event is one update parsed from a delivery, ready to store.
type Event struct {
	WABAID           string
	PhoneNumberID    string
	Field            string
	Kind             string
	Status           string
	WAMID            string
	Recipient        string
	Route            string
	PricingCategory  string
	ErrorCode        *int
	ErrorTitle       string
	TemplateID       string
	TemplateName     string
	TemplateLanguage string
	Detail           string
	OccurredAt       *time.Time
	DedupeKey        string
	Raw              string
	// RawAt is where Raw starts in the delivery's body, so that it is stored once, in the
	// delivery; -1 when the body holds it only in another form (not compact JSON).
	RawAt int
	// dedupeHash is what is stored of DedupeKey, and occurredArg OccurredAt as the writer binds
	// it (both set by Ingest, off the writer).
	dedupeHash  string
	occurredArg any

	// Effects that are not columns of the event.
	BizOpaque string // statuses[].biz_opaque_callback_data
	Category  string // template category (status and category webhooks)
	Quality   string // new template quality score
}

// Parsed is what a delivery's body says: its events, and why parts of it (or all of it) could
// not be read. A delivery with a parse error is still stored and acknowledged.
type Parsed struct {
	Events []Event
	Err    error
}

type envelope struct {
	Object string `json:"object"`
	Entry  []struct {
		ID      flexString `json:"id"`
		Time    flexString `json:"time"`
		Changes []struct {
			Field string          `json:"field"`
			Value json.RawMessage `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

type messagesValue struct {
	Metadata struct {
		DisplayPhoneNumber flexString `json:"display_phone_number"`
		PhoneNumberID      flexString `json:"phone_number_id"`
	} `json:"metadata"`
	Statuses    []json.RawMessage `json:"statuses"`
	Messages    []json.RawMessage `json:"messages"`
	UserActions []json.RawMessage `json:"user_actions"`
	Errors      []json.RawMessage `json:"errors"`
}

type graphError struct {
	Code      flexString `json:"code"`
	Title     string     `json:"title"`
	Message   string     `json:"message"`
	ErrorData struct {
		Details string `json:"details"`
	} `json:"error_data"`
}

type statusObj struct {
	ID           flexString   `json:"id"`
	Status       string       `json:"status"`
	Timestamp    flexString   `json:"timestamp"`
	RecipientID  flexString   `json:"recipient_id"`
	BizOpaque    string       `json:"biz_opaque_callback_data"`
	Errors       []graphError `json:"errors"`
	Conversation *struct {
		ID     flexString `json:"id"`
		Origin struct {
			Type string `json:"type"`
		} `json:"origin"`
	} `json:"conversation"`
	Pricing *struct {
		Category     string `json:"category"`
		PricingModel string `json:"pricing_model"`
		Type         string `json:"type"`
	} `json:"pricing"`
}

type inboundObj struct {
	ID        flexString `json:"id"`
	From      flexString `json:"from"`
	Timestamp flexString `json:"timestamp"`
	Type      string     `json:"type"`
	Text      *struct {
		Body string `json:"body"`
	} `json:"text"`
	Button *struct {
		Payload string `json:"payload"`
		Text    string `json:"text"`
	} `json:"button"`
	Interactive *struct {
		Type        string `json:"type"`
		ButtonReply *struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"button_reply"`
		ListReply *struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"list_reply"`
	} `json:"interactive"`
	Context *struct {
		ID flexString `json:"id"`
	} `json:"context"`
	Errors []graphError `json:"errors"`
}

type userActionObj struct {
	ActionType string     `json:"action_type"`
	Timestamp  flexString `json:"timestamp"`
	Click      *struct {
		ClickComponent string     `json:"click_component"`
		ProductID      flexString `json:"product_id"`
		ClickID        flexString `json:"click_id"`
	} `json:"marketing_messages_link_click_data"`
}

type templateObj struct {
	Event                   string     `json:"event"`
	MessageTemplateID       flexString `json:"message_template_id"`
	MessageTemplateName     string     `json:"message_template_name"`
	MessageTemplateLanguage string     `json:"message_template_language"`
	Reason                  *string    `json:"reason"`
	MessageTemplateCategory string     `json:"message_template_category"`
	// category update
	PreviousCategory        string     `json:"previous_category"`
	NewCategory             string     `json:"new_category"`
	CorrectCategory         string     `json:"correct_category"`
	CategoryUpdateTimestamp flexString `json:"category_update_timestamp"`
	// quality update
	PreviousQualityScore string `json:"previous_quality_score"`
	NewQualityScore      string `json:"new_quality_score"`
	RejectionInfo        *struct {
		Reason         string `json:"reason"`
		Recommendation string `json:"recommendation"`
	} `json:"rejection_info"`
	OtherInfo *struct {
		Title       string `json:"title"`
		Description string `json:"description"`
	} `json:"other_info"`
}

type userPrefsValue struct {
	UserPreferences []json.RawMessage `json:"user_preferences"`
}

type userPrefObj struct {
	WAID      flexString `json:"wa_id"`
	Detail    string     `json:"detail"`
	Category  string     `json:"category"`
	Value     string     `json:"value"`
	Timestamp flexString `json:"timestamp"`
}

type accountUpdateObj struct {
	Event    string `json:"event"`
	WABAInfo *struct {
		WABAID flexString `json:"waba_id"`
	} `json:"waba_info"`
}

// ErrShape means the body is JSON but not a webhook notification.
var ErrShape = errors.New("not a WhatsApp webhook notification (want an object with an entry array)")

// Parse reads every change of every entry of a delivery body. It never fails outright: a body it
// cannot read gives no events and Err; a change or item it cannot read becomes an "unknown"
// event carrying its raw JSON, and is named in Err.
func Parse(body []byte) Parsed {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return Parsed{Err: fmt.Errorf("invalid JSON: %w", err)}
	}
	if env.Entry == nil {
		return Parsed{Err: ErrShape}
	}
	var p Parsed
	var errs []error
	for _, entry := range env.Entry {
		waba := string(entry.ID)
		for _, ch := range entry.Changes {
			evs, err := parseChange(waba, string(entry.Time), ch.Field, ch.Value)
			// Keys are per WABA: an event another party signed for its own WABA, naming another
			// account's wamid or click, must never take the place of the real one as its
			// "duplicate".
			for i := range evs {
				evs[i].DedupeKey = waba + "/" + evs[i].DedupeKey
			}
			p.Events = append(p.Events, evs...)
			if err != nil {
				errs = append(errs, fmt.Errorf("entry %s field %q: %w", waba, ch.Field, err))
			}
		}
	}
	p.Err = errors.Join(errs...)
	locateRaw(body, p.Events)
	for i := range p.Events {
		p.Events[i].clean()
	}
	return p
}

// cleanText makes s storable as text on every engine: PostgreSQL refuses NUL bytes and invalid
// UTF-8 in a text column (SQLite keeps them), and a body is as the sender wrote it, so a JSON
// "\u0000" or a stray byte would otherwise fail the whole group on one database only. Each
// becomes U+FFFD, as encoding/json already does for invalid UTF-8 in the strings it decodes.
func cleanText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// clean applies cleanText to every stored text of the event. Raw is left alone when it is kept
// as a place in the body (RawAt), which is stored as bytes; DedupeKey is only hashed.
func (e *Event) clean() {
	for _, f := range []*string{&e.WABAID, &e.PhoneNumberID, &e.Field, &e.Kind, &e.Status, &e.WAMID, &e.Recipient,
		&e.Route, &e.PricingCategory, &e.ErrorTitle, &e.TemplateID, &e.TemplateName, &e.TemplateLanguage, &e.Detail,
		&e.BizOpaque, &e.Category, &e.Quality} {
		*f = cleanText(*f)
	}
	if e.RawAt < 0 {
		e.Raw = cleanText(e.Raw)
	}
}

// locateRaw sets each event's RawAt. Meta sends compact JSON, so an event's compacted raw JSON
// is normally a substring of the body; the search moves forward from the last match (items come
// in body order within a change) and starts over from the beginning when that fails.
func locateRaw(body []byte, evs []Event) {
	b := string(body)
	from := 0
	for i := range evs {
		e := &evs[i]
		e.RawAt = -1
		if e.Raw == "" {
			continue
		}
		if k := strings.Index(b[from:], e.Raw); k >= 0 {
			e.RawAt = from + k
		} else if k := strings.Index(b, e.Raw); k >= 0 {
			e.RawAt = k
		} else {
			continue
		}
		from = e.RawAt + len(e.Raw)
	}
}

func parseChange(waba, entryTime, field string, value json.RawMessage) ([]Event, error) {
	base := Event{WABAID: waba, Field: field}
	unknown := func(err error) ([]Event, error) {
		e := base
		e.Kind = models.KindUnknown
		e.Raw = compact(value)
		if err != nil {
			e.Detail = phraseUnreadable + err.Error()
		}
		e.DedupeKey = "raw:" + hashOf(field, waba, entryTime, e.Raw)
		return []Event{e}, err
	}
	switch field {
	case "messages":
		var v messagesValue
		if err := json.Unmarshal(value, &v); err != nil {
			return unknown(err)
		}
		base.PhoneNumberID = string(v.Metadata.PhoneNumberID)
		var out []Event
		var errs []error
		add := func(raw json.RawMessage, fn func(Event, json.RawMessage) (Event, error)) {
			e, err := fn(base, raw)
			if err != nil {
				e = base
				e.Kind = models.KindUnknown
				e.Detail = phraseUnreadable + err.Error()
				errs = append(errs, err)
			}
			e.Raw = compact(raw)
			if e.DedupeKey == "" {
				e.DedupeKey = "raw:" + hashOf(field, waba, base.PhoneNumberID, e.Raw)
			}
			out = append(out, e)
		}
		for _, r := range v.Statuses {
			add(r, parseStatus)
		}
		for _, r := range v.Messages {
			add(r, parseInbound)
		}
		for _, r := range v.UserActions {
			add(r, parseUserAction)
		}
		for _, r := range v.Errors {
			add(r, parseSystemError)
		}
		if len(out) == 0 {
			return unknown(nil)
		}
		return out, errors.Join(errs...)
	case "message_template_status_update", "template_category_update", "message_template_quality_update":
		var t templateObj
		if err := json.Unmarshal(value, &t); err != nil {
			return unknown(err)
		}
		return []Event{templateEvent(base, entryTime, t, value)}, nil
	case "user_preferences":
		var v userPrefsValue
		if err := json.Unmarshal(value, &v); err != nil || len(v.UserPreferences) == 0 {
			return unknown(err)
		}
		var out []Event
		for _, r := range v.UserPreferences {
			var u userPrefObj
			e := base
			e.Raw = compact(r)
			if err := json.Unmarshal(r, &u); err != nil {
				e.Kind = models.KindUnknown
				e.Detail = phraseUnreadable + err.Error()
				e.DedupeKey = "raw:" + hashOf(field, waba, e.Raw)
				out = append(out, e)
				continue
			}
			e.Kind = models.KindUserPreference
			e.Recipient = string(u.WAID)
			e.Status = u.Value
			e.OccurredAt = unixTime(u.Timestamp)
			e.Detail = strings.TrimSpace(u.Category + " " + u.Value + ": " + u.Detail)
			e.DedupeKey = "pref:" + waba + ":" + string(u.WAID) + ":" + u.Category + ":" + u.Value + ":" + string(u.Timestamp)
			out = append(out, e)
		}
		return out, nil
	case "account_update":
		var a accountUpdateObj
		if err := json.Unmarshal(value, &a); err != nil {
			return unknown(err)
		}
		e := base
		e.Kind = models.KindAccountUpdate
		e.Status = a.Event
		e.Raw = compact(value)
		e.Detail = a.Event
		if a.WABAInfo != nil && a.WABAInfo.WABAID != "" {
			e.Detail += " (WABA " + string(a.WABAInfo.WABAID) + ")"
		}
		e.OccurredAt = unixTime(flexString(entryTime))
		e.DedupeKey = "account:" + waba + ":" + a.Event + ":" + entryTime + ":" + hashOf(e.Raw)
		return []Event{e}, nil
	}
	return unknown(nil)
}

func parseStatus(e Event, raw json.RawMessage) (Event, error) {
	var s statusObj
	if err := json.Unmarshal(raw, &s); err != nil {
		return e, err
	}
	if s.ID == "" || s.Status == "" {
		return e, errors.New("status without id or status")
	}
	e.Kind = models.KindStatus
	e.WAMID = string(s.ID)
	e.Status = s.Status
	e.Recipient = string(s.RecipientID)
	e.OccurredAt = unixTime(s.Timestamp)
	e.BizOpaque = s.BizOpaque
	origin := ""
	if s.Conversation != nil {
		origin = s.Conversation.Origin.Type
	}
	if s.Pricing != nil {
		e.PricingCategory = s.Pricing.Category
	}
	e.Route = Route(e.PricingCategory, origin)
	if e.PricingCategory == "" {
		e.PricingCategory = origin
	}
	code := ""
	if len(s.Errors) > 0 {
		c, err := strconv.Atoi(string(s.Errors[0].Code))
		if err == nil {
			e.ErrorCode = &c
		}
		code = string(s.Errors[0].Code)
		e.ErrorTitle = s.Errors[0].Title
		if e.ErrorTitle == "" {
			e.ErrorTitle = s.Errors[0].Message
		}
		e.Detail = s.Errors[0].ErrorData.Details
	}
	e.DedupeKey = "status:" + e.WAMID + ":" + e.Status + ":" + string(s.Timestamp) + ":" + code
	return e, nil
}

// Route attributes a message to MM API or Cloud API from its pricing category, using the
// conversation origin only when pricing is absent (v24+ omits conversation; v23 has both).
// "marketing" is Cloud API (/messages) here: a webhook does not say which endpoint the send
// used, so only the writer, which knows the dashboard's own /marketing_messages sends, turns it
// into RouteFallback.
func Route(pricingCategory, originType string) string {
	c := pricingCategory
	if c == "" {
		c = originType
	}
	switch c {
	case "marketing_lite":
		return models.RouteMMAPI
	case "marketing":
		return models.RouteCloudAPI
	}
	return models.RouteUnknown
}

func parseInbound(e Event, raw json.RawMessage) (Event, error) {
	var m inboundObj
	if err := json.Unmarshal(raw, &m); err != nil {
		return e, err
	}
	if m.ID == "" {
		return e, errors.New("message without id")
	}
	e.Kind = models.KindMessage
	e.WAMID = string(m.ID)
	e.Recipient = string(m.From)
	e.Status = m.Type
	e.OccurredAt = unixTime(m.Timestamp)
	switch {
	case m.Text != nil:
		e.Detail = m.Text.Body
	case m.Button != nil:
		e.Detail = phraseButton + firstNonEmpty(m.Button.Text, m.Button.Payload)
	case m.Interactive != nil && m.Interactive.ButtonReply != nil:
		e.Detail = phraseButtonReply + m.Interactive.ButtonReply.Title
	case m.Interactive != nil && m.Interactive.ListReply != nil:
		e.Detail = phraseListReply + m.Interactive.ListReply.Title
	}
	if m.Context != nil && m.Context.ID != "" {
		e.Detail = strings.TrimSpace(e.Detail + phraseReplyTo + string(m.Context.ID) + ")")
	}
	e.Detail = truncate(e.Detail, 300)
	e.DedupeKey = "message:" + e.WAMID
	return e, nil
}

func parseUserAction(e Event, raw json.RawMessage) (Event, error) {
	var u userActionObj
	if err := json.Unmarshal(raw, &u); err != nil {
		return e, err
	}
	e.OccurredAt = unixTime(u.Timestamp)
	if u.ActionType != "marketing_messages_link_click" || u.Click == nil {
		e.Kind = models.KindUnknown
		e.Status = u.ActionType
		return e, nil
	}
	e.Kind = models.KindClick
	e.Status = "clicked"
	e.Detail = phraseClick + firstNonEmpty(u.Click.ClickComponent, "?")
	if u.Click.ProductID != "" {
		e.Detail += phraseProduct + string(u.Click.ProductID) + ")"
	}
	if u.Click.ClickID != "" {
		e.DedupeKey = "click:" + string(u.Click.ClickID)
	}
	return e, nil
}

func parseSystemError(e Event, raw json.RawMessage) (Event, error) {
	var g graphError
	if err := json.Unmarshal(raw, &g); err != nil {
		return e, err
	}
	e.Kind = models.KindError
	if c, err := strconv.Atoi(string(g.Code)); err == nil {
		e.ErrorCode = &c
	}
	e.ErrorTitle = firstNonEmpty(g.Title, g.Message)
	e.Detail = g.ErrorData.Details
	return e, nil
}

func templateEvent(e Event, entryTime string, t templateObj, value json.RawMessage) Event {
	e.Raw = compact(value)
	e.TemplateID = string(t.MessageTemplateID)
	e.TemplateName = t.MessageTemplateName
	e.TemplateLanguage = t.MessageTemplateLanguage
	e.OccurredAt = unixTime(flexString(entryTime))
	switch e.Field {
	case "message_template_status_update":
		e.Kind = models.KindTemplateStatus
		e.Status = t.Event
		e.Category = t.MessageTemplateCategory
		var parts []string
		if t.Reason != nil && *t.Reason != "" && *t.Reason != "NONE" {
			parts = append(parts, phraseTemplateStatusNote+*t.Reason)
		}
		if t.RejectionInfo != nil && t.RejectionInfo.Reason != "" {
			parts = append(parts, t.RejectionInfo.Reason)
		}
		if t.OtherInfo != nil && t.OtherInfo.Title != "" {
			parts = append(parts, t.OtherInfo.Title)
		}
		e.Detail = strings.Join(parts, "; ")
	case "template_category_update":
		e.Kind = models.KindTemplateCategory
		if t.CorrectCategory != "" {
			// 24-hour notice: new_category is still the current one.
			e.Status = "IMPENDING"
			e.Detail = t.NewCategory + " → " + t.CorrectCategory + phraseAnnounced
			if at := unixTime(t.CategoryUpdateTimestamp); at != nil {
				e.Detail += phraseAnnouncedOn + at.Format(time.RFC3339)
			}
		} else {
			e.Status = "CHANGED"
			e.Category = t.NewCategory
			e.Detail = t.PreviousCategory + " → " + t.NewCategory
		}
	case "message_template_quality_update":
		e.Kind = models.KindTemplateQuality
		e.Status = t.NewQualityScore
		e.Quality = t.NewQualityScore
		e.Detail = t.PreviousQualityScore + " → " + t.NewQualityScore
	}
	e.DedupeKey = "tpl:" + e.Field + ":" + e.TemplateID + ":" + e.Status + ":" + entryTime + ":" + hashOf(e.Raw)
	return e
}

// compact gives raw JSON without insignificant whitespace. Meta sends it compact already, so
// without a whitespace byte the text is kept as it is rather than scanned once more.
func compact(raw json.RawMessage) string {
	if bytes.IndexAny(raw, " \t\r\n") < 0 {
		return string(raw)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

func hashOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
