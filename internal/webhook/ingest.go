package webhook

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"slices"
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
	return append([]database.Migration{{ID: "0006_webhooks", Up: func(tx *gorm.DB) error {
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
	}}, {ID: "0010_webhook_secret_scope", Up: func(tx *gorm.DB) error {
		// Which secret verified each delivery, and the entries its secret did not cover. Older
		// deliveries keep verified_by '' (verified before signers were recorded).
		if !tx.Migrator().HasColumn(&models.WebhookDelivery{}, "VerifiedBy") {
			if err := tx.Migrator().AddColumn(&models.WebhookDelivery{}, "VerifiedBy"); err != nil {
				return err
			}
		}
		return tx.AutoMigrate(&models.WebhookRefusal{})
	}}, storageMigration(),
		database.AutoMigrateStep("0070_b_marketing_preferences", &models.MarketingPreference{}),
		// "marketing" pricing used to mean fallback for every message; it is fallback only for
		// the dashboard's own /marketing_messages sends, Cloud API (/messages) otherwise.
		{ID: "0070_c_cloud_api_route", Up: func(tx *gorm.DB) error {
			if err := tx.Exec("UPDATE messages SET route = ? WHERE route = ? AND send_request IS NULL",
				models.RouteCloudAPI, models.RouteFallback).Error; err != nil {
				return err
			}
			return tx.Exec(`UPDATE webhook_events SET route = ? WHERE route = ?
				AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.wamid = webhook_events.wamid AND m.send_request IS NOT NULL)`,
				models.RouteCloudAPI, models.RouteFallback).Error
		}},
	}, logMigrations()...)
}

// Options tune the group-commit writer.
type Options struct {
	QueueSize     int // deliveries waiting for the writer before Ingest blocks (backpressure)
	MaxBatch      int // most deliveries committed in one transaction
	MaxBatchBytes int // most body bytes committed in one transaction
	Logger        *slog.Logger
	Now           func() time.Time
	// Followups is told of committed events that call for work outside the batch's transaction
	// (a Graph read); nil = none.
	Followups Followups

	// RejectionsPerMinute is how many refused posts are stored per minute, as a sample (all are
	// counted in the metrics); RejectionsKeep the most rows the rejections table keeps.
	RejectionsPerMinute int
	RejectionsKeep      int

	// WALSizeLimit is what the WAL is restarted and cut back to under load (journal_size_limit);
	// WALAlertSize the size past which it is reported. Defaults: 64 MiB and 256 MiB.
	WALSizeLimit int64
	WALAlertSize int64

	// Retention is how long events, deliveries and rejections are kept (0: for ever). The writer
	// prunes what is older every PruneEvery, PruneBatch rows per transaction, between groups.
	Retention  time.Duration
	PruneEvery time.Duration
	PruneBatch int
	// PruneOnRequest: the writer keeps no pruning timer of its own and prunes only when
	// PruneNow asks, so that whoever calls PruneNow (the once-per-interval job shared by every
	// instance) decides when retention runs.
	PruneOnRequest bool

	// Writers is how many group-commit writers take deliveries from the queue, each in its own
	// transaction on its own connection (0: the engine's default, defaultWriters). SQLite has one
	// write lock, so it always gets one.
	Writers int
}

// defaultWriters is the number of writers on PostgreSQL. One writer leaves the server idle
// while it builds the next group, and the next group waits while the server inserts and
// syncs this one; two overlap the two (measured: one instance with two writers stored about
// as much as two instances with one each). Their message upserts take row locks in wamid
// order, so they do not deadlock on each other (TestDedupeAcrossWriters).
const defaultWriters = 2

// Followups does, after a batch commits, what an event asks for beyond the database. Its
// methods are called by the single writer and must not block.
type Followups interface {
	// TermsSigned: account_update MM_LITE_TERMS_SIGNED for wabaID, owned by accountID (re-read
	// its marketing_messages_onboarding_status).
	TermsSigned(accountID uint, wabaID string)
}

