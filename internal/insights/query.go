package insights

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"mmconsole/internal/database"
	"mmconsole/internal/graph"
	"mmconsole/internal/i18n"
	"mmconsole/models"
)

// Period is a range of whole UTC days, To exclusive.
type Period struct {
	Key      string // "7", "30", "90" or "custom"
	From, To time.Time
}

// Days is the period's length in days.
func (p Period) Days() int { return int(p.To.Sub(p.From) / (24 * time.Hour)) }

// Previous is the period of the same length just before p.
func (p Period) Previous() Period {
	d := p.To.Sub(p.From)
	return Period{Key: p.Key, From: p.From.Add(-d), To: p.From}
}

// Last is the last day of the period (for display; To is exclusive).
func (p Period) Last() time.Time { return p.To.Add(-24 * time.Hour) }

// PeriodError is a period the URL asked for that cannot be read: the URL parameter (a token,
// the same in every language) and the catalog key of what it must be.
type PeriodError struct{ Field, Reason string }

// Error is for logs: English.
func (e *PeriodError) Error() string {
	return "insights: " + e.Field + ": " + i18n.T(context.Background(), e.Reason)
}

// UserFacing maps the error to a 400 page in the reader's language.
func (e *PeriodError) UserFacing(ctx context.Context) (int, string, string) {
	return 400, i18n.T(ctx, "insights.period.err.title"), e.Field + ": " + i18n.T(ctx, e.Reason)
}

// ParsePeriod reads the URL's period: 7, 30 or 90 days up to today (the default 30), or custom
// from/to dates (YYYY-MM-DD, both included) within Meta's 90-day look-back.
func ParsePeriod(key, from, to string, now time.Time) (Period, error) {
	today := Day(now)
	switch key {
	case "", "30":
		return Period{Key: "30", From: today.Add(-29 * 24 * time.Hour), To: today.Add(24 * time.Hour)}, nil
	case "7", "90":
		n, _ := strconv.Atoi(key)
		return Period{Key: key, From: today.Add(-time.Duration(n-1) * 24 * time.Hour), To: today.Add(24 * time.Hour)}, nil
	case "custom":
	default:
		return Period{}, &PeriodError{"period", i18n.Key("insights.period.err.choose")}
	}
	f, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return Period{}, &PeriodError{"from", i18n.Key("insights.period.err.from_date")}
	}
	t, err := time.Parse(time.DateOnly, to)
	if err != nil {
		return Period{}, &PeriodError{"to", i18n.Key("insights.period.err.to_date")}
	}
	switch {
	case t.Before(f):
		return Period{}, &PeriodError{"to", i18n.Key("insights.period.err.before")}
	case t.After(today):
		return Period{}, &PeriodError{"to", i18n.Key("insights.period.err.future")}
	case f.Before(today.Add(-Lookback)):
		return Period{}, &PeriodError{"from", i18n.Key("insights.period.err.lookback")}
	}
	return Period{Key: "custom", From: f, To: t.Add(24 * time.Hour)}, nil
}

// Totals are summed counts; the rates are per sent (delivered), per delivered (read, clicked).
type Totals struct {
	Sent, Delivered, Read, Clicked int64
	Cost                           float64
	CostDays                       int64 // points that carried a cost
}

// HasCost says Meta gave a cost for some of the points.
func (t Totals) HasCost() bool { return t.CostDays > 0 }

func rate(n, d int64) float64 {
	if d <= 0 {
		return math.NaN()
	}
	return float64(n) / float64(d)
}

// DeliveryRate is delivered per sent.
func (t Totals) DeliveryRate() float64 { return rate(t.Delivered, t.Sent) }

// ReadRate is read per delivered.
func (t Totals) ReadRate() float64 { return rate(t.Read, t.Delivered) }

// ClickRate is clicked per delivered.
func (t Totals) ClickRate() float64 { return rate(t.Clicked, t.Delivered) }

// CostPerDelivered is the spend per delivered message.
func (t Totals) CostPerDelivered() float64 {
	if !t.HasCost() {
		return math.NaN()
	}
	return t.Cost / float64(t.Delivered)
}

