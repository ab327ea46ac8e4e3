package send_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mmconsole/internal/database"
	"mmconsole/internal/graph"
	"mmconsole/internal/send"
	"mmconsole/models"
)

// metaSendSchema is POST /{phone}/marketing_messages as Meta publishes it (mm-api-reference
// §1.2, Meta's OpenAPI MarketingMessageRequestPayload with additionalProperties: false). Decoded
// with DisallowUnknownFields, any property outside it fails like it does at Meta.
type metaSendSchema struct {
	MessagingProduct       string             `json:"messaging_product"`
	RecipientType          string             `json:"recipient_type"`
	To                     string             `json:"to,omitempty"`
	Recipient              string             `json:"recipient,omitempty"`
	Type                   string             `json:"type"`
	Template               metaTemplateSchema `json:"template"`
	ProductPolicy          *string            `json:"product_policy,omitempty"`
	MessageActivitySharing *bool              `json:"message_activity_sharing,omitempty"`
	BidSpec                *struct {
		PerMessageBidMultiplier json.RawMessage `json:"per_message_bid_multiplier"`
	} `json:"bid_spec,omitempty"`
	// No biz_opaque_callback_data: it is documented on /messages only (§1.2, [I] for
	// /marketing_messages), so a schema-true Meta refuses it like time_to_live.
}

type metaTemplateSchema struct {
	Name     string `json:"name"`
	Language struct {
		Code   string `json:"code"`
		Policy string `json:"policy,omitempty"`
	} `json:"language"`
	Components []struct {
		Type       string `json:"type"`
		SubType    string `json:"sub_type,omitempty"`
		Index      string `json:"index,omitempty"`
		Parameters []struct {
			Type          string          `json:"type"`
			ParameterName string          `json:"parameter_name,omitempty"`
			Text          string          `json:"text,omitempty"`
			Image         *metaMedia      `json:"image,omitempty"`
			Video         *metaMedia      `json:"video,omitempty"`
			Document      *metaMedia      `json:"document,omitempty"`
			Currency      json.RawMessage `json:"currency,omitempty"`
			DateTime      json.RawMessage `json:"date_time,omitempty"`
			Payload       string          `json:"payload,omitempty"`
			CouponCode    string          `json:"coupon_code,omitempty"`
		} `json:"parameters"`
	} `json:"components,omitempty"`
}

