package sandbox_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"mmconsole/internal/graph"
	"mmconsole/internal/sandbox"
)

// Template analytics answer SENT per template and day, deterministically (the seed's campaigns
// and the sandbox's own sends, by product type), and refuse a WABA whose insights are off.
func TestTemplateAnalyticsCountsSendsPerDay(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	clk := sandbox.NewFakeClock(now)
	sb := sandbox.New(sandbox.Options{Clock: clk, EventDelay: -1})
	t.Cleanup(func() { sb.Close() })
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	gc := graph.New(graph.Options{BaseURL: srv.URL, MaxRetries: -1})
	ctx := context.Background()
	const summer, winter = "572279198452401", "572279198452405" // last used 1 and 9 days ago
	q := graph.AnalyticsQuery{TemplateIDs: []string{summer, winter}, Start: now.Add(-8 * 24 * time.Hour), End: now, ProductType: graph.ProductTypeMMAPI}

	sent := func(pts []graph.AnalyticsPoint) map[string]map[time.Time]int {
		out := map[string]map[time.Time]int{}
		for _, p := range pts {
			if out[p.TemplateID] == nil {
				out[p.TemplateID] = map[time.Time]int{}
			}
			out[p.TemplateID][p.Start] += p.Sent
		}
		return out
	}
	pts, err := gc.TemplateAnalytics(ctx, sandbox.StoreToken, sandbox.StoreWABAID, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 2*9 { // 8 days back, floored to midnight, to now rounded up: 9 days each
		t.Errorf("%d data points, want 18 (one per template and day)", len(pts))
	}
	yesterday := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	got := sent(pts)
	total := func(id string) (n int) {
		for _, v := range got[id] {
			n += v
		}
		return n
	}
	if got[summer][yesterday] != 250 || total(summer) != 250 {
		t.Errorf("summer_sale sends = %v, want 250 yesterday", got[summer])
	}
	if total(winter) != 0 {
		t.Errorf("winter_clearance (last used 9 days ago) sends in 8 days = %d, want 0", total(winter))
	}
	// Cloud API product type: none of the store's (MM API) campaigns.
	cq := q
	cq.ProductType = ""
	if pts, err := gc.TemplateAnalytics(ctx, sandbox.StoreToken, sandbox.StoreWABAID, cq); err != nil || total2(pts) != 0 {
		t.Errorf("Cloud API counts of MM API campaigns = %d, %v", total2(pts), err)
	}
	// A send of winter_clearance today is counted today (it was dormant: accepted, then syncing).
	_, err = gc.SendMarketingMessage(ctx, sandbox.StoreToken, sandbox.StorePhoneID, graph.MarketingMessageRequest{
		To: "5215512345678", TemplateName: "winter_clearance", LanguageCode: "en_US",
		Components: fill(gc, sandbox.StoreToken, sandbox.StoreWABAID, "winter_clearance", "en_US")})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	pts, _ = gc.TemplateAnalytics(ctx, sandbox.StoreToken, sandbox.StoreWABAID, q)
	if got := sent(pts); got[winter][time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)] != 1 {
		t.Errorf("today's sends of winter_clearance = %v, want 1 today", got[winter])
	}

	// Refusals.
	for name, c := range map[string]struct {
		token, waba string
		q           graph.AnalyticsQuery
		want        string
	}{
		"insights off":        {sandbox.PharmaToken, sandbox.PharmaWABAID, graph.AnalyticsQuery{TemplateIDs: []string{"672279198452501"}, Start: q.Start, End: now}, "is_enabled_for_insights"},
		"another WABA's id":   {sandbox.StoreToken, sandbox.StoreWABAID, graph.AnalyticsQuery{TemplateIDs: []string{"672279198452501"}, Start: q.Start, End: now}, "not a template of this"},
		"beyond the lookback": {sandbox.StoreToken, sandbox.StoreWABAID, graph.AnalyticsQuery{TemplateIDs: []string{summer}, Start: now.Add(-100 * 24 * time.Hour), End: now}, "90-day"},
		"unknown product":     {sandbox.StoreToken, sandbox.StoreWABAID, graph.AnalyticsQuery{TemplateIDs: []string{summer}, Start: q.Start, End: now, ProductType: "FOO"}, "product_type"},
	} {
		_, err := gc.TemplateAnalytics(ctx, c.token, c.waba, c.q)
		ge, ok := graph.AsGraphError(err)
		if !ok || ge.Code != 100 || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want Graph error 100 mentioning %q", name, err, c.want)
		}
	}
}

func total2(pts []graph.AnalyticsPoint) (n int) {
	for _, p := range pts {
		n += p.Sent
	}
	return n
}

