package webhook

import (
	"context"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestDedupeAcrossWriters: two services (as two instances, each with its own group-commit
// writer) share one database, and every delivery reaches both at the same time, as a Meta retry
// that lands on the other instance can. Each event is stored once, and the copy the other
// instance got is counted as a duplicate, in its result and its metrics, exactly once.
func TestDedupeAcrossWriters(t *testing.T) {
	const deliveries, events = 40, 10
	db := testDB(t)
	ma, mb := NewMetrics(), NewMetrics()
	a, b := New(db, ma, Options{}), New(db, mb, Options{})
	defer a.Close()
	defer b.Close()
	var mu sync.Mutex
	stored, dups := 0, 0
	var wg sync.WaitGroup
	for n := range deliveries {
		body := statusDelivery("wamid.both.", n, events, []string{"sent", "delivered"}[n%2])
		for _, s := range []*Service{a, b} {
			wg.Go(func() {
				r, err := s.Ingest(context.Background(), Delivery{Body: body, RemoteAddr: "127.0.0.1"})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				stored += r.Events
				dups += r.Duplicates
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	if want := deliveries * events; stored != want || dups != want {
		t.Errorf("results: %d stored and %d duplicates, want %d of each", stored, dups, want)
	}
	if n := count(t, a, "webhook_events"); n != int64(deliveries*events) {
		t.Errorf("%d events in the database, want %d", n, deliveries*events)
	}
	if n := count(t, a, "webhook_deliveries"); n != int64(2*deliveries) {
		t.Errorf("%d deliveries in the database, want all %d", n, 2*deliveries)
	}
	if got := testutil.ToFloat64(ma.Duplicates) + testutil.ToFloat64(mb.Duplicates); got != deliveries*events {
		t.Errorf("duplicates counted %v in the two instances' metrics, want %d", got, deliveries*events)
	}
	if m := message(t, db, "wamid.both.1.3"); m.Status != "delivered" {
		t.Errorf("message status %q, want delivered", m.Status)
	}
}
