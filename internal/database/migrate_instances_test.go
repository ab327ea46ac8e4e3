package database

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"
)

// TestInstancesStartingTogetherMigrateOnce: several instances starting at once against a fresh
// database (a deployment of two replicas) all start, and each migration runs once.
func TestInstancesStartingTogetherMigrateOnce(t *testing.T) {
	dsn := TestDSN(t)
	var first, second atomic.Int64
	ms := []Migration{
		{ID: "0001_first", Up: func(tx *gorm.DB) error { first.Add(1); return tx.AutoMigrate(&widget{}) }},
		{ID: "0002_second", Up: func(tx *gorm.DB) error {
			second.Add(1)
			return tx.Exec("ALTER TABLE widgets ADD COLUMN size INTEGER").Error
		}},
	}
	const instances = 4
	var wg sync.WaitGroup
	errs := make(chan error, instances)
	for range instances {
		wg.Go(func() {
			db, err := Open(context.Background(), dsn, ms, Options{})
			if err != nil {
				errs <- err
				return
			}
			Close(db)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("an instance failed to start: %v", err)
	}
	if first.Load() != 1 || second.Load() != 1 {
		t.Fatalf("migrations ran %d and %d times, want once each", first.Load(), second.Load())
	}
}