// Service stores deliveries and answers the log's queries.
type Service struct {
	db    *gorm.DB
	dia   dialect
	m     *Metrics
	log   *slog.Logger
	now   func() time.Time
	opts  Options
	queue chan *job
	// rejects feeds the sampler that stores refused posts off the request path (rejections.go).
	rejects     chan rejectItem
	rejectsDone chan struct{}
	// kick wakes the background checkpointer (SQLite only); writers only send on it.
	kick  chan struct{}
	codec *codec
	// pruneKick asks the writer to prune now rather than at its next PruneEvery.
	pruneKick chan struct{}
	// walOver remembers (for the checkpointer alone) that the WAL was over its alert size, so
	// that passing it is logged once.
	walOver bool

	mu     sync.RWMutex // guards closed against sends on a closed queue
	closed bool
	done   chan struct{}
}

// writer is one group-commit writer's own state: its connection (GORM bound to it) and its
// prepared statements. Only its goroutine touches it.
type writer struct {
	conn  *sql.Conn
	db    *gorm.DB
	stmts *stmtCache
}

// Delivery is one signed POST, as received, with the signer whose secret verified it (the zero
// Signer is MMC_APP_SECRET).
type Delivery struct {
	Body       []byte
	RemoteAddr string
	Signer     Signer
}

// Result says what was stored for a delivery.
type Result struct {
	DeliveryID uint
	Events     int
	Duplicates int
	Refused    int // events of entries the signer's secret does not cover: stored as refused, no effect
	ParseError string
}

type job struct {
	d      Delivery
	parsed Parsed
	zbody  []byte // the body, compressed
	at     time.Time
	atArg  any // at as the writer binds it (timeArg), prepared off the writer
	res    Result
	err    error
	done   chan struct{}
	// Set by each commit attempt (a failed group is retried one by one): the events the signer
	// may speak for, and the entries it may not.
	events  []Event
	refused []refusal
}

// RefusedEntry is the reason a refused entry is stored with.
const RefusedEntry = "entry for a WABA this secret does not cover"

// refusal is the events of one WABA in a delivery whose signer does not cover that WABA.
type refusal struct {
	waba   string
	events int
}

// split keeps the events the delivery's signer may speak for: all of them for MMC_APP_SECRET;
// for a connection's secret only those of WABAs owned by an account holding that secret
// (covered, from the signing connections as they are now: a deleted one covers nothing). The
// rest are grouped by WABA as refusals.
func (j *job) split(owners map[string]uint, covered map[uint]bool) {
	j.events, j.refused = j.parsed.Events, nil
	if j.d.Signer.Global() {
		return
	}
	keep := make([]Event, 0, len(j.parsed.Events))
	for _, e := range j.parsed.Events {
		if a, ok := owners[e.WABAID]; ok && covered[a] {
			keep = append(keep, e)
			continue
		}
		i := slices.IndexFunc(j.refused, func(r refusal) bool { return r.waba == e.WABAID })
		if i < 0 {
			j.refused = append(j.refused, refusal{waba: e.WABAID})
			i = len(j.refused) - 1
		}
		j.refused[i].events++
	}
	j.events = keep
}

// ErrClosed means the service is shutting down and takes no more deliveries.
var ErrClosed = errors.New("webhook: shutting down")

// New builds the service and starts its writer; Close drains and stops it.
func New(db *gorm.DB, m *Metrics, o Options) *Service {
	c, err := newCodec()
	if err != nil {
		// Only invalid options make these fail, and the options are constants.
		panic(err)
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 4096
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 512
	}
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = 16 << 20
	}
	if o.RejectionsPerMinute <= 0 {
		o.RejectionsPerMinute = 60
	}
	if o.RejectionsKeep <= 0 {
		o.RejectionsKeep = 10000
	}
	if o.WALSizeLimit <= 0 {
		o.WALSizeLimit = 64 << 20
	}
	if o.WALAlertSize <= 0 {
		o.WALAlertSize = 256 << 20
	}
	if o.PruneEvery <= 0 {
		o.PruneEvery = time.Minute
	}
	if o.PruneBatch <= 0 {
		o.PruneBatch = 500
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	dia := dialectOf(db)
	if o.Writers <= 0 {
		o.Writers = 1
		if dia.postgres {
			o.Writers = defaultWriters
		}
	}
	if dia.hasWAL() {
		o.Writers = 1
	}
	if o.Now == nil {
		o.Now = func() time.Time { return time.Now().UTC() }
	}
	if m == nil {
		m = NewMetrics()
	}
	s := &Service{db: db, dia: dia, m: m, log: o.Logger, now: o.Now, opts: o, codec: c, pruneKick: make(chan struct{}, 1),
		queue: make(chan *job, o.QueueSize), done: make(chan struct{}),
		rejects: make(chan rejectItem, rejectQueueSize), rejectsDone: make(chan struct{}), kick: make(chan struct{}, 1)}
	go s.run()
	go s.sampleRejections(s.rejectsDone)
	return s
}

