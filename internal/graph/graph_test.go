package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mmconsole/internal/i18n"
)

func TestDegreesOfFreedomShapes(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string
	}{
		{"request object", `{"creative_features_spec":{"image_touchups":{"enroll_status":"OPT_IN"},"Text_Formatting_Optimization":{"enroll_status":"opt_out"}}}`,
			map[string]string{"image_touchups": "OPT_IN", "text_formatting_optimization": "OPT_OUT"}},
		{"template GET array", `{"creative_features_spec":[{"key":"IMAGE_BRIGHTNESS_AND_CONTRAST","value":{"enroll_status":"OPT_OUT"}},{"key":"IMAGE_END_CARD","value":{"enroll_status":"OPT_IN"}}]}`,
			map[string]string{"image_brightness_and_contrast": "OPT_OUT", "image_end_card": "OPT_IN"}},
		{"WABA GET data", `{"data":[{"creative_features_spec":[{"image_brightness_and_contrast":"OPT_IN","future_thing":"opt_out"}]}]}`,
			map[string]string{"image_brightness_and_contrast": "OPT_IN", "future_thing": "OPT_OUT"}},
		{"null", `null`, nil},
		{"empty object", `{}`, nil},
		{"empty spec", `{"creative_features_spec":[]}`, nil},
		{"empty data", `{"data":[]}`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d DegreesOfFreedom
			if err := json.Unmarshal([]byte(tc.in), &d); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			if len(d.Features) != len(tc.want) {
				t.Fatalf("got %v, want %v", d.Features, tc.want)
			}
			for k, v := range tc.want {
				if d.Features[k] != v {
					t.Errorf("%s = %q, want %q", k, d.Features[k], v)
				}
			}
			// Round trip through the request shape keeps everything.
			b, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			var back DegreesOfFreedom
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("re-decode %s: %v", b, err)
			}
			if len(back.Features) != len(tc.want) {
				t.Fatalf("round trip %s lost features: %v", b, back.Features)
			}
		})
	}
}

func TestDegreesOfFreedomMarshalShape(t *testing.T) {
	b, _ := json.Marshal(DegreesOfFreedom{Features: map[string]string{"IMAGE_TOUCHUPS": "opt_in"}})
	want := `{"creative_features_spec":{"image_touchups":{"enroll_status":"OPT_IN"}}}`
	if string(b) != want {
		t.Fatalf("got %s, want %s", b, want)
	}
}

func TestDegreesOfFreedomBadShapes(t *testing.T) {
	for _, in := range []string{`"x"`, `[1]`, `[]`, `{"creative_features_spec":5}`, `{"creative_features_spec":[{"key":"A","value":7}]}`,
		`{"data":"x"}`, `{"creative_features_spec":{"a":{"nope":1}}}`,
		`{"creative_features_spec":[{"key":"IMAGE_TOUCHUPS","value":{}}]}`,
		`{"creative_features_spec":[{"key":"IMAGE_TOUCHUPS","value":[]}]}`} {
		var strict DegreesOfFreedom
		if err := strict.Decode([]byte(in)); err == nil {
			t.Errorf("Decode(%s): want error, got %v", in, strict.Features)
		}
		// The tolerant path (json.Unmarshal) never fails: the spec becomes unknown, raw kept.
		var d DegreesOfFreedom
		if err := json.Unmarshal([]byte(in), &d); err != nil {
			t.Errorf("Unmarshal(%s): want no error, got %v", in, err)
		}
		if !d.Unknown || d.Features != nil || string(d.Raw) != in || d.Problem == "" {
			t.Errorf("Unmarshal(%s): want unknown with raw kept, got %+v", in, d)
		}
	}
	var ok DegreesOfFreedom
	if err := json.Unmarshal([]byte(`{"creative_features_spec":{"a":{"enroll_status":"OPT_IN"}}}`), &ok); err != nil || ok.Unknown || ok.Get("a") != OptIn {
		t.Errorf("readable spec: %+v %v", ok, err)
	}
}

