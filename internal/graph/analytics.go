package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Template analytics (mm-api-reference §9): GET /{WABA_ID}/template_analytics answers daily
// counts per template for at most 10 templates per call, within a 90-day lookback, for WABAs
// whose is_enabled_for_insights is on.

// product_type values. Meta's pages disagree on the MM API spelling: the Python SDK and the
// max-price page say MARKETING_MESSAGES_LITE_API, the analytics page (after the Nov 2025 rename)
// MARKETING_MESSAGES_API_FOR_WHATSAPP. Callers try ProductTypeMMAPI first and fall back to
// ProductTypeMMAPIRenamed when Meta refuses the parameter (IsProductTypeRefusal).
const (
	ProductTypeMMAPI        = "MARKETING_MESSAGES_LITE_API"
	ProductTypeMMAPIRenamed = "MARKETING_MESSAGES_API_FOR_WHATSAPP"
	ProductTypeCloudAPI     = "CLOUD_API"
)

// Metric types. The basic five exist for every product type; the conversion metrics are MM API
// only (Meta refuses them for Cloud API).
const (
	MetricSent      = "SENT"
	MetricDelivered = "DELIVERED"
	MetricRead      = "READ"
	MetricClicked   = "CLICKED"
	MetricCost      = "COST"
)

// BasicMetrics are the metrics of every product type.
var BasicMetrics = []string{MetricSent, MetricDelivered, MetricRead, MetricClicked, MetricCost}

// ConversionMetrics are the MM API conversion metrics the console asks for (Meta's list grows;
// the decoder keeps any other numeric field it meets as well).
var ConversionMetrics = []string{"WEBSITE_ADD_TO_CART", "WEBSITE_CHECKOUTS_INITIATED", "WEBSITE_PURCHASES",
	"WEBSITE_PURCHASES_CONVERSION_VALUE", "APP_ACTIVATIONS", "APP_ADD_TO_CART", "APP_CHECKOUTS_INITIATED",
	"APP_PURCHASES", "APP_PURCHASES_CONVERSION_VALUE"}

// AnalyticsQuery asks GET /{WABA_ID}/template_analytics for daily counts: at most 10 templates
// per call, days inside Meta's 90-day lookback.
type AnalyticsQuery struct {
	TemplateIDs []string
	Start, End  time.Time
	// ProductType selects whose sends are counted; empty leaves Meta's default (Cloud API only).
	ProductType string
	// MetricTypes to ask for; empty asks for SENT only (what dormancy needs).
	MetricTypes []string
}

// AnalyticsPoint is one template's counts for one day. Clicked sums every button type; Cost is
// amount_spent (HasCost says Meta gave one); Conversions holds the conversion metrics Meta
// answered, keyed by metric type (e.g. WEBSITE_PURCHASES).
type AnalyticsPoint struct {
	TemplateID      string
	Start, End      time.Time
	Sent            int
	Delivered, Read int
	Clicked         int
	Cost            float64
	HasCost         bool
	Conversions     map[string]float64
}

// pointKnown are the data point fields read into named fields; any other numeric field is a
// conversion metric.
var pointKnown = map[string]bool{"template_id": true, "start": true, "end": true, "sent": true,
	"delivered": true, "read": true, "clicked": true, "cost": true}

