package send

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"mmconsole/internal/editbudget"
	"mmconsole/internal/graph"
	"mmconsole/internal/i18n"
	"mmconsole/internal/metarules"
	"mmconsole/models"
)

// Activity sharing choices.
const (
	SharingDefault = "default" // field omitted: the WABA's default applies
	SharingOn      = "on"
	SharingOff     = "off"
)

// Input is the composer form as submitted (or as the URL preselects it).
type Input struct {
	ConnectionID  uint
	PhoneNumberID string
	TemplateRef   string // row id or Meta id
	Recipient     string
	TTLValue      string // the TTL input: a number of TTLUnit; empty when no TTL is chosen
	TTLUnit       string // metarules.UnitHours, UnitDays or UnitSeconds
	// TTLSubmitted: the form carried the TTL input. A first visit, or picking another template
	// (which reloads the composer without it), does not: in template-TTL mode the input then
	// starts at the template's own TTL.
	TTLSubmitted bool
	Policy       string
	Sharing      string
	Key          string
	Values       url.Values // every submitted value, for the template's variable fields
	// Saved are the saved recipients (ids) chosen instead of a typed recipient.
	Saved []uint
}

// InputFromValues reads the form (or query) values.
func InputFromValues(v url.Values) Input {
	id, _ := strconv.ParseUint(strings.TrimSpace(v.Get("connection")), 10, 64)
	return Input{
		ConnectionID:  uint(id),
		PhoneNumberID: strings.TrimSpace(v.Get("phone")),
		TemplateRef:   strings.TrimSpace(v.Get("template")),
		Recipient:     strings.TrimSpace(v.Get("recipient")),
		TTLValue:      strings.TrimSpace(v.Get("ttl_value")),
		TTLUnit:       strings.TrimSpace(v.Get("ttl_unit")),
		TTLSubmitted:  v.Has("ttl_value") || v.Has("ttl_unit"),
		Policy:        strings.TrimSpace(v.Get("policy")),
		Sharing:       strings.TrimSpace(v.Get("sharing")),
		Key:           strings.TrimSpace(v.Get("key")),
		Values:        v,
		Saved:         savedIDs(v["saved"]),
	}
}

// savedIDs reads the chosen saved recipients; what is not an id is dropped (it names nothing).
func savedIDs(vals []string) []uint {
	var out []uint
	for _, s := range vals {
		if id, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64); err == nil && id > 0 {
			out = append(out, uint(id))
		}
	}
	return dedupe(out)
}

// Check levels, from worst to mildest.
const (
	LevelBlocker = "blocker" // the composer refuses to send
	LevelDanger  = "danger"  // allowed, but Meta will refuse it or fail it
	LevelWarning = "warning"
	LevelInfo    = "info"
)

// Check is one finding of the pre-send checks, in plain words.
type Check struct {
	Level   string
	Field   string // the form field it is about, if any
	Message string
	Code    int        // the Meta error code it predicts, if any
	Until   *time.Time // for a syncing template: when Meta stops answering 134101
}

// TemplateOption is a template as the picker lists it.
type TemplateOption struct {
	Template models.Template
	Reason   string // why it cannot be chosen; empty when it can
}

// Label is "name · language".
func (o TemplateOption) Label() string { return o.Template.Name + " · " + o.Template.Language }

// TTLView is the TTL part of the form.
type TTLView struct {
	Mode    string // models.TTLPerSend or models.TTLTemplate, from the connection's API
	API     string // the connection's API, in words
	Explain string // one line: where the TTL goes and why
	Value   string // the input as shown
	Unit    string
	Seconds int // the TTL chosen in the input (0: none chosen, or invalid)
	// Applied is the TTL Meta applies to this send: the template's, or the per-send one through
	// the gateway. 0 when it is not known, and Meta's default (30 days) is only assumed.
	Applied         int
	TemplateSeconds *int // the template's message_send_ttl_seconds
	Changes         bool // template mode: sending will first change the template's TTL on Meta
	// Current is the template's TTL now (template mode). Confirmed: the person ticked the edit
	// of the template for exactly this TTL; without it a changing send is refused. Budget is
	// what is left of Meta's edit limit, said before the click.
	Current   int
	Confirmed bool
	Budget    editbudget.Budget
}

// SyncView is the template's MM API sync state.
type SyncView struct {
	Kind    string
	Label   string
	ReadyAt *time.Time
}

