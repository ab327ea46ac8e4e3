// Package database opens the store the dashboard keeps its state in, runs the ordered migrations,
// and holds the few dialect-specific helpers. The store is an embedded SQLite file (WAL, foreign
// keys, a busy timeout) by default, or a PostgreSQL database when MMC_DATABASE is a postgres://
// URL, which is what several instances behind a load balancer share. Everything else speaks GORM;
// where the two engines differ unavoidably, the difference lives here (dialect.go), not in the
// packages that call it.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", which openPostgres opens
	"github.com/mattn/go-sqlite3"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Options tune Open.
type Options struct {
	// BusyTimeout is how long a SQLite writer waits for the lock before SQLITE_BUSY.
	BusyTimeout time.Duration
	// MaxConns bounds the pool: 0 means the dialect's default (DefaultMaxConns).
	MaxConns int
	Logger   *slog.Logger
}

// DefaultMaxConns is the pool size used when Options.MaxConns is 0. SQLite has one writer at a
// time, so a few connections serve the readers; PostgreSQL runs statements truly in parallel and
// a webhook burst, the log pages and the background loops all want one, but every instance's
// pool counts against the server's max_connections (100 by default), so two instances with the
// default still leave room for psql and backups.
func DefaultMaxConns(d Dialect) int {
	if d == Postgres {
		return 24
	}
	return 8
}

// retryBusy runs open until it succeeds, fails for another reason, or busyTimeout has passed.
// A SQLite connection switches the file to WAL as it opens, and two processes opening one new
// file at the same moment can get SQLITE_BUSY from that switch at once, without the busy handler
// waiting (seen with two instances starting together): so a busy answer is tried again, for as
// long as a writer would wait for the lock.
func retryBusy(ctx context.Context, busyTimeout time.Duration, open func() error) error {
	if busyTimeout <= 0 {
		busyTimeout = 5 * time.Second
	}
	deadline := time.Now().Add(busyTimeout)
	for {
		err := open()
		var se sqlite3.Error
		if err == nil || !errors.As(err, &se) || (se.Code != sqlite3.ErrBusy && se.Code != sqlite3.ErrLocked) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Open opens the database dsn names and runs the migrations: a postgres:// or postgresql:// URL
// is a PostgreSQL database (which must exist); anything else is the path of a SQLite file,
// created if missing.
func Open(ctx context.Context, dsn string, migrations []Migration, o Options) (*gorm.DB, error) {
	var (
		db  *gorm.DB
		err error
	)
	if IsPostgresURL(dsn) {
		db, err = openPostgres(dsn)
	} else {
		db, err = openSQLite(dsn, o)
	}
	if err != nil {
		return nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	n := o.MaxConns
	if n <= 0 {
		n = DefaultMaxConns(DialectOf(db))
	}
	sqlDB.SetMaxOpenConns(n)
	sqlDB.SetMaxIdleConns(n)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	if err := retryBusy(ctx, o.BusyTimeout, func() error { return sqlDB.PingContext(ctx) }); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("database: open %s: %w", Redact(dsn), err)
	}
	if err := Migrate(ctx, db, migrations); err != nil {
		sqlDB.Close()
		return nil, err
	}
	return db, nil
}

// gormConfig is the one GORM configuration of both dialects: UTC timestamps, no implicit
// transaction around single writes, and driver errors translated to gorm.ErrDuplicatedKey and
// friends so callers need not parse either engine's error text.
func gormConfig() *gorm.Config {
	return &gorm.Config{
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		SkipDefaultTransaction: true,
		TranslateError:         true,
	}
}

// openSQLite opens (creating if needed) the SQLite file at path with WAL journaling, foreign keys
// and a busy timeout set on every pooled connection (they are DSN parameters, so each new
// connection gets them).
func openSQLite(path string, o Options) (*gorm.DB, error) {
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
	var db *gorm.DB
	err := retryBusy(context.Background(), o.BusyTimeout, func() (err error) {
		db, err = gorm.Open(sqlite.Open("file:"+path+"?"+q.Encode()), gormConfig())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("database: open %s: %w", path, err)
	}
	return db, nil
}

// openPostgres opens a PostgreSQL database through pgx. Every session runs in UTC so that what
// the server computes from a timestamptz (date_trunc, casts to date) matches what SQLite does
// with the UTC text it stores. Statements go through checkedPool (pgvalues.go).
func openPostgres(dsn string) (*gorm.DB, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, fmt.Errorf("database: %s is not a PostgreSQL URL: %w", Redact(dsn), err)
	}
	q := u.Query()
	if q.Get("timezone") == "" {
		q.Set("timezone", "UTC")
	}
	u.RawQuery = q.Encode()
	sqlDB, err := sql.Open("pgx", u.String())
	if err != nil {
		return nil, fmt.Errorf("database: open %s: %w", Redact(dsn), err)
	}
	db, err := gorm.Open(postgres.New(postgres.Config{Conn: &checkedPool{sqlDB}}), gormConfig())
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("database: open %s: %w", Redact(dsn), err)
	}
	return db, nil
}

// Redact is dsn fit for logs and error text: a PostgreSQL URL without its password. A SQLite path
// is returned as it is.
func Redact(dsn string) string {
	if !IsPostgresURL(dsn) {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	// libpq also takes the password as a parameter (…?password=…).
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
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

// Close closes the pool; on SQLite after a WAL checkpoint so the main file is complete on its own.
func Close(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	if !IsPostgres(db) {
		_ = db.Exec("PRAGMA wal_checkpoint(TRUNCATE)").Error
	}
	return sqlDB.Close()
}

// Ping checks the database answers, for /healthz.
func Ping(ctx context.Context, db *gorm.DB) error {
	var one int
	return db.WithContext(ctx).Raw("SELECT 1").Scan(&one).Error
}

// ErrNotSQLite is returned by what only SQLite has (its pragmas).
var ErrNotSQLite = errors.New("database: not a SQLite database")

// Pragmas reads the connection settings that Open promises, for tests and /healthz.
type Pragmas struct {
	JournalMode string
	ForeignKeys int
	BusyTimeout int
}

// ReadPragmas returns the pragmas of a SQLite connection from the pool (ErrNotSQLite on
// PostgreSQL, which has none of them: it journals, checks foreign keys and waits for locks
// always).
func ReadPragmas(ctx context.Context, db *gorm.DB) (Pragmas, error) {
	var p Pragmas
	if IsPostgres(db) {
		return p, ErrNotSQLite
	}
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
