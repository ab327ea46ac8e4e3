package webhook

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"mmconsole/models"
)

// Every refusal is counted; only perMinute a minute are stored, and the table keeps the newest
// keep rows.
func TestRejectionsAreCountedAllAndStoredAsABoundedSample(t *testing.T) {
	db := testDB(t)
	var mu sync.Mutex
	now := time.Date(2026, 11, 29, 10, 0, 5, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	m := NewMetrics()
	s := New(db, m, Options{Now: clock, RejectionsPerMinute: 5, RejectionsKeep: 8})
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()

	offer := func(n int, reason string) {
		for range n {
			s.Reject(ctx, "127.0.0.1", reason, 10, []byte("unsigned"))
		}
		if err := s.FlushRejections(ctx); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int64 {
		var n int64
		db.Model(&models.WebhookRejection{}).Count(&n)
		return n
	}

	// Fewer than the queue holds, so none is dropped for a full queue: exactly 5 of 20 stored.
	offer(20, "missing signature")
	if got := count(); got != 5 {
		t.Fatalf("first minute: %d rows stored, want 5", got)
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	offer(20, "bad signature")
	if got := count(); got != 8 {
		t.Fatalf("after the second minute: %d rows, want the cap of 8", got)
	}
	var newest []models.WebhookRejection
	db.Order("id").Find(&newest)
	if newest[0].Reason != "missing signature" || newest[len(newest)-1].Reason != "bad signature" || newest[3].Reason != "bad signature" {
		t.Errorf("kept rows are not the newest 8: first %q, fourth %q", newest[0].Reason, newest[3].Reason)
	}

	if got := counterValue(t, m.Deliveries.WithLabelValues("rejected")); got != 40 {
		t.Errorf("rejected deliveries counted %v, want 40", got)
	}
	if got := counterValue(t, m.Rejections.WithLabelValues("missing signature")); got != 20 {
		t.Errorf("missing signature counted %v, want 20", got)
	}
	if got := counterValue(t, m.RejectionsNotStored.WithLabelValues("sampled out")); got != 30 {
		t.Errorf("sampled out %v, want 30", got)
	}
	if got := counterValue(t, m.RejectionsStored); got != 10 {
		t.Errorf("stored %v, want 10", got)
	}
	if got := counterValue(t, m.RejectionsPruned); got != 2 {
		t.Errorf("pruned %v, want 2", got)
	}
}

// A burst far larger than the queue never blocks the caller: what does not fit is counted as
// dropped, and every post is still counted as rejected.
func TestRejectNeverBlocksAndCountsDrops(t *testing.T) {
	db := testDB(t)
	m := NewMetrics()
	at := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC) // one minute, whatever the test takes
	s := New(db, m, Options{RejectionsPerMinute: 1000, Now: func() time.Time { return at }})
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	const n = 20000
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range n / 4 {
				s.Reject(ctx, "127.0.0.1", "missing signature", 10, nil)
			}
		})
	}
	wg.Wait()
	if err := s.FlushRejections(ctx); err != nil {
		t.Fatal(err)
	}
	stored := counterValue(t, m.RejectionsStored)
	notStored := counterValue(t, m.RejectionsNotStored.WithLabelValues("queue full")) +
		counterValue(t, m.RejectionsNotStored.WithLabelValues("sampled out"))
	if got := counterValue(t, m.Rejections.WithLabelValues("missing signature")); got != n {
		t.Errorf("counted %v, want %d", got, n)
	}
	if stored+notStored != n {
		t.Errorf("stored %v + not stored %v = %v, want %d (every post accounted for)", stored, notStored, stored+notStored, n)
	}
	if stored > 1000 {
		t.Errorf("stored %v, more than the 1000 a minute allowed", stored)
	}
	var rows int64
	db.Model(&models.WebhookRejection{}).Count(&rows)
	if float64(rows) != stored {
		t.Errorf("table has %d rows, metrics say %v stored", rows, stored)
	}
}

// counterValue reads a counter's current value.
func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