func (t *Totals) add(o Totals) {
	t.Sent += o.Sent
	t.Delivered += o.Delivered
	t.Read += o.Read
	t.Clicked += o.Clicked
	t.Cost += o.Cost
	t.CostDays += o.CostDays
}

// DayPoint is one day of the daily chart.
type DayPoint struct {
	Day time.Time
	Totals
}

// RouteStats are the console's own webhook counts for one route.
type RouteStats struct {
	Route                                           string
	Sent, Delivered, Read, Failed, Clicked, Expired int64
	DeliverSecs, DeliverN, ReadSecs, ReadN          int64
}

// MeanToDelivered is the mean time from send to delivered (0 when unknown).
func (r RouteStats) MeanToDelivered() time.Duration {
	if r.DeliverN == 0 {
		return 0
	}
	return time.Duration(r.DeliverSecs/r.DeliverN) * time.Second
}

// MeanToRead is the mean time from send to read (0 when unknown).
func (r RouteStats) MeanToRead() time.Duration {
	if r.ReadN == 0 {
		return 0
	}
	return time.Duration(r.ReadSecs/r.ReadN) * time.Second
}

func (r *RouteStats) add(o RouteStats) {
	r.Sent += o.Sent
	r.Delivered += o.Delivered
	r.Read += o.Read
	r.Failed += o.Failed
	r.Clicked += o.Clicked
	r.Expired += o.Expired
	r.DeliverSecs += o.DeliverSecs
	r.DeliverN += o.DeliverN
	r.ReadSecs += o.ReadSecs
	r.ReadN += o.ReadN
}

// Webhook sums the console's own webhook data of a period.
type Webhook struct {
	Routes []RouteStats // mm_api, fallback, cloud_api, unknown: those with any count
	All    RouteStats
}

// Share is the part of sent statuses that went by route (NaN without any).
func (w Webhook) Share(route string) float64 {
	for _, r := range w.Routes {
		if r.Route == route {
			return rate(r.Sent, w.All.Sent)
		}
	}
	return rate(0, w.All.Sent)
}

// ErrorCount is one error code's failures in a period, with Meta's meaning.
type ErrorCount struct {
	Code    int
	Title   string
	Count   int64
	Explain graph.Explanation `gorm:"-"`
}

// TemplateRate is one template's click rate in a period.
type TemplateRate struct {
	TemplateID, Name, Language string
	Totals
}

// MinSample is the fewest delivered messages a rate is ranked or compared on: below it, one
// click more or less moves the rate by a whole percent.
const MinSample = 100

// Fetch is one connection's analytics freshness, for the page.
type Fetch struct {
	Conn  models.WABAConnection
	State *models.InsightFetch
}

// Overview is everything the `/` page shows.
type Overview struct {
	Period, Prev      Period
	Totals, PrevTotal Totals
	MM, Cloud         Totals // Meta's counts by product
	Daily             []DayPoint
	Webhook           Webhook
	Errors            []ErrorCount
	Best, Worst       []TemplateRate
	Fetches           []Fetch
}

// Filter narrows the overview to what a viewer may see, and optionally to one connection.
type Filter struct {
	Scope        models.Scope
	ConnectionID uint // 0: every visible connection
}

// Connections lists the connections f may see, with their fetch states.
func (s *Service) Connections(ctx context.Context, f Filter) ([]Fetch, error) {
	var conns []models.WABAConnection
	q := database.Scoped(s.db.WithContext(ctx).Model(&models.WABAConnection{}), f.Scope, "account_id")
	if f.ConnectionID != 0 {
		q = q.Where("id = ?", f.ConnectionID)
	}
	if err := q.Order("name, id").Find(&conns).Error; err != nil {
		return nil, fmt.Errorf("insights: connections: %w", err)
	}
	ids := make([]uint, len(conns))
	for i, c := range conns {
		ids[i] = c.ID
	}
	var sts []models.InsightFetch
	if len(ids) > 0 {
		if err := s.db.WithContext(ctx).Where("connection_id IN ?", ids).Find(&sts).Error; err != nil {
			return nil, fmt.Errorf("insights: fetch states: %w", err)
		}
	}
	byConn := map[uint]*models.InsightFetch{}
	for i := range sts {
		byConn[sts[i].ConnectionID] = &sts[i]
	}
	out := make([]Fetch, len(conns))
	for i, c := range conns {
		out[i] = Fetch{Conn: c, State: byConn[c.ID]}
	}
	return out, nil
}

