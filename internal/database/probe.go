package database

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// A database that answers SELECT 1 may still refuse every write: the disk is full, the file
// became read-only, or a stuck transaction holds the write lock (on PostgreSQL: the server is a
// read-only standby, or its disk is full). /healthz must report that, so it writes one row of a
// table that exists for nothing else.

// ErrFreeSpaceUnknown means the platform does not tell the free disk space; the check is skipped.
var ErrFreeSpaceUnknown = errors.New("database: free space is not known on this platform")

// ProbeMigrations creates the one-row table the write probe updates.
func ProbeMigrations() []Migration {
	return []Migration{{ID: "0020_health_probe", Up: func(tx *gorm.DB) error {
		// PostgreSQL has no DATETIME; the SQLite statement is the released one, kept as it ran.
		create := "CREATE TABLE IF NOT EXISTS health_probe (id INTEGER PRIMARY KEY, checked_at DATETIME NOT NULL)"
		if IsPostgres(tx) {
			create = "CREATE TABLE IF NOT EXISTS health_probe (id INTEGER PRIMARY KEY, checked_at TIMESTAMPTZ NOT NULL)"
		}
		if err := tx.Exec(create).Error; err != nil {
			return err
		}
		return tx.Exec("INSERT INTO health_probe (id, checked_at) VALUES (1, ?)", time.Now().UTC()).Error
	}}}
}

// ProbeWrite proves the database takes a write now: it commits an update of the probe row.
func ProbeWrite(ctx context.Context, db *gorm.DB) error {
	res := db.WithContext(ctx).Exec("UPDATE health_probe SET checked_at = ? WHERE id = 1", time.Now().UTC())
	if res.Error != nil {
		return fmt.Errorf("database: write probe: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("database: write probe: the probe row is missing")
	}
	return nil
}
