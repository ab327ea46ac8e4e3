package insights_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"mmconsole/internal/database"
	"mmconsole/internal/insights"
	"mmconsole/models"
	"mmconsole/views/layout"
	"mmconsole/views/pages"
)

// BenchmarkOverview measures the overview's server time, its reads and its rendering, over 90
// days × 200 templates of daily points (both products) and the rollups of one million webhook
// events folded by the real fold. MMC_BENCH_EVENTS overrides the event count (the setup of a
// million events takes minutes on a busy machine). Goal: under 100 ms per overview.
func BenchmarkOverview(b *testing.B) {
	events := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("MMC_BENCH_EVENTS")); err == nil && v > 0 {
		events = v
	}
	db := database.OpenTest(b, migrations())
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	acc := models.Account{Name: "Shop"}
	if err := db.Create(&acc).Error; err != nil {
		b.Fatal(err)
	}
	conn := models.WABAConnection{AccountID: acc.ID, WABAID: "5550001", Name: "Shop", TokenSealed: []byte("x")}
	if err := db.Create(&conn).Error; err != nil {
		b.Fatal(err)
	}
	today := insights.Day(now)
	var pts []models.InsightPoint
	for i := range 200 {
		id := fmt.Sprintf("9%04d", i)
		if err := db.Create(&models.Template{AccountID: acc.ID, ConnectionID: conn.ID, WABAID: conn.WABAID, TemplateID: id,
			Name: "t" + id, Language: "en_US", Status: "APPROVED", Category: "MARKETING", FirstSeenAt: now}).Error; err != nil {
			b.Fatal(err)
		}
		for d := range 90 {
			for _, prod := range []string{models.ProductMMAPI, models.ProductCloudAPI} {
				n := int64(100 + (i*7+d*13)%900)
				pts = append(pts, models.InsightPoint{AccountID: acc.ID, ConnectionID: conn.ID, WABAID: conn.WABAID, TemplateID: id,
					Day: today.Add(-time.Duration(d) * 24 * time.Hour), Product: prod, Sent: n, Delivered: n * 9 / 10,
					Read: n / 2, Clicked: n / 20, Cost: float64(n) * 0.025, HasCost: true, FetchedAt: now})
			}
		}
	}
	if err := db.CreateInBatches(pts, 500).Error; err != nil {
		b.Fatal(err)
	}
	// One million events over 90 days, three WABAs' worth of routes and statuses, folded.
	statuses := []string{models.MessageSent, models.MessageDelivered, models.MessageRead, models.MessageFailed}
	routes := []string{models.RouteMMAPI, models.RouteFallback, models.RouteCloudAPI}
	start := time.Now()
	for lo := 0; lo < events; lo += 5000 {
		batch := make([]models.WebhookEvent, 0, 5000)
		for i := lo; i < min(lo+5000, events); i++ {
			at := now.Add(-time.Duration(i%(90*24*60)) * time.Minute)
			code := 131049
			e := models.WebhookEvent{DeliveryID: uint(i/10 + 1), ReceivedAt: at, OccurredAt: &at, AccountID: &acc.ID, WABAID: conn.WABAID,
				Kind: models.KindStatus, Status: statuses[i%4], WAMID: "wamid." + strconv.Itoa(i/4), Route: routes[(i/4)%3],
				TemplateName: fmt.Sprintf("t9%04d", (i/4)%200), DedupeHash: []byte(fmt.Sprintf("%016d", i))}
			if e.Status == models.MessageFailed {
				e.ErrorCode = &code
			}
			batch = append(batch, e)
		}
		if err := db.CreateInBatches(batch, 500).Error; err != nil {
			b.Fatal(err)
		}
	}
	stored := time.Since(start)
	// The fold's clock runs past the settle time, so the newest events are folded too.
	svc := insights.New(db, nil, nil, insights.Options{FoldBatch: 5000, Now: func() time.Time { return now.Add(5 * time.Minute) }})
	start = time.Now()
	n, err := svc.Fold(ctx)
	if err != nil || n != events {
		b.Fatalf("folded %d of %d: %v", n, events, err)
	}
	b.Logf("%d points, %d events stored in %s, folded in %s", len(pts), events, stored.Round(time.Second), time.Since(start).Round(time.Second))
	p, err := insights.ParsePeriod("90", "", "", now)
	if err != nil {
		b.Fatal(err)
	}
	f := insights.Filter{Scope: models.Scope{AccountID: acc.ID}}
	b.ResetTimer()
	for b.Loop() {
		o, err := svc.Overview(ctx, f, p)
		if err != nil {
			b.Fatal(err)
		}
		if o.Totals.Sent == 0 || o.Webhook.All.Sent == 0 || len(o.Best) == 0 {
			b.Fatalf("overview without numbers: %+v", o.Totals)
		}
		if err := pages.Overview(layout.Shell{Title: "Overview"}, pages.OverviewPage{Insights: o, Now: now}).Render(ctx, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
