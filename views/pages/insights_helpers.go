package pages

import (
	"context"
	"encoding/json"
	"html"
	"math"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"mmconsole/internal/i18n"
	"mmconsole/internal/insights"
	"mmconsole/models"
)

// fmtPct renders a rate as a percentage in the reader's language ("—" without a denominator).
func fmtPct(ctx context.Context, r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "—"
	}
	return i18n.Pct(ctx, r, 1)
}

// fmtNum renders a count with the language's digit grouping.
func fmtNum(ctx context.Context, n int64) string { return i18n.Num(ctx, n) }

func fmtMoney(ctx context.Context, v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	if v < 1 {
		return i18n.Dec(ctx, v, 4)
	}
	return i18n.Dec(ctx, v, 2)
}

// change says how cur moved against prev, in words and arrows (never by color alone).
func change(ctx context.Context, cur, prev int64) string {
	if prev == 0 {
		if cur == 0 {
			return i18n.T(ctx, "insights.change.none")
		}
		return i18n.T(ctx, "insights.change.new")
	}
	d := float64(cur-prev) / float64(prev)
	switch {
	case d > 0.0005:
		return i18n.T(ctx, "insights.change.up", "Pct", i18n.Pct(ctx, d, 1))
	case d < -0.0005:
		return i18n.T(ctx, "insights.change.down", "Pct", i18n.Pct(ctx, -d, 1))
	}
	return i18n.T(ctx, "insights.change.same")
}

// rateChange says how a rate moved, in percentage points.
func rateChange(ctx context.Context, cur, prev float64) string {
	if math.IsNaN(cur) || math.IsNaN(prev) {
		return i18n.T(ctx, "insights.change.no_previous")
	}
	d := (cur - prev) * 100
	switch {
	case d > 0.05:
		return i18n.T(ctx, "insights.change.rate_up", "Pts", i18n.Dec(ctx, d, 1))
	case d < -0.05:
		return i18n.T(ctx, "insights.change.rate_down", "Pts", i18n.Dec(ctx, -d, 1))
	}
	return i18n.T(ctx, "insights.change.same")
}

// fmtDuration is a mean time in seconds, minutes or hours (unit symbols read the same in the
// three languages; the decimal separator follows the reader's).
func fmtDuration(ctx context.Context, d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Minute:
		return i18n.Num(ctx, int64(d.Seconds())) + " s"
	case d < time.Hour:
		return i18n.Dec(ctx, math.Round(d.Minutes()*10)/10, 1) + " min"
	}
	return i18n.Dec(ctx, math.Round(d.Hours()*10)/10, 1) + " h"
}

// routeLabel names a webhook route for people.
func routeLabel(ctx context.Context, r string) string {
	switch r {
	case models.RouteMMAPI:
		return "MM API"
	case models.RouteFallback:
		return i18n.T(ctx, "insights.route.fallback")
	case models.RouteCloudAPI:
		return i18n.T(ctx, "insights.route.cloud_api")
	}
	return i18n.T(ctx, "insights.route.unknown")
}

// scopeLabel names where an optimization change applied: the template or its WABA's default.
func scopeLabel(ctx context.Context, scope string) string {
	if scope == models.OptScopeWABA {
		return i18n.T(ctx, "insights.impact.scope_waba")
	}
	return i18n.T(ctx, "insights.impact.scope_template")
}

// dailyCSVHeader are the CSV export's column names: machine-readable, English in every
// language; the table on the page has the same columns under the reader's words.
var dailyCSVHeader = [...]string{"Day", "Sent", "Delivered", "Read", "Clicked"}

// DailyRows are a daily chart's numbers as rows (day, sent, delivered, read, clicked): the
// accessible table under the chart and the CSV export are both these rows, so they cannot
// disagree.
func DailyRows(days []insights.DayPoint) [][]string {
	rows := make([][]string, 0, len(days))
	for _, d := range days {
		rows = append(rows, []string{d.Day.Format(time.DateOnly), strconv.FormatInt(d.Sent, 10),
			strconv.FormatInt(d.Delivered, 10), strconv.FormatInt(d.Read, 10), strconv.FormatInt(d.Clicked, 10)})
	}
	return rows
}

// DailyCSV is the CSV export of a daily chart: the English column names, then DailyRows.
func DailyCSV(days []insights.DayPoint) [][]string {
	return append([][]string{dailyCSVHeader[:]}, DailyRows(days)...)
}

// DailyTable is the accessible table of a daily chart: its column names in the reader's
// language, then DailyRows.
func DailyTable(ctx context.Context, days []insights.DayPoint) [][]string {
	return append([][]string{dailyLabels(ctx)}, DailyRows(days)...)
}

// dailyLabels are the names of the day column and the four series, as the table and the chart's
// legend show them.
func dailyLabels(ctx context.Context) []string {
	return []string{i18n.T(ctx, "insights.chart.day"), i18n.T(ctx, "insights.metric.sent"), i18n.T(ctx, "insights.metric.delivered"),
		i18n.T(ctx, "insights.metric.read"), i18n.T(ctx, "insights.metric.clicked")}
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
// series per column of DailyTable, the labels in the reader's language, and the sentence shown
// where the chart library could not be loaded.
func dailyChartJSON(ctx context.Context, days []insights.DayPoint, marks []chartMark) string {
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
	l := dailyLabels(ctx)
	b, _ := json.Marshal(map[string]any{"x": x, "xLabel": l[0], "series": []series{{l[1], cols[0]}, {l[2], cols[1]},
		{l[3], cols[2]}, {l[4], cols[3]}}, "marks": marks, "failed": i18n.T(ctx, "insights.chart.failed")})
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
func refusalText(ctx context.Context, r string) string {
	switch r {
	case "not_enabled":
		return i18n.T(ctx, "insights.refusal.not_enabled")
	case "region":
		return i18n.T(ctx, "insights.refusal.region")
	}
	return ""
}

func shareOf(ctx context.Context, part, all insights.Totals) string {
	return fmtPct(ctx, float64(part.Sent)/float64(all.Sent))
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
