package send

import (
	"encoding/json"
	"net/url"
	"strconv"

	"mmconsole/internal/graph"
	"mmconsole/internal/metarules"
	"mmconsole/models"
)

// AgainValues are the composer's form values that repeat a test send: its connection, phone,
// template, recipient, TTL, product policy, activity sharing and template variables, read back
// from the request the dashboard stored. The composer checks them again before anything is sent,
// so a stored request that no longer fits its template only comes back as an incomplete form.
func AgainValues(s models.TestSend) url.Values {
	v := url.Values{}
	if s.ConnectionID != 0 {
		v.Set("connection", strconv.FormatUint(uint64(s.ConnectionID), 10))
	}
	if s.PhoneNumberID != "" {
		v.Set("phone", s.PhoneNumberID)
	}
	if s.TemplateRowID != 0 {
		v.Set("template", strconv.FormatUint(uint64(s.TemplateRowID), 10))
	}
	if s.Recipient != "" {
		v.Set("recipient", "+"+s.Recipient)
	}
	if s.ProductPolicy != "" {
		v.Set("policy", s.ProductPolicy)
	}
	if s.TTLSeconds > 0 {
		v.Set("ttl_value", strconv.Itoa(s.TTLSeconds))
		v.Set("ttl_unit", metarules.UnitSeconds)
	}
	var req struct {
		Template struct {
			Components []graph.Component `json:"components"`
		} `json:"template"`
		MessageActivitySharing *bool `json:"message_activity_sharing"`
	}
	if json.Unmarshal([]byte(s.RequestJSON), &req) != nil {
		return v
	}
	switch {
	case req.MessageActivitySharing == nil:
		v.Set("sharing", SharingDefault)
	case *req.MessageActivitySharing:
		v.Set("sharing", SharingOn)
	default:
		v.Set("sharing", SharingOff)
	}
	for _, c := range req.Template.Components {
		for i, p := range c.Parameters {
			name, value := fieldOf(c, i, p)
			if name != "" {
				v.Set(name, value)
			}
		}
	}
	return v
}

// fieldOf is the composer field (see Spec's field names) a sent parameter came from.
func fieldOf(c graph.Component, i int, p graph.Parameter) (name, value string) {
	param := p.ParameterName
	if param == "" {
		param = strconv.Itoa(i + 1) // positional: {{1}}, {{2}}, … in order
	}
	switch c.Type {
	case "header":
		for _, m := range []*graph.Media{p.Image, p.Video, p.Document} {
			if m != nil {
				return "var.header_media", m.Link
			}
		}
		if p.Type == "text" {
			return "var.header." + param, p.Text
		}
	case "body":
		if p.Type == "text" {
			return "var.body." + param, p.Text
		}
	case "button":
		switch {
		case c.SubType == "url" && p.Type == "text":
			return "var.button." + c.Index, p.Text
		case c.SubType == "copy_code" && p.Type == "coupon_code":
			return "var.coupon." + c.Index, p.CouponCode
		}
	}
	return "", ""
}
