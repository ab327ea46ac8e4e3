package sandbox

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Template analytics (GET /{WABA_ID}/template_analytics, mm-api-reference §9): daily counts per
// template, deterministic: the seed's campaigns plus every send this sandbox accepted, split by
// product type (MM API sends of an onboarded WABA, Cloud API fallback sends otherwise).

// seedCampaign gives a seeded template the campaign its LastSentAt stands for: 250 sends that
// day, as Meta's analytics would count them (the console made none of them).
func (s *Sandbox) seedCampaign(t *tmpl) {
	if t.LastSentAt.IsZero() {
		return
	}
	s.countSent(t, t.LastSentAt, s.wabas[t.WABAID].Onboarding == "ONBOARDED", 250)
}

// countSent adds n sends of t on at's day (UTC) to the MM API or Cloud API counts.
func (s *Sandbox) countSent(t *tmpl, at time.Time, mm bool, n int) {
	day := dayStart(at).Unix()
	m := &t.SentCloud
	if mm {
		m = &t.SentMM
	}
	if *m == nil {
		*m = map[int64]int{}
	}
	(*m)[day] += n
}

func dayStart(t time.Time) time.Time {
	y, mo, d := t.UTC().Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
}

// analyticsTime reads start/end: a unix time or YYYY-MM-DD.
func analyticsTime(v string) (time.Time, bool) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), true
	}
	t, err := time.Parse("2006-01-02", v)
	return t, err == nil
}