type metaMedia struct {
	ID       string `json:"id,omitempty"`
	Link     string `json:"link,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// fakeMeta is Meta's Graph API for sends and template edits: it refuses unknown request
// properties with Meta's error envelope, as the real API does.
type fakeMeta struct {
	mu      sync.Mutex
	bodies  []string
	refused []string // decode errors of refused sends
	edits   int
}

func (m *fakeMeta) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	m.mu.Lock()
	defer m.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if !strings.HasSuffix(r.URL.Path, "/marketing_messages") {
		m.edits++ // POST /{template_id}: a TTL edit
		_, _ = w.Write([]byte(`{"success":true}`))
		return
	}
	m.bodies = append(m.bodies, string(b))
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var req metaSendSchema
	if err := dec.Decode(&req); err != nil {
		m.refused = append(m.refused, err.Error())
		w.WriteHeader(http.StatusBadRequest)
		msg, _ := json.Marshal("(#100) Invalid parameter: " + err.Error())
		fmt.Fprintf(w, `{"error":{"message":%s,"type":"OAuthException","code":100,"fbtrace_id":"AfakeTrace"}}`, msg)
		return
	}
	fmt.Fprintf(w, `{"messaging_product":"whatsapp","contacts":[{"input":%q,"wa_id":%q}],"messages":[{"id":"wamid.fake%d","message_status":"accepted"}]}`,
		req.To, req.To, len(m.bodies))
}

func (m *fakeMeta) last() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.bodies) == 0 {
		return ""
	}
	return m.bodies[len(m.bodies)-1]
}

// newFakeMetaSender is the composer's service on a real (non-sandbox) connection with api,
// talking to a fake Meta on loopback; opts adjust the service's Deps.
func newFakeMetaSender(t *testing.T, api string, templateTTL *int, opts ...func(*send.Deps)) (*send.Service, *fakeMeta, models.User, models.Template) {
	t.Helper()
	meta := &fakeMeta{}
	srv := httptest.NewServer(meta)
	t.Cleanup(srv.Close)
	db := database.OpenTest(t, migrations())
	acct := models.Account{Name: "Acme"}
	must(t, db.Create(&acct).Error)
	u := models.User{AccountID: &acct.ID, Email: "m@acme.test", Role: models.RoleMarketer}
	must(t, db.Create(&u).Error)
	conn := models.WABAConnection{AccountID: acct.ID, WABAID: "1200", Name: "Acme", TokenSealed: []byte("x"), API: api, OnboardingStatus: "ONBOARDED"}
	must(t, db.Create(&conn).Error)
	must(t, db.Create(&models.PhoneNumber{ConnectionID: conn.ID, AccountID: acct.ID, PhoneNumberID: "1300"}).Error)
	approved, lastSent := time.Now().Add(-30*24*time.Hour), time.Now().Add(-time.Hour)
	tm := models.Template{AccountID: acct.ID, ConnectionID: conn.ID, WABAID: "1200", TemplateID: "1400", Name: "autumn_sale",
		Language: "en_US", Status: "APPROVED", Category: "MARKETING", ParameterFormat: "POSITIONAL", TTLSeconds: templateTTL,
		Components: `[{"type":"BODY","text":"Hi {{1}}, autumn sale!"}]`, FirstSeenAt: approved, ApprovedAt: &approved, LastSentAt: &lastSent}
	must(t, db.Create(&tm).Error)
	deps := send.Deps{DB: db, Graph: graph.New(graph.Options{BaseURL: srv.URL, MaxRetries: -1}),
		Tokens:  send.TokenFunc(func(context.Context, models.WABAConnection) (string, error) { return "tok", nil }),
		APIBase: srv.URL + "/v25.0"}
	for _, o := range opts {
		o(&deps)
	}
	return send.New(deps), meta, u, tm
}

func fakeMetaForm(tm models.Template, extra map[string]string) send.Input {
	v := url.Values{"connection": {strconv.Itoa(int(tm.ConnectionID))}, "template": {strconv.Itoa(int(tm.ID))},
		"recipient": {"+52 55 1234 5678"}, "var.body.1": {"Ana"}, "key": {send.NewKey()}}
	for k, val := range extra {
		v.Set(k, val)
	}
	return send.InputFromValues(v)
}

// A default send from a Meta-direct connection passes Meta's schema; time_to_live appears only
// through Hibot's gateway, and only when a TTL was chosen.
func TestFakeMetaRefusingUnknownPropertiesAcceptsDefaultSends(t *testing.T) {
	day := 86400
	cases := []struct {
		name        string
		api         string
		templateTTL *int
		form        map[string]string
		wantTTL     string // "" when the body must not carry time_to_live
		wantRefused bool   // Meta (the fake) refuses the body
		wantEdits   int
		wantApplied int // the TTL recorded as applied (0: Meta's default, assumed)
	}{
		{name: "meta, default form", api: models.APIMeta},
		{name: "meta, template TTL known, input unchanged", api: models.APIMeta, templateTTL: &day, wantApplied: day},
		{name: "meta, TTL changed: the template is edited, the body stays clean", api: models.APIMeta,
			form: map[string]string{"ttl_value": "2", "ttl_unit": "days", "confirm_ttl_edit": "172800"}, wantEdits: 1, wantApplied: 172800},
		// Through the gateway a send also carries biz_opaque_callback_data (MMC_SEND_CALLBACK_DATA
		// auto), which Meta's own schema lacks: this fake, being Meta, refuses it.
		{name: "gateway, no TTL chosen", api: models.APIHibotGateway, wantRefused: true},
		{name: "gateway, TTL chosen", api: models.APIHibotGateway, form: map[string]string{"ttl_value": "12.5", "ttl_unit": "hours"},
			wantTTL: `"time_to_live":45000`, wantRefused: true, wantApplied: 45000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svc, meta, u, tm := newFakeMetaSender(t, tc.api, tc.templateTTL)
			c, err := svc.Send(context.Background(), u, fakeMetaForm(tm, tc.form))
			if err != nil {
				t.Fatal(err)
			}
			if c.Refused {
				t.Fatalf("the composer refused the form: %+v", c.Blockers())
			}
			body := meta.last()
			if body == "" {
				t.Fatal("nothing reached Meta")
			}
			if tc.wantTTL == "" && strings.Contains(body, "time_to_live") {
				t.Errorf("time_to_live sent on %s: %s", tc.api, body)
			}
			if tc.wantTTL != "" && !strings.Contains(body, tc.wantTTL) {
				t.Errorf("body lacks %s: %s", tc.wantTTL, body)
			}
			if refused := len(meta.refused) > 0; refused != tc.wantRefused {
				t.Errorf("Meta refused = %v (%v), want %v", refused, meta.refused, tc.wantRefused)
			}
			if !tc.wantRefused && (c.Result == nil || c.Result.Error != nil) {
				t.Errorf("the send was not accepted: %+v", c.Result)
			}
			if meta.edits != tc.wantEdits {
				t.Errorf("template edits = %d, want %d", meta.edits, tc.wantEdits)
			}
			if c.TTL.Applied != tc.wantApplied {
				t.Errorf("applied TTL = %d, want %d", c.TTL.Applied, tc.wantApplied)
			}
		})
	}
}

// A connection that says "gateway" while MMC_GRAPH_BASE_URL is Meta's cannot send time_to_live.
func TestGatewayConnectionOnMetasBaseURLCannotSendTimeToLive(t *testing.T) {
	// APIBase is what the curl command and the gateway guard see.
	svc, meta, u, tm := newFakeMetaSender(t, models.APIHibotGateway, nil, func(d *send.Deps) { d.APIBase = "https://graph.facebook.com/v25.0" })
	c, err := svc.Send(context.Background(), u, fakeMetaForm(tm, map[string]string{"ttl_value": "24", "ttl_unit": "hours"}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Refused || c.Errors["ttl"] == "" {
		t.Fatalf("refused = %v, errors = %v; want the TTL refused", c.Refused, c.Errors)
	}
	if meta.last() != "" {
		t.Errorf("a request reached Meta: %s", meta.last())
	}
	// Without a TTL the same connection sends a body Meta accepts.
	if c, err = svc.Send(context.Background(), u, fakeMetaForm(tm, nil)); err != nil || c.Refused {
		t.Fatalf("send without TTL: %v %+v", err, c.Blockers())
	}
	if strings.Contains(meta.last(), "time_to_live") {
		t.Errorf("body = %s", meta.last())
	}
}

// biz_opaque_callback_data is not in Meta's /marketing_messages schema: a Meta-direct send
// carries it only when the operator says Meta accepts it (MMC_SEND_CALLBACK_DATA=on); the
// gateway carries it by default.
func TestCallbackDataOnlyWhereItIsKnownToBeAccepted(t *testing.T) {
	cases := []struct {
		api, setting string
		want         bool
	}{
		{models.APIMeta, "", false},
		{models.APIMeta, send.CallbackAuto, false},
		{models.APIMeta, send.CallbackOn, true},
		{models.APIHibotGateway, send.CallbackAuto, true},
		{models.APIHibotGateway, send.CallbackOff, false},
	}
	for _, tc := range cases {
		t.Run(tc.api+"/"+tc.setting, func(t *testing.T) {
			svc, meta, u, tm := newFakeMetaSender(t, tc.api, nil, func(d *send.Deps) { d.CallbackData = tc.setting })
			c, err := svc.Send(context.Background(), u, fakeMetaForm(tm, nil))
			if err != nil || c.Refused {
				t.Fatalf("send: %v %+v", err, c.Blockers())
			}
			if got := strings.Contains(meta.last(), `"biz_opaque_callback_data"`); got != tc.want {
				t.Errorf("carries biz_opaque_callback_data = %v, want %v: %s", got, tc.want, meta.last())
			}
		})
	}
}
