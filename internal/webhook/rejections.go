package webhook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"mmconsole/models"
)

// Refused posts are anonymous: anyone on the internet can send them as fast as the network
// allows. Writing each one synchronously let one client grow the database and its WAL by
// ~90 MB/s and put a write on every refused request's path. So every refusal is counted in the
// metrics (cheap, exact), and only a sample is stored, by one goroutine off the request path:
// at most RejectionsPerMinute rows a minute, the table cut to RejectionsKeep rows. A full queue
// drops the record (counted) instead of slowing the request.

// Rejection reasons for bodies refused by the HTTP layer before the signature is checked.
const (
	ReasonTooLarge = "too large"
	ReasonSlow     = "slow body"
)

// rejectQueueSize is how many refusals may wait for the sampler; beyond it they are counted and
// dropped. Small: the sampler stores a few a minute, so a long queue would only hold garbage.
const rejectQueueSize = 256

type rejectItem struct {
	r     models.WebhookRejection
	flush chan struct{} // non-nil: a FlushRejections marker, closed once everything before it is written
}

// Reject counts a delivery refused before processing and offers it to the stored sample. Only a
// hash of its first bytes is kept. size is the body's length (or its announced Content-Length
// when it was not read). It never blocks and never writes on the caller's goroutine.
func (s *Service) Reject(ctx context.Context, remoteAddr, reason string, size int, body []byte) {
	s.m.Deliveries.WithLabelValues("rejected").Inc()
	s.m.Rejections.WithLabelValues(reason).Inc()
	head := body[:min(len(body), 256)]
	sum := sha256.Sum256(head)
	it := rejectItem{r: models.WebhookRejection{ReceivedAt: s.now(), RemoteAddr: remoteAddr, Reason: reason,
		BodySize: size, HeadHash: hex.EncodeToString(sum[:])}}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		s.m.RejectionsNotStored.WithLabelValues("shutting down").Inc()
		return
	}
	select {
	case s.rejects <- it:
	default:
		s.m.RejectionsNotStored.WithLabelValues("queue full").Inc()
	}
}

// FlushRejections waits until every refusal offered before it has been stored or left out of
// the sample (for tests and for pages that must show what just happened).
func (s *Service) FlushRejections(ctx context.Context) error {
	done := make(chan struct{})
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	select {
	case s.rejects <- rejectItem{flush: done}:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sampleRejections drains the queue until it is closed: it keeps at most perMinute records per
// clock minute, writes what it kept in one statement per wake-up and prunes the oldest rows
// beyond keep.
func (s *Service) sampleRejections(done chan<- struct{}) {
	defer close(done)
	perMinute, keep := s.opts.RejectionsPerMinute, s.opts.RejectionsKeep
	var window time.Time // the minute being counted
	stored := 0          // records kept in window
	var batch []models.WebhookRejection
	var waiting []chan struct{}
	for first := range s.rejects {
		items := []rejectItem{first}
	more: // take whatever else is queued, so a burst costs one write
		for len(items) < rejectQueueSize {
			select {
			case it, ok := <-s.rejects:
				if !ok {
					break more
				}
				items = append(items, it)
			default:
				break more
			}
		}
		batch, waiting = batch[:0], waiting[:0]
		for _, it := range items {
			if it.flush != nil {
				waiting = append(waiting, it.flush)
				continue
			}
			if m := it.r.ReceivedAt.Truncate(time.Minute); !m.Equal(window) {
				window, stored = m, 0
			}
			if stored >= perMinute {
				s.m.RejectionsNotStored.WithLabelValues("sampled out").Inc()
				continue
			}
			stored++
			batch = append(batch, it.r)
		}
		if len(batch) > 0 {
			s.storeRejections(batch, keep)
		}
		for _, w := range waiting {
			close(w)
		}
	}
}

// storeRejections writes a batch of kept records and cuts the table back to keep rows.
func (s *Service) storeRejections(batch []models.WebhookRejection, keep int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db := s.db.WithContext(ctx)
	if err := db.Create(&batch).Error; err != nil {
		s.m.RejectionsNotStored.WithLabelValues("write failed").Add(float64(len(batch)))
		s.log.Error("webhook: store rejected deliveries", "err", err, "rows", len(batch))
		return
	}
	s.m.RejectionsStored.Add(float64(len(batch)))
	// The id of the keep-th newest row: everything older goes. An index range on the primary key,
	// so it costs the rows deleted, not the table.
	var cut []uint
	if err := db.Model(&models.WebhookRejection{}).Order("id DESC").Offset(keep-1).Limit(1).Pluck("id", &cut).Error; err != nil {
		s.log.Warn("webhook: prune rejected deliveries", "err", err)
		return
	}
	if len(cut) == 0 {
		return
	}
	res := db.Where("id < ?", cut[0]).Delete(&models.WebhookRejection{})
	if res.Error != nil {
		s.log.Warn("webhook: prune rejected deliveries", "err", res.Error)
		return
	}
	s.m.RejectionsPruned.Add(float64(res.RowsAffected))
}