func (s *Sandbox) templateAnalytics(w http.ResponseWriter, r *http.Request, tokenWABA, wabaID string) {
	wb, ok := s.wabas[wabaID]
	if !ok || wb.ID != tokenWABA {
		s.writeErr(w, unsupported(http.MethodGet, wabaID))
		return
	}
	if !wb.Insights {
		// Meta documents that template analytics needs is_enabled_for_insights, not the exact
		// error; the sandbox answers an invalid-parameter error that says so.
		s.writeErr(w, invalidParam("Template analytics is not enabled for this WhatsApp Business Account: set is_enabled_for_insights to true first"))
		return
	}
	q := r.URL.Query()
	start, okS := analyticsTime(q.Get("start"))
	end, okE := analyticsTime(q.Get("end"))
	if !okS || !okE {
		s.writeErr(w, invalidParam("start and end are required: UNIX timestamps or YYYY-MM-DD"))
		return
	}
	// Times off a day boundary: start is floored, end rounded up (daily granularity).
	start = dayStart(start)
	if e := dayStart(end); !e.Equal(end) {
		end = e.Add(24 * time.Hour)
	}
	now := s.clock.Now()
	switch {
	case !end.After(start):
		s.writeErr(w, invalidParam("end must be after start"))
		return
	case start.Before(dayStart(now).Add(-90 * 24 * time.Hour)):
		s.writeErr(w, invalidParam("start is beyond the 90-day lookback"))
		return
	case q.Get("granularity") != "DAILY":
		s.writeErr(w, invalidParam("granularity must be DAILY"))
		return
	}
	var ids []string
	if err := json.Unmarshal([]byte(q.Get("template_ids")), &ids); err != nil || len(ids) == 0 || len(ids) > 10 {
		s.writeErr(w, invalidParam("template_ids must be a JSON array of 1 to 10 template ids"))
		return
	}
	mm := false
	switch q.Get("product_type") {
	case "", "CLOUD_API":
	// Meta's pages spell the MM API product two ways (mm-api-reference §9); the sandbox takes
	// both, as a tolerant Meta would.
	case "MARKETING_MESSAGES_LITE_API", "MARKETING_MESSAGES_API_FOR_WHATSAPP":
		mm = true
	default:
		s.writeErr(w, invalidParam("product_type "+q.Get("product_type")+" is not supported"))
		return
	}
	var metrics []string
	if v := q.Get("metric_types"); v != "" {
		if err := json.Unmarshal([]byte(v), &metrics); err != nil {
			s.writeErr(w, invalidParam("metric_types must be a JSON array"))
			return
		}
	}
	want := map[string]bool{}
	for _, m := range metrics {
		switch {
		case basicMetric[m]:
		case conversionMetric[m]:
			if !mm {
				s.writeErr(w, invalidParam("metric_types "+m+" is only available for product_type MARKETING_MESSAGES_API_FOR_WHATSAPP"))
				return
			}
		default:
			s.writeErr(w, invalidParam("metric_types "+m+" is not supported"))
			return
		}
		want[m] = true
	}
	if len(want) == 0 {
		want["SENT"] = true
	}
	var points []map[string]any
	for _, id := range ids {
		t, ok := s.templates[id]
		if !ok || t.WABAID != wabaID {
			s.writeErr(w, invalidParam(fmt.Sprintf("template %s is not a template of this WhatsApp Business Account", id)))
			return
		}
		counts := t.SentCloud
		if mm {
			counts = t.SentMM
		}
		for d := start; d.Before(end); d = d.Add(24 * time.Hour) {
			day := dailyCounts(t, d, mm, counts[d.Unix()])
			pt := map[string]any{"template_id": id, "start": d.Unix(), "end": d.Add(24 * time.Hour).Unix()}
			if want["SENT"] {
				pt["sent"] = day.sent
			}
			if want["DELIVERED"] {
				pt["delivered"] = day.delivered
			}
			if want["READ"] {
				pt["read"] = day.read
			}
			if want["CLICKED"] {
				pt["clicked"] = []any{map[string]any{"type": "url_button", "button_content": "Shop now", "count": day.clicked}}
			}
			if want["COST"] {
				pt["cost"] = []any{
					map[string]any{"type": "amount_spent", "value": day.cost},
					map[string]any{"type": "cost_per_delivered", "value": perUnit(day.cost, day.delivered)},
					map[string]any{"type": "cost_per_url_button_click", "value": perUnit(day.cost, day.clicked)},
				}
			}
			if want["WEBSITE_PURCHASES"] {
				pt["website_purchases"] = day.clicked / 8
			}
			if want["WEBSITE_PURCHASES_CONVERSION_VALUE"] {
				pt["website_purchases_conversion_value"] = float64(day.clicked/8) * 42.5
			}
			if want["WEBSITE_ADD_TO_CART"] {
				pt["website_add_to_cart"] = day.clicked / 3
			}
			points = append(points, pt)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": []any{map[string]any{"granularity": "DAILY", "data_points": points}}})
}

var basicMetric = map[string]bool{"SENT": true, "DELIVERED": true, "READ": true, "CLICKED": true, "COST": true}

var conversionMetric = map[string]bool{"WEBSITE_ADD_TO_CART": true, "WEBSITE_CHECKOUTS_INITIATED": true,
	"WEBSITE_PURCHASES": true, "WEBSITE_PURCHASES_CONVERSION_VALUE": true, "APP_ACTIVATIONS": true,
	"APP_ADD_TO_CART": true, "APP_CHECKOUTS_INITIATED": true, "APP_PURCHASES": true,
	"APP_PURCHASES_CONVERSION_VALUE": true, "APP_ADD_PAYMENT_INFO": true, "APP_ADD_TO_WISHLIST": true,
	"APP_COMPLETE_REGISTRATION": true}

func perUnit(cost float64, n int) float64 {
	if n == 0 {
		return 0
	}
	return math.Round(cost/float64(n)*10000) / 10000
}

// dayCounts are one template's numbers for one day and product.
type dayCounts struct {
	sent, delivered, read, clicked int
	cost                           float64
}

// mix is a deterministic number in [0, 1) for a template, a day and a salt: the sandbox's
// numbers are the same on every run.
func mix(id string, day time.Time, salt string) float64 {
	h := fnv.New64a()
	h.Write([]byte(id + "|" + day.Format(time.DateOnly) + "|" + salt))
	return float64(h.Sum64()%1_000_000) / 1_000_000
}

// OptimizationsOff says whether the sandbox's synthetic history has the template's creative
// optimizations off on day: one week in four, so on and off can be compared.
func OptimizationsOff(templateID string, day time.Time) bool {
	week := dayStart(day).Unix() / (7 * 86400)
	return mix(templateID, time.Unix(week*7*86400, 0).UTC(), "opt") < 0.25
}

// dailyCounts gives a template's numbers for day: the sends the sandbox counted (the seed's
// campaign and its own sends) plus, for templates with a history, synthetic campaigns on days
// more than a week before their last use (so dormancy is untouched). MM API delivers, is read
// and is clicked more than Cloud API; clicks drop on days with optimizations off.
func dailyCounts(t *tmpl, day time.Time, mm bool, counted int) dayCounts {
	sent := counted
	if !t.LastSentAt.IsZero() && t.Category == "MARKETING" && day.Before(dayStart(t.LastSentAt).Add(-7*24*time.Hour)) &&
		!day.Before(dayStart(t.CreatedAt)) && mix(t.ID, day, "campaign") < 0.45 {
		n := 150 + int(mix(t.ID, day, "size")*850)
		if mm {
			sent += n * 88 / 100
		} else {
			sent += n - n*88/100 // the fallbacks
		}
	}
	if sent == 0 {
		return dayCounts{}
	}
	dr, rr, cr := 0.88, 0.52, 0.045
	if mm {
		dr, rr, cr = 0.96, 0.63, 0.075
	}
	if OptimizationsOff(t.ID, day) {
		cr *= 0.7
	}
	jit := 0.95 + 0.1*mix(t.ID, day, "jitter")
	d := dayCounts{sent: sent}
	d.delivered = int(float64(sent) * min(dr*jit, 1))
	d.read = int(float64(d.delivered) * rr * jit)
	d.clicked = int(float64(d.delivered) * cr * jit)
	d.cost = math.Round(float64(d.delivered)*0.0250*100) / 100
	return d
}
