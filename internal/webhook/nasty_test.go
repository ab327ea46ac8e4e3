package webhook

import (
	"strings"
	"testing"

	"mmconsole/models"
)

// TestNastyBodiesNeverPanicAndAreStored feeds the ingest path bodies built to break a parser:
// deep nesting, huge and fractional numbers, wrong types at every level, invalid UTF-8, NUL
// bytes. Each must be committed (so a 200 is honest) and none may panic.
func TestNastyBodiesNeverPanicAndAreStored(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000)
	deepArr := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	deepInValue := `{"object":"whatsapp_business_account","entry":[{"id":"100","changes":[{"field":"messages","value":` +
		strings.Repeat(`{"x":`, 50000) + "1" + strings.Repeat("}", 50000) + `}]}]}`
	wrap := func(value string) string {
		return `{"object":"whatsapp_business_account","entry":[{"id":"100","changes":[{"field":"messages","value":` + value + `}]}]}`
	}
	bodies := map[string]string{
		"empty":              ``,
		"null":               `null`,
		"number":             `1e999999`,
		"string":             `"x"`,
		"deep object":        deep,
		"deep array":         deepArr,
		"deep value":         deepInValue,
		"object null":        `{"object":null,"entry":null}`,
		"entry string":       `{"object":"whatsapp_business_account","entry":"x"}`,
		"entry numbers":      `{"object":"whatsapp_business_account","entry":[1,2,3]}`,
		"entry nulls":        `{"object":"whatsapp_business_account","entry":[null,{}]}`,
		"entry id object":    `{"object":"whatsapp_business_account","entry":[{"id":{"x":1},"changes":[]}]}`,
		"changes object":     `{"object":"whatsapp_business_account","entry":[{"id":"100","changes":{"field":"messages"}}]}`,
		"changes nulls":      `{"object":"whatsapp_business_account","entry":[{"id":"100","changes":[null,1,"x",[]]}]}`,
		"field number":       `{"object":"whatsapp_business_account","entry":[{"id":"100","changes":[{"field":7,"value":{}}]}]}`,
		"value array":        wrap(`[1,2]`),
		"value null":         wrap(`null`),
		"metadata string":    wrap(`{"metadata":"x","statuses":[]}`),
		"statuses nulls":     wrap(`{"statuses":[null,1,"x",{}]}`),
		"status huge ts":     wrap(`{"statuses":[{"id":"wamid.N1","status":"sent","timestamp":1e308,"recipient_id":"1"}]}`),
		"status neg ts":      wrap(`{"statuses":[{"id":"wamid.N2","status":"sent","timestamp":"-99999999999999999999","recipient_id":"1"}]}`),
		"status frac ts":     wrap(`{"statuses":[{"id":"wamid.N3","status":"sent","timestamp":1.5,"recipient_id":"1"}]}`),
		"status ts max":      wrap(`{"statuses":[{"id":"wamid.N4","status":"delivered","timestamp":"9223372036854775807","recipient_id":"1"}]}`),
		"status id object":   wrap(`{"statuses":[{"id":{"a":1},"status":["sent"],"timestamp":{},"recipient_id":[]}]}`),
		"errors wrong":       wrap(`{"statuses":[{"id":"wamid.N5","status":"failed","timestamp":"1","errors":"x"}]}`),
		"errors code huge":   wrap(`{"statuses":[{"id":"wamid.N6","status":"failed","timestamp":"1","errors":[{"code":1e400,"title":1}]}]}`),
		"errors code string": wrap(`{"statuses":[{"id":"wamid.N7","status":"failed","timestamp":"1","errors":[{"code":"99999999999999999999"}]}]}`),
		"errors nulls":       wrap(`{"statuses":[{"id":"wamid.N8","status":"failed","timestamp":"1","errors":[null,1]}]}`),
		"pricing wrong":      wrap(`{"statuses":[{"id":"wamid.N9","status":"sent","timestamp":"1","pricing":"x","conversation":7}]}`),
		"messages wrong":     wrap(`{"messages":[null,{"from":1,"id":[],"timestamp":true,"type":{},"button":"x","interactive":1}]}`),
		"contacts wrong":     wrap(`{"contacts":"x","messages":"y"}`),
		"template status":    `{"object":"whatsapp_business_account","entry":[{"id":"100","changes":[{"field":"message_template_status_update","value":{"message_template_id":{"x":1},"event":7,"reason":[]}}]}]}`,
		"template quality":   `{"object":"whatsapp_business_account","entry":[{"id":"100","changes":[{"field":"message_template_quality_update","value":{"message_template_id":1e309,"new_quality_score":null}}]}]}`,
		"template category":  `{"object":"whatsapp_business_account","entry":[{"id":"100","changes":[{"field":"template_category_update","value":"x"}]}]}`,
		"user preferences":   `{"object":"whatsapp_business_account","entry":[{"id":"100","changes":[{"field":"user_preferences","value":{"user_preferences":"x"}}]}]}`,
		"account update":     `{"object":"whatsapp_business_account","entry":[{"id":"100","changes":[{"field":"account_update","value":[null]}]}]}`,
		"invalid utf8":       wrap("{\"statuses\":[{\"id\":\"wamid.\xff\xfe\",\"status\":\"sent\",\"timestamp\":\"1\"}]}"),
		"nul bytes":          wrap("{\"statuses\":[{\"id\":\"wamid.\\u0000x\",\"status\":\"sent\\u0000\",\"timestamp\":\"1\"}]}"),
		"duplicate keys":     `{"object":"a","object":"whatsapp_business_account","entry":[],"entry":[{"id":"100","changes":[]}]}`,
		"trailing garbage":   `{"object":"whatsapp_business_account","entry":[]}garbage`,
		"long string":        wrap(`{"statuses":[{"id":"` + strings.Repeat("w", 200000) + `","status":"sent","timestamp":"1"}]}`),
		"many changes":       `{"object":"whatsapp_business_account","entry":[{"id":"100","changes":[` + strings.TrimSuffix(strings.Repeat(`{"field":"messages","value":{}},`, 5000), ",") + `]}]}`,
	}
	db := testDB(t)
	connect(t, db, "Acme", "100")
	s := newService(t, db)
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("panic: %v", p)
				}
			}()
			r := ingest(t, s, body)
			if r.DeliveryID == 0 {
				t.Fatalf("not committed: %+v", r)
			}
			var d models.WebhookDelivery
			if err := db.Where("id = ?", r.DeliveryID).Take(&d).Error; err != nil {
				t.Fatalf("delivery %d not stored: %v", r.DeliveryID, err)
			}
		})
	}
}
