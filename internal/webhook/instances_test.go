package webhook

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"mmconsole/internal/database"
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

// TestDedupeAcrossWritersOfOneInstance: one service with several writers (PostgreSQL; SQLite
// always has one) gets every delivery twice at once, so the two copies can be committed by two
// writers in two concurrent transactions. Each event is stored once and the other copy counted
// as a duplicate, and the message ends in its latest status.
func TestDedupeAcrossWritersOfOneInstance(t *testing.T) {
	const deliveries, events = 40, 10
	db := testDB(t)
	m := NewMetrics()
	s := New(db, m, Options{Writers: 4})
	defer s.Close()
	want := 4
	if !database.IsPostgres(db) {
		want = 1
	}
	if s.opts.Writers != want {
		t.Errorf("%d writers, want %d", s.opts.Writers, want)
	}
	var mu sync.Mutex
	stored, dups := 0, 0
	var wg sync.WaitGroup
	for n := range deliveries {
		body := statusDelivery("wamid.one.", n%(deliveries/2), events, []string{"sent", "delivered"}[n/(deliveries/2)])
		for range 2 {
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
	if n := count(t, s, "webhook_events"); n != int64(deliveries*events) {
		t.Errorf("%d events in the database, want %d", n, deliveries*events)
	}
	if got := testutil.ToFloat64(m.Duplicates); got != deliveries*events {
		t.Errorf("duplicates counted %v, want %d", got, deliveries*events)
	}
	if msg := message(t, db, "wamid.one.3.7"); msg.Status != "delivered" {
		t.Errorf("message status %q, want delivered", msg.Status)
	}
}

// TestEventIDsFollowTheDelivery: events are numbered in the order they were received (the log's
// order) even though the writer inserts a group in dedupe-key order (on PostgreSQL).
func TestEventIDsFollowTheDelivery(t *testing.T) {
	s := New(testDB(t), NewMetrics(), Options{})
	defer s.Close()
	for n := range 3 {
		if _, err := s.Ingest(context.Background(), Delivery{Body: statusDelivery("wamid.order.", n, 30, "sent"), RemoteAddr: "127.0.0.1"}); err != nil {
			t.Fatal(err)
		}
	}
	var wamids []string
	if err := s.db.Table("webhook_events").Order("id").Pluck("wamid", &wamids).Error; err != nil {
		t.Fatal(err)
	}
	if len(wamids) != 90 {
		t.Fatalf("%d events, want 90", len(wamids))
	}
	for i, w := range wamids {
		if want := fmt.Sprintf("wamid.order.%d.%d", i/30, i%30); w != want {
			t.Fatalf("event %d by id is %s, want %s", i, w, want)
		}
	}
}
