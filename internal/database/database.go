// Package database opens the SQLite database the dashboard keeps its state in (WAL, foreign keys,
// a busy timeout), runs the ordered migrations, and holds the few dialect-specific helpers. It is
// the only package that knows the store is SQLite; everything else speaks GORM.
package database

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Options tune Open.
type Options struct {
	// BusyTimeout is how long a writer waits for the lock before SQLITE_BUSY.
	BusyTimeout time.Duration
	Logger      *slog.Logger
}

// Open opens (creating if needed) the SQLite file at path with WAL journaling, foreign keys and a
// busy timeout set on every pooled connection (they are DSN parameters, so each new connection
// gets them), and runs the migrations.
func Open(ctx context.Context, path string, migrations []Migration, o Options) (*gorm.DB, error) {
	if o.BusyTimeout == 0 {
		o.BusyTimeout = 5 * time.Second
	}
	if dir := filepath.Dir(path); dir != "." && dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("database: create folder %s: %w", dir, err)
		}
	}
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", fmt.Sprint(o.BusyTimeout.Milliseconds()))
	q.Set("_synchronous", "NORMAL") // durable in WAL mode across process crashes; fsync at checkpoints
	q.Set("_txlock", "immediate")   // writers take the lock up front instead of failing mid-transaction
	dsn := "file:" + path + "?" + q.Encode()

	db, err := gorm.Open(sqlite.Open(dsn), &gorm.Config{
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		SkipDefaultTransaction: true,
		TranslateError:         true,
	})
	if err != nil {
		return nil, fmt.Errorf("database: open %s: %w", path, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	sqlDB.SetMaxOpenConns(8)
	sqlDB.SetMaxIdleConns(8)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("database: open %s: %w", path, err)
	}
	if err := Migrate(ctx, db, migrations); err != nil {
		sqlDB.Close()
		return nil, err
	}
	return db, nil
}

// createPrivate creates the database file readable by the owner only (it holds personal data
// and sealed secrets) before SQLite opens it; SQLite gives the -wal and -shm files it creates the
// main file's mode. An existing file is left as the operator set it.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("database: create %s: %w", path, err)
	}
	if err := f.Chmod(0o600); err != nil { // whatever the umask
		f.Close()
		return fmt.Errorf("database: create %s: %w", path, err)
	}
	return f.Close()
}

// Close closes the pool after a WAL checkpoint so the main file is complete on its own.
func Close(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	_ = db.Exec("PRAGMA wal_checkpoint(TRUNCATE)").Error
	return sqlDB.Close()
}

// Ping checks the database answers, for /healthz.
func Ping(ctx context.Context, db *gorm.DB) error {
	var one int
	return db.WithContext(ctx).Raw("SELECT 1").Scan(&one).Error
}

// Pragmas reads the connection settings that Open promises, for tests and /healthz.
type Pragmas struct {
	JournalMode string
	ForeignKeys int
	BusyTimeout int
}

// ReadPragmas returns the pragmas of a connection from the pool.
func ReadPragmas(ctx context.Context, db *gorm.DB) (Pragmas, error) {
	var p Pragmas
	tx := db.WithContext(ctx)
	if err := tx.Raw("PRAGMA journal_mode").Scan(&p.JournalMode).Error; err != nil {
		return p, err
	}
	if err := tx.Raw("PRAGMA foreign_keys").Scan(&p.ForeignKeys).Error; err != nil {
		return p, err
	}
	if err := tx.Raw("PRAGMA busy_timeout").Scan(&p.BusyTimeout).Error; err != nil {
		return p, err
	}
	return p, nil
}