// TestTemplateListOneOddSpec: a page where one template's spec is unreadable decodes every
// template; only that one is unknown.
func TestTemplateListOneOddSpec(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"data":[
		{"id":"1","name":"a","degrees_of_freedom_spec":{"creative_features_spec":[{"key":"IMAGE_TOUCHUPS","value":{}}]}},
		{"id":"2","name":"b","degrees_of_freedom_spec":{"creative_features_spec":[{"key":"IMAGE_TOUCHUPS","value":{"enroll_status":"OPT_OUT"}}]}},
		{"id":"3","name":"c","degrees_of_freedom_spec":[]}]}`)
	}))
	defer srv.Close()
	c := New(Options{BaseURL: srv.URL, Version: "v23.0", HTTPClient: srv.Client()})
	page, err := c.ListTemplates(context.Background(), "tok", "123", TemplateQuery{})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(page.Data) != 3 {
		t.Fatalf("want 3 templates, got %d", len(page.Data))
	}
	if d := page.Data[0].DegreesOfFreedom; !d.Unknown || !strings.Contains(string(d.Raw), `"value":{}`) {
		t.Errorf("template 1: want unknown with raw, got %+v", d)
	}
	if d := page.Data[1].DegreesOfFreedom; d.Unknown || d.Get("image_touchups") != OptOut {
		t.Errorf("template 2: want OPT_OUT, got %+v", d)
	}
	if d := page.Data[2].DegreesOfFreedom; !d.Unknown || string(d.Raw) != "[]" {
		t.Errorf("template 3: want unknown [], got %+v", d)
	}
}

// FuzzDegreesOfFreedom checks that no input panics and that whatever
// decodes survives a round trip through the request shape.
func FuzzDegreesOfFreedom(f *testing.F) {
	for _, s := range []string{`null`, `{}`, `{"creative_features_spec":{"a":{"enroll_status":"OPT_IN"}}}`,
		`{"creative_features_spec":[{"key":"A","value":{"enroll_status":"OPT_OUT"}}]}`,
		`{"data":[{"creative_features_spec":[{"a":"OPT_IN"}]}]}`, `{"data":[{}]}`, `[`, `{"creative_features_spec":[{"key":1}]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var d DegreesOfFreedom
		if d.Decode([]byte(in)) != nil {
			return
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var back DegreesOfFreedom
		if err := json.Unmarshal(b, &back); err != nil || len(back.Features) != len(d.Features) {
			t.Fatalf("round trip of %q via %s: %v %v", in, b, err, back.Features)
		}
	})
}

