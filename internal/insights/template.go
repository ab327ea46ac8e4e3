package insights

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"mmconsole/internal/i18n"
	"mmconsole/models"
)

// Change is one optimization change that reached Meta (confirmed, or accepted and pending),
// of the template itself or of its WABA's default.
type Change struct {
	At                time.Time
	Scope             string // models.OptScopeTemplate or OptScopeWABA
	Feature, Old, New string
	Status            string
}

// Impact compares MM API click-through in the week before a change with the week after it.
type Impact struct {
	Change        Change
	Before, After Totals
	Note          string
}

// Split compares the days a feature was on with the days it was off, over the look-back.
type Split struct {
	Feature         string
	On, Off         Totals
	OnDays, OffDays int
	Note            string
}

// Conversion is one conversion metric summed over the period.
type Conversion struct {
	Metric string
	Value  float64
}

// TemplateInsights is the template page's insight section.
type TemplateInsights struct {
	Period      Period
	Totals      Totals
	MM, Cloud   Totals
	Daily       []DayPoint
	Conversions []Conversion
	Webhook     Webhook
	Impacts     []Impact
	Splits      []Split
	Fetch       *models.InsightFetch
}

// ImpactWindow is how many days before and after a change are compared.
const ImpactWindow = 7

// Template reads the insights of t (found in the viewer's scope by the caller) for period p.
func (s *Service) Template(ctx context.Context, t models.Template, p Period) (TemplateInsights, error) {
	ti := TemplateInsights{Period: p}
	db := s.db.WithContext(ctx)
	var st models.InsightFetch
	if err := db.Where("connection_id = ?", t.ConnectionID).Limit(1).Find(&st).Error; err != nil {
		return ti, fmt.Errorf("insights: fetch state: %w", err)
	}
	if st.ConnectionID != 0 {
		ti.Fetch = &st
	}
	// Every stored point of the template (at most 90 days × 2 products): the period's numbers
	// and the optimization comparisons are summed from them in memory.
	var pts []models.InsightPoint
	if err := db.Where("connection_id = ? AND template_id = ?", t.ConnectionID, t.TemplateID).Order("day").Find(&pts).Error; err != nil {
		return ti, fmt.Errorf("insights: template points: %w", err)
	}
	mmByDay := map[time.Time]Totals{}
	byDay := map[time.Time]Totals{}
	for _, pt := range pts {
		d := pt.Day.UTC()
		tot := Totals{Sent: pt.Sent, Delivered: pt.Delivered, Read: pt.Read, Clicked: pt.Clicked, Cost: pt.Cost}
		if pt.HasCost {
			tot.CostDays = 1
		}
		if pt.Product == models.ProductMMAPI {
			m := mmByDay[d]
			m.add(tot)
			mmByDay[d] = m
		}
		if d.Before(p.From) || !d.Before(p.To) {
			continue
		}
		ti.Totals.add(tot)
		b := byDay[d]
		b.add(tot)
		byDay[d] = b
		if pt.Product == models.ProductMMAPI {
			ti.MM.add(tot)
		} else {
			ti.Cloud.add(tot)
		}
	}
	ti.Daily = fill(p, byDay)
	var convs []Conversion
	err := db.Model(&models.InsightConversion{}).Select("metric, SUM(value) AS value").
		Where("connection_id = ? AND template_id = ? AND day >= ? AND day < ?", t.ConnectionID, t.TemplateID, p.From, p.To).
		Group("metric").Order("metric").Scan(&convs).Error
	if err != nil {
		return ti, fmt.Errorf("insights: conversions: %w", err)
	}
	for _, c := range convs {
		if c.Value != 0 {
			ti.Conversions = append(ti.Conversions, c)
		}
	}
	q := db.Model(&models.WebhookRollup{}).Where("account_id = ? AND waba_id = ? AND template_name = ?", t.AccountID, t.WABAID, t.Name)
	if ti.Webhook, err = s.webhook(ctx, q, p); err != nil {
		return ti, err
	}
	changes, err := s.changes(ctx, t)
	if err != nil {
		return ti, err
	}
	ti.Impacts, ti.Splits = impacts(ctx, changes, mmByDay, Day(s.now()))
	return ti, nil
}

