package send

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"mmconsole/models"
)

func TestNormalizeRecipient(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"+52 55 1234 5678", "525512345678", true},
		{"5215512345678", "5215512345678", true},
		{"+1 (650) 555-1234", "16505551234", true},
		{"1234567", "", false},          // 7 digits
		{"1234567890123456", "", false}, // 16 digits
		{"+52 55 12a4 5678", "", false}, // letter
		{"++525512345678", "", false},   // two pluses
		{"0525512345678", "", false},    // trunk prefix instead of country code
		{"", "", false},
	}
	for _, tc := range cases {
		got, err := NormalizeRecipient(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("NormalizeRecipient(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseSpecBuildsFieldsAndComponents(t *testing.T) {
	positional := `[{"type":"HEADER","format":"IMAGE","example":{"header_handle":["https://x/img.jpg"]}},
		{"type":"BODY","text":"Hi {{1}}, sale ends {{2}}. {{1}}!","example":{"body_text":[["Ana","Sunday"]]}},
		{"type":"FOOTER","text":"Reply STOP"},
		{"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"Stop"},{"type":"URL","text":"Shop","url":"https://shop/sale/{{1}}","example":["https://shop/sale/summer"]}]}]`
	named := `[{"type":"HEADER","format":"TEXT","text":"Hello {{name}}","example":{"header_text_named_params":[{"param_name":"name","example":"Ana"}]}},
		{"type":"BODY","text":"Use {{coupon}} now, {{first_name}}","example":{"body_text_named_params":[{"param_name":"coupon","example":"SAVE20"},{"param_name":"first_name","example":"Ana"}]}},
		{"type":"BUTTONS","buttons":[{"type":"COPY_CODE","example":"SAVE20"}]}]`
	cases := []struct {
		name, comps, format string
		values              url.Values
		wantFields          []string
		wantPlaceholders    []string
		wantJSON            []string
	}{
		{"positional with media and url button", positional, "POSITIONAL",
			url.Values{"var.header_media": {"https://a/b.jpg"}, "var.body.1": {"Eva"}, "var.body.2": {"Monday"}, "var.button.1": {"autumn"}},
			[]string{"var.header_media", "var.body.1", "var.body.2", "var.button.1"},
			[]string{"https://x/img.jpg", "Ana", "Sunday", "summer"},
			[]string{`{"type":"header","parameters":[{"type":"image","image":{"link":"https://a/b.jpg"}}]}`,
				`{"type":"body","parameters":[{"type":"text","text":"Eva"},{"type":"text","text":"Monday"}]}`,
				`{"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":"autumn"}]}`}},
		{"named with text header and coupon", named, "NAMED",
			url.Values{"var.header.name": {"Eva"}, "var.body.coupon": {"X1"}, "var.body.first_name": {"Eva"}, "var.coupon.0": {"X1"}},
			[]string{"var.header.name", "var.body.coupon", "var.body.first_name", "var.coupon.0"},
			[]string{"Ana", "SAVE20", "Ana", "SAVE20"},
			[]string{`{"type":"header","parameters":[{"type":"text","parameter_name":"name","text":"Eva"}]}`,
				`{"type":"body","parameters":[{"type":"text","parameter_name":"coupon","text":"X1"},{"type":"text","parameter_name":"first_name","text":"Eva"}]}`,
				`{"type":"button","sub_type":"copy_code","index":"0","parameters":[{"type":"coupon_code","coupon_code":"X1"}]}`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sp, err := ParseSpec(tc.comps, tc.format)
			if err != nil {
				t.Fatal(err)
			}
			if len(sp.Fields) != len(tc.wantFields) {
				t.Fatalf("fields = %+v", sp.Fields)
			}
			for i, f := range sp.Fields {
				if f.Name != tc.wantFields[i] || f.Placeholder != tc.wantPlaceholders[i] {
					t.Errorf("field %d = %s (placeholder %q), want %s (%q)", i, f.Name, f.Placeholder, tc.wantFields[i], tc.wantPlaceholders[i])
				}
			}
			sp.fill(tc.values)
			req := (&Composer{}).Request
			req.TemplateName, req.LanguageCode, req.To, req.Components = "t", "en", "5215512345678", sp.components()
			body, _ := req.Body()
			for _, w := range tc.wantJSON {
				if !strings.Contains(string(body), w) {
					t.Errorf("body %s lacks %s", body, w)
				}
			}
		})
	}
}

func TestPreviewMarksMissingVariables(t *testing.T) {
	sp, _ := ParseSpec(`[{"type":"BODY","text":"Hi {{1}}, ends {{2}}"}]`, "POSITIONAL")
	sp.fill(url.Values{"var.body.1": {"Ana"}})
	segs := sp.render(sp.Body, KindBody)
	want := []Segment{{Text: "Hi "}, {Text: "Ana", IsVar: true}, {Text: ", ends "}, {Text: "{{2}}", IsVar: true, Missing: true}}
	if len(segs) != len(want) {
		t.Fatalf("segments = %+v", segs)
	}
	for i := range want {
		if segs[i] != want[i] {
			t.Errorf("segment %d = %+v, want %+v", i, segs[i], want[i])
		}
	}
}

func TestDefaultSyncAndAvailability(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { x := now.Add(-d); return &x }
	cases := []struct {
		name string
		t    models.Template
		kind string
	}{
		{"ready", models.Template{Category: "MARKETING", Status: "APPROVED", ApprovedAt: ago(30 * 24 * time.Hour), LastSentAt: ago(time.Hour)}, SyncReady},
		{"syncing", models.Template{Category: "MARKETING", Status: "APPROVED", SyncStartedAt: ago(3 * time.Minute)}, SyncSyncing},
		{"sync over", models.Template{Category: "MARKETING", Status: "APPROVED", SyncStartedAt: ago(11 * time.Minute)}, SyncReady},
		{"dormant", models.Template{Category: "MARKETING", Status: "APPROVED", ApprovedAt: ago(60 * 24 * time.Hour), LastSentAt: ago(8 * 24 * time.Hour)}, SyncDormant},
		{"utility", models.Template{Category: "UTILITY", Status: "APPROVED"}, SyncNotForMMAPI},
		{"paused", models.Template{Category: "MARKETING", Status: "PAUSED"}, SyncNotSendable},
	}
	for _, tc := range cases {
		kind, _, readyAt := DefaultSync{}.State(context.Background(), tc.t, "", now)
		if kind != tc.kind {
			t.Errorf("%s: kind = %s, want %s", tc.name, kind, tc.kind)
		}
		if kind == SyncSyncing && (readyAt == nil || !readyAt.Equal(now.Add(7*time.Minute))) {
			t.Errorf("%s: readyAt = %v", tc.name, readyAt)
		}
	}
}

// TestCarouselAndLimitedTimeOfferAreRefusedByName: the composer does not build a carousel's
// cards or an offer's expiration, so such templates are refused with a message naming the
// component instead of going out under-filled.
func TestCarouselAndLimitedTimeOfferAreRefusedByName(t *testing.T) {
	for _, tc := range []struct{ name, comps, want string }{
		{"carousel", `[{"type":"BODY","text":"Pick one"},{"type":"CAROUSEL","cards":[{"components":[{"type":"HEADER","format":"IMAGE"},{"type":"BUTTONS","buttons":[{"type":"URL","text":"Buy","url":"https://x/{{1}}"}]}]}]}]`, "CAROUSEL"},
		{"limited-time offer", `[{"type":"LIMITED_TIME_OFFER","limited_time_offer":{"text":"Ends soon","has_expiration":true}},{"type":"BODY","text":"Deal"},{"type":"BUTTONS","buttons":[{"type":"COPY_CODE","example":"X"}]}]`, "LIMITED_TIME_OFFER"},
	} {
		sp, err := ParseSpec(tc.comps, "POSITIONAL")
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(sp.Refused) != 1 || !strings.Contains(sp.Refused[0], tc.want) || !strings.Contains(sp.Refused[0], "cannot send it") {
			t.Errorf("%s: refused = %q, want one refusal naming %s", tc.name, sp.Refused, tc.want)
		}
	}
	sp, _ := ParseSpec(`[{"type":"BODY","text":"Hi"},{"type":"SOMETHING_NEW"}]`, "POSITIONAL")
	if len(sp.Refused) != 0 || len(sp.Unsupported) != 1 || !strings.Contains(sp.Unsupported[0], "SOMETHING_NEW") {
		t.Errorf("unknown component: refused %q unsupported %q, want a warning naming it", sp.Refused, sp.Unsupported)
	}
}
