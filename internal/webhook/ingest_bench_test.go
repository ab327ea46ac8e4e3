package webhook

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// deliveryBody is a real-shaped status delivery with events statuses, as the load generator sends.
func deliveryBody(prefix string, n, events int) []byte {
	return statusDelivery(prefix, n, events, "sent")
}

// statusDelivery is a delivery of one status for each of events messages.
func statusDelivery(prefix string, n, events int, status string) []byte {
	var b strings.Builder
	b.WriteString(`{"object":"whatsapp_business_account","entry":[{"id":"100000000000001","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"statuses":[`)
	for i := range events {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"%s%d.%d","status":"%s","timestamp":"1750000000","recipient_id":"16505551234","pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing_lite"}}`, prefix, n, i, status)
	}
	b.WriteString(`]}}]}]}`)
	return []byte(b.String())
}

// BenchmarkIngest50 measures storing 50-event status deliveries sent by 32 concurrent requests,
// as the receiver sees them under load: parse, group commit, events and messages. It reports
// events/s; the aim is 50,000 on the 2-core development machine.
func BenchmarkIngest50(b *testing.B) {
	s := New(testDB(b), NewMetrics(), Options{})
	defer s.Close()
	ingest50(b, s)
}

// BenchmarkIngest50WhilePruning is BenchmarkIngest50 while the writer prunes a backlog of
// 200,000 expired events (the first minutes after a retention is set on a full database). It
// also reports how many were pruned meanwhile.
func BenchmarkIngest50WhilePruning(b *testing.B) {
	now := time.Now().UTC()
	m := NewMetrics()
	s := New(testDB(b), m, Options{Retention: 24 * time.Hour, PruneEvery: time.Hour})
	defer s.Close()
	seedOld(b, s, 200_000, now.Add(-48*time.Hour))
	s.requestPrune()
	ingest50(b, s)
	b.ReportMetric(testutil.ToFloat64(m.Pruned.WithLabelValues("events")), "pruned")
}

// BenchmarkIngest1 is BenchmarkIngest50 with one event per delivery, the shape of quiet
// traffic: what each delivery costs the writer beyond its events (its row, its share of a
// commit) dominates.
func BenchmarkIngest1(b *testing.B) {
	s := New(testDB(b), NewMetrics(), Options{})
	defer s.Close()
	ingestN(b, s, 1)
}

func ingest50(b *testing.B, s *Service) { ingestN(b, s, 50) }

func ingestN(b *testing.B, s *Service, events int) {
	const senders = 32
	bodies := make(chan []byte, senders)
	var next atomic.Int64
	go func() {
		defer close(bodies)
		for i := 0; i < b.N; i++ {
			bodies <- deliveryBody("wamid.bench.", int(next.Add(1)), events)
		}
	}()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for body := range bodies {
				if _, err := s.Ingest(context.Background(), Delivery{Body: body, RemoteAddr: "127.0.0.1"}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N*events)/time.Since(start).Seconds(), "events/s")
}