// Preview is the WhatsApp-like bubble with the variables filled in.
type Preview struct {
	HeaderText  []Segment
	HeaderMedia string // IMAGE, VIDEO, DOCUMENT…
	MediaLink   string
	Body        []Segment
	Footer      string
	Buttons     []ButtonView
	Coupon      string
}

// Composer is everything the composer page shows, computed from the input.
type Composer struct {
	In          Input
	CanSend     bool // the user's role may send
	Connections []models.WABAConnection
	Connection  *models.WABAConnection
	Phones      []models.PhoneNumber
	Phone       *models.PhoneNumber
	Available   []TemplateOption
	Unavailable []TemplateOption
	Template    *models.Template
	Spec        Spec
	Sync        SyncView
	Recipient   string // normalised, digits only
	TTL         TTLView
	Policy      string
	Sharing     string
	Checks      []Check
	Errors      map[string]string // per-field messages, shown after a refused submit
	ShowErrors  bool
	Preview     Preview
	BodyJSON    string // pretty-printed request body
	Curl        string
	Key         string // idempotency key of this form
	// Saved are the saved test recipients of the chosen WABA's account, to pick from.
	Saved []SavedView

	Request graph.MarketingMessageRequest

	// After a submit:
	Result *Result
	// SavedResults are the sends to saved recipients, one per recipient.
	SavedResults []SavedResult
	Refused      bool // blockers stopped the send; nothing was requested
	Replayed     bool // the key was already used; Result is the first submit's
}

// Blocked reports whether any blocker stops the send.
func (c *Composer) Blocked() bool {
	for _, ch := range c.Checks {
		if ch.Level == LevelBlocker {
			return true
		}
	}
	return false
}

// Blockers returns the blocker checks.
func (c *Composer) Blockers() []Check { return c.level(LevelBlocker) }

// Warnings returns the non-blocking checks.
func (c *Composer) Warnings() []Check {
	var out []Check
	for _, ch := range c.Checks {
		if ch.Level != LevelBlocker {
			out = append(out, ch)
		}
	}
	return out
}

func (c *Composer) level(l string) []Check {
	var out []Check
	for _, ch := range c.Checks {
		if ch.Level == l {
			out = append(out, ch)
		}
	}
	return out
}

func (c *Composer) add(level, field, msg string) {
	c.Checks = append(c.Checks, Check{Level: level, Field: field, Message: msg})
	if level == LevelBlocker && field != "" {
		if c.Errors == nil {
			c.Errors = map[string]string{}
		}
		if _, ok := c.Errors[field]; !ok {
			c.Errors[field] = msg
		}
	}
}

// refuseParam adds a blocker for a variable value Meta would refuse, with the code Meta answers
// (the composer never sends what Meta refuses). p nil: nothing to refuse.
func (c *Composer) refuseParam(ctx context.Context, field, label string, p *metarules.ParamProblem) {
	if p == nil {
		return
	}
	msg := i18n.T(ctx, "send.check.param", "Field", label, "Problem", p.Message, "Code", strconv.Itoa(p.Code))
	c.Checks = append(c.Checks, Check{Level: LevelBlocker, Field: field, Message: msg, Code: p.Code})
	if field != "" {
		if c.Errors == nil {
			c.Errors = map[string]string{}
		}
		if _, ok := c.Errors[field]; !ok {
			c.Errors[field] = msg
		}
	}
}

func segmentsText(segs []Segment) string {
	var b strings.Builder
	for _, sg := range segs {
		b.WriteString(sg.Text)
	}
	return b.String()
}

// NewKey returns a random idempotency key.
func NewKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func validKey(k string) bool {
	if len(k) != 32 {
		return false
	}
	_, err := hex.DecodeString(k)
	return err == nil
}

// NormalizeRecipient checks an international number and returns its digits (the one rule the
// log's filters and the header search share: metarules.NormalizePhone).
func NormalizeRecipient(s string) (string, error) { return metarules.NormalizePhone(s) }

// HumanDuration writes seconds as "24 hours", "3 días", "90 minutos"… in the language of ctx.
func HumanDuration(ctx context.Context, sec int) string { return metarules.HumanTTLIn(ctx, sec) }

