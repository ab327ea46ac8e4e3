package send

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"mmconsole/internal/editbudget"
	"mmconsole/internal/graph"
	"mmconsole/models"
)

// TTL limits and presets for marketing templates (mm-api-reference §1.5).
const (
	MinTTL     = 43200   // 12 hours
	MaxTTL     = 2592000 // 30 days
	DefaultTTL = MaxTTL  // Meta's default for marketing templates
)

// Preset is one TTL choice.
type Preset struct {
	Seconds int
	Label   string
}

// Presets are the TTL choices offered before "custom".
var presets = []Preset{
	{43200, "12 hours"}, {86400, "24 hours"}, {259200, "3 days"}, {604800, "7 days"}, {2592000, "30 days"},
}

// Presets returns the TTL presets.
func Presets() []Preset { return append([]Preset(nil), presets...) }

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
	TTLPreset     string // seconds of a preset, or "custom"
	TTLCustom     string
	TTLUnit       string // "seconds" or "hours"
	Policy        string
	Sharing       string
	Key           string
	Values        url.Values // every submitted value, for the template's variable fields
}

// InputFromValues reads the form (or query) values.
func InputFromValues(v url.Values) Input {
	id, _ := strconv.ParseUint(strings.TrimSpace(v.Get("connection")), 10, 64)
	return Input{
		ConnectionID:  uint(id),
		PhoneNumberID: strings.TrimSpace(v.Get("phone")),
		TemplateRef:   strings.TrimSpace(v.Get("template")),
		Recipient:     strings.TrimSpace(v.Get("recipient")),
		TTLPreset:     strings.TrimSpace(v.Get("ttl_preset")),
		TTLCustom:     strings.TrimSpace(v.Get("ttl_custom")),
		TTLUnit:       strings.TrimSpace(v.Get("ttl_unit")),
		Policy:        strings.TrimSpace(v.Get("policy")),
		Sharing:       strings.TrimSpace(v.Get("sharing")),
		Key:           strings.TrimSpace(v.Get("key")),
		Values:        v,
	}
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
	Mode            string // models.TTLPerSend or models.TTLTemplate
	Explain         string // one line: where the TTL goes and why
	Seconds         int    // the effective value (0 when invalid)
	Preset          string // selected preset seconds or "custom"
	Custom          string
	Unit            string
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

	Request graph.MarketingMessageRequest

	// After a submit:
	Result   *Result
	Refused  bool // blockers stopped the send; nothing was requested
	Replayed bool // the key was already used; Result is the first submit's
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

// NormalizeRecipient checks an international number (optional leading +, 8 to 15 digits;
// spaces, dashes, dots and parentheses are tolerated as separators) and returns its digits.
func NormalizeRecipient(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("enter the recipient's number in international format, e.g. +52 55 1234 5678")
	}
	rest := strings.TrimPrefix(s, "+")
	var b strings.Builder
	for _, r := range rest {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", fmt.Errorf("%q is not a phone number: use digits only, with the country code and an optional leading +", s)
		}
	}
	d := b.String()
	if len(d) < 8 || len(d) > 15 {
		return "", fmt.Errorf("a number in international format has 8 to 15 digits (country code included); this one has %d", len(d))
	}
	if d[0] == '0' {
		return "", errors.New("start with the country code, not 0 (e.g. 52 for Mexico)")
	}
	return d, nil
}

// parseTTL reads the TTL inputs; def is used when nothing was chosen.
func parseTTL(in Input, def int) (TTLView, int, error) {
	v := TTLView{Preset: in.TTLPreset, Custom: in.TTLCustom, Unit: in.TTLUnit}
	if v.Unit != "hours" {
		v.Unit = "seconds"
	}
	if v.Preset == "" {
		v.Preset = "custom"
		for _, p := range presets {
			if p.Seconds == def {
				v.Preset = strconv.Itoa(def)
			}
		}
		if v.Preset == "custom" && v.Custom == "" {
			v.Custom = strconv.Itoa(def)
			v.Unit = "seconds"
		}
	}
	if v.Preset != "custom" {
		n, err := strconv.Atoi(v.Preset)
		if err != nil {
			return v, 0, errors.New("choose a TTL")
		}
		return v, n, nil
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(v.Custom), 64)
	if err != nil {
		return v, 0, fmt.Errorf("enter the TTL as a number of %s", v.Unit)
	}
	if v.Unit == "hours" {
		n *= 3600
	}
	if n != float64(int(n)) {
		return v, 0, errors.New("the TTL must be a whole number of seconds")
	}
	return v, int(n), nil
}

