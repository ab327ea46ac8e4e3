package jobs_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mmconsole/internal/database"
	"mmconsole/internal/jobs"
	"mmconsole/models"
)

// clock is a test clock several goroutines may read while the test moves it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// TestOncePerIntervalAcrossInstances: two instances on one database, each with its own clock
// (one a little behind), tick the same job as time moves; it runs once per interval in all.
func TestOncePerIntervalAcrossInstances(t *testing.T) {
	db := database.OpenTest(t, jobs.Migrations())
	start := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	ca, cb := &clock{t: start}, &clock{t: start.Add(-2 * time.Second)}
	a := jobs.New(db, jobs.Options{Now: ca.now, Holder: "a"})
	b := jobs.New(db, jobs.Options{Now: cb.now, Holder: "b"})
	var runs atomic.Int64
	job := jobs.Job{Name: "test.work", Every: time.Minute, Run: func(context.Context) error { runs.Add(1); return nil }}
	ctx := context.Background()

	// 10 intervals, each instance checking every 10 s of its own clock.
	for step := 0; step < 60; step++ {
		for _, s := range []*jobs.Scheduler{a, b} {
			if _, err := s.Tick(ctx, job); err != nil {
				t.Fatal(err)
			}
		}
		ca.add(10 * time.Second)
		cb.add(10 * time.Second)
	}
	if got := runs.Load(); got != 10 {
		t.Fatalf("runs in 10 intervals with two instances = %d, want 10", got)
	}
	st, err := a.Status(ctx, job.Name)
	if err != nil {
		t.Fatal(err)
	}
	if st.Runs != 10 {
		t.Errorf("recorded runs = %d, want 10", st.Runs)
	}
}

// TestConcurrentClaims: many claims at the same moment from two instances; exactly one wins,
// and the job is not due again until an interval later.
func TestConcurrentClaims(t *testing.T) {
	db := database.OpenTest(t, jobs.Migrations())
	c := &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	scheds := []*jobs.Scheduler{jobs.New(db, jobs.Options{Now: c.now, Holder: "a"}), jobs.New(db, jobs.Options{Now: c.now, Holder: "b"})}
	ctx := context.Background()
	for round := 0; round < 3; round++ {
		var won atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i := 0; i < 16; i++ {
			wg.Go(func() {
				ok, err := scheds[i%2].Claim(ctx, "test.race", time.Hour)
				if err != nil {
					errs <- err
				}
				if ok {
					won.Add(1)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if won.Load() != 1 {
			t.Fatalf("round %d: %d of 16 simultaneous claims won, want exactly 1", round, won.Load())
		}
		c.add(30 * time.Minute)
		if ok, err := scheds[0].Claim(ctx, "test.race", time.Hour); err != nil || ok {
			t.Fatalf("round %d: claim half an interval later = %v, %v; want not due", round, ok, err)
		}
		c.add(30 * time.Minute)
	}
}

// TestClockMovedBack: a claim never succeeds twice within an interval, even when the clock of
// the instance asking is behind the last claim's.
func TestClockMovedBack(t *testing.T) {
	db := database.OpenTest(t, jobs.Migrations())
	c := &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	s := jobs.New(db, jobs.Options{Now: c.now})
	ctx := context.Background()
	if ok, err := s.Claim(ctx, "test.back", time.Minute); err != nil || !ok {
		t.Fatalf("first claim = %v, %v", ok, err)
	}
	c.add(-time.Hour)
	if ok, err := s.Claim(ctx, "test.back", time.Minute); err != nil || ok {
		t.Fatalf("claim with the clock an hour back = %v, %v; want not due", ok, err)
	}
	c.add(time.Hour + time.Minute)
	if ok, err := s.Claim(ctx, "test.back", time.Minute); err != nil || !ok {
		t.Fatalf("claim an interval later = %v, %v; want due", ok, err)
	}
}

// TestJobsAreIndependent: each name has its own interval.
func TestJobsAreIndependent(t *testing.T) {
	db := database.OpenTest(t, jobs.Migrations())
	c := &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	s := jobs.New(db, jobs.Options{Now: c.now})
	ctx := context.Background()
	for _, name := range []string{"one", "two"} {
		if ok, err := s.Claim(ctx, name, time.Minute); err != nil || !ok {
			t.Fatalf("claim %s = %v, %v", name, ok, err)
		}
	}
	if ok, _ := s.Claim(ctx, "one", time.Minute); ok {
		t.Fatal("job one claimed twice in one interval")
	}
}

// TestRunErrorAndBadJob: a failing run is reported (and still counts as the interval's run);
// a job without a name or interval is refused and writes nothing.
func TestRunErrorAndBadJob(t *testing.T) {
	db := database.OpenTest(t, jobs.Migrations())
	c := &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	s := jobs.New(db, jobs.Options{Now: c.now})
	ctx := context.Background()
	boom := errors.New("boom")
	ran, err := s.Tick(ctx, jobs.Job{Name: "fails", Every: time.Minute, Run: func(context.Context) error { return boom }})
	if !ran || !errors.Is(err, boom) {
		t.Fatalf("tick = %v, %v; want ran with boom", ran, err)
	}
	for _, j := range []jobs.Job{{Name: "", Every: time.Minute}, {Name: "x", Every: 0}, {Name: "y", Every: -time.Second}} {
		if _, err := s.Claim(ctx, j.Name, j.Every); !errors.Is(err, jobs.ErrBadJob) {
			t.Errorf("claim %q every %v: err = %v, want ErrBadJob", j.Name, j.Every, err)
		}
	}
	var n int64
	db.Model(&models.BackgroundJob{}).Count(&n)
	if n != 1 {
		t.Errorf("jobs rows = %d, want 1 (only the valid job)", n)
	}
}

// TestLoopRunsAtStartAndStops: Loop runs due work at once, polls, and returns when ctx ends.
func TestLoopRunsAtStartAndStops(t *testing.T) {
	db := database.OpenTest(t, jobs.Migrations())
	c := &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	s := jobs.New(db, jobs.Options{Now: c.now, Poll: time.Millisecond})
	ran := make(chan struct{}, 4)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.Loop(ctx, jobs.Job{Name: "loop", Every: time.Hour, Run: func(context.Context) error { ran <- struct{}{}; return nil }})
	}()
	<-ran // at start
	c.add(time.Hour)
	<-ran // at a poll once due again
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("loop returned %v, want context.Canceled", err)
	}
	if len(ran) != 0 {
		t.Errorf("%d extra runs within one interval", len(ran))
	}
}

// BenchmarkClaimNotDue is what each instance pays per job per poll almost every time: a claim
// of a job another instance ran recently.
func BenchmarkClaimNotDue(b *testing.B) {
	db := database.OpenTest(b, jobs.Migrations())
	s := jobs.New(db, jobs.Options{})
	ctx := context.Background()
	if ok, err := s.Claim(ctx, "bench", time.Hour); err != nil || !ok {
		b.Fatalf("first claim = %v, %v", ok, err)
	}
	for b.Loop() {
		if ok, err := s.Claim(ctx, "bench", time.Hour); err != nil || ok {
			b.Fatalf("claim = %v, %v; want not due", ok, err)
		}
	}
}
