package sandbox

import (
	"encoding/json"
	"fmt"
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
	case "MARKETING_MESSAGES_LITE_API", "MARKETING_MESSAGES_API_FOR_WHATSAPP":
		mm = true
	default:
		s.writeErr(w, invalidParam("product_type "+q.Get("product_type")+" is not supported"))
		return
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
			n := counts[d.Unix()]
			points = append(points, map[string]any{
				"template_id": id, "start": d.Unix(), "end": d.Add(24 * time.Hour).Unix(),
				"sent": n, "delivered": n * 9 / 10, "read": n / 2,
			})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": []any{map[string]any{"granularity": "DAILY", "data_points": points}}})
}
