package send

import (
	"encoding/json"
	"net/url"
	"testing"

	"mmconsole/internal/graph"
	"mmconsole/models"
)

// "Send again" reads a stored request back into the composer's fields: filling a fresh form
// with AgainValues builds the very components that were sent, with the same settings.
func TestAgainValuesRepeatTheSend(t *testing.T) {
	on, off := true, false
	for _, tc := range []struct {
		name, comps, format string
		form                url.Values
		sharing             *bool
		wantSharing         string
	}{
		{"positional with media, URL and coupon",
			`[{"type":"HEADER","format":"IMAGE"},{"type":"BODY","text":"Hi {{1}}, {{2}} off"},{"type":"BUTTONS","buttons":[{"type":"URL","text":"Shop","url":"https://x.example/{{1}}"},{"type":"COPY_CODE"}]}]`,
			"POSITIONAL",
			url.Values{"var.header_media": {"https://img.example/a.png"}, "var.body.1": {"Ana"}, "var.body.2": {"20%"}, "var.button.0": {"summer"}, "var.coupon.1": {"SAVE20"}},
			&on, SharingOn},
		{"named header and body", `[{"type":"HEADER","format":"TEXT","text":"For {{who}}"},{"type":"BODY","text":"{{first_name}}, see {{item}}"}]`,
			"NAMED",
			url.Values{"var.header.who": {"you"}, "var.body.first_name": {"Ana"}, "var.body.item": {"shoes"}},
			&off, SharingOff},
		{"no sharing field", `[{"type":"BODY","text":"Hello {{1}}"}]`, "POSITIONAL", url.Values{"var.body.1": {"Bo"}}, nil, SharingDefault},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp, err := ParseSpec(tc.comps, tc.format)
			if err != nil {
				t.Fatal(err)
			}
			sp.fill(tc.form)
			sent := sp.components()
			body, err := graph.MarketingMessageRequest{To: "525512345678", TemplateName: "t", LanguageCode: "en_US",
				Components: sent, ProductPolicy: "STRICT", MessageActivitySharing: tc.sharing}.Body()
			if err != nil {
				t.Fatal(err)
			}
			row := models.TestSend{ConnectionID: 3, PhoneNumberID: "1055", TemplateRowID: 9, Recipient: "525512345678",
				ProductPolicy: "STRICT", TTLSeconds: 43200, RequestJSON: string(body)}
			v := AgainValues(row)
			for k, want := range map[string]string{"connection": "3", "phone": "1055", "template": "9", "recipient": "+525512345678",
				"policy": "STRICT", "ttl_value": "43200", "ttl_unit": "seconds", "sharing": tc.wantSharing} {
				if got := v.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			again, _ := ParseSpec(tc.comps, tc.format)
			again.fill(v)
			a, _ := json.Marshal(again.components())
			b, _ := json.Marshal(sent)
			if string(a) != string(b) {
				t.Errorf("sent again:\n%s\nwant:\n%s", a, b)
			}
		})
	}
}

// A send whose stored request cannot be read still repeats its settings, without variables.
func TestAgainValuesWithoutARequest(t *testing.T) {
	v := AgainValues(models.TestSend{TemplateRowID: 4, Recipient: "15550001", RequestJSON: "{not json"})
	if v.Get("template") != "4" || v.Get("recipient") != "+15550001" || v.Has("ttl_value") || v.Has("sharing") {
		t.Errorf("values = %v", v)
	}
}
