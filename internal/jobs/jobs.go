// Package jobs makes background work run once per interval across every instance of the
// dashboard that shares one database, with no coordinator besides the database itself.
//
// Each kind of work is a named row in background_jobs holding when it was last started. An
// instance claims a run with one conditional upsert ("set last_run_at = now where it is at
// least one interval old"), so of several instances asking at once exactly one gets it, and the
// others skip until the next interval. On PostgreSQL the claim's short transaction first takes
// pg_try_advisory_xact_lock on the job's key: an instance that does not get the lock returns
// at once instead of queueing behind the row lock, and the lock ends with the transaction, so
// nothing is held while the work itself runs (template refreshes wait on the Graph API for
// seconds). On SQLite the claim is the same upsert in an immediate transaction: one file means
// one host, and SQLite's write lock already serialises it.
//
// The work runs after the claim commits. An instance that dies mid-run is not retried before
// the next interval: every job here is a periodic pass that the next pass covers.
//
// Use it from the composition root, one loop per kind of work:
//
//	sched := jobs.New(db, jobs.Options{Logger: log})
//	go sched.Loop(ctx, jobs.Job{
//		Name:  "insights.fetch",  // unique per kind of work; the row's key
//		Every: cfg.InsightsFetch, // at most one run per Every across instances
//		Run: func(ctx context.Context) error {
//			return insights.FetchAll(ctx) // a whole pass; errors are logged, not retried early
//		},
//	})
//
// Loop checks at start (so a fresh instance runs work that is due) and then every Poll; Tick
// is one such check, for tests and callers with their own timer.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"mmconsole/internal/database"
	"mmconsole/models"
)

// Migrations creates the jobs table.
func Migrations() []database.Migration {
	return []database.Migration{database.AutoMigrateStep("0170_background_jobs", &models.BackgroundJob{})}
}

// Job is one kind of periodic work.
type Job struct {
	// Name identifies the work across instances (e.g. "templates.refresh").
	Name string
	// Every is the interval: across all instances the work starts at most once per Every.
	Every time.Duration
	// Run does one whole pass. Its error is logged; the next interval runs it again.
	Run func(ctx context.Context) error
}

// Options tune a Scheduler.
type Options struct {
	// Now is the clock (tests move it); time.Now by default.
	Now func() time.Time
	// Logger receives failed claims and runs.
	Logger *slog.Logger
	// Holder names this instance in the jobs table; hostname, process id and a random suffix
	// by default.
	Holder string
	// Poll overrides how often Loop checks whether a job is due (by default a tenth of its
	// interval, between 1 s and 1 min).
	Poll time.Duration
}

// Scheduler claims and runs jobs for one instance.
type Scheduler struct {
	db     *gorm.DB
	now    func() time.Time
	log    *slog.Logger
	holder string
	poll   time.Duration
	pg     bool
}

// New builds a Scheduler on db.
func New(db *gorm.DB, o Options) *Scheduler {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Holder == "" {
		o.Holder = defaultHolder()
	}
	return &Scheduler{db: db, now: o.Now, log: o.Logger, holder: o.Holder, poll: o.Poll, pg: database.IsPostgres(db)}
}

func defaultHolder() string {
	host, _ := os.Hostname()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Holder is this instance's name in the jobs table.
func (s *Scheduler) Holder() string { return s.holder }

// ErrBadJob: a job without a name or a positive interval.
var ErrBadJob = errors.New("jobs: a job needs a name and a positive interval")

// Claim reports whether this instance should run the named job now, and if so records the run
// as started: across every instance on the database, at most one claim per interval succeeds.
func (s *Scheduler) Claim(ctx context.Context, name string, every time.Duration) (bool, error) {
	if name == "" || every <= 0 {
		return false, ErrBadJob
	}
	now := s.now().UTC()
	claimed := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if s.pg {
			var got bool
			if err := tx.Raw("SELECT pg_try_advisory_xact_lock(?)", lockKey(name)).Scan(&got).Error; err != nil {
				return err
			}
			if !got {
				return nil // another instance is claiming it this very moment
			}
		}
		row := models.BackgroundJob{Name: name, LastRunAt: now, Holder: s.holder, Runs: 1}
		res := tx.Clauses(clause.OnConflict{
			Columns: []clause.Column{{Name: "name"}},
			DoUpdates: clause.Set{
				{Column: clause.Column{Name: "last_run_at"}, Value: now},
				{Column: clause.Column{Name: "holder"}, Value: s.holder},
				{Column: clause.Column{Name: "runs"}, Value: gorm.Expr("background_jobs.runs + 1")},
			},
			// Due: the last run started at least one interval ago. A clock moved back (or a
			// claim from an instance whose clock runs ahead) makes the row look recent, and
			// the job waits; it never runs twice in one interval.
			Where: clause.Where{Exprs: []clause.Expression{
				clause.Expr{SQL: "background_jobs.last_run_at <= ?", Vars: []any{now.Add(-every)}},
			}},
		}).Create(&row)
		if res.Error != nil {
			return res.Error
		}
		claimed = res.RowsAffected == 1
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("jobs: claim %s: %w", name, err)
	}
	return claimed, nil
}

// lockKey maps a job name to its advisory lock key: a 64-bit hash under a fixed prefix, so the
// keys do not collide with other users of advisory locks on the same database by accident.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("mmconsole/jobs/" + name))
	return int64(h.Sum64())
}

// Tick claims the job and, when claimed, runs it. ran says whether it ran; err is the claim's
// or the run's error.
func (s *Scheduler) Tick(ctx context.Context, j Job) (ran bool, err error) {
	ok, err := s.Claim(ctx, j.Name, j.Every)
	if err != nil || !ok {
		return false, err
	}
	if err := j.Run(ctx); err != nil {
		return true, fmt.Errorf("jobs: run %s: %w", j.Name, err)
	}
	return true, nil
}

// Loop ticks the job at once and then every poll interval until ctx ends; failures are logged
// and retried at a later tick. It returns ctx's error.
func (s *Scheduler) Loop(ctx context.Context, j Job) error {
	if j.Name == "" || j.Every <= 0 || j.Run == nil {
		return ErrBadJob
	}
	poll := s.poll
	if poll <= 0 {
		poll = min(max(j.Every/10, time.Second), time.Minute)
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if _, err := s.Tick(ctx, j); err != nil && ctx.Err() == nil {
			s.log.Warn("background job failed", "job", j.Name, "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Status is what the jobs table says about one job.
func (s *Scheduler) Status(ctx context.Context, name string) (models.BackgroundJob, error) {
	var row models.BackgroundJob
	err := s.db.WithContext(ctx).Where("name = ?", name).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return row, models.ErrNotFound
	}
	if err != nil {
		return row, fmt.Errorf("jobs: status of %s: %w", name, err)
	}
	return row, nil
}