func TestMarketingMessageBody(t *testing.T) {
	yes, ttl := true, 43200
	req := MarketingMessageRequest{
		To: "5215512345678", Recipient: "ignored", TemplateName: "summer_sale", LanguageCode: "es_MX",
		Components: []Component{
			{Type: "header", Parameters: []Parameter{{Type: "image", Image: &Media{ID: "123"}}}},
			{Type: "body", Parameters: []Parameter{Text("Ana")}},
			{Type: "button", SubType: "url", Index: "0", Parameters: []Parameter{Text("promo-123")}},
		},
		ProductPolicy: PolicyStrict, MessageActivitySharing: &yes, TimeToLive: &ttl,
	}
	b, err := req.Body()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"messaging_product":"whatsapp","recipient_type":"individual","to":"5215512345678","type":"template","template":{"name":"summer_sale","language":{"code":"es_MX"},"components":[{"type":"header","parameters":[{"type":"image","image":{"id":"123"}}]},{"type":"body","parameters":[{"type":"text","text":"Ana"}]},{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"promo-123"}]}]},"product_policy":"STRICT","message_activity_sharing":true,"time_to_live":43200}`
	if string(b) != want {
		t.Fatalf("body\n got %s\nwant %s", b, want)
	}
	min, _ := MarketingMessageRequest{Recipient: "US.123", TemplateName: "x", LanguageCode: "en"}.Body()
	for _, absent := range []string{"product_policy", "message_activity_sharing", "time_to_live", `"to"`, "components", "biz_opaque"} {
		if strings.Contains(string(min), absent) {
			t.Errorf("minimal body %s should omit %s", min, absent)
		}
	}
	if !strings.Contains(string(min), `"recipient":"US.123"`) {
		t.Errorf("minimal body %s lacks recipient", min)
	}
}

func TestTemplateDecodeTolerant(t *testing.T) {
	in := `{"id":572279198452421,"name":"x","language":"en_US","status":"APPROVED","category":"MARKETING",
	"quality_score":{"score":"green","date":"1750000000","reasons":"LOW_ENGAGEMENT"},"message_send_ttl_seconds":"43200",
	"components":[{"type":"BUTTONS","buttons":[{"type":"URL","text":"Go","url":"https://x/{{1}}","example":["https://x/a"]},{"type":"COPY_CODE","example":"SAVE"}]}],
	"degrees_of_freedom_spec":{"creative_features_spec":[{"key":"IMAGE_TOUCHUPS","value":{"enroll_status":"OPT_IN"}}]},
	"brand_new_field":{"a":1}}`
	var tp Template
	if err := json.Unmarshal([]byte(in), &tp); err != nil {
		t.Fatal(err)
	}
	if tp.ID != "572279198452421" || tp.QualityScore.Score != "GREEN" || tp.QualityScore.Date.Unix() != 1750000000 ||
		*tp.MessageSendTTLSeconds != 43200 || !tp.HasURLButton() || tp.DegreesOfFreedom.Get("image_touchups") != OptIn ||
		len(tp.QualityScore.Reasons) != 1 || !strings.Contains(string(tp.Raw), "brand_new_field") {
		t.Fatalf("decoded %+v", tp)
	}
}

func TestErrorRendering(t *testing.T) {
	ge := &GraphError{Code: 134101, Message: "(#134101) Your template is still syncing", Details: "wait"}
	if got := ge.Error(); got != "graph: (#134101) Your template is still syncing: wait" {
		t.Fatalf("Error() = %q", got)
	}
	if x := Explain(context.Background(), 131049); !strings.Contains(x.Meaning, "US") || !strings.Contains(x.Action, "24 h") {
		t.Fatalf("Explain(context.Background(), 131049) = %+v", x)
	}
	if x := Explain(context.Background(), 134102); !strings.Contains(x.Meaning, "STRICT") {
		t.Fatalf("Explain(context.Background(), 134102) = %+v", x)
	}
	if x := Explain(context.Background(), 999999); x.Title == "" {
		t.Fatal("unknown code has no explanation")
	}
	for _, c := range []int{100, 131009, 131055, 134100, 134101, 134102, 134103, 1752041, 131061, 131062, 131063, 132000, 132001,
		132005, 132007, 132012, 132015, 132016, 132018, 2388024, 131049, 131050, 130472, 131026, 131047, 130429, 131056, 131048,
		4, 80007, 133016, 0, 190, 10, 200, 368, 131031, 130497, 131042, 131057, 135000} {
		if _, ok := explanations[c]; !ok {
			t.Errorf("code %d has no explanation", c)
		}
	}
}

// server returns a client against a handler and a counter of requests.
func server(t *testing.T, h func(w http.ResponseWriter, r *http.Request, n int)) (*Client, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h(w, r, int(n.Add(1)))
	}))
	t.Cleanup(srv.Close)
	return New(Options{BaseURL: srv.URL, MaxRetries: 3, RetryBaseDelay: time.Millisecond, RetryMaxDelay: 2 * time.Millisecond}), &n
}

func TestMalformedResponses(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		ctype    string
		body     string
		wantCode int
		wantMsg  string
	}{
		{"error_data object", 400, "application/json", `{"error":{"message":"(#131063) Marketing templates disabled for Cloud API","type":"OAuthException","code":131063,"error_subcode":2494055,"error_data":{"messaging_product":"whatsapp","details":"turn it off"},"fbtrace_id":"AbC","is_transient":false,"error_user_title":"T","error_user_msg":"M"}}`, 131063, "turn it off"},
		{"error_data string", 400, "application/json", `{"error":{"message":"Invalid parameter","type":"OAuthException","code":100,"error_data":"name is bad","fbtrace_id":"x"}}`, 100, "name is bad"},
		{"code as string", 400, "application/json", `{"error":{"message":"m","code":"190","error_subcode":"x"}}`, 190, "m"},
		{"HTML 502", 502, "text/html", `<html><body><h1>502 Bad Gateway</h1></body></html>`, 0, "HTML"},
		{"truncated error", 400, "application/json", `{"error":{"message":"(#100) Inv`, 0, "not valid JSON"},
		{"empty 500", 500, "", ``, 0, "empty"},
		{"200 truncated", 200, "application/json", `{"id":"1","name":`, 0, "not valid JSON"},
		{"200 empty", 200, "application/json", ``, 0, "empty"},
		{"200 wrong type", 200, "application/json", `{"id":"1","components":"not-a-list"}`, 0, "unexpected shape"},
		{"200 array", 200, "application/json", `[1,2]`, 0, "unexpected shape"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := server(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if tc.ctype != "" {
					w.Header().Set("Content-Type", tc.ctype)
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			})
			_, err := c.GetTemplate(context.Background(), "secret-token", "1")
			ge, ok := AsGraphError(err)
			if !ok {
				t.Fatalf("want GraphError, got %v", err)
			}
			if ge.Code != tc.wantCode || !strings.Contains(ge.Error(), tc.wantMsg) {
				t.Fatalf("got code %d %q", ge.Code, ge.Error())
			}
			if strings.Contains(err.Error(), "secret-token") {
				t.Fatal("token leaked into error")
			}
			if tc.wantCode == 0 {
				var de *DecodeError
				if !errors.As(err, &de) {
					t.Fatalf("Code 0 error should wrap *DecodeError: %v", err)
				}
			}
		})
	}
}

