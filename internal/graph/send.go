package graph

import (
	"encoding/json"
	"net/url"
	"strings"
)

// Product policies for MarketingMessageRequest.ProductPolicy.
const (
	PolicyCloudAPIFallback = "CLOUD_API_FALLBACK"
	PolicyStrict           = "STRICT"
)

// MarketingMessageRequest is a POST /{phone}/marketing_messages send.
// Body() is exactly what is sent, so the composer can show it first.
type MarketingMessageRequest struct {
	To           string // phone number or WA ID; wins over Recipient
	Recipient    string // business-scoped user ID, used when To is empty
	TemplateName string
	LanguageCode string
	Components   []Component
	// ProductPolicy is CLOUD_API_FALLBACK or STRICT; omitted when empty
	// (Meta then behaves as CLOUD_API_FALLBACK).
	ProductPolicy string
	// MessageActivitySharing overrides the WABA default; omitted when nil.
	MessageActivitySharing *bool
	// TimeToLive is Hibot's per-send "time_to_live" (seconds). Meta's spec
	// has no such field (TTL is a template property there), so it is sent
	// only when set, for providers that honour it.
	TimeToLive            *int
	BizOpaqueCallbackData string
}

// Component is a send-time template component with its parameters.
type Component struct {
	Type       string      `json:"type"`               // header, body, button
	SubType    string      `json:"sub_type,omitempty"` // url, quick_reply, copy_code, catalog
	Index      string      `json:"index,omitempty"`    // "0".."9" for buttons
	Parameters []Parameter `json:"parameters"`
}

// Parameter is one template variable value.
type Parameter struct {
	Type          string    `json:"type"` // text, image, video, document, currency, date_time, payload, coupon_code
	ParameterName string    `json:"parameter_name,omitempty"`
	Text          string    `json:"text,omitempty"`
	Image         *Media    `json:"image,omitempty"`
	Video         *Media    `json:"video,omitempty"`
	Document      *Media    `json:"document,omitempty"`
	Currency      *Currency `json:"currency,omitempty"`
	DateTime      *DateTime `json:"date_time,omitempty"`
	Payload       string    `json:"payload,omitempty"`
	CouponCode    string    `json:"coupon_code,omitempty"`
}

// Media is a header media reference: an uploaded media ID or a public link.
type Media struct {
	ID       string `json:"id,omitempty"`
	Link     string `json:"link,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// Currency is a localized currency parameter.
type Currency struct {
	FallbackValue string `json:"fallback_value"`
	Code          string `json:"code"`
	Amount1000    int64  `json:"amount_1000"`
}

// DateTime is a localized date/time parameter.
type DateTime struct {
	FallbackValue string `json:"fallback_value"`
}

// Text builds a positional text parameter.
func Text(s string) Parameter { return Parameter{Type: "text", Text: s} }

// NamedText builds a text parameter for a NAMED template.
func NamedText(name, s string) Parameter {
	return Parameter{Type: "text", ParameterName: name, Text: s}
}

type wireLanguage struct {
	Code string `json:"code"`
}

type wireTemplate struct {
	Name       string       `json:"name"`
	Language   wireLanguage `json:"language"`
	Components []Component  `json:"components,omitempty"`
}

type wireSend struct {
	MessagingProduct       string       `json:"messaging_product"`
	RecipientType          string       `json:"recipient_type"`
	To                     string       `json:"to,omitempty"`
	Recipient              string       `json:"recipient,omitempty"`
	Type                   string       `json:"type"`
	Template               wireTemplate `json:"template"`
	ProductPolicy          string       `json:"product_policy,omitempty"`
	MessageActivitySharing *bool        `json:"message_activity_sharing,omitempty"`
	TimeToLive             *int         `json:"time_to_live,omitempty"`
	BizOpaqueCallbackData  string       `json:"biz_opaque_callback_data,omitempty"`
}

// MarshalJSON produces the documented request body (reference §1.2).
func (r MarketingMessageRequest) MarshalJSON() ([]byte, error) {
	return json.Marshal(wireSend{
		MessagingProduct: "whatsapp",
		RecipientType:    "individual",
		To:               r.To,
		// Meta ignores recipient when to is present; sending both would only
		// confuse the preview.
		Recipient: func() string {
			if r.To != "" {
				return ""
			}
			return r.Recipient
		}(),
		Type: "template",
		Template: wireTemplate{
			Name:       r.TemplateName,
			Language:   wireLanguage{Code: r.LanguageCode},
			Components: r.Components,
		},
		ProductPolicy:          r.ProductPolicy,
		MessageActivitySharing: r.MessageActivitySharing,
		TimeToLive:             r.TimeToLive,
		BizOpaqueCallbackData:  r.BizOpaqueCallbackData,
	})
}

// Body returns the exact JSON sent for this request.
func (r MarketingMessageRequest) Body() ([]byte, error) { return json.Marshal(r) }

// SendResult is the /marketing_messages success response.
type SendResult struct {
	Contacts []SendContact   `json:"contacts"`
	Messages []SentMessage   `json:"messages"`
	Raw      json.RawMessage `json:"-"`
}

// SendContact echoes the recipient; UserID is set for BSUID sends.
type SendContact struct {
	Input  string `json:"input"`
	WaID   string `json:"wa_id,omitempty"`
	UserID string `json:"user_id,omitempty"`
}

// SentMessage is the wamid and its status (accepted,
// held_for_quality_assessment or paused).
type SentMessage struct {
	ID            string `json:"id"`
	MessageStatus string `json:"message_status,omitempty"`
}

// WAMID is the first message ID, or "".
func (s SendResult) WAMID() string {
	if len(s.Messages) == 0 {
		return ""
	}
	return s.Messages[0].ID
}

// UnmarshalJSON keeps the raw response.
func (s *SendResult) UnmarshalJSON(b []byte) error {
	var w struct {
		Contacts []SendContact `json:"contacts"`
		Messages []SentMessage `json:"messages"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	s.Contacts, s.Messages = w.Contacts, w.Messages
	s.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// IsMetaHost reports whether baseURL is on Meta's own Graph API host (graph.facebook.com), as
// opposed to a BSP gateway: Meta refuses request properties outside its published schema, such
// as the per-send time_to_live that Hibot's gateway documents.
func IsMetaHost(baseURL string) bool {
	u, err := url.Parse(baseURL)
	return err == nil && strings.EqualFold(u.Hostname(), "graph.facebook.com")
}
