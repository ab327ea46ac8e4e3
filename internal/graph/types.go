package graph

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Template is a message template as GET /{template_id} or the
// message_templates edge returns it. Fields not requested are zero; Raw keeps
// the whole object so nothing Meta adds is lost.
type Template struct {
	ID                         string              `json:"id"`
	Name                       string              `json:"name"`
	Language                   string              `json:"language"`
	Status                     string              `json:"status"`
	Category                   string              `json:"category"`
	SubCategory                string              `json:"sub_category,omitempty"`
	ParameterFormat            string              `json:"parameter_format,omitempty"`
	PreviousCategory           string              `json:"previous_category,omitempty"`
	CorrectCategory            string              `json:"correct_category,omitempty"`
	Components                 []TemplateComponent `json:"components,omitempty"`
	QualityScore               *QualityScore       `json:"quality_score,omitempty"`
	RejectedReason             string              `json:"rejected_reason,omitempty"`
	MessageSendTTLSeconds      *int                `json:"message_send_ttl_seconds,omitempty"`
	CTAURLLinkTrackingOptedOut *bool               `json:"cta_url_link_tracking_opted_out,omitempty"`
	DegreesOfFreedom           DegreesOfFreedom    `json:"degrees_of_freedom_spec"`
	AdID                       string              `json:"ad_id,omitempty"`
	AdAdsetID                  string              `json:"ad_adset_id,omitempty"`
	AdCampaignID               string              `json:"ad_campaign_id,omitempty"`
	AdAccountID                string              `json:"ad_account_id,omitempty"`
	Raw                        json.RawMessage     `json:"-"`
}