// pointScope narrows insight_points (or conversions) to the connections.
func pointScope(q *gorm.DB, conns []uint) *gorm.DB { return q.Where("connection_id IN ?", conns) }

// rollupScope narrows webhook rollups to the connections: each row must match one connection's
// account and WABA together. Two separate lists (account IN … AND waba IN …) would also match a
// row of one listed account with another listed account's WABA: a row no connection owns (kept
// from before a WABA moved between accounts, or written under another account's secret), counted
// in a staff overview over several accounts, and in any scope that ever spans accounts.
func rollupScope(q *gorm.DB, fs []Fetch) *gorm.DB {
	byAccount := map[uint][]string{}
	var accs []uint
	for _, f := range fs {
		if _, ok := byAccount[f.Conn.AccountID]; !ok {
			accs = append(accs, f.Conn.AccountID)
		}
		byAccount[f.Conn.AccountID] = append(byAccount[f.Conn.AccountID], f.Conn.WABAID)
	}
	if len(accs) == 0 {
		return q.Where("1 = 0")
	}
	parts := make([]string, len(accs))
	args := make([]any, 0, 2*len(accs))
	for i, a := range accs {
		parts[i] = "(account_id = ? AND waba_id IN ?)"
		args = append(args, a, byAccount[a])
	}
	return q.Where("("+strings.Join(parts, " OR ")+")", args...)
}

type dayRow struct {
	Day     time.Time
	Product string
	Sent    int64
	Deliv   int64
	Rd      int64
	Clk     int64
	Cost    float64
	CostN   int64
}

const sumCols = "SUM(sent) AS sent, SUM(delivered) AS deliv, SUM(read) AS rd, SUM(clicked) AS clk, " +
	"SUM(cost) AS cost, SUM(CASE WHEN has_cost THEN 1 ELSE 0 END) AS cost_n"

func (r dayRow) totals() Totals {
	return Totals{Sent: r.Sent, Delivered: r.Deliv, Read: r.Rd, Clicked: r.Clk, Cost: r.Cost, CostDays: r.CostN}
}

// Overview reads the overview of period p for f. Every number comes from the stored points and
// rollups: the cost is a few grouped reads, whatever the number of events.
func (s *Service) Overview(ctx context.Context, f Filter, p Period) (Overview, error) {
	o := Overview{Period: p, Prev: p.Previous()}
	fs, err := s.Connections(ctx, f)
	if err != nil {
		return o, err
	}
	o.Fetches = fs
	if len(fs) == 0 {
		o.Daily = fill(p, nil)
		return o, nil
	}
	ids := make([]uint, len(fs))
	for i, c := range fs {
		ids[i] = c.Conn.ID
	}
	db := s.db.WithContext(ctx)
	var rows []dayRow
	err = pointScope(db.Model(&models.InsightPoint{}), ids).Select("day, product, "+sumCols).
		Where("day >= ? AND day < ?", o.Prev.From, p.To).Group("day, product").Scan(&rows).Error
	if err != nil {
		return o, fmt.Errorf("insights: daily points: %w", err)
	}
	byDay := map[time.Time]Totals{}
	for _, r := range rows {
		d := r.Day.UTC()
		if d.Before(p.From) {
			o.PrevTotal.add(r.totals())
			continue
		}
		o.Totals.add(r.totals())
		t := byDay[d]
		t.add(r.totals())
		byDay[d] = t
		if r.Product == models.ProductMMAPI {
			o.MM.add(r.totals())
		} else {
			o.Cloud.add(r.totals())
		}
	}
	o.Daily = fill(p, byDay)
	if o.Webhook, err = s.webhook(ctx, rollupScope(db.Model(&models.WebhookDayRollup{}), fs), p); err != nil {
		return o, err
	}
	var errs []ErrorCount
	err = rollupScope(db.Model(&models.WebhookErrorRollup{}), fs).
		Select("error_code AS code, MAX(title) AS title, SUM(count) AS count").
		Where("day >= ? AND day < ?", p.From, p.To).Group("error_code").Order("count DESC, code").Limit(5).Scan(&errs).Error
	if err != nil {
		return o, fmt.Errorf("insights: errors: %w", err)
	}
	for i := range errs {
		errs[i].Explain = graph.Explain(ctx, errs[i].Code)
	}
	o.Errors = errs
	rates, err := s.templateRates(ctx, ids, p)
	if err != nil {
		return o, err
	}
	o.Best, o.Worst = rank(rates, 5)
	return o, nil
}