// Compose computes the composer for in: the choices in scope, the template's inputs, the
// checks, the preview and the exact request. It never calls Meta.
func (s *Service) Compose(ctx context.Context, u models.User, in Input) (*Composer, error) {
	scope := u.Scope()
	c := &Composer{In: in, CanSend: u.CanWrite(), Key: in.Key}
	if !validKey(c.Key) {
		c.Key = NewKey()
	}
	conns, err := s.catalog.Connections(ctx, scope)
	if err != nil {
		return nil, err
	}
	c.Connections = conns

	var tmpl *models.Template
	if in.TemplateRef != "" {
		t, err := s.catalog.Template(ctx, scope, in.TemplateRef)
		if err != nil {
			return nil, err // another account's template is a 404
		}
		tmpl = &t
	}
	switch {
	case in.ConnectionID != 0:
		conn, err := s.catalog.Connection(ctx, scope, in.ConnectionID)
		if err != nil {
			return nil, err
		}
		c.Connection = &conn
	case tmpl != nil:
		conn, err := s.catalog.Connection(ctx, scope, tmpl.ConnectionID)
		if err != nil {
			return nil, err
		}
		c.Connection = &conn
	case len(conns) > 0:
		c.Connection = &conns[0]
	}
	if c.Connection == nil {
		c.add(LevelBlocker, "connection", i18n.T(ctx, "send.check.no_waba"))
		s.finish(ctx, c)
		return c, nil
	}
	saved, err := s.SavedRecipients(ctx, scope, c.Connection.AccountID, c.Connection.WABAID)
	if err != nil {
		return nil, err
	}
	c.Saved = saved
	// Switching to another WABA drops a template of the previous one.
	if tmpl != nil && tmpl.ConnectionID != c.Connection.ID {
		tmpl = nil
		c.In.TemplateRef = ""
	}

	phones, err := s.catalog.Phones(ctx, scope, c.Connection.ID)
	if err != nil {
		return nil, err
	}
	c.Phones = phones
	for i := range phones {
		if phones[i].PhoneNumberID == in.PhoneNumberID {
			c.Phone = &phones[i]
		}
	}
	if c.Phone == nil && len(phones) > 0 {
		c.Phone = &phones[0]
	}
	if c.Phone == nil {
		c.add(LevelBlocker, "phone", i18n.T(ctx, "send.check.no_phone"))
	}

	templates, err := s.catalog.Templates(ctx, scope, c.Connection.ID)
	if err != nil {
		return nil, err
	}
	for _, t := range templates {
		if reason, bad := Unavailable(ctx, t); bad {
			c.Unavailable = append(c.Unavailable, TemplateOption{Template: t, Reason: reason})
		} else {
			c.Available = append(c.Available, TemplateOption{Template: t})
		}
	}
	c.Template = tmpl

	now := s.now()
	// Values no form offers are refused, not read as the default: a STRICT intent must never
	// quietly become a fallback send.
	switch in.Policy {
	case "", graph.PolicyCloudAPIFallback:
		c.Policy = graph.PolicyCloudAPIFallback
	case graph.PolicyStrict:
		c.Policy = graph.PolicyStrict
	default:
		c.Policy = graph.PolicyCloudAPIFallback
		c.add(LevelBlocker, "policy", i18n.T(ctx, "send.check.bad_policy", "Value", in.Policy))
	}
	switch in.Sharing {
	case "", SharingDefault:
		c.Sharing = SharingDefault
	case SharingOn, "true":
		c.Sharing = SharingOn
	case SharingOff, "false":
		c.Sharing = SharingOff
	default:
		c.Sharing = SharingDefault
		c.add(LevelBlocker, "sharing", i18n.T(ctx, "send.check.bad_sharing", "Value", in.Sharing))
	}

	if tmpl == nil {
		c.add(LevelBlocker, "template", i18n.T(ctx, "send.check.choose_template"))
	} else {
		if reason, bad := Unavailable(ctx, *tmpl); bad {
			c.add(LevelBlocker, "template", i18n.T(ctx, "send.check.unavailable", "Reason", reason))
		}
		sp, err := ParseSpecIn(ctx, tmpl.Components, tmpl.ParameterFormat)
		if err != nil {
			c.add(LevelBlocker, "template", i18n.T(ctx, "send.check.unreadable"))
		}
		sp.fill(in.Values)
		c.Spec = sp
		for _, f := range sp.Fields {
			switch {
			case f.Value == "":
				c.add(LevelBlocker, f.Name, i18n.T(ctx, "send.check.fill_in", "Field", lowerFirst(f.Label)))
			case f.Kind == KindHeaderMedia:
				if u, err := url.Parse(f.Value); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
					c.add(LevelBlocker, f.Name, i18n.T(ctx, "send.check.media_link", "Format", MediaName(ctx, f.Format)))
				}
			case f.Kind == KindCoupon && len([]rune(f.Value)) > metarules.MaxCouponCode:
				c.add(LevelBlocker, f.Name, i18n.T(ctx, "send.check.coupon_long", "Max", metarules.MaxCouponCode))
			case f.Kind == KindHeaderText || f.Kind == KindBody:
				section := metarules.SectionBody
				if f.Kind == KindHeaderText {
					section = metarules.SectionHeader
				}
				c.refuseParam(ctx, f.Name, f.Label, metarules.CheckTextParam(ctx, section, f.Value))
			case f.Kind == KindURLSuffix:
				c.refuseParam(ctx, f.Name, f.Label, metarules.CheckURLSuffix(ctx, f.URLPrefix, f.Value))
			}
		}
		// The filled-in header and body have their own length limits (132005).
		if sp.HeaderText != "" {
			c.refuseParam(ctx, "", i18n.T(ctx, "send.check.the_header"), metarules.CheckHydrated(ctx, metarules.SectionHeader, segmentsText(sp.render(sp.HeaderText, KindHeaderText))))
		}
		c.refuseParam(ctx, "", i18n.T(ctx, "send.check.the_body"), metarules.CheckHydrated(ctx, metarules.SectionBody, segmentsText(sp.render(sp.Body, KindBody))))
		for _, u := range sp.Unsupported {
			c.add(LevelDanger, "", u)
		}
		for _, r := range sp.Refused {
			c.add(LevelBlocker, "template", r)
		}
		kind, label, readyAt := s.sync.State(ctx, *tmpl, c.Connection.OnboardingStatus, now)
		c.Sync = SyncView{Kind: kind, Label: label, ReadyAt: readyAt}
		switch kind {
		case SyncSyncing:
			msg := i18n.T(ctx, "send.check.syncing")
			if readyAt != nil {
				msg = i18n.T(ctx, "send.check.syncing_until", "Time", readyAt.UTC().Format("15:04")+" UTC", "In", untilText(ctx, now, *readyAt))
			}
			c.Checks = append(c.Checks, Check{Level: LevelDanger, Message: msg, Code: 134101, Until: readyAt})
		case SyncDormant:
			c.add(LevelWarning, "", i18n.T(ctx, "send.check.dormant"))
		}
	}

	// Onboarding decides the route (mm-api-reference §1.3).
	switch {
	case c.Connection.Onboarded():
	case c.Policy == graph.PolicyStrict:
		c.Checks = append(c.Checks, Check{Level: LevelDanger, Field: "policy", Code: 134102,
			Message: i18n.T(ctx, "send.check.strict_not_onboarded", "Status", onboardingText(ctx, c.Connection.OnboardingStatus))})
	case c.Connection.CloudMarketingOff:
		// The fallback would go through Cloud API, which this WABA closed to marketing templates.
		c.Checks = append(c.Checks, Check{Level: LevelDanger, Field: "policy", Code: 131063,
			Message: i18n.T(ctx, "send.check.cloud_marketing_off", "Status", onboardingText(ctx, c.Connection.OnboardingStatus))})
	default:
		c.add(LevelWarning, "policy", i18n.T(ctx, "send.check.fallback", "Status", onboardingText(ctx, c.Connection.OnboardingStatus)))
	}

	if len(in.Saved) > 0 {
		switch {
		case in.Recipient != "":
			c.add(LevelBlocker, "recipient", i18n.T(ctx, "send.check.one_or_other"))
		case len(in.Saved) > MaxSavedAtOnce:
			c.add(LevelBlocker, "saved", i18n.N(ctx, "send.check.too_many_saved", len(in.Saved), "Max", MaxSavedAtOnce))
		default:
			c.add(LevelInfo, "saved", i18n.N(ctx, "send.check.to_saved", len(in.Saved)))
		}
	} else if in.Recipient == "" && in.Values.Get("recipient") == "" {
		c.add(LevelBlocker, "recipient", i18n.T(ctx, "send.check.no_recipient"))
	} else if d, err := NormalizeRecipient(in.Recipient); err != nil {
		c.add(LevelBlocker, "recipient", i18n.T(ctx, "send.check.bad_recipient", "Problem", metarules.Words(ctx, err)))
	} else {
		c.Recipient = d
		if metarules.IsUSNumber(d) {
			c.Checks = append(c.Checks, Check{Level: LevelDanger, Field: "recipient", Code: 131049,
				Message: i18n.T(ctx, "send.check.us_number", "Area", d[1:4])})
		}
	}

	tv, err := s.ttl(ctx, c, tmpl, in)
	if err != nil {
		return nil, err
	}
	c.TTL = tv

	if c.Phone != nil && c.Phone.ConnectionID != c.Connection.ID {
		c.add(LevelBlocker, "phone", i18n.T(ctx, "send.check.other_waba"))
	}
	if err := s.checkPreference(ctx, c); err != nil {
		return nil, err
	}
	s.finish(ctx, c)
	return c, nil
}

