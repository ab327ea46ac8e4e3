package database

import (
	"strings"

	"gorm.io/gorm"
)

// Dialect names the SQL engine behind a *gorm.DB. Packages ask for it only where SQLite and
// PostgreSQL cannot share one statement; the helpers below cover the common cases so that the
// check does not spread.
type Dialect string

// The two engines the dashboard runs on.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// IsPostgresURL reports whether MMC_DATABASE names a PostgreSQL database (a postgres:// or
// postgresql:// URL) rather than a SQLite file.
func IsPostgresURL(dsn string) bool {
	s := strings.ToLower(strings.TrimSpace(dsn))
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// DialectOf tells which engine db talks to.
func DialectOf(db *gorm.DB) Dialect {
	if db.Dialector != nil && db.Dialector.Name() == "postgres" {
		return Postgres
	}
	return SQLite
}

// IsPostgres is DialectOf(db) == Postgres.
func IsPostgres(db *gorm.DB) bool { return DialectOf(db) == Postgres }

// Greatest is the SQL function that returns the larger of its arguments: SQLite's two-argument
// MAX() is an aggregate on PostgreSQL, which calls it GREATEST (used in upserts that keep the
// larger of the stored and the incoming value).
func Greatest(db *gorm.DB) string {
	if IsPostgres(db) {
		return "GREATEST"
	}
	return "MAX"
}

// Least is Greatest's counterpart: SQLite's two-argument MIN(), PostgreSQL's LEAST.
func Least(db *gorm.DB) string {
	if IsPostgres(db) {
		return "LEAST"
	}
	return "MIN"
}

// LockKey makes the transactions tx belongs to that name the same key run one after the other,
// for read-then-write sequences that must not interleave (a counter read, decided on, written).
// On PostgreSQL it takes a transaction-scoped advisory lock, released at commit or rollback. On
// SQLite it does nothing: every write transaction there begins IMMEDIATE and holds the database's
// one write lock already. Call it first in the transaction, before the reads it protects.
func LockKey(tx *gorm.DB, key string) error {
	if !IsPostgres(tx) {
		return nil
	}
	return tx.Exec("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", "mmconsole:"+key).Error
}