// webhook sums rollup rows of q in period p by route.
func (s *Service) webhook(ctx context.Context, q *gorm.DB, p Period) (Webhook, error) {
	var rs []RouteStats
	err := q.Select("route, SUM(sent) AS sent, SUM(delivered) AS delivered, SUM(read) AS read, SUM(failed) AS failed, "+
		"SUM(clicked) AS clicked, SUM(expired) AS expired, SUM(deliver_secs) AS deliver_secs, SUM(deliver_n) AS deliver_n, "+
		"SUM(read_secs) AS read_secs, SUM(read_n) AS read_n").
		Where("day >= ? AND day < ?", p.From, p.To).Group("route").Order("route").Scan(&rs).Error
	if err != nil {
		return Webhook{}, fmt.Errorf("insights: webhook rollups: %w", err)
	}
	w := Webhook{Routes: rs, All: RouteStats{Route: "all"}}
	for _, r := range rs {
		w.All.add(r)
	}
	return w, nil
}

// templateRates sums each template's points in p and names them.
func (s *Service) templateRates(ctx context.Context, conns []uint, p Period) ([]TemplateRate, error) {
	type row struct {
		TemplateID string
		Sent       int64
		Deliv      int64
		Rd         int64
		Clk        int64
		Cost       float64
		CostN      int64
	}
	var rows []row
	err := pointScope(s.db.WithContext(ctx).Model(&models.InsightPoint{}), conns).Select("template_id, "+sumCols).
		Where("day >= ? AND day < ?", p.From, p.To).Group("template_id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("insights: template rates: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	var ts []models.Template
	if err := s.db.WithContext(ctx).Select("template_id", "name", "language").Where("connection_id IN ?", conns).Find(&ts).Error; err != nil {
		return nil, fmt.Errorf("insights: template names: %w", err)
	}
	names := map[string]models.Template{}
	for _, t := range ts {
		names[t.TemplateID] = t
	}
	out := make([]TemplateRate, 0, len(rows))
	for _, r := range rows {
		t := names[r.TemplateID]
		tot := dayRow{Sent: r.Sent, Deliv: r.Deliv, Rd: r.Rd, Clk: r.Clk, Cost: r.Cost, CostN: r.CostN}.totals()
		out = append(out, TemplateRate{TemplateID: r.TemplateID, Name: t.Name, Language: t.Language, Totals: tot})
	}
	return out, nil
}

// rank orders templates with at least MinSample delivered by click rate: the n best, then the n
// worst (a template is in one list only).
func rank(rs []TemplateRate, n int) (best, worst []TemplateRate) {
	var ok []TemplateRate
	for _, r := range rs {
		if r.Delivered >= MinSample {
			ok = append(ok, r)
		}
	}
	sort.SliceStable(ok, func(i, j int) bool {
		a, b := ok[i].ClickRate(), ok[j].ClickRate()
		if a != b {
			return a > b
		}
		return ok[i].TemplateID < ok[j].TemplateID
	})
	k := min(n, len(ok))
	best = ok[:k]
	rest := ok[k:]
	for i := len(rest) - 1; i >= 0 && len(worst) < n; i-- {
		worst = append(worst, rest[i])
	}
	return best, worst
}

// fill gives every day of p a point, zero where nothing was counted.
func fill(p Period, by map[time.Time]Totals) []DayPoint {
	out := make([]DayPoint, 0, p.Days())
	for d := p.From; d.Before(p.To); d = d.Add(24 * time.Hour) {
		out = append(out, DayPoint{Day: d, Totals: by[d]})
	}
	return out
}
