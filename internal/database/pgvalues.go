package database

import (
	"context"
	"database/sql"
	"math"
	"net/http"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"
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
}

func (e *UnrepresentableError) Error() string {
	return "database: a value holds " + e.Reason + ", which the database cannot store or match"
}

// UserFacing lets the handlers' error mapping answer 400 with words a person can act on.
func (e *UnrepresentableError) UserFacing(ctx context.Context) (int, string, string) {
	return http.StatusBadRequest, "Bad request", "A value in this request holds " + e.Reason + ", which cannot be stored or searched for. Remove it and try again."
}

// checkArgs returns an UnrepresentableError for the first argument PostgreSQL cannot take.
func checkArgs(args []any) error {
	for _, a := range args {
		var reason string
		switch v := a.(type) {
		case string:
			reason = textProblem(v)
		case *string:
			if v != nil {
				reason = textProblem(*v)
			}
		case uint64:
			if v > math.MaxInt64 {
				reason = "a number past 9223372036854775807"
			}
		case uint:
			if uint64(v) > math.MaxInt64 {
				reason = "a number past 9223372036854775807"
			}
		case *uint64:
			if v != nil && *v > math.MaxInt64 {
				reason = "a number past 9223372036854775807"
			}
		case *uint:
			if v != nil && uint64(*v) > math.MaxInt64 {
				reason = "a number past 9223372036854775807"
			}
		}
		if reason != "" {
			return &UnrepresentableError{Reason: reason}
		}
	}
	return nil
}

func textProblem(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		return "a NUL byte"
	}
	if !utf8.ValidString(s) {
		return "bytes that are not UTF-8"
	}
	return ""
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
