package webhook

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/bits"
	"strings"

	"gorm.io/gorm"
)

// The writer's hot statements (a delivery, a chunk of events, a chunk of message upserts) are
// prepared once and reused: compiling the multi-row INSERTs for every group was about a quarter
// of the writer's time, and building them through GORM (which rescans the SQL for each of a
// thousand bound values) another tenth. Multi-row statements come in power-of-two row counts up
// to maxRows, so any number of rows is a few executions and the cache stays small.
const maxRows = 64 // 64 × 23 event columns: well under SQLite's bound-parameter limit

type stmtKind int

const (
	stmtDelivery stmtKind = iota
	stmtEvents
	stmtMessages
)

type stmtKey struct {
	kind stmtKind
	rows int
}

// stmtCache holds statements prepared on the pool. Only the writer goroutine uses it.
type stmtCache struct {
	db    *sql.DB
	dia   dialect
	stmts map[stmtKey]*sql.Stmt
}

func newStmtCache(db *gorm.DB, d dialect) (*stmtCache, error) {
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	return &stmtCache{db: sqlDB, dia: d, stmts: map[stmtKey]*sql.Stmt{}}, nil
}

func (c *stmtCache) get(k stmtKey) (*sql.Stmt, error) {
	if st, ok := c.stmts[k]; ok {
		return st, nil
	}
	st, err := c.db.Prepare(c.dia.placeholders(statementSQL(k)))
	if err != nil {
		return nil, fmt.Errorf("webhook: prepare statement: %w", err)
	}
	c.stmts[k] = st
	return st, nil
}

func (c *stmtCache) close() {
	for k, st := range c.stmts {
		st.Close()
		delete(c.stmts, k)
	}
}

// txStmts binds the cached statements to one transaction (database/sql reuses the statement
// already prepared on the transaction's connection, preparing it there only the first time).
type txStmts struct {
	ctx   context.Context
	tx    *sql.Tx
	cache *stmtCache
	bound map[stmtKey]*sql.Stmt
}

var errNotSQLTx = errors.New("webhook: the transaction is not a database/sql transaction")

func (c *stmtCache) in(tx *gorm.DB) (*txStmts, error) {
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return nil, errNotSQLTx
	}
	return &txStmts{ctx: tx.Statement.Context, tx: sqlTx, cache: c, bound: map[stmtKey]*sql.Stmt{}}, nil
}

func (t *txStmts) get(k stmtKey) (*sql.Stmt, error) {
	if st, ok := t.bound[k]; ok {
		return st, nil
	}
	st, err := t.cache.get(k)
	if err != nil {
		return nil, err
	}
	st = t.tx.StmtContext(t.ctx, st)
	t.bound[k] = st
	return st, nil
}

// exec runs a one-off statement (not worth preparing) in the transaction.
func (t *txStmts) exec(q string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(t.ctx, t.cache.dia.placeholders(q), args...)
}

// chunk is the row count of the next statement for n remaining rows: the largest power of two
// not above n or maxRows.
func chunk(n int) int {
	return 1 << (bits.Len(uint(min(n, maxRows))) - 1)
}

const messageColumns = "wamid, account_id, waba_id, phone_number_id, recipient, status, status_rank, route, pricing_category, error_code, error_title, sent_at, delivered_at, read_at, failed_at, created_at, updated_at"

// messageUpsert only touches the columns webhooks own and never moves the status backwards (a
// higher rank wins; failed is the highest, so it is final); the first timestamp of each status
// is kept. It changes an existing message only for the account that owns it (the WHERE of the
// DO UPDATE): a status naming another account's wamid leaves it as it is. A message nobody owns
// yet (first seen for a WABA nobody had connected) is taken over only by events of that WABA.
const messageUpsert = ` ON CONFLICT (wamid) DO UPDATE SET
	account_id = COALESCE(messages.account_id, excluded.account_id),
	waba_id = CASE WHEN messages.waba_id = '' THEN excluded.waba_id ELSE messages.waba_id END,
	phone_number_id = CASE WHEN messages.phone_number_id = '' THEN excluded.phone_number_id ELSE messages.phone_number_id END,
	recipient = CASE WHEN messages.recipient = '' THEN excluded.recipient ELSE messages.recipient END,
	status = CASE WHEN excluded.status_rank > messages.status_rank THEN excluded.status ELSE messages.status END,
	status_rank = CASE WHEN excluded.status_rank > messages.status_rank THEN excluded.status_rank ELSE messages.status_rank END,
	route = CASE WHEN excluded.route = 'cloud_api' AND messages.send_request IS NOT NULL THEN 'fallback'
		WHEN excluded.route <> 'unknown' THEN excluded.route ELSE messages.route END,
	pricing_category = CASE WHEN excluded.pricing_category <> '' THEN excluded.pricing_category ELSE messages.pricing_category END,
	error_code = COALESCE(excluded.error_code, messages.error_code),
	error_title = CASE WHEN excluded.error_code IS NOT NULL THEN excluded.error_title ELSE messages.error_title END,
	sent_at = COALESCE(messages.sent_at, excluded.sent_at),
	delivered_at = COALESCE(messages.delivered_at, excluded.delivered_at),
	read_at = COALESCE(messages.read_at, excluded.read_at),
	failed_at = COALESCE(messages.failed_at, excluded.failed_at),
	updated_at = excluded.updated_at
	WHERE messages.account_id = excluded.account_id
		OR (messages.account_id IS NULL AND messages.waba_id IN ('', excluded.waba_id))`

// statementSQL is the SQL of a statement; rows 0 is its array form (arrays.go).
func statementSQL(k stmtKey) string {
	if k.rows == 0 {
		switch k.kind {
		case stmtDelivery:
			return `INSERT INTO webhook_deliveries (received_at, remote_addr, body_size, body, body_zstd, event_count, duplicate_count, parse_error, verified_by)
				SELECT r, a, s, '', z, n, 0, p, v FROM unnest($1::timestamptz[], $2::text[], $3::bigint[], $4::bytea[], $5::bigint[], $6::text[], $7::text[]) AS t(r, a, s, z, n, p, v)
				RETURNING id`
		case stmtEvents:
			return eventArraysSQL()
		case stmtMessages:
			return unnestInsert("messages", messageColumns, messageColumnTypes) + messageUpsert
		}
	}
	values := func(cols, rows int) string {
		one := "(" + strings.Repeat("?,", cols-1) + "?)"
		return strings.Repeat(one+",", rows-1) + one
	}
	switch k.kind {
	case stmtDelivery:
		// body and duplicate_count are written out: a database migrated from 0006 has no
		// default for body.
		one := "(?, ?, ?, '', ?, ?, 0, ?, ?)"
		return "INSERT INTO webhook_deliveries (received_at, remote_addr, body_size, body, body_zstd, event_count, duplicate_count, parse_error, verified_by) VALUES " +
			strings.Repeat(one+",", k.rows-1) + one + " RETURNING id"
	case stmtEvents:
		return "INSERT INTO webhook_events (" + eventColumns + ") VALUES " + values(eventColumnCount, k.rows) +
			" ON CONFLICT (dedupe_hash) DO NOTHING RETURNING id, dedupe_hash"
	case stmtMessages:
		return "INSERT INTO messages (" + messageColumns + ") VALUES " + values(17, k.rows) + messageUpsert
	}
	panic("webhook: unknown statement")
}
