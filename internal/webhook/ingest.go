package webhook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"mmconsole/internal/database"
	"mmconsole/models"
)

// Migrations creates the webhook tables, the messages table and every index the log filters by.
// The templates table is auto-migrated here too (idempotently; the templates area owns it) so
// that template webhooks always find it.
func Migrations() []database.Migration {
	return []database.Migration{{ID: "0003_webhooks", Up: func(tx *gorm.DB) error {
		if err := tx.AutoMigrate(&models.Template{}, &models.Message{}, &models.WebhookDelivery{},
			&models.WebhookEvent{}, &models.WebhookRejection{}); err != nil {
			return err
		}
		// Every filter of the log, each followed by the keyset order so the first page of any
		// single filter is an index range scan.
		for _, col := range []string{"account_id", "waba_id", "phone_number_id", "kind", "status", "route",
			"error_code", "template_id", "template_name", "recipient", "wamid"} {
			q := fmt.Sprintf("CREATE INDEX IF NOT EXISTS idx_wh_events_%s ON webhook_events (%s, received_at, id)", col, col)
			if err := tx.Exec(q).Error; err != nil {
				return err
			}
		}
		return nil
	}}}
}

// Options tune the group-commit writer.
type Options struct {
	QueueSize     int // deliveries waiting for the writer before Ingest blocks (backpressure)
	MaxBatch      int // most deliveries committed in one transaction
	MaxBatchBytes int // most body bytes committed in one transaction
	Logger        *slog.Logger
	Now           func() time.Time
}

// Service stores deliveries and answers the log's queries.
type Service struct {
	db    *gorm.DB
	m     *Metrics
	log   *slog.Logger
	now   func() time.Time
	opts  Options
	queue chan *job

	mu     sync.RWMutex // guards closed against sends on a closed queue
	closed bool
	done   chan struct{}
}

// Delivery is one signed POST, as received.
type Delivery struct {
	Body       []byte
	RemoteAddr string
}

// Result says what was stored for a delivery.
type Result struct {
	DeliveryID uint
	Events     int
	Duplicates int
	ParseError string
}

type job struct {
	d      Delivery
	parsed Parsed
	at     time.Time
	res    Result
	err    error
	done   chan struct{}
}

// ErrClosed means the service is shutting down and takes no more deliveries.
var ErrClosed = errors.New("webhook: shutting down")

// New builds the service and starts its writer; Close drains and stops it.
func New(db *gorm.DB, m *Metrics, o Options) *Service {
	if o.QueueSize <= 0 {
		o.QueueSize = 4096
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 512
	}
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = 16 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = func() time.Time { return time.Now().UTC() }
	}
	if m == nil {
		m = NewMetrics()
	}
	s := &Service{db: db, m: m, log: o.Logger, now: o.Now, opts: o,
		queue: make(chan *job, o.QueueSize), done: make(chan struct{})}
	go s.run()
	return s
}

// Close stops taking deliveries, commits everything queued, and waits for the writer.
func (s *Service) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.queue)
	}
	s.mu.Unlock()
	<-s.done
	return nil
}

// Ingest parses a verified delivery and returns once it and all its events are committed. Only
// then may the caller acknowledge it: Meta does not resend what it got a 200 for.
func (s *Service) Ingest(ctx context.Context, d Delivery) (Result, error) {
	j := &job{d: d, parsed: Parse(d.Body), at: s.now(), done: make(chan struct{})}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return Result{}, ErrClosed
	}
	select {
	case s.queue <- j:
	case <-ctx.Done():
		s.mu.RUnlock()
		return Result{}, ctx.Err()
	}
	s.mu.RUnlock()
	// Once queued the delivery will be committed whatever happens to the request, so wait for
	// the outcome rather than the context.
	<-j.done
	return j.res, j.err
}

// run is the single writer: it takes what is queued (up to the batch limits), commits it in one
// transaction and releases every waiting request. Under a burst the batches grow, so the cost of
// a commit is shared by many deliveries; when idle a lone delivery is committed at once.
func (s *Service) run() {
	defer close(s.done)
	for first := range s.queue {
		batch := []*job{first}
		size := len(first.d.Body)
	fill:
		for len(batch) < s.opts.MaxBatch && size < s.opts.MaxBatchBytes {
			select {
			case j, ok := <-s.queue:
				if !ok {
					break fill
				}
				batch = append(batch, j)
				size += len(j.d.Body)
			default:
				break fill
			}
		}
		s.commitBatch(batch)
		for _, j := range batch {
			close(j.done)
		}
	}
}

func (s *Service) commitBatch(batch []*job) {
	start := time.Now()
	err := s.commit(batch)
	if err != nil && len(batch) > 1 {
		// One delivery may be the cause: commit each alone so the others are not refused.
		s.log.Warn("webhook: group commit failed, committing one by one", "err", err, "deliveries", len(batch))
		for _, j := range batch {
			j.res, j.err = Result{}, nil
			if err := s.commit([]*job{j}); err != nil {
				j.err = err
			}
		}
	} else if err != nil {
		batch[0].err = err
	}
	s.m.CommitLatency.Observe(time.Since(start).Seconds())
	s.m.BatchSize.Observe(float64(len(batch)))
	for _, j := range batch {
		if j.err != nil {
			s.log.Error("webhook: delivery not stored; Meta will retry it", "err", j.err)
			continue
		}
		if j.res.ParseError != "" && j.res.Events == 0 {
			s.m.Deliveries.WithLabelValues("unparseable").Inc()
		} else {
			s.m.Deliveries.WithLabelValues("accepted").Inc()
		}
		if j.res.Duplicates > 0 {
			s.m.Duplicates.Add(float64(j.res.Duplicates))
		}
	}
}