// ttl reads the TTL input with the one TTL parser and rule set (metarules), in the mode the
// connection's API decides (mm-api-reference §1.5): the template's message_send_ttl_seconds on
// Meta, a per-send time_to_live only through Hibot's gateway, and only when a TTL was chosen.
func (s *Service) ttl(ctx context.Context, c *Composer, tmpl *models.Template, in Input) (TTLView, error) {
	conn := c.Connection
	tv := TTLView{Mode: conn.TTLMode(), API: conn.APILabel(), Value: in.TTLValue, Unit: in.TTLUnit}
	if tmpl != nil && tmpl.TTLSeconds != nil && *tmpl.TTLSeconds > 0 {
		n := *tmpl.TTLSeconds
		tv.TemplateSeconds = &n
	}
	if tv.Mode == models.TTLTemplate && !in.TTLSubmitted && tv.TemplateSeconds != nil {
		// The input starts at the template's TTL, so sending unchanged changes nothing.
		tv.Value, tv.Unit = metarules.SplitTTL(*tv.TemplateSeconds)
	}
	if tv.Unit == "" && tv.Value == "" {
		tv.Unit = metarules.UnitHours
	}
	secs, set, err := metarules.ParseTTL(tv.Value, tv.Unit)
	switch {
	case err != nil:
		c.add(LevelBlocker, "ttl", i18n.T(ctx, "send.check.bad_ttl", "Problem", metarules.Words(ctx, err)))
	case set:
		if rerr := metarules.CheckMarketingTTL(secs); rerr != nil {
			c.add(LevelBlocker, "ttl", i18n.T(ctx, "send.check.bad_ttl", "Problem", metarules.Words(ctx, rerr)))
		} else {
			tv.Seconds = secs
		}
	}

	if tv.Mode == models.TTLPerSend {
		tv.Explain = i18n.T(ctx, "send.ttl.explain_gateway")
		tv.Applied = tv.Seconds
		if tv.Seconds != 0 && !conn.Sandbox && s.graphIsMeta {
			// Meta refuses properties outside its schema; only a gateway takes time_to_live.
			c.add(LevelBlocker, "ttl", i18n.T(ctx, "send.check.gateway_is_meta"))
		}
		return tv, nil
	}
	tv.Explain = i18n.T(ctx, "send.ttl.explain_meta")
	if tv.TemplateSeconds != nil {
		tv.Applied = *tv.TemplateSeconds
	}
	cur := metarules.DefaultMarketingTTL
	if tv.TemplateSeconds != nil {
		cur = *tv.TemplateSeconds
	}
	tv.Current = cur
	if tmpl != nil && tv.Seconds != 0 && tv.Seconds != cur {
		// Never an edit of an approved template behind the person's back: it is named, with
		// the edits left, and must be confirmed for exactly this value.
		tv.Changes = true
		tv.Applied = tv.Seconds
		budget, err := s.edits.Of(ctx, *tmpl)
		if err != nil {
			return tv, err
		}
		tv.Budget = budget
		tv.Confirmed = in.Values.Get("confirm_ttl_edit") == strconv.Itoa(tv.Seconds)
		edit := i18n.T(ctx, "send.check.edit", "From", HumanDuration(ctx, cur), "To", HumanDuration(ctx, tv.Seconds)) + " "
		if !conn.Onboarded() {
			// A custom TTL is honoured only through MM API (mm-api-reference §1.5): the edit
			// would be spent on a send that cannot use it.
			edit += i18n.T(ctx, "send.check.edit_not_onboarded") + " "
			tv.Applied = 0
		}
		switch {
		case budget.AtLimit():
			c.add(LevelBlocker, "ttl", edit+budget.Words(ctx)+" "+i18n.T(ctx, "send.check.edit_keep", "TTL", HumanDuration(ctx, cur)))
		case !tv.Confirmed:
			c.add(LevelBlocker, "confirm_ttl_edit", edit+budget.Words(ctx)+" "+i18n.T(ctx, "send.check.edit_tick"))
		case budget.SpendsLast():
			c.add(LevelWarning, "ttl", edit+budget.Words(ctx)+" "+i18n.T(ctx, "send.check.edit_last"))
		default:
			c.add(LevelWarning, "ttl", edit+budget.Words(ctx))
		}
	}
	return tv, nil
}