// UnmarshalJSON reads a data point tolerantly: ids and times as numbers or strings, clicks and
// costs as Meta's typed lists, conversion metrics as whatever other numbers the point carries.
func (p *AnalyticsPoint) UnmarshalJSON(b []byte) error {
	var w struct {
		TemplateID flexString `json:"template_id"`
		Start      flexInt    `json:"start"`
		End        flexInt    `json:"end"`
		Sent       flexInt    `json:"sent"`
		Delivered  flexInt    `json:"delivered"`
		Read       flexInt    `json:"read"`
		Clicked    []struct {
			Type  string  `json:"type"`
			Count flexInt `json:"count"`
		} `json:"clicked"`
		Cost []struct {
			Type  string          `json:"type"`
			Value json.RawMessage `json:"value"`
		} `json:"cost"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*p = AnalyticsPoint{TemplateID: string(w.TemplateID), Start: time.Unix(int64(w.Start), 0).UTC(),
		End: time.Unix(int64(w.End), 0).UTC(), Sent: int(w.Sent), Delivered: int(w.Delivered), Read: int(w.Read)}
	for _, c := range w.Clicked {
		p.Clicked += int(c.Count)
	}
	for _, c := range w.Cost {
		if c.Type == "amount_spent" {
			if v, ok := number(c.Value); ok {
				p.Cost, p.HasCost = v, true
			}
		}
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	for k, raw := range all {
		if pointKnown[k] {
			continue
		}
		if v, ok := number(raw); ok {
			if p.Conversions == nil {
				p.Conversions = map[string]float64{}
			}
			p.Conversions[strings.ToUpper(k)] = v
		}
	}
	return nil
}

// number reads a JSON number or a string holding one.
func number(raw json.RawMessage) (float64, bool) {
	var f float64
	if json.Unmarshal(raw, &f) == nil {
		return f, true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, true
		}
	}
	return 0, false
}

// TemplateAnalytics reads daily counts of up to 10 templates. Meta answers only for WABAs whose
// is_enabled_for_insights is on; the error is returned as Meta gave it (see AnalyticsRefusal).
func (c *Client) TemplateAnalytics(ctx context.Context, token, wabaID string, q AnalyticsQuery) ([]AnalyticsPoint, error) {
	if err := needID("waba id", wabaID); err != nil {
		return nil, err
	}
	if len(q.TemplateIDs) == 0 || len(q.TemplateIDs) > 10 {
		return nil, fmt.Errorf("graph: template analytics of waba %s: %d templates, want 1 to 10", wabaID, len(q.TemplateIDs))
	}
	metrics := q.MetricTypes
	if len(metrics) == 0 {
		metrics = []string{MetricSent}
	}
	ids, _ := json.Marshal(q.TemplateIDs)
	mt, _ := json.Marshal(metrics)
	v := url.Values{
		"start":        {strconv.FormatInt(q.Start.Unix(), 10)},
		"end":          {strconv.FormatInt(q.End.Unix(), 10)},
		"granularity":  {"DAILY"},
		"metric_types": {string(mt)},
		"template_ids": {string(ids)},
	}
	if q.ProductType != "" {
		v.Set("product_type", q.ProductType)
	}
	var out struct {
		Data []struct {
			DataPoints []AnalyticsPoint `json:"data_points"`
		} `json:"data"`
	}
	if err := c.read(ctx, token, "/"+url.PathEscape(wabaID)+"/template_analytics", v, &out); err != nil {
		return nil, fmt.Errorf("template analytics of waba %s: %w", wabaID, err)
	}
	var pts []AnalyticsPoint
	for _, d := range out.Data {
		pts = append(pts, d.DataPoints...)
	}
	return pts, nil
}

// EnableInsights sets is_enabled_for_insights on a WABA, which template analytics need. Meta
// documents it as irreversible: callers confirm with a person first.
func (c *Client) EnableInsights(ctx context.Context, token, wabaID string) error {
	if err := needID("waba id", wabaID); err != nil {
		return err
	}
	var resp successResponse
	if err := c.write(ctx, token, "/"+url.PathEscape(wabaID), map[string]any{"is_enabled_for_insights": true}, &resp); err != nil {
		return fmt.Errorf("enable insights of waba %s: %w", wabaID, err)
	}
	return resp.check("enable insights of waba " + wabaID)
}

// Refusal kinds of template analytics: what the console stores per connection and shows.
const (
	RefusalNone       = ""
	RefusalNotEnabled = "not_enabled" // is_enabled_for_insights is off
	RefusalRegion     = "region"      // Meta does not offer analytics for the WABA's region (EU, JP)
)

// AnalyticsRefusal says whether err is Meta refusing template analytics for good (until a person
// acts) rather than a passing failure. Meta documents neither error's code, so the message is
// read: is_enabled_for_insights or "insights … not enabled" for the first; a region, country or
// "not available" for the second [I].
func AnalyticsRefusal(err error) string {
	ge, ok := AsGraphError(err)
	if !ok {
		return RefusalNone
	}
	text := strings.ToLower(ge.Message + " " + ge.Details + " " + ge.UserMessage)
	switch {
	case strings.Contains(text, "is_enabled_for_insights"),
		strings.Contains(text, "insights") && strings.Contains(text, "not enabled"):
		return RefusalNotEnabled
	case strings.Contains(text, "region"), strings.Contains(text, "country"),
		strings.Contains(text, "not available") && strings.Contains(text, "analytics"):
		return RefusalRegion
	}
	return RefusalNone
}

// IsProductTypeRefusal reports whether err is Meta refusing the product_type value (an invalid
// parameter naming it), the cue to try the other MM API spelling.
func IsProductTypeRefusal(err error) bool {
	ge, ok := AsGraphError(err)
	if !ok || ge.Code != 100 {
		return false
	}
	return strings.Contains(strings.ToLower(ge.Message+" "+ge.Details), "product_type")
}

// IsRateLimit reports whether err is one of Meta's rate limits (app 4, user 17, WABA 80007,
// calls to this method 613, and HTTP 429): the caller should stop calling for a while.
func IsRateLimit(err error) bool {
	ge, ok := AsGraphError(err)
	if !ok {
		return false
	}
	switch ge.Code {
	case 4, 17, 32, 613, 80007:
		return true
	}
	return ge.HTTPStatus == 429
}