// Close stops taking deliveries, commits everything queued, and waits for the writer.
func (s *Service) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.queue)
		close(s.rejects)
	}
	s.mu.Unlock()
	<-s.done
	<-s.rejectsDone
	s.codec.close()
	return nil
}

// Ingest parses a verified delivery and returns once it and all its events are committed. Only
// then may the caller acknowledge it: Meta does not resend what it got a 200 for.
func (s *Service) Ingest(ctx context.Context, d Delivery) (Result, error) {
	j := &job{d: d, parsed: Parse(d.Body), at: s.now().Truncate(time.Millisecond), done: make(chan struct{})}
	// Compressing and hashing here, on the request's goroutine, keeps that work off the single
	// writer.
	j.zbody = s.codec.enc.EncodeAll(d.Body, nil)
	j.atArg = s.dia.timeArg(&j.at)
	for i := range j.parsed.Events {
		e := &j.parsed.Events[i]
		e.dedupeHash = dedupeHash(e.DedupeKey)
		e.occurredArg = s.dia.timeArg(e.OccurredAt)
	}
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

// run starts the writers and waits for them. Each takes what is queued (up to the batch
// limits), commits it in one transaction and releases every waiting request. Under a burst the
// batches grow, so the cost of a commit is shared by many deliveries; when idle a lone delivery
// is committed at once. The first writer also prunes and, on SQLite, has the WAL checkpointed.
func (s *Service) run() {
	defer close(s.done)
	stop, ckptDone := make(chan struct{}), make(chan struct{})
	if s.dia.hasWAL() {
		go s.checkpointer(s.kick, stop, ckptDone)
	} else {
		close(ckptDone)
	}
	defer func() {
		close(stop)
		<-ckptDone
	}()
	var wg sync.WaitGroup
	for i := 1; i < s.opts.Writers; i++ {
		wg.Go(func() { s.write(&writer{}, nil) })
	}
	p := s.newPruner()
	defer p.stop()
	s.write(&writer{}, p)
	wg.Wait()
}

// write is one writer's loop, until the queue is closed and empty. p is the pruner the writer
// runs between its groups (nil: none).
func (s *Service) write(w *writer, p *pruner) {
	defer w.release(s)
	if p == nil {
		p = &pruner{s: s}
	}
	wal := s.walPath()
	for {
		var first *job
		if p.pending {
			select {
			case j, ok := <-s.queue:
				if !ok {
					return // shutting down: the rest is pruned at the next start
				}
				first = j
			default:
				// Idle with old rows to delete: one step, then look at the queue again.
				p.step(w)
				continue
			}
		} else {
			select {
			case j, ok := <-s.queue:
				if !ok {
					return
				}
				first = j
			case <-p.tick:
				p.pending = true
				continue
			case <-p.kick:
				p.pending = true
				continue
			}
		}
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
		s.commitBatch(w, batch)
		for _, j := range batch {
			close(j.done)
		}
		select {
		case s.kick <- struct{}{}:
		default: // a checkpoint is already due
		}
		s.boundWAL(w, wal)
		if p.pending && p.due() {
			p.step(w)
		}
	}
}

// release closes the writer's statements and gives its connection back.
func (w *writer) release(s *Service) {
	if w.stmts != nil {
		w.stmts.close()
		w.stmts = nil
	}
	if w.conn != nil {
		s.releaseWriterConn(w)
	}
}

func (s *Service) commitBatch(w *writer, batch []*job) {
	start := time.Now()
	err := s.commit(w, batch)
	if err != nil && len(batch) > 1 {
		// One delivery may be the cause: commit each alone so the others are not refused.
		s.log.Warn("webhook: group commit failed, committing one by one", "err", err, "deliveries", len(batch))
		for _, j := range batch {
			j.res, j.err = Result{}, nil
			if err := s.commit(w, []*job{j}); err != nil {
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

const eventColumns = "delivery_id, received_at, account_id, waba_id, phone_number_id, field, kind, status, wamid, recipient, route, pricing_category, error_code, error_title, template_id, template_name, template_language, detail, occurred_at, dedupe_hash, raw_at, raw_len, raw"

// eventColumnCount is the number of eventColumns.
const eventColumnCount = 23

// stored is a newly stored event (not a duplicate) whose effects must be applied.
type stored struct {
	id      uint
	ev      *Event
	at      time.Time
	account *uint // the account that connected the event's WABA; nil when none did
}

// followUp hands the committed events that need more than a database write to Followups. Only
// events of a WABA some account connected qualify: the re-read uses that account's connection.
func (s *Service) followUp(fresh []stored) {
	if s.opts.Followups == nil {
		return
	}
	for _, f := range fresh {
		if f.ev.Kind == models.KindAccountUpdate && f.ev.Status == "MM_LITE_TERMS_SIGNED" && f.account != nil {
			s.opts.Followups.TermsSigned(*f.account, f.ev.WABAID)
		}
	}
}

func (s *Service) commit(w *writer, batch []*job) (err error) {
	defer func() {
		// A broken writer connection is dropped so that the next group opens a new one, instead
		// of every later delivery failing on it.
		if err != nil && w.conn != nil && (errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone)) {
			s.releaseWriterConn(w)
		}
	}()
	if err := s.ensureWriterConn(w); err != nil {
		return err
	}
	if w.stmts == nil {
		c, err := newStmtCache(s.db, s.dia)
		if err != nil {
			return err
		}
		w.stmts = c
	}
	var follow []stored
	defer func() {
		if err == nil {
			s.followUp(follow)
		}
	}()
	return w.db.Transaction(func(tx *gorm.DB) error {
		follow = nil // a retried transaction collects again
		st, err := w.stmts.in(tx)
		if err != nil {
			return err
		}
		owners, err := s.owners(tx, batch)
		if err != nil {
			return err
		}
		signers, err := signerAccounts(tx, batch)
		if err != nil {
			return err
		}
		for _, j := range batch {
			covered := map[uint]bool{}
			for _, id := range j.d.Signer.Connections() {
				if a, ok := signers[id]; ok {
					covered[a] = true
				}
			}
			j.split(owners, covered)
		}
		// Every delivery first, then all the group's events, each in as few statements as
		// possible.
		parseErrs := make([]string, len(batch))
		total := 0
		for i, j := range batch {
			if j.parsed.Err != nil {
				parseErrs[i] = cleanText(truncate(j.parsed.Err.Error(), 2000))
			}
			total += len(j.events)
		}
		ids, err := insertDeliveries(st, batch, parseErrs)
		if err != nil {
			return err
		}
		if err := s.storeRefusals(tx, batch, ids); err != nil {
			return err
		}
		newKeys, err := insertEvents(st, batch, ids, owners, total)
		if err != nil {
			return err
		}
		var fresh []stored
		kinds := map[string]int{}
		for i, j := range batch {
			evs := j.events
			dups := 0
			for k := range evs {
				eid, ok := newKeys[evs[k].dedupeHash]
				if !ok {
					dups++
					continue
				}
				// The same event twice in the group: stored once, by the first delivery that has it.
				delete(newKeys, evs[k].dedupeHash)
				fresh = append(fresh, stored{id: eid, ev: &evs[k], at: j.at, account: accountOf(owners, evs[k].WABAID)})
				kinds[evs[k].Kind]++
			}
			if dups > 0 {
				if _, err := st.exec("UPDATE webhook_deliveries SET duplicate_count = ? WHERE id = ?", dups, ids[i]); err != nil {
					return fmt.Errorf("webhook: count duplicates: %w", err)
				}
			}
			j.res = Result{DeliveryID: ids[i], Events: len(evs) - dups, Duplicates: dups, Refused: len(j.parsed.Events) - len(evs), ParseError: parseErrs[i]}
		}
		if err := s.applyEffects(tx, st, fresh, owners); err != nil {
			return err
		}
		follow = fresh
		// Counted only once the effects succeed; a rollback retries them with the batch.
		defer func() {
			for k, n := range kinds {
				s.m.Events.WithLabelValues(k).Add(float64(n))
			}
		}()
		return nil
	})
}

// ensureWriterConn opens the writer's own connection when it has none.
func (s *Service) ensureWriterConn(w *writer) error {
	if w.db != nil {
		return nil
	}
	conn, db, err := s.writerConn()
	if err != nil {
		return err
	}
	w.conn, w.db = conn, db
	return nil
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

// signerAccounts maps the batch's signing connections to their accounts as they are now (the
// secret index may be a few seconds old): a connection deleted since covers nothing.
func signerAccounts(tx *gorm.DB, batch []*job) (map[uint]uint, error) {
	var ids []uint
	for _, j := range batch {
		for _, id := range j.d.Signer.Connections() {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	out := map[uint]uint{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID        uint
		AccountID uint
	}
	if err := tx.Table("waba_connections").Select("id, account_id").Where("id IN ?", ids).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("webhook: look up signing connections: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r.AccountID
	}
	return out, nil
}

// storeRefusals records, for staff, the entries each delivery's signer did not cover.
func (s *Service) storeRefusals(tx *gorm.DB, batch []*job, ids []uint) error {
	var rows []models.WebhookRefusal
	for i, j := range batch {
		for _, r := range j.refused {
			rows = append(rows, models.WebhookRefusal{DeliveryID: ids[i], ReceivedAt: j.at, WABAID: r.waba,
				VerifiedBy: j.d.Signer.String(), Events: r.events, Reason: RefusedEntry})
		}
		if len(j.refused) > 0 {
			s.log.Warn("webhook: delivery names WABAs its secret does not cover; those entries are refused",
				"delivery", ids[i], "verified_by", j.d.Signer.String(), "wabas", len(j.refused))
		}
	}
	if len(rows) == 0 {
		return nil
	}
	if err := tx.Create(&rows).Error; err != nil {
		return fmt.Errorf("webhook: store refused entries: %w", err)
	}
	return nil
}

func accountOf(owners map[string]uint, waba string) *uint {
	if a, ok := owners[waba]; ok {
		return &a
	}
	return nil
}

// insertEvents stores the group's events, skipping those already stored (by dedupe key), and
// returns the new ones' ids by dedupe key.
func insertEvents(st *txStmts, batch []*job, ids []uint, owners map[string]uint, total int) (map[string]uint, error) {
	newKeys := make(map[string]uint, total)
	if total == 0 {
		return newKeys, nil
	}
	if st.cache.dia.arrays() {
		a := newEventArrays(total)
		for di, j := range batch {
			for k := range j.events {
				e := &j.events[k]
				rawAt, raw := rawOf(j, e)
				a.add(ids[di], j.at, accountOf(owners, e.WABAID), e, rawAt, raw)
			}
		}
		ins, err := st.get(stmtKey{kind: stmtEvents})
		if err != nil {
			return nil, err
		}
		rows, err := ins.QueryContext(st.ctx, a.args()...)
		if err != nil {
			return nil, fmt.Errorf("webhook: store events: %w", err)
		}
		return newKeys, scanEventKeys(rows, newKeys)
	}
	args := make([]any, 0, min(total, maxRows)*eventColumnCount)
	di, ei := 0, 0 // the next event: batch[di].parsed.Events[ei]
	for left := total; left > 0; {
		n := chunk(left)
		args = args[:0]
		for range n {
			for ei >= len(batch[di].events) {
				di, ei = di+1, 0
			}
			j := batch[di]
			e := &j.events[ei]
			rawAt, raw := rawOf(j, e)
			args = append(args, ids[di], j.atArg, accountOf(owners, e.WABAID), e.WABAID, e.PhoneNumberID, e.Field, e.Kind,
				e.Status, e.WAMID, e.Recipient, e.Route, e.PricingCategory, e.ErrorCode, e.ErrorTitle, e.TemplateID,
				e.TemplateName, e.TemplateLanguage, e.Detail, e.occurredArg, []byte(e.dedupeHash), rawAt, len(e.Raw), raw)
			ei++
		}
		left -= n
		ins, err := st.get(stmtKey{kind: stmtEvents, rows: n})
		if err != nil {
			return nil, err
		}
		rows, err := ins.QueryContext(st.ctx, args...)
		if err != nil {
			return nil, fmt.Errorf("webhook: store events: %w", err)
		}
		if err := scanEventKeys(rows, newKeys); err != nil {
			return nil, err
		}
	}
	return newKeys, nil
}

// rawOf is where e's raw JSON is kept: its offset in the delivery's body when it is there
// verbatim (and no copy), or else its own copy.
func rawOf(j *job, e *Event) (*int, string) {
	if e.RawAt >= 0 && e.RawAt+len(e.Raw) <= len(j.d.Body) {
		return &e.RawAt, ""
	}
	return nil, e.Raw
}

// deliveryColumnCount is the number of bound columns of a delivery row (stmtDelivery).
const deliveryColumnCount = 7

// insertDeliveries stores the group's deliveries in as few statements as possible and returns
// their ids in batch order. RETURNING gives no order; but the rows of one INSERT are numbered in
// the order of its VALUES (SQLite's AUTOINCREMENT and PostgreSQL's sequence both count up, and
// another instance's rows can only fall between them), so the sorted ids are in that order.
func insertDeliveries(st *txStmts, batch []*job, parseErrs []string) ([]uint, error) {
	ids := make([]uint, 0, len(batch))
	if st.cache.dia.arrays() {
		n := len(batch)
		at, size, count := make([]time.Time, n), make([]int64, n), make([]int64, n)
		addr, signer, zbody := make([]string, n), make([]string, n), make([][]byte, n)
		for i, j := range batch {
			at[i], addr[i], size[i], zbody[i] = j.at, j.d.RemoteAddr, int64(len(j.d.Body)), j.zbody
			count[i], signer[i] = int64(len(j.parsed.Events)), j.d.Signer.String()
		}
		ins, err := st.get(stmtKey{kind: stmtDelivery})
		if err != nil {
			return nil, err
		}
		rows, err := ins.QueryContext(st.ctx, at, addr, size, zbody, count, parseErrs, signer)
		if err != nil {
			return nil, fmt.Errorf("webhook: store deliveries: %w", err)
		}
		return scanDeliveryIDs(rows, ids, n)
	}
	args := make([]any, 0, min(len(batch), maxRows)*deliveryColumnCount)
	for lo := 0; lo < len(batch); {
		n := chunk(len(batch) - lo)
		args = args[:0]
		for i := lo; i < lo+n; i++ {
			j := batch[i]
			args = append(args, j.atArg, j.d.RemoteAddr, len(j.d.Body), j.zbody, len(j.parsed.Events), parseErrs[i], j.d.Signer.String())
		}
		ins, err := st.get(stmtKey{kind: stmtDelivery, rows: n})
		if err != nil {
			return nil, err
		}
		rows, err := ins.QueryContext(st.ctx, args...)
		if err != nil {
			return nil, fmt.Errorf("webhook: store deliveries: %w", err)
		}
		if ids, err = scanDeliveryIDs(rows, ids, n); err != nil {
			return nil, err
		}
		lo += n
	}
	return ids, nil
}

// scanDeliveryIDs appends to ids the n ids a deliveries insert returned, in the order of its
// rows (see insertDeliveries).
func scanDeliveryIDs(rows *sql.Rows, ids []uint, n int) ([]uint, error) {
	defer rows.Close()
	lo := len(ids)
	for rows.Next() {
		var id uint
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("webhook: store deliveries: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("webhook: store deliveries: %w", err)
	}
	if len(ids)-lo != n {
		return nil, fmt.Errorf("webhook: store deliveries: %d ids for %d rows", len(ids)-lo, n)
	}
	slices.Sort(ids[lo:])
	return ids, nil
}