// finish builds the request, its JSON, the curl command and the preview.
func (s *Service) finish(ctx context.Context, c *Composer) {
	req := graph.MarketingMessageRequest{To: c.Recipient, ProductPolicy: c.Policy}
	if c.Template != nil {
		req.TemplateName = c.Template.Name
		req.LanguageCode = c.Template.Language
		req.Components = c.Spec.components()
	}
	switch c.Sharing {
	case SharingOn:
		t := true
		req.MessageActivitySharing = &t
	case SharingOff:
		f := false
		req.MessageActivitySharing = &f
	}
	if c.TTL.Mode == models.TTLPerSend && c.TTL.Seconds != 0 {
		n := c.TTL.Seconds
		req.TimeToLive = &n
	}
	c.Request = req
	body, err := req.Body()
	if err == nil {
		var pretty bytes.Buffer
		if json.Indent(&pretty, body, "", "  ") == nil {
			c.BodyJSON = pretty.String()
		}
		phone := "<PHONE_NUMBER_ID>"
		if c.Phone != nil {
			phone = c.Phone.PhoneNumberID
		}
		c.Curl = curlCommand(s.apiBase, phone, body)
		if c.Connection != nil && c.Connection.TokenLast4 != "" {
			c.Curl = "# " + i18n.T(ctx, "send.request.token_comment", "Last4", c.Connection.TokenLast4) + "\n" + c.Curl
		}
	}

	sp := c.Spec
	c.Preview = Preview{
		HeaderText:  sp.render(sp.HeaderText, KindHeaderText),
		HeaderMedia: sp.HeaderMedia,
		Body:        sp.render(sp.Body, KindBody),
		Footer:      sp.Footer,
		Buttons:     sp.Buttons,
	}
	for _, f := range sp.Fields {
		switch f.Kind {
		case KindHeaderMedia:
			c.Preview.MediaLink = f.Value
		case KindCoupon:
			c.Preview.Coupon = f.Value
		}
	}
	// Field messages are shown once the user tried to send; before that the checks list says it.
	c.ShowErrors = false
}

