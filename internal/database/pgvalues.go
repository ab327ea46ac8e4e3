package database

import (
	"context"
	"database/sql"
	"math"
	"net/http"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"mmconsole/internal/i18n"
)

// PostgreSQL cannot hold some values that SQLite takes without a word: text with a NUL byte or
// with bytes that are not UTF-8, and integers past the signed 64-bit range (pgx refuses a uint64
// above it; SQLite's driver wraps it to a negative number that matches no row). Such a value
// comes from outside input (a query string, a path, a form) and would otherwise surface as a
// driver error, a 500. checkedPool refuses it before the statement runs, with an error that says
// what was wrong and answers 400: bad input, nothing changed.

// UnrepresentableError is a statement argument the database cannot store or compare.
type UnrepresentableError struct {
	Reason string // "a NUL byte", "bytes that are not UTF-8", "a number past 9223372036854775807"
	// explain is the catalog key of the reason as people read it: Reason is for the log.
	explain string
}

func (e *UnrepresentableError) Error() string {
	return "database: a value holds " + e.Reason + ", which the database cannot store or match"
}

// UserFacing lets the handlers' error mapping answer 400 with words a person can act on.
func (e *UnrepresentableError) UserFacing(ctx context.Context) (int, string, string) {
	key := e.explain
	if key == "" {
		key = i18n.Key("db.unrepresentable.value")
	}
	return http.StatusBadRequest, i18n.T(ctx, "db.unrepresentable.title"), i18n.T(ctx, key)
}

// checkArgs returns an UnrepresentableError for the first argument PostgreSQL cannot take.
func checkArgs(args []any) error {
	for _, a := range args {
		var e *UnrepresentableError
		switch v := a.(type) {
		case string:
			e = textProblem(v)
		case *string:
			if v != nil {
				e = textProblem(*v)
			}
		case uint64:
			if v > math.MaxInt64 {
				e = tooBig()
			}
		case uint:
			if uint64(v) > math.MaxInt64 {
				e = tooBig()
			}
		case *uint64:
			if v != nil && *v > math.MaxInt64 {
				e = tooBig()
			}
		case *uint:
			if v != nil && uint64(*v) > math.MaxInt64 {
				e = tooBig()
			}
		}
		if e != nil {
			return e
		}
	}
	return nil
}

func tooBig() *UnrepresentableError {
	return &UnrepresentableError{Reason: "a number past 9223372036854775807", explain: i18n.Key("db.unrepresentable.number")}
}

func textProblem(s string) *UnrepresentableError {
	if strings.IndexByte(s, 0) >= 0 {
		return &UnrepresentableError{Reason: "a NUL byte", explain: i18n.Key("db.unrepresentable.nul")}
	}
	if !utf8.ValidString(s) {
		return &UnrepresentableError{Reason: "bytes that are not UTF-8", explain: i18n.Key("db.unrepresentable.utf8")}
	}
	return nil
}

// checkedPool is the PostgreSQL connection pool as GORM sees it: every statement's arguments
// pass checkArgs first. It keeps db.DB() and transactions working (GetDBConn, BeginTx).
type checkedPool struct{ db *sql.DB }

func (p *checkedPool) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return p.db.PrepareContext(ctx, query)
}

func (p *checkedPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := checkArgs(args); err != nil {
		return nil, err
	}
	return p.db.ExecContext(ctx, query, args...)
}

func (p *checkedPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := checkArgs(args); err != nil {
		return nil, err
	}
	return p.db.QueryContext(ctx, query, args...)
}

// QueryRowContext passes the arguments unchecked: a *sql.Row cannot carry an error of ours, and
// GORM uses it only for db.Row(); Find, Scan, First, Count and Create go through QueryContext.
func (p *checkedPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return p.db.QueryRowContext(ctx, query, args...)
}

func (p *checkedPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	tx, err := p.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &checkedTx{tx}, nil
}

func (p *checkedPool) GetDBConn() (*sql.DB, error) { return p.db, nil }

func (p *checkedPool) Ping() error { return p.db.Ping() }

// checkedTx is a transaction of checkedPool.
type checkedTx struct{ tx *sql.Tx }

func (t *checkedTx) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return t.tx.PrepareContext(ctx, query)
}

func (t *checkedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := checkArgs(args); err != nil {
		return nil, err
	}
	return t.tx.ExecContext(ctx, query, args...)
}

func (t *checkedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := checkArgs(args); err != nil {
		return nil, err
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t *checkedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, query, args...)
}

func (t *checkedTx) StmtContext(ctx context.Context, stmt *sql.Stmt) *sql.Stmt {
	return t.tx.StmtContext(ctx, stmt)
}

func (t *checkedTx) Commit() error   { return t.tx.Commit() }
func (t *checkedTx) Rollback() error { return t.tx.Rollback() }