// The sandbox's analytics are deterministic and plausible: the same answer twice, MM API
// delivered, read and clicked more than its Cloud API fallbacks, clicks lower in weeks with
// optimizations off, cost and conversions for MM API only; a WABA's insights, once enabled
// through the API, answer (and cannot be turned off).
func TestTemplateAnalyticsDeterministicMMBetterAndEnable(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	clk := sandbox.NewFakeClock(now)
	sb := sandbox.New(sandbox.Options{Clock: clk, EventDelay: -1})
	t.Cleanup(func() { sb.Close() })
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	gc := graph.New(graph.Options{BaseURL: srv.URL, MaxRetries: -1})
	ctx := context.Background()
	const summer = "572279198452401"
	all := append(append([]string(nil), graph.BasicMetrics...), "WEBSITE_PURCHASES")
	q := graph.AnalyticsQuery{TemplateIDs: []string{summer}, Start: now.Add(-80 * 24 * time.Hour), End: now, MetricTypes: all}
	read := func(pt string) []graph.AnalyticsPoint {
		t.Helper()
		q := q
		q.ProductType = pt
		if pt == graph.ProductTypeCloudAPI {
			q.MetricTypes = graph.BasicMetrics
		}
		pts, err := gc.TemplateAnalytics(ctx, sandbox.StoreToken, sandbox.StoreWABAID, q)
		if err != nil {
			t.Fatalf("%s: %v", pt, err)
		}
		return pts
	}
	type sum struct{ sent, deliv, read, click, off, offDeliv, offClick, purchases int }
	total := func(pts []graph.AnalyticsPoint) (s sum, cost bool) {
		for _, p := range pts {
			s.sent += p.Sent
			s.deliv += p.Delivered
			s.read += p.Read
			s.click += p.Clicked
			s.purchases += int(p.Conversions["WEBSITE_PURCHASES"])
			cost = cost || (p.HasCost && p.Cost > 0)
			if sandbox.OptimizationsOff(summer, p.Start) && p.Sent > 0 {
				s.off++
				s.offDeliv += p.Delivered
				s.offClick += p.Clicked
			}
		}
		return s, cost
	}
	mm, mmCost := total(read(graph.ProductTypeMMAPIRenamed))
	again, _ := total(read(graph.ProductTypeMMAPI))
	cloud, _ := total(read(graph.ProductTypeCloudAPI))
	if mm != again {
		t.Errorf("the two MM API spellings (or two reads) differ: %+v vs %+v", mm, again)
	}
	if mm.sent < 1000 || cloud.sent == 0 || !mmCost || mm.purchases == 0 {
		t.Fatalf("MM %+v (cost %v), Cloud %+v: want a history with cost and purchases", mm, mmCost, cloud)
	}
	r := func(n, d int) float64 { return float64(n) / float64(d) }
	if r(mm.deliv, mm.sent) <= r(cloud.deliv, cloud.sent) || r(mm.click, mm.deliv) <= r(cloud.click, cloud.deliv) || r(mm.read, mm.deliv) <= r(cloud.read, cloud.deliv) {
		t.Errorf("MM API %+v is not better than Cloud API %+v", mm, cloud)
	}
	if mm.off == 0 || r(mm.offClick, mm.offDeliv) >= r(mm.click-mm.offClick, mm.deliv-mm.offDeliv) {
		t.Errorf("weeks with optimizations off: %d days, click rate %.3f vs %.3f on", mm.off, r(mm.offClick, mm.offDeliv), r(mm.click-mm.offClick, mm.deliv-mm.offDeliv))
	}
	// Conversion metrics are MM API's only.
	cq := q
	cq.ProductType = graph.ProductTypeCloudAPI
	if _, err := gc.TemplateAnalytics(ctx, sandbox.StoreToken, sandbox.StoreWABAID, cq); err == nil {
		t.Error("Cloud API analytics answered a conversion metric")
	}
	// Insights: refused until enabled, then answered; not reversible.
	pq := graph.AnalyticsQuery{TemplateIDs: []string{"672279198452501"}, Start: now.Add(-24 * time.Hour), End: now}
	if _, err := gc.TemplateAnalytics(ctx, sandbox.PharmaToken, sandbox.PharmaWABAID, pq); graph.AnalyticsRefusal(err) != graph.RefusalNotEnabled {
		t.Fatalf("pharma before enabling: %v", err)
	}
	if err := gc.EnableInsights(ctx, sandbox.PharmaToken, sandbox.PharmaWABAID); err != nil {
		t.Fatal(err)
	}
	if _, err := gc.TemplateAnalytics(ctx, sandbox.PharmaToken, sandbox.PharmaWABAID, pq); err != nil {
		t.Errorf("pharma after enabling: %v", err)
	}
}
