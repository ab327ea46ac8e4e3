package pages

import (
	"html"

	"encoding/json"
	"fmt"
	"github.com/a-h/templ"
	"math"
	"strconv"
	"strings"
	"time"

	"mmconsole/internal/insights"
	"mmconsole/models"
)

// fmtPct renders a rate as a percentage ("—" without a denominator).
func fmtPct(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "—"
	}
	return strconv.FormatFloat(r*100, 'f', 1, 64) + "%"
}

// fmtNum renders a count with thin grouping.
func fmtNum(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func fmtMoney(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	if v < 1 {
		return strconv.FormatFloat(v, 'f', 4, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// change says how cur moved against prev, in words and arrows (never by color alone).
func change(cur, prev int64) string {
	if prev == 0 {
		if cur == 0 {
			return "no change"
		}
		return "new (none in the previous period)"
	}
	d := float64(cur-prev) / float64(prev) * 100
	switch {
	case d > 0.05:
		return fmt.Sprintf("▲ %.1f%% vs previous period", d)
	case d < -0.05:
		return fmt.Sprintf("▼ %.1f%% vs previous period", -d)
	}
	return "no change vs previous period"
}

// rateChange says how a rate moved, in percentage points.
func rateChange(cur, prev float64) string {
	if math.IsNaN(cur) || math.IsNaN(prev) {
		return "no previous period to compare"
	}
	d := (cur - prev) * 100
	switch {
	case d > 0.05:
		return fmt.Sprintf("▲ %.1f pts vs previous period", d)
	case d < -0.05:
		return fmt.Sprintf("▼ %.1f pts vs previous period", -d)
	}
	return "no change vs previous period"
}

func fmtDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%.1f min", d.Minutes())
	}
	return fmt.Sprintf("%.1f h", d.Hours())
}

// routeLabel names a webhook route for people.
func routeLabel(r string) string {
	switch r {
	case models.RouteMMAPI:
		return "MM API"
	case models.RouteFallback:
		return "Fallback to Cloud API"
	case models.RouteCloudAPI:
		return "Cloud API /messages"
	}
	return "Unknown (no pricing yet)"
}

// DailyTable is a daily chart's numbers as rows (header first): the accessible table under the
// chart and the CSV export are both this, so they cannot disagree.
func DailyTable(days []insights.DayPoint) [][]string {
	rows := [][]string{{"Day", "Sent", "Delivered", "Read", "Clicked"}}
	for _, d := range days {
		rows = append(rows, []string{d.Day.Format(time.DateOnly), strconv.FormatInt(d.Sent, 10),
			strconv.FormatInt(d.Delivered, 10), strconv.FormatInt(d.Read, 10), strconv.FormatInt(d.Clicked, 10)})
	}
	return rows
}

// The vendored chart library (uPlot), fetched by static/charts.js when a chart comes into view.
const (
	chartLib = "vendor/uplot-1.6.32.iife.min.js"
	chartCSS = "vendor/uplot-1.6.32.min.css"
)

// chartMark is a vertical line on a chart (an optimization change).
type chartMark struct {
	X     int64  `json:"x"`
	Label string `json:"label"`
}

// dailyChartJSON is the data of a daily chart for static/charts.js: x in unix seconds, one
// series per column of DailyTable.
func dailyChartJSON(days []insights.DayPoint, marks []chartMark) string {
	x := make([]int64, len(days))
	cols := [4][]int64{}
	for i, d := range days {
		x[i] = d.Day.Unix()
		cols[0] = append(cols[0], d.Sent)
		cols[1] = append(cols[1], d.Delivered)
		cols[2] = append(cols[2], d.Read)
		cols[3] = append(cols[3], d.Clicked)
	}
	type series struct {
		Label  string  `json:"label"`
		Values []int64 `json:"values"`
	}
	b, _ := json.Marshal(map[string]any{"x": x, "series": []series{{"Sent", cols[0]}, {"Delivered", cols[1]},
		{"Read", cols[2]}, {"Clicked", cols[3]}}, "marks": marks})
	return string(b)
}

func impactMarks(ti insights.TemplateInsights) []chartMark {
	var out []chartMark
	for _, im := range ti.Impacts {
		d := insights.Day(im.Change.At)
		if d.Before(ti.Period.From) || !d.Before(ti.Period.To) {
			continue
		}
		out = append(out, chartMark{X: d.Unix(), Label: im.Change.Feature + " → " + im.Change.New})
	}
	return out
}

// refusalText explains a stored analytics refusal.
func refusalText(r string) string {
	switch r {
	case "not_enabled":
		return "Template analytics are off for this WABA (is_enabled_for_insights). An admin can enable them; Meta cannot turn them off again."
	case "region":
		return "Meta does not offer template analytics for this WABA's region (for example EU or Japan). The console's own webhook numbers below still apply."
	}
	return ""
}

func shareOf(part, all insights.Totals) string {
	return fmtPct(float64(part.Sent) / float64(all.Sent))
}

func logLink(code int, waba string) string {
	q := "/log?kind=status&status=failed&error_code=" + strconv.Itoa(code)
	if waba != "" {
		q += "&waba=" + waba
	}
	return q
}

func periodLink(base, key string, conn uint) string {
	q := base + "?period=" + key
	if conn != 0 {
		q += "&conn=" + strconv.FormatUint(uint64(conn), 10)
	}
	return q
}

func dayStr(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func oneWABA(o insights.Overview) string {
	if len(o.Fetches) == 1 {
		return o.Fetches[0].Conn.WABAID
	}
	return ""
}

func intStr(n int) string { return strconv.Itoa(n) }

func orID(name, id string) string {
	if name == "" {
		return id
	}
	return name
}

func assetURL(assets func(string) string, name string) string {
	if assets == nil {
		return "/static/" + name
	}
	return assets(name)
}

// jsonScript embeds data (JSON from json.Marshal, which escapes <, > and &, so it cannot close
// the element) as a non-executable script element for static/charts.js.
func jsonScript(id, data string) templ.Component {
	return templ.Raw(`<script type="application/json" id="` + html.EscapeString(id) + `">` + data + `</script>`)
}
