package webhook

import (
	"testing"
	"time"
)

// TestPruneOnRequestWaitsForPruneNow: with PruneOnRequest (the dashboard's setting, where one
// instance per interval asks for retention) the writer prunes nothing by itself, neither at
// start nor on its own timer, and one PruneNow prunes everything that expired.
func TestPruneOnRequestWaitsForPruneNow(t *testing.T) {
	db := testDB(t)
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	// A timer this short would prune within milliseconds if the writer kept one.
	s := New(db, NewMetrics(), Options{Now: clk.now, Retention: 24 * time.Hour, PruneEvery: time.Millisecond,
		PruneBatch: 2, PruneOnRequest: true})
	defer s.Close()
	ingest(t, s, string(statusDelivery("wamid.asked.", 1, 5, "sent")))
	clk.move(48 * time.Hour)
	for range 20 {
		// Each delivery is a turn of the writer's loop, where a timer or a pending prune would act.
		ingest(t, s, string(statusDelivery("wamid.fresh.", 2, 1, "sent")))
		time.Sleep(5 * time.Millisecond)
	}
	if n := count(t, s, "webhook_events"); n != 6 {
		t.Fatalf("%d events before PruneNow, want all 6 (5 expired, 1 fresh)", n)
	}
	s.PruneNow()
	waitFor(t, 10*time.Second, "PruneNow to prune the expired events", func() bool {
		return count(t, s, "webhook_events") == 1
	})
}
