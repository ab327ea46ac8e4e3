package database

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Migration is one schema step. IDs sort in the order they run ("0001_core", "0002_webhooks", …);
// an ID that ran is never run again, so a released migration is never edited, only followed.
type Migration struct {
	ID string
	Up func(tx *gorm.DB) error
}

// schemaMigration records what ran.
type schemaMigration struct {
	ID        string `gorm:"primaryKey"`
	AppliedAt time.Time
}

func (schemaMigration) TableName() string { return "schema_migrations" }

// Migrate runs, in ID order and each in its own transaction, the migrations not yet applied.
func Migrate(ctx context.Context, db *gorm.DB, migrations []Migration) error {
	ms := slices.Clone(migrations)
	slices.SortFunc(ms, func(a, b Migration) int { return strings.Compare(a.ID, b.ID) })
	for i := 1; i < len(ms); i++ {
		if ms[i].ID == ms[i-1].ID {
			return fmt.Errorf("database: migration %s is listed twice", ms[i].ID)
		}
	}
	db = db.WithContext(ctx)
	// Several instances may start at once against a fresh or older database (replicas of one
	// deployment). Each step runs in a transaction that first takes the migration lock
	// (LockKey: an advisory lock on PostgreSQL, the immediate transaction's write lock on
	// SQLite) and then checks again whether the step already ran, so exactly one instance
	// applies it and the others wait for it and skip it.
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := LockKey(tx, "migrations"); err != nil {
			return err
		}
		return tx.AutoMigrate(&schemaMigration{})
	})
	if err != nil {
		return fmt.Errorf("database: migrations table: %w", err)
	}
	var done []string
	if err := db.Model(&schemaMigration{}).Pluck("id", &done).Error; err != nil {
		return fmt.Errorf("database: read migrations: %w", err)
	}
	for _, m := range ms {
		if slices.Contains(done, m.ID) {
			continue
		}
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := LockKey(tx, "migrations"); err != nil {
				return err
			}
			var n int64
			if err := tx.Model(&schemaMigration{}).Where("id = ?", m.ID).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				return nil // another instance applied it while this one waited
			}
			if err := m.Up(tx); err != nil {
				return err
			}
			return tx.Create(&schemaMigration{ID: m.ID, AppliedAt: time.Now().UTC()}).Error
		})
		if err != nil {
			return fmt.Errorf("database: migration %s: %w", m.ID, err)
		}
	}
	return nil
}

// AutoMigrateStep is a migration that creates or extends the tables of the given models. Fine for
// new tables and added columns; anything destructive is written as explicit SQL instead.
func AutoMigrateStep(id string, models ...any) Migration {
	return Migration{ID: id, Up: func(tx *gorm.DB) error { return tx.AutoMigrate(models...) }}
}