// changes lists the optimization changes that reached Meta for t or its WABA, oldest first.
func (s *Service) changes(ctx context.Context, t models.Template) ([]Change, error) {
	var rows []models.OptimizationChange
	err := s.db.WithContext(ctx).
		Where("account_id = ? AND connection_id = ? AND ((scope = ? AND target_id = ?) OR (scope = ? AND target_id = ?))",
			t.AccountID, t.ConnectionID, models.OptScopeTemplate, t.TemplateID, models.OptScopeWABA, t.WABAID).
		Where("status IN ?", []string{models.OptChangeConfirmed, models.OptChangePending}).
		Order("created_at, id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("insights: optimization changes: %w", err)
	}
	out := make([]Change, len(rows))
	for i, r := range rows {
		out[i] = Change{At: r.CreatedAt.UTC(), Scope: r.Scope, Feature: r.Feature, Old: r.OldValue, New: r.NewValue, Status: r.Status}
	}
	return out, nil
}

// impacts compares the week before and after each change, and per feature the days it was on
// with the days it was off (the day of a change counts for neither).
func impacts(ctx context.Context, changes []Change, mm map[time.Time]Totals, today time.Time) ([]Impact, []Split) {
	var out []Impact
	for _, c := range changes {
		d := Day(c.At)
		im := Impact{Change: c}
		for i := 1; i <= ImpactWindow; i++ {
			im.Before.add(mm[d.Add(-time.Duration(i)*24*time.Hour)])
			if a := d.Add(time.Duration(i) * 24 * time.Hour); !a.After(today) {
				im.After.add(mm[a])
			}
		}
		im.Note = Compare(ctx, im.Before, im.After)
		out = append(out, im)
	}
	byFeature := map[string][]Change{}
	var features []string
	for _, c := range changes {
		if _, ok := byFeature[c.Feature]; !ok {
			features = append(features, c.Feature)
		}
		byFeature[c.Feature] = append(byFeature[c.Feature], c)
	}
	sort.Strings(features)
	var splits []Split
	for _, f := range features {
		cs := byFeature[f]
		sp := Split{Feature: f}
		changeDays := map[time.Time]bool{}
		for _, c := range cs {
			changeDays[Day(c.At)] = true
		}
		for d, tot := range mm {
			if changeDays[d] {
				continue
			}
			v := cs[0].Old // before the first change: what it was changed from
			for _, c := range cs {
				if Day(c.At).Before(d) {
					v = c.New
				}
			}
			switch v {
			case "OPT_IN":
				sp.On.add(tot)
				sp.OnDays++
			case "OPT_OUT":
				sp.Off.add(tot)
				sp.OffDays++
			}
		}
		if sp.On.Delivered > 0 && sp.Off.Delivered > 0 {
			sp.Note = Compare(ctx, sp.Off, sp.On)
			splits = append(splits, sp)
		}
	}
	return out, splits
}

// Compare says, honestly and in the reader's language, what a change in click-through from a to
// b is worth: too few messages to say, within what chance alone gives (a two-proportion z-test
// at 95%), or unlikely to be chance (though audience and timing changed too).
func Compare(ctx context.Context, a, b Totals) string {
	da, db := i18n.Num(ctx, a.Delivered), i18n.Num(ctx, b.Delivered)
	if a.Delivered < MinSample || b.Delivered < MinSample {
		return i18n.T(ctx, "insights.compare.too_few", "A", da, "B", db, "Min", i18n.Num(ctx, MinSample))
	}
	p1, p2 := a.ClickRate(), b.ClickRate()
	pool := float64(a.Clicked+b.Clicked) / float64(a.Delivered+b.Delivered)
	se := math.Sqrt(pool * (1 - pool) * (1/float64(a.Delivered) + 1/float64(b.Delivered)))
	if se == 0 {
		return i18n.T(ctx, "insights.compare.no_clicks")
	}
	z := (p2 - p1) / se
	zs := i18n.Dec(ctx, math.Round(z*10)/10, 1)
	if math.Abs(z) < 1.96 {
		return i18n.T(ctx, "insights.compare.chance", "A", da, "B", db, "Z", zs)
	}
	return i18n.T(ctx, "insights.compare.unlikely", "A", da, "B", db, "Z", zs)
}