const eventColumns = "delivery_id, received_at, account_id, waba_id, phone_number_id, field, kind, status, wamid, recipient, route, pricing_category, error_code, error_title, template_id, template_name, template_language, detail, occurred_at, dedupe_key, raw"

const eventsPerInsert = 200 // 21 columns each: well under SQLite's bound-parameter limit

// stored is a newly stored event (not a duplicate) whose effects must be applied.
type stored struct {
	id uint
	ev *Event
	at time.Time
}

func (s *Service) commit(batch []*job) error {
	return s.db.Transaction(func(tx *gorm.DB) error {
		owners, err := s.owners(tx, batch)
		if err != nil {
			return err
		}
		var fresh []stored
		kinds := map[string]int{}
		for _, j := range batch {
			parseErr := ""
			if j.parsed.Err != nil {
				parseErr = truncate(j.parsed.Err.Error(), 2000)
			}
			var id uint
			if err := tx.Raw(`INSERT INTO webhook_deliveries (received_at, remote_addr, body_size, body, event_count, duplicate_count, parse_error)
				VALUES (?, ?, ?, ?, ?, 0, ?) RETURNING id`,
				j.at, j.d.RemoteAddr, len(j.d.Body), string(j.d.Body), len(j.parsed.Events), parseErr).Scan(&id).Error; err != nil {
				return fmt.Errorf("webhook: store delivery: %w", err)
			}
			newKeys := map[string]uint{}
			evs := j.parsed.Events
			for lo := 0; lo < len(evs); lo += eventsPerInsert {
				hi := min(lo+eventsPerInsert, len(evs))
				if err := insertEvents(tx, id, j.at, owners, evs[lo:hi], newKeys); err != nil {
					return err
				}
			}
			dups := 0
			for i := range evs {
				eid, ok := newKeys[evs[i].DedupeKey]
				if !ok {
					dups++
					continue
				}
				delete(newKeys, evs[i].DedupeKey) // the same event twice in one delivery: once
				fresh = append(fresh, stored{id: eid, ev: &evs[i], at: j.at})
				kinds[evs[i].Kind]++
			}
			if dups > 0 {
				if err := tx.Exec("UPDATE webhook_deliveries SET duplicate_count = ? WHERE id = ?", dups, id).Error; err != nil {
					return fmt.Errorf("webhook: count duplicates: %w", err)
				}
			}
			j.res = Result{DeliveryID: id, Events: len(evs) - dups, Duplicates: dups, ParseError: parseErr}
		}
		if err := s.applyEffects(tx, fresh, owners); err != nil {
			return err
		}
		// Counted only once the effects succeed; a rollback retries them with the batch.
		defer func() {
			for k, n := range kinds {
				s.m.Events.WithLabelValues(k).Add(float64(n))
			}
		}()
		return nil
	})
}

// owners maps the batch's WABA ids to the accounts that connected them.
func (s *Service) owners(tx *gorm.DB, batch []*job) (map[string]uint, error) {
	set := map[string]bool{}
	for _, j := range batch {
		for i := range j.parsed.Events {
			if w := j.parsed.Events[i].WABAID; w != "" {
				set[w] = true
			}
		}
	}
	out := map[string]uint{}
	if len(set) == 0 {
		return out, nil
	}
	ids := make([]string, 0, len(set))
	for w := range set {
		ids = append(ids, w)
	}
	var rows []struct {
		WABAID    string `gorm:"column:waba_id"`
		AccountID uint
	}
	if err := tx.Table("waba_connections").Select("waba_id, account_id").Where("waba_id IN ?", ids).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("webhook: look up WABA owners: %w", err)
	}
	for _, r := range rows {
		out[r.WABAID] = r.AccountID
	}
	return out, nil
}

func accountOf(owners map[string]uint, waba string) *uint {
	if a, ok := owners[waba]; ok {
		return &a
	}
	return nil
}

func insertEvents(tx *gorm.DB, deliveryID uint, at time.Time, owners map[string]uint, evs []Event, newKeys map[string]uint) error {
	var b strings.Builder
	b.WriteString("INSERT INTO webhook_events (" + eventColumns + ") VALUES ")
	args := make([]any, 0, len(evs)*21)
	for i := range evs {
		e := &evs[i]
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
		args = append(args, deliveryID, at, accountOf(owners, e.WABAID), e.WABAID, e.PhoneNumberID, e.Field, e.Kind,
			e.Status, e.WAMID, e.Recipient, e.Route, e.PricingCategory, e.ErrorCode, e.ErrorTitle, e.TemplateID,
			e.TemplateName, e.TemplateLanguage, e.Detail, e.OccurredAt, e.DedupeKey, e.Raw)
	}
	b.WriteString(" ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, dedupe_key")
	rows, err := tx.Raw(b.String(), args...).Rows()
	if err != nil {
		return fmt.Errorf("webhook: store events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id uint
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			return fmt.Errorf("webhook: store events: %w", err)
		}
		newKeys[key] = id
	}
	return rows.Err()
}

// Reject records a delivery refused before processing. Only a hash of its first bytes is kept.
// size is the body's length (or its announced Content-Length when it was not read).
func (s *Service) Reject(ctx context.Context, remoteAddr, reason string, size int, body []byte) {
	s.m.Deliveries.WithLabelValues("rejected").Inc()
	s.m.Rejections.WithLabelValues(reason).Inc()
	head := body[:min(len(body), 256)]
	sum := sha256.Sum256(head)
	r := models.WebhookRejection{ReceivedAt: s.now(), RemoteAddr: remoteAddr, Reason: reason,
		BodySize: size, HeadHash: hex.EncodeToString(sum[:])}
	if err := s.db.WithContext(ctx).Create(&r).Error; err != nil {
		s.log.Error("webhook: record rejection", "err", err)
	}
}