func TestUnknownFieldsTolerated(t *testing.T) {
	c, _ := server(t, func(w http.ResponseWriter, r *http.Request, n int) {
		_, _ = w.Write([]byte(`{"messaging_product":"whatsapp","success":true,"contacts":[{"input":"5215512345678","wa_id":"5215512345678","extra":1}],"messages":[{"id":"wamid.X","message_status":"held_for_quality_assessment","new":{}}]}`))
	})
	res, err := c.SendMarketingMessage(context.Background(), "t", "1", MarketingMessageRequest{To: "5215512345678", TemplateName: "x", LanguageCode: "en"})
	if err != nil || res.WAMID() != "wamid.X" || res.Messages[0].MessageStatus != "held_for_quality_assessment" || len(res.Raw) == 0 {
		t.Fatalf("res %+v err %v", res, err)
	}
}

func TestReadRetries(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		failFirst int // failures before success; large = never succeeds
		wantCalls int32
		wantErr   bool
	}{
		{"500 then ok", 500, `{"error":{"message":"x","code":1}}`, 2, 3, false},
		{"429 then ok", 429, `{"error":{"message":"(#4) Application request limit reached","code":4,"error_subcode":2446079,"is_transient":true}}`, 1, 2, false},
		{"transient 400", 400, `{"error":{"message":"x","code":131000,"is_transient":true}}`, 1, 2, false},
		{"code 80007", 400, `{"error":{"message":"x","code":80007}}`, 1, 2, false},
		{"HTML 502 forever", 502, `<html>bad gateway</html>`, 100, 4, true},
		{"not retried: 100", 400, `{"error":{"message":"x","code":100}}`, 100, 1, true},
		{"not retried: 190", 401, `{"error":{"message":"x","code":190}}`, 100, 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, n := server(t, func(w http.ResponseWriter, r *http.Request, i int) {
				if i <= tc.failFirst {
					w.WriteHeader(tc.status)
					_, _ = w.Write([]byte(tc.body))
					return
				}
				_, _ = w.Write([]byte(`{"id":"1","name":"ok"}`))
			})
			_, err := c.GetWABA(context.Background(), "t", "1")
			if (err != nil) != tc.wantErr || n.Load() != tc.wantCalls {
				t.Fatalf("err=%v calls=%d, want err=%v calls=%d", err, n.Load(), tc.wantErr, tc.wantCalls)
			}
		})
	}
}

func TestReadRetryStopsWithContext(t *testing.T) {
	c, _ := server(t, func(w http.ResponseWriter, r *http.Request, n int) { w.WriteHeader(503) })
	// Retries alone would take 50 s; only the context can stop them. The deadline leaves a
	// busy machine ample time for the first answer, so what Meta said is always known.
	c.maxRetries, c.baseDelay, c.maxDelay = 1000, 50*time.Millisecond, 50*time.Millisecond
	// 3 s: at 1 s a machine running several test binaries at once sometimes had no first answer.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.ListPhoneNumbers(ctx, "t", "1")
	// It stops at the deadline (or before it, when the next backoff would not fit) and says
	// what Meta answered last.
	ge, ok := AsGraphError(err)
	if err == nil || time.Since(start) > 10*time.Second || !ok || ge.HTTPStatus != 503 {
		t.Fatalf("err=%v after %s", err, time.Since(start))
	}
}