// UnmarshalJSON tolerates IDs sent as numbers and keeps the raw object.
func (t *Template) UnmarshalJSON(b []byte) error {
	type plain Template
	var w struct {
		plain
		ID           flexString `json:"id"`
		AdID         flexString `json:"ad_id"`
		AdAdsetID    flexString `json:"ad_adset_id"`
		AdCampaignID flexString `json:"ad_campaign_id"`
		AdAccountID  flexString `json:"ad_account_id"`
		TTL          *flexInt   `json:"message_send_ttl_seconds"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*t = Template(w.plain)
	t.ID, t.AdID, t.AdAdsetID = string(w.ID), string(w.AdID), string(w.AdAdsetID)
	t.AdCampaignID, t.AdAccountID = string(w.AdCampaignID), string(w.AdAccountID)
	t.MessageSendTTLSeconds = nil
	if w.TTL != nil {
		v := int(*w.TTL)
		t.MessageSendTTLSeconds = &v
	}
	t.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// HasURLButton reports whether the template has a URL call-to-action, which
// is what MM API click tracking reports on.
func (t Template) HasURLButton() bool {
	for _, c := range t.Components {
		for _, b := range c.Buttons {
			if strings.EqualFold(b.Type, "URL") {
				return true
			}
		}
	}
	return false
}

// TemplateComponent is one component of a template definition (HEADER, BODY,
// FOOTER, BUTTONS). Example stays raw: its shape differs per component type.
type TemplateComponent struct {
	Type    string           `json:"type"`
	Format  string           `json:"format,omitempty"`
	Text    string           `json:"text,omitempty"`
	Example json.RawMessage  `json:"example,omitempty"`
	Buttons []TemplateButton `json:"buttons,omitempty"`
}

// TemplateButton is a button of a BUTTONS component.
type TemplateButton struct {
	Type        string          `json:"type"`
	Text        string          `json:"text,omitempty"`
	URL         string          `json:"url,omitempty"`
	PhoneNumber string          `json:"phone_number,omitempty"`
	Example     json.RawMessage `json:"example,omitempty"`
}

// QualityScore is quality_score; Date is when Meta last rated the template.
type QualityScore struct {
	Score   string    `json:"score"`
	Date    time.Time `json:"-"`
	Reasons []string  `json:"reasons,omitempty"`
}

// UnmarshalJSON reads date as unix seconds (number or string) or RFC 3339,
// and reasons as a list or a single string.
func (q *QualityScore) UnmarshalJSON(b []byte) error {
	var w struct {
		Score   lenientString   `json:"score"`
		Date    json.RawMessage `json:"date"`
		Reasons json.RawMessage `json:"reasons"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	q.Score = strings.ToUpper(string(w.Score))
	q.Date = parseFlexTime(w.Date)
	q.Reasons = nil
	if !isNull(w.Reasons) {
		var list []string
		var one string
		if json.Unmarshal(w.Reasons, &list) == nil {
			q.Reasons = list
		} else if json.Unmarshal(w.Reasons, &one) == nil && one != "" {
			q.Reasons = []string{one}
		}
	}
	return nil
}

// MarshalJSON writes date back as unix seconds, as Meta sends it.
func (q QualityScore) MarshalJSON() ([]byte, error) {
	w := struct {
		Score   string   `json:"score"`
		Date    int64    `json:"date,omitempty"`
		Reasons []string `json:"reasons,omitempty"`
	}{Score: q.Score, Reasons: q.Reasons}
	if !q.Date.IsZero() {
		w.Date = q.Date.Unix()
	}
	return json.Marshal(w)
}

func parseFlexTime(raw json.RawMessage) time.Time {
	s := strings.Trim(string(bytes.TrimSpace(raw)), `"`)
	if s == "" || s == "null" {
		return time.Time{}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC()
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC()
	}
	if t, err := time.Parse("2006-01-02T15:04:05-0700", s); err == nil {
		return t.UTC()
	}
	return time.Time{}
}

// TemplateQuery filters GET /{waba}/message_templates (reference §3.1).
type TemplateQuery struct {
	Category     []string
	Status       []string
	Language     []string
	Name         string
	QualityScore []string
	Fields       []string
	Limit        int
	After        string
}

// TemplatePage is one page of templates with its cursors.
type TemplatePage struct {
	Data   []Template
	Before string
	After  string
	// Next is Graph's URL of the next page; empty on the last page. It is
	// kept for display only: paging uses After, because Next URLs from Graph
	// can embed an access token.
	Next string
}

// HasNext reports whether another page follows.
func (p TemplatePage) HasNext() bool { return p.Next != "" && p.After != "" }

// WABA is a WhatsApp Business Account with the MM API fields.
type WABA struct {
	ID                                 string           `json:"id"`
	Name                               string           `json:"name"`
	MarketingMessagesOnboardingStatus  string           `json:"marketing_messages_onboarding_status,omitempty"`
	DegreesOfFreedom                   DegreesOfFreedom `json:"degrees_of_freedom_spec"`
	DisableMarketingMessagesOnCloudAPI bool             `json:"disable_marketing_messages_on_cloud_api"`
	Currency                           string           `json:"currency,omitempty"`
	TimezoneID                         string           `json:"timezone_id,omitempty"`
	MessageTemplateNamespace           string           `json:"message_template_namespace,omitempty"`
	Raw                                json.RawMessage  `json:"-"`
}

// UnmarshalJSON tolerates numeric IDs and keeps the raw object.
func (w *WABA) UnmarshalJSON(b []byte) error {
	type plain WABA
	var x struct {
		plain
		ID         flexString `json:"id"`
		TimezoneID flexString `json:"timezone_id"`
		Disable    flexBool   `json:"disable_marketing_messages_on_cloud_api"`
	}
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*w = WABA(x.plain)
	w.ID, w.TimezoneID = string(x.ID), string(x.TimezoneID)
	w.DisableMarketingMessagesOnCloudAPI = bool(x.Disable)
	w.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// Onboarded reports whether the WABA can send through MM API proper.
func (w WABA) Onboarded() bool {
	return strings.EqualFold(w.MarketingMessagesOnboardingStatus, "ONBOARDED")
}

// PhoneNumber is a business phone number of a WABA.
type PhoneNumber struct {
	ID                 string     `json:"id"`
	DisplayPhoneNumber string     `json:"display_phone_number"`
	VerifiedName       string     `json:"verified_name"`
	QualityRating      string     `json:"quality_rating"`
	Throughput         Throughput `json:"throughput"`
}

// Throughput is the phone number's messaging throughput level.
type Throughput struct {
	Level string `json:"level"`
}

// UnmarshalJSON tolerates a numeric ID.
func (p *PhoneNumber) UnmarshalJSON(b []byte) error {
	type plain PhoneNumber
	var x struct {
		plain
		ID flexString `json:"id"`
	}
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*p = PhoneNumber(x.plain)
	p.ID = string(x.ID)
	return nil
}

// TemplateEdit is POST /{template_id}. Nil/empty fields are not sent.
type TemplateEdit struct {
	TTLSeconds    *int              // message_send_ttl_seconds
	Optimizations map[string]string // lowercase feature key -> OPT_IN/OPT_OUT
	Category      string            // only for templates that are not approved
	Components    json.RawMessage   // replaces all components when set
}

// MarshalJSON builds the request body, with degrees_of_freedom_spec in the
// object-keyed shape the edit endpoint accepts.
func (e TemplateEdit) MarshalJSON() ([]byte, error) {
	body := map[string]any{}
	if e.TTLSeconds != nil {
		body["message_send_ttl_seconds"] = *e.TTLSeconds
	}
	if len(e.Optimizations) > 0 {
		body["degrees_of_freedom_spec"] = DegreesOfFreedom{Features: e.Optimizations}
	}
	if e.Category != "" {
		body["category"] = e.Category
	}
	if len(bytes.TrimSpace(e.Components)) > 0 {
		body["components"] = e.Components
	}
	return json.Marshal(body)
}

// TemplateCreate is POST /{waba}/message_templates.
type TemplateCreate struct {
	Name            string              `json:"name"`
	Language        string              `json:"language"`
	Category        string              `json:"category"`
	ParameterFormat string              `json:"parameter_format,omitempty"`
	SubCategory     string              `json:"sub_category,omitempty"`
	Components      []TemplateComponent `json:"components"`
	TTLSeconds      *int                `json:"message_send_ttl_seconds,omitempty"`
	// Optimizations is sent as degrees_of_freedom_spec (object shape).
	Optimizations map[string]string `json:"-"`
	// AllowCategoryChange lets Meta recategorise instead of rejecting.
	AllowCategoryChange *bool `json:"allow_category_change,omitempty"`
}

// MarshalJSON adds degrees_of_freedom_spec when optimizations are given.
func (t TemplateCreate) MarshalJSON() ([]byte, error) {
	type plain TemplateCreate
	w := struct {
		plain
		DFS *DegreesOfFreedom `json:"degrees_of_freedom_spec,omitempty"`
	}{plain: plain(t)}
	if len(t.Optimizations) > 0 {
		w.DFS = &DegreesOfFreedom{Features: t.Optimizations}
	}
	return json.Marshal(w)
}

// CreatedTemplate is the create response {id, status, category}.
type CreatedTemplate struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Category string `json:"category"`
}

// UnmarshalJSON tolerates a numeric ID.
func (c *CreatedTemplate) UnmarshalJSON(b []byte) error {
	type plain CreatedTemplate
	var x struct {
		plain
		ID flexString `json:"id"`
	}
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*c = CreatedTemplate(x.plain)
	c.ID = string(x.ID)
	return nil
}