// HumanDuration writes seconds as "24 hours", "3 days", "90 minutes"…
func HumanDuration(sec int) string {
	switch {
	case sec <= 0:
		return strconv.Itoa(sec) + " seconds"
	case sec%86400 == 0:
		return plural(sec/86400, "day")
	case sec%3600 == 0:
		return plural(sec/3600, "hour")
	case sec%60 == 0:
		return plural(sec/60, "minute")
	}
	return plural(sec, "second")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

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
		c.add(LevelBlocker, "connection", "No WhatsApp Business Account is connected to this account yet.")
		s.finish(c)
		return c, nil
	}
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
		c.add(LevelBlocker, "phone", "This WABA has no phone number yet; refresh the connection.")
	}

	templates, err := s.catalog.Templates(ctx, scope, c.Connection.ID)
	if err != nil {
		return nil, err
	}
	for _, t := range templates {
		if reason, bad := Unavailable(t); bad {
			c.Unavailable = append(c.Unavailable, TemplateOption{Template: t, Reason: reason})
		} else {
			c.Available = append(c.Available, TemplateOption{Template: t})
		}
	}
	c.Template = tmpl

	now := s.now()
	c.Policy = graph.PolicyCloudAPIFallback
	if strings.EqualFold(in.Policy, graph.PolicyStrict) {
		c.Policy = graph.PolicyStrict
	}
	switch in.Sharing {
	case SharingOn, SharingOff:
		c.Sharing = in.Sharing
	default:
		c.Sharing = SharingDefault
	}

	if tmpl == nil {
		c.add(LevelBlocker, "template", "Choose an approved MARKETING template.")
	} else {
		if reason, bad := Unavailable(*tmpl); bad {
			c.add(LevelBlocker, "template", "This template cannot be sent through MM API: "+reason+".")
		}
		sp, err := ParseSpec(tmpl.Components, tmpl.ParameterFormat)
		if err != nil {
			c.add(LevelBlocker, "template", "The template's components could not be read; refresh the template catalog.")
		}
		sp.fill(in.Values)
		c.Spec = sp
		for _, f := range sp.Fields {
			switch {
			case f.Value == "":
				c.add(LevelBlocker, f.Name, "Fill in "+lowerFirst(f.Label)+".")
			case f.Kind == KindHeaderMedia:
				if u, err := url.Parse(f.Value); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
					c.add(LevelBlocker, f.Name, "The header needs a public http(s) link to the "+strings.ToLower(f.Format)+".")
				}
			case f.Kind == KindCoupon && len([]rune(f.Value)) > 15:
				c.add(LevelBlocker, f.Name, "A coupon code has at most 15 characters.")
			}
		}
		for _, u := range sp.Unsupported {
			c.add(LevelDanger, "", u+".")
		}
		for _, r := range sp.Refused {
			c.add(LevelBlocker, "template", r+".")
		}
		kind, label, readyAt := s.sync.State(*tmpl, c.Connection.OnboardingStatus, now)
		c.Sync = SyncView{Kind: kind, Label: label, ReadyAt: readyAt}
		switch kind {
		case SyncSyncing:
			msg := "The template is still syncing with MM API: Meta will answer 134101 “Your template is still syncing”"
			if readyAt != nil {
				msg += " until about " + readyAt.UTC().Format("15:04 MST") + " (" + untilText(now, *readyAt) + ")"
			}
			c.Checks = append(c.Checks, Check{Level: LevelDanger, Message: msg + ".", Code: 134101, Until: readyAt})
		case SyncDormant:
			c.add(LevelWarning, "", "The template has not been used for more than 7 days: the first send is accepted and starts a 10-minute sync; sends in those 10 minutes get 134101.")
		}
	}

	// Onboarding decides the route (mm-api-reference §1.3).
	switch {
	case c.Connection.Onboarded():
	case c.Policy == graph.PolicyStrict:
		c.Checks = append(c.Checks, Check{Level: LevelDanger, Field: "policy", Code: 134102,
			Message: "This WABA is not onboarded to MM API (" + onboardingText(c.Connection.OnboardingStatus) + "): with STRICT the send will fail (Meta answers 134102 “Template unavailable for use”). Choose CLOUD_API_FALLBACK or finish onboarding."})
	default:
		c.add(LevelWarning, "policy", "This WABA is not onboarded to MM API ("+onboardingText(c.Connection.OnboardingStatus)+"): the message will fall back to Cloud API, at Cloud API marketing rates and without MM API's delivery optimisation.")
	}

	if in.Recipient == "" && in.Values.Get("recipient") == "" {
		c.add(LevelBlocker, "recipient", "Enter the recipient's number in international format.")
	} else if d, err := NormalizeRecipient(in.Recipient); err != nil {
		c.add(LevelBlocker, "recipient", "Recipient: "+err.Error()+".")
	} else {
		c.Recipient = d
		if strings.HasPrefix(d, "1") {
			c.Checks = append(c.Checks, Check{Level: LevelDanger, Field: "recipient", Code: 131049,
				Message: "+1 is a US/Canada number: Meta blocks all marketing messages to US numbers; the send is accepted, then fails with 131049."})
		}
	}

	// TTL: the template's own value is the default (mm-api-reference §1.5).
	def := DefaultTTL
	if tmpl != nil && tmpl.TTLSeconds != nil && *tmpl.TTLSeconds > 0 {
		def = *tmpl.TTLSeconds
	}
	tv, secs, terr := parseTTL(in, def)
	tv.Mode = c.Connection.TTLMode
	if tv.Mode != models.TTLTemplate {
		tv.Mode = models.TTLPerSend
	}
	if tmpl != nil {
		tv.TemplateSeconds = tmpl.TTLSeconds
	}
	switch {
	case terr != nil:
		c.add(LevelBlocker, "ttl", "TTL: "+terr.Error()+".")
	case secs < MinTTL || secs > MaxTTL:
		c.add(LevelBlocker, "ttl", fmt.Sprintf("A marketing message's TTL must be between 12 hours (43200 s) and 30 days (2592000 s); %d s is %s.", secs, HumanDuration(secs)))
	default:
		tv.Seconds = secs
	}
	if tv.Mode == models.TTLTemplate {
		tv.Explain = "This WABA uses Meta's template TTL (message_send_ttl_seconds): it applies to every send of the template, so no time_to_live goes in the request."
		cur := DefaultTTL
		if tmpl != nil && tmpl.TTLSeconds != nil && *tmpl.TTLSeconds > 0 {
			cur = *tmpl.TTLSeconds
		}
		tv.Current = cur
		if tmpl != nil && tv.Seconds != 0 && tv.Seconds != cur {
			// Never an edit of an approved template behind the person's back: it is named, with
			// the edits left, and must be confirmed for exactly this value.
			tv.Changes = true
			budget, err := s.edits.Of(ctx, *tmpl)
			if err != nil {
				return nil, err
			}
			tv.Budget = budget
			tv.Confirmed = in.Values.Get("confirm_ttl_edit") == strconv.Itoa(tv.Seconds)
			edit := "Sending first edits this template on Meta: its TTL changes from " + HumanDuration(cur) + " to " + HumanDuration(tv.Seconds) + ", for every later send of it. "
			switch {
			case budget.AtLimit():
				c.add(LevelBlocker, "ttl", edit+budget.Words()+" Keep the template's TTL ("+HumanDuration(cur)+") to send.")
			case !tv.Confirmed:
				c.add(LevelBlocker, "confirm_ttl_edit", edit+budget.Words()+" Tick “Edit the template's TTL, then send” to confirm.")
			case budget.SpendsLast():
				c.add(LevelWarning, "ttl", edit+budget.Words()+" These are among the last edits Meta allows this template in 30 days.")
			default:
				c.add(LevelWarning, "ttl", edit+budget.Words())
			}
		}
	} else {
		tv.Explain = "This WABA uses Hibot's per-send time_to_live: it goes in this request and applies to this message only."
	}
	c.TTL = tv

	if c.Phone != nil && c.Phone.ConnectionID != c.Connection.ID {
		c.add(LevelBlocker, "phone", "This phone number belongs to another WABA.")
	}
	if err := s.checkPreference(ctx, c); err != nil {
		return nil, err
	}
	s.finish(c)
	return c, nil
}

// finish builds the request, its JSON, the curl command and the preview.
func (s *Service) finish(c *Composer) {
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
			c.Curl = "# TOKEN: the access token of this WABA (ends in …" + c.Connection.TokenLast4 + ")\n" + c.Curl
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

func onboardingText(status string) string {
	if status == "" {
		return "status not read yet"
	}
	return "status " + status
}

func untilText(now, t time.Time) string {
	d := t.Sub(now).Round(time.Minute)
	if d < time.Minute {
		return "less than a minute"
	}
	return "in about " + plural(int(d.Minutes()), "minute")
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
