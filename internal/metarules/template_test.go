package metarules

import (
	"context"
	"strings"
	"testing"
)

// valid is a marketing template with every component kind filled in correctly.
func valid() TemplateDef {
	return TemplateDef{
		Name: "summer_sale_2026", Language: "en_US", Category: "MARKETING",
		Header: &HeaderDef{Format: "TEXT", TextDef: TextDef{Text: "Hi {{1}}", Examples: []string{"Ana"}}},
		Body:   TextDef{Text: "Our sale ends on {{1}}: up to {{2}} off.", Examples: []string{"Sunday", "30%"}},
		Footer: "Reply STOP to opt out",
		Buttons: []ButtonDef{
			{Type: "URL", Text: "Shop now", URL: "https://shop.example/p/{{1}}", Example: "https://shop.example/p/summer"},
			{Type: "PHONE_NUMBER", Text: "Call us", Phone: "+5215512345678"},
			{Type: "COPY_CODE", Example: "SUMMER20"},
		},
	}
}

// TestCheckTemplateEveryRule: a valid example of each component passes, and each of Meta's
// creation rules, broken once, is reported on its own field with its subcode.
func TestCheckTemplateEveryRule(t *testing.T) {
	cases := []struct {
		name    string
		edit    func(d *TemplateDef)
		field   string
		subcode int
	}{
		{"valid text header, body, footer, URL/phone/copy buttons", func(d *TemplateDef) {}, "", 0},
		{"valid image header by sample URL", func(d *TemplateDef) {
			d.Header = &HeaderDef{Format: "IMAGE", Sample: "https://cdn.example/summer.jpg"}
		}, "", 0},
		{"valid video header by upload handle", func(d *TemplateDef) { d.Header = &HeaderDef{Format: "VIDEO", Sample: "4::aW1hZ2UvanBlZw==:ARb"} }, "", 0},
		{"valid document header", func(d *TemplateDef) { d.Header = &HeaderDef{Format: "DOCUMENT", Sample: "https://cdn.example/a.pdf"} }, "", 0},
		{"valid no header", func(d *TemplateDef) { d.Header = nil }, "", 0},
		{"valid named variables", func(d *TemplateDef) {
			d.ParameterFormat = "NAMED"
			d.Header = &HeaderDef{Format: "TEXT", TextDef: TextDef{Text: "Hi {{first_name}}", Named: map[string]string{"first_name": "Ana"}}}
			d.Body = TextDef{Text: "Sale ends {{end_day}}, {{first_name}}!", Named: map[string]string{"end_day": "Sunday", "first_name": "Ana"}}
		}, "", 0},
		{"valid quick replies grouped", func(d *TemplateDef) {
			d.Buttons = []ButtonDef{{Type: "QUICK_REPLY", Text: "Yes"}, {Type: "QUICK_REPLY", Text: "No"}, {Type: "URL", Text: "Shop", URL: "https://shop.example"}}
		}, "", 0},
		{"name with capitals", func(d *TemplateDef) { d.Name = "Summer_Sale" }, FieldName, 0},
		{"name with a space", func(d *TemplateDef) { d.Name = "summer sale" }, FieldName, 0},
		{"name with an accent", func(d *TemplateDef) { d.Name = "promoción" }, FieldName, 0},
		{"name of 513 characters", func(d *TemplateDef) { d.Name = strings.Repeat("a", 513) }, FieldName, 0},
		{"empty name", func(d *TemplateDef) { d.Name = "" }, FieldName, 0},
		{"unknown language", func(d *TemplateDef) { d.Language = "en_XX" }, FieldLanguage, 0},
		{"unknown category", func(d *TemplateDef) { d.Category = "PROMO" }, FieldCategory, 0},
		{"header too long", func(d *TemplateDef) { d.Header.Text = strings.Repeat("h", 61) }, FieldHeader, SubcodeTooLong},
		{"header with two variables", func(d *TemplateDef) {
			d.Header.Text, d.Header.Examples = "{{1}} and {{2}}", []string{"a", "b"}
		}, FieldHeader, SubcodeHeaderFormat},
		{"header variable without example", func(d *TemplateDef) { d.Header.Examples = nil }, FieldHeaderExample, SubcodeMissingExample},
		{"header example longer than a header", func(d *TemplateDef) { d.Header.Examples = []string{strings.Repeat("x", 61)} }, FieldHeaderExample, SubcodeTooLong},
		{"body example longer than a body", func(d *TemplateDef) { d.Body.Examples[0] = strings.Repeat("x", 1025) }, FieldBodyExamples, SubcodeTooLong},
		{"header with a new line", func(d *TemplateDef) { d.Header.Text = "Hi\nthere" }, FieldHeader, SubcodeHeaderFormat},
		{"image header without sample", func(d *TemplateDef) { d.Header = &HeaderDef{Format: "IMAGE"} }, FieldHeaderSample, SubcodeMissingExample},
		{"image sample over http", func(d *TemplateDef) { d.Header = &HeaderDef{Format: "IMAGE", Sample: "http://cdn.example/a.jpg"} }, FieldHeaderSample, SubcodeHeaderFormat},
		{"unknown header format", func(d *TemplateDef) { d.Header = &HeaderDef{Format: "LOCATION"} }, FieldHeaderFormat, SubcodeHeaderFormat},
		{"empty body", func(d *TemplateDef) { d.Body = TextDef{} }, FieldBody, SubcodeBodyFormat},
		{"body too long", func(d *TemplateDef) { d.Body = TextDef{Text: strings.Repeat("b", 1025)} }, FieldBody, SubcodeTooLong},
		{"body starts with a variable", func(d *TemplateDef) { d.Body = TextDef{Text: "{{1}} sale", Examples: []string{"a"}} }, FieldBody, SubcodeBodyFormat},
		{"body ends with a variable", func(d *TemplateDef) { d.Body = TextDef{Text: "Sale {{1}}", Examples: []string{"a"}} }, FieldBody, SubcodeBodyFormat},
		{"positional gap", func(d *TemplateDef) { d.Body = TextDef{Text: "A {{1}} b {{3}} c", Examples: []string{"a", "b"}} }, FieldBody, SubcodeBodyFormat},
		{"positional out of order", func(d *TemplateDef) { d.Body = TextDef{Text: "A {{2}} b {{1}} c", Examples: []string{"a", "b"}} }, FieldBody, SubcodeBodyFormat},
		{"named variable in a positional template", func(d *TemplateDef) { d.Body = TextDef{Text: "A {{name}} b", Examples: []string{"a"}} }, FieldBody, SubcodeBodyFormat},
		{"number in a named template", func(d *TemplateDef) {
			d.ParameterFormat, d.Header = "NAMED", nil
			d.Body = TextDef{Text: "A {{1}} b", Named: map[string]string{"1": "x"}}
		}, FieldBody, SubcodeBodyFormat},
		{"named variable with capitals", func(d *TemplateDef) {
			d.ParameterFormat, d.Header = "NAMED", nil
			d.Body = TextDef{Text: "A {{First}} b", Named: map[string]string{"First": "x"}}
		}, FieldBody, SubcodeBodyFormat},
		{"empty variable", func(d *TemplateDef) { d.Body = TextDef{Text: "A {{}} b"} }, FieldBody, SubcodeBodyFormat},
		{"body example missing", func(d *TemplateDef) { d.Body.Examples = []string{"Sunday"} }, FieldBodyExamples, SubcodeMissingExample},
		{"body example with a new line", func(d *TemplateDef) { d.Body.Examples = []string{"Sun\nday", "30%"} }, FieldBodyExamples, SubcodeMissingExample},
		{"footer too long", func(d *TemplateDef) { d.Footer = strings.Repeat("f", 61) }, FieldFooter, SubcodeTooLong},
		{"footer with a variable", func(d *TemplateDef) { d.Footer = "Bye {{1}}" }, FieldFooter, SubcodeFooterFormat},
		{"button label too long", func(d *TemplateDef) { d.Buttons[0].Text = strings.Repeat("x", 26) }, ButtonField(0, "text"), SubcodeTooLong},
		{"button without label", func(d *TemplateDef) { d.Buttons[1].Text = "" }, ButtonField(1, "text"), SubcodeButtons},
		{"URL without https", func(d *TemplateDef) { d.Buttons[0].URL = "shop.example/{{1}}" }, ButtonField(0, "url"), SubcodeButtons},
		{"URL variable not at the end", func(d *TemplateDef) { d.Buttons[0].URL = "https://x.example/{{1}}/a" }, ButtonField(0, "url"), SubcodeButtons},
		{"URL with {{2}}", func(d *TemplateDef) { d.Buttons[0].URL = "https://x.example/{{2}}" }, ButtonField(0, "url"), SubcodeButtons},
		{"URL example missing", func(d *TemplateDef) { d.Buttons[0].Example = "" }, ButtonField(0, "example"), SubcodeMissingExample},
		{"URL example not the link", func(d *TemplateDef) { d.Buttons[0].Example = "summer" }, ButtonField(0, "example"), SubcodeMissingExample},
		{"phone not international", func(d *TemplateDef) { d.Buttons[1].Phone = "call me" }, ButtonField(1, "phone"), SubcodeButtons},
		{"coupon too long", func(d *TemplateDef) { d.Buttons[2].Example = strings.Repeat("A", 16) }, ButtonField(2, "example"), SubcodeButtons},
		{"coupon missing", func(d *TemplateDef) { d.Buttons[2].Example = "" }, ButtonField(2, "example"), SubcodeMissingExample},
		{"three URL buttons", func(d *TemplateDef) {
			u := ButtonDef{Type: "URL", Text: "Go", URL: "https://x.example"}
			d.Buttons = []ButtonDef{u, u, u}
		}, FieldButtons, SubcodeButtons},
		{"two phone buttons", func(d *TemplateDef) { d.Buttons = append(d.Buttons, d.Buttons[1]) }, FieldButtons, SubcodeButtons},
		{"eleven buttons", func(d *TemplateDef) {
			d.Buttons = nil
			for range 11 {
				d.Buttons = append(d.Buttons, ButtonDef{Type: "QUICK_REPLY", Text: "Ok"})
			}
		}, FieldButtons, SubcodeButtons},
		{"quick replies split by a URL", func(d *TemplateDef) {
			d.Buttons = []ButtonDef{{Type: "QUICK_REPLY", Text: "Yes"}, {Type: "URL", Text: "Shop", URL: "https://x.example"}, {Type: "QUICK_REPLY", Text: "No"}}
		}, FieldButtons, SubcodeButtons},
	}
	for _, c := range cases {
		d := valid()
		c.edit(&d)
		ps := CheckTemplate(context.Background(), d)
		if c.field == "" {
			if len(ps) != 0 {
				t.Errorf("%s: refused: %+v", c.name, ps)
			}
			continue
		}
		var got *Problem
		for i := range ps {
			if ps[i].Field == c.field {
				got = &ps[i]
			}
		}
		if got == nil {
			t.Errorf("%s: no problem on %s; got %+v", c.name, c.field, ps)
			continue
		}
		if got.Subcode != c.subcode || got.Message == "" {
			t.Errorf("%s: subcode %d (%q), want %d", c.name, got.Subcode, got.Message, c.subcode)
		}
	}
}

func TestLanguagesAreMetasList(t *testing.T) {
	for _, c := range []string{"en_US", "es_MX", "pt_BR", "fil", "prs_AF"} {
		if !KnownLanguage(c) {
			t.Errorf("%s should be a known language", c)
		}
	}
	for _, c := range []string{"", "EN_us", "en-US", "xx"} {
		if KnownLanguage(c) {
			t.Errorf("%q should not be a known language", c)
		}
	}
}