// curlCommand is the request as a shell command; the token stays a variable so it is never
// shown.
func curlCommand(apiBase, phoneID string, body []byte) string {
	q := strings.ReplaceAll(string(body), "'", `'\''`)
	return "curl -X POST '" + strings.TrimRight(apiBase, "/") + "/" + phoneID + "/marketing_messages' \\\n" +
		"  -H \"Authorization: Bearer $TOKEN\" \\\n" +
		"  -H 'Content-Type: application/json' \\\n" +
		"  -d '" + q + "'"
}

func onboardingText(ctx context.Context, status string) string {
	if status == "" {
		return i18n.T(ctx, "send.check.status_unread")
	}
	return i18n.T(ctx, "send.check.status", "Status", status)
}

// lowerFirst lets a field's label continue a sentence ("Fill in body variable {{1}}").
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return strings.ToLower(string(r)) + s[n:]
}

// MediaName is a media header's format (Meta's IMAGE, VIDEO, DOCUMENT) as a word of the
// language of ctx; a format the composer does not know stays Meta's token.
func MediaName(ctx context.Context, format string) string {
	switch format {
	case "IMAGE":
		return i18n.T(ctx, "send.media.image")
	case "VIDEO":
		return i18n.T(ctx, "send.media.video")
	case "DOCUMENT":
		return i18n.T(ctx, "send.media.document")
	}
	return format
}

func untilText(ctx context.Context, now, t time.Time) string {
	d := t.Sub(now).Round(time.Minute)
	if d < time.Minute {
		return i18n.T(ctx, "send.check.under_a_minute")
	}
	return i18n.N(ctx, "send.check.in_minutes", int(d.Minutes()))
}
