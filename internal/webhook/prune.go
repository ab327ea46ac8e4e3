package webhook

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Retention. The single writer prunes, between its groups, so that deleting never competes
// with it for SQLite's one write lock (a second writer would make it wait on the busy handler,
// whose sleeps are far longer than a group). Each step is one short transaction of at most
// PruneBatch rows per table, and under load a step runs only when the writer has spent at
// most pruneShare of its time pruning; when the queue is empty, steps run back to back.
//
// What goes, once older than the retention: webhook events, then (once no older event is left,
// since events point into them for their raw JSON) the deliveries with their refused entries,
// and rejected deliveries.
// Message summaries (one row per message, no raw JSON) outlive their events unless nothing but
// webhooks wrote them: a message the composer sent (a test send, with its send request) is
// kept, as its test send shows it; any other message goes with its last event, once it has
// not changed for the retention.

// pruneShare is the most of the writer's time pruning takes while deliveries are waiting.
const pruneShare = 0.1

type pruner struct {
	s       *Service
	tick    <-chan time.Time // nil when everything is kept
	kick    <-chan struct{}  // PruneNow's requests; nil for a writer that does not prune
	ticker  *time.Ticker
	pending bool      // old rows may be left
	next    time.Time // under load, the next step waits until then
}

func (s *Service) newPruner() *pruner {
	p := &pruner{s: s, kick: s.pruneKick}
	if s.opts.Retention > 0 && !s.opts.PruneOnRequest {
		p.ticker = time.NewTicker(s.opts.PruneEvery)
		p.tick = p.ticker.C
		p.pending = true // what expired while the server was down
	}
	return p
}

func (p *pruner) stop() {
	if p.ticker != nil {
		p.ticker.Stop()
	}
}

func (p *pruner) due() bool { return !time.Now().Before(p.next) }

// step deletes one batch on w's connection; pending stays set while a table had a full batch to
// delete.
func (p *pruner) step(w *writer) {
	if p.s.opts.Retention <= 0 {
		p.pending = false
		return
	}
	start := time.Now()
	more, err := p.s.prune(w, p.s.now().Add(-p.s.opts.Retention), p.s.opts.PruneBatch)
	took := time.Since(start)
	p.next = time.Now().Add(time.Duration(float64(took) * (1 - pruneShare) / pruneShare))
	if err != nil {
		p.s.log.Error("webhook: retention", "err", err)
		p.pending = false // try again at the next tick
		return
	}
	p.pending = more
	select {
	case p.s.kick <- struct{}{}: // deletions fill the WAL too
	default:
	}
}

// prune deletes, in one transaction on the writer's connection, up to n rows of each table
// older than cutoff, and reports whether any table may have more.
func (s *Service) prune(w *writer, cutoff time.Time, n int) (more bool, err error) {
	if err := s.ensureWriterConn(w); err != nil {
		return false, err
	}
	counts := map[string]int64{}
	err = w.db.Transaction(func(tx *gorm.DB) error {
		var old []struct {
			ID    uint
			WAMID string `gorm:"column:wamid"`
		}
		if err := tx.Table("webhook_events").Select("id, wamid").Where("received_at < ?", cutoff).
			Order("received_at").Limit(n).Scan(&old).Error; err != nil {
			return fmt.Errorf("webhook: retention: old events: %w", err)
		}
		if len(old) > 0 {
			ids := make([]uint, len(old))
			seen := map[string]bool{}
			var wamids []string
			for i, e := range old {
				ids[i] = e.ID
				if e.WAMID != "" && !seen[e.WAMID] {
					seen[e.WAMID] = true
					wamids = append(wamids, e.WAMID)
				}
			}
			q := tx.Exec("DELETE FROM webhook_events WHERE id IN ?", ids)
			if q.Error != nil {
				return fmt.Errorf("webhook: retention: events: %w", q.Error)
			}
			counts["events"] = q.RowsAffected
			if len(wamids) > 0 {
				q := tx.Exec(`DELETE FROM messages WHERE wamid IN ? AND updated_at < ? AND send_request IS NULL
					AND accepted_at IS NULL AND NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.wamid = messages.wamid)`,
					wamids, cutoff)
				if q.Error != nil {
					return fmt.Errorf("webhook: retention: messages: %w", q.Error)
				}
				counts["messages"] = q.RowsAffected
			}
		}
		if len(old) < n {
			// No event older than cutoff is left, so no event points into these deliveries.
			for _, table := range []string{"webhook_refusals", "webhook_deliveries", "webhook_rejections"} {
				q := tx.Exec("DELETE FROM "+table+" WHERE id IN (SELECT id FROM "+table+" WHERE received_at < ? ORDER BY received_at LIMIT ?)", cutoff, n)
				if q.Error != nil {
					return fmt.Errorf("webhook: retention: %s: %w", table, q.Error)
				}
				counts[table[len("webhook_"):]] = q.RowsAffected
			}
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	for table, c := range counts {
		if c > 0 {
			s.m.Pruned.WithLabelValues(table).Add(float64(c))
		}
		if table != "messages" && c >= int64(n) {
			more = true
		}
	}
	return more, nil
}

// PruneNow asks the writer for one retention pass: batches between groups until nothing older
// than the retention is left. It does not wait for the pass.
func (s *Service) PruneNow() { s.requestPrune() }

// requestPrune asks the writer to prune now.
func (s *Service) requestPrune() {
	select {
	case s.pruneKick <- struct{}{}:
	default:
	}
}