func TestWritesNeverRetried(t *testing.T) {
	calls := []struct {
		name string
		do   func(c *Client) error
	}{
		{"send", func(c *Client) error {
			_, err := c.SendMarketingMessage(context.Background(), "t", "1", MarketingMessageRequest{To: "5215512345678", TemplateName: "x", LanguageCode: "en"})
			return err
		}},
		{"edit", func(c *Client) error {
			return c.EditTemplate(context.Background(), "t", "1", TemplateEdit{TTLSeconds: new(int)})
		}},
		{"create", func(c *Client) error {
			_, err := c.CreateTemplate(context.Background(), "t", "1", TemplateCreate{Name: "x"})
			return err
		}},
		{"waba dfs", func(c *Client) error {
			return c.SetWABAOptimizations(context.Background(), "t", "1", map[string]string{"a": "OPT_IN"})
		}},
	}
	for _, tc := range calls {
		for _, status := range []int{500, 429, 503} {
			t.Run(tc.name, func(t *testing.T) {
				var posts atomic.Int32
				c, _ := server(t, func(w http.ResponseWriter, r *http.Request, n int) {
					if r.Method == http.MethodPost {
						posts.Add(1)
					}
					w.WriteHeader(status)
					_, _ = w.Write([]byte(`{"error":{"message":"x","code":131057,"is_transient":true}}`))
				})
				if err := tc.do(c); err == nil {
					t.Fatal("want error")
				}
				if posts.Load() != 1 {
					t.Fatalf("server saw %d POSTs, want exactly 1", posts.Load())
				}
			})
		}
	}
}

func TestRequestHeadersAndPaging(t *testing.T) {
	c, _ := server(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("User-Agent") != "mmconsole" {
			w.WriteHeader(401)
			return
		}
		if !strings.HasPrefix(r.URL.Path, "/v25.0/") {
			w.WriteHeader(404)
			return
		}
		switch r.URL.Query().Get("after") {
		case "":
			_, _ = w.Write([]byte(`{"data":[{"id":1},{"id":"2"}],"paging":{"cursors":{"before":"a","after":"c1"},"next":"http://x/next?access_token=zzz"}}`))
		case "c1":
			_, _ = w.Write([]byte(`{"data":[{"id":3}],"paging":{"cursors":{"before":"c1","after":"c2"}}}`))
		}
	})
	all, err := c.ListAllTemplates(context.Background(), "tok", "w", TemplateQuery{Status: []string{"approved"}, Limit: 2})
	if err != nil || len(all) != 3 || all[0].ID != "1" || all[2].ID != "3" {
		t.Fatalf("all=%+v err=%v", all, err)
	}
}

// TestExplainSpeaksTheReadersLanguage: the explanation of a code (and of a subcode with its own
// entry) is in the language of the context; Meta's tokens stay as they are.
func TestExplainSpeaksTheReadersLanguage(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ lang, title, token string }{
		{"en", "Template still syncing", "MM API"},
		{"es", "La plantilla aún se está sincronizando", "MM API"},
		{"pt-BR", "O modelo ainda está sincronizando", "MM API"},
	} {
		ctx := i18n.WithLocale(context.Background(), cat.Locale(tc.lang))
		x := Explain(ctx, 134101)
		if x.Title != tc.title || !strings.Contains(x.Meaning, tc.token) {
			t.Errorf("%s: Explain(134101) = %+v, want title %q", tc.lang, x, tc.title)
		}
		if tc.lang != "en" && strings.Contains(x.Action, "Wait") {
			t.Errorf("%s: action still English: %q", tc.lang, x.Action)
		}
		ge := &GraphError{Code: 100, Subcode: 2388024}
		if got, want := ge.Explain(ctx).Title, Explain(ctx, 2388024).Title; got != want || got == Explain(ctx, 100).Title {
			t.Errorf("%s: subcode 2388024 explained as %q, want %q", tc.lang, got, want)
		}
		if strict := Explain(ctx, 134102); !strings.Contains(strict.Meaning, "STRICT") || !strings.Contains(strict.Action, "CLOUD_API_FALLBACK") {
			t.Errorf("%s: Meta's tokens lost in %+v", tc.lang, strict)
		}
		if u := Explain(ctx, 999999); u.Title == "" || u.Title == "meta.unknown.title" {
			t.Errorf("%s: unknown code explained as %+v", tc.lang, u)
		}
	}
}
