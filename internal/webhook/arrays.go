package webhook

import (
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// On PostgreSQL the writer binds each column of a multi-row statement as one array and unnests
// them, instead of a VALUES list of one parameter per value: a group is then one statement per
// table whatever its size (a VALUES list is cut into chunks of at most maxRows rows, each a
// round trip), the statement is prepared once rather than once per chunk size, and the server
// receives 23 parameters instead of 23 per event. SQLite has no arrays and keeps the VALUES
// lists (stmts.go).

// unnestInsert is "INSERT INTO table (cols) SELECT * FROM unnest($1::type[], …)" for columns
// whose types are given in order.
func unnestInsert(table, cols string, types []string) string {
	q := "INSERT INTO " + table + " (" + cols + ") SELECT * FROM unnest("
	for i, t := range types {
		if i > 0 {
			q += ", "
		}
		q += fmt.Sprintf("$%d::%s[]", i+1, t)
	}
	return q + ")"
}

// eventArraysSQL inserts the events in dedupe-key order, so that writers storing the same
// events at once (two writers, two instances, a retry beside its original) wait for each
// other's keys in one order instead of deadlocking (PostgreSQL found a deadlock, and stalled
// both groups for a second, when two groups held the same keys in different orders). Their
// ids are still drawn in the order of the arrays, the order the events were received, since the
// log is ordered by id.
func eventArraysSQL() string {
	var b strings.Builder
	b.WriteString("WITH v AS (SELECT nextval('webhook_events_id_seq') AS id, u.* FROM unnest(")
	for i, t := range eventColumnTypes {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d::%s[]", i+1, t)
	}
	b.WriteString(") AS u(" + eventColumns + "))\n")
	b.WriteString("INSERT INTO webhook_events (id, " + eventColumns + ") SELECT * FROM v ORDER BY dedupe_hash")
	b.WriteString(" ON CONFLICT (dedupe_hash) DO NOTHING RETURNING id, dedupe_hash")
	return b.String()
}

// eventColumnTypes are the PostgreSQL types of eventColumns, in order.
var eventColumnTypes = []string{"bigint", "timestamptz", "bigint", "text", "text", "text", "text", "text", "text",
	"text", "text", "text", "bigint", "text", "text", "text", "text", "text", "timestamptz", "bytea", "bigint", "bigint", "text"}

// messageColumnTypes are the PostgreSQL types of messageColumns, in order.
var messageColumnTypes = []string{"text", "bigint", "text", "text", "text", "text", "bigint", "text", "text", "bigint",
	"text", "timestamptz", "timestamptz", "timestamptz", "timestamptz", "timestamptz", "timestamptz"}

// deliveryColumnTypes are the PostgreSQL types of a delivery row's bound columns (stmtDelivery).
var deliveryColumnTypes = []string{"timestamptz", "text", "bigint", "bytea", "bigint", "text", "text"}

// int64Ptr is p as the signed 64-bit integer PostgreSQL stores; nil for nil.
func int64Ptr[T int | uint](p *T) *int64 {
	if p == nil {
		return nil
	}
	v := int64(*p)
	return &v
}

// eventArrays are the columns of a group's events, one slice per column of eventColumns.
type eventArrays struct {
	delivery, rawLen                            []int64
	received                                    []time.Time
	account, errorCode, rawAt                   []*int64
	occurred                                    []*time.Time
	dedupe                                      [][]byte
	waba, phone, field, kind, status, wamid     []string
	recipient, route, category, errTitle, tplID []string
	tplName, tplLang, detail, raw               []string
}

func newEventArrays(n int) *eventArrays {
	a := &eventArrays{delivery: make([]int64, 0, n), rawLen: make([]int64, 0, n), received: make([]time.Time, 0, n),
		account: make([]*int64, 0, n), errorCode: make([]*int64, 0, n), rawAt: make([]*int64, 0, n),
		occurred: make([]*time.Time, 0, n), dedupe: make([][]byte, 0, n)}
	for _, s := range a.texts() {
		*s = make([]string, 0, n)
	}
	return a
}

func (a *eventArrays) texts() []*[]string {
	return []*[]string{&a.waba, &a.phone, &a.field, &a.kind, &a.status, &a.wamid, &a.recipient, &a.route, &a.category,
		&a.errTitle, &a.tplID, &a.tplName, &a.tplLang, &a.detail, &a.raw}
}

func (a *eventArrays) add(delivery uint, at time.Time, account *uint, e *Event, rawAt *int, raw string) {
	a.delivery = append(a.delivery, int64(delivery))
	a.received = append(a.received, at)
	a.account = append(a.account, int64Ptr(account))
	a.waba = append(a.waba, e.WABAID)
	a.phone = append(a.phone, e.PhoneNumberID)
	a.field = append(a.field, e.Field)
	a.kind = append(a.kind, e.Kind)
	a.status = append(a.status, e.Status)
	a.wamid = append(a.wamid, e.WAMID)
	a.recipient = append(a.recipient, e.Recipient)
	a.route = append(a.route, e.Route)
	a.category = append(a.category, e.PricingCategory)
	a.errorCode = append(a.errorCode, int64Ptr(e.ErrorCode))
	a.errTitle = append(a.errTitle, e.ErrorTitle)
	a.tplID = append(a.tplID, e.TemplateID)
	a.tplName = append(a.tplName, e.TemplateName)
	a.tplLang = append(a.tplLang, e.TemplateLanguage)
	a.detail = append(a.detail, e.Detail)
	a.occurred = append(a.occurred, e.OccurredAt)
	a.dedupe = append(a.dedupe, []byte(e.dedupeHash))
	a.rawAt = append(a.rawAt, int64Ptr(rawAt))
	a.rawLen = append(a.rawLen, int64(len(e.Raw)))
	a.raw = append(a.raw, raw)
}

// args are the statement's parameters, in the order of eventColumns.
func (a *eventArrays) args() []any {
	return []any{a.delivery, a.received, a.account, a.waba, a.phone, a.field, a.kind, a.status, a.wamid, a.recipient,
		a.route, a.category, a.errorCode, a.errTitle, a.tplID, a.tplName, a.tplLang, a.detail, a.occurred, a.dedupe,
		a.rawAt, a.rawLen, a.raw}
}

// scanEventKeys reads the (id, dedupe_hash) rows of an events insert into newKeys.
func scanEventKeys(rows *sql.Rows, newKeys map[string]uint) error {
	defer rows.Close()
	for rows.Next() {
		var id uint
		var key []byte
		if err := rows.Scan(&id, &key); err != nil {
			return fmt.Errorf("webhook: store events: %w", err)
		}
		newKeys[string(key)] = id
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("webhook: store events: %w", err)
	}
	return nil
}

// upsertMessageArrays is upsertMessages in one statement of arrays.
func upsertMessageArrays(st *txStmts, msgs map[string]*msgState, order []string, now time.Time) error {
	n := len(order)
	wamid, waba, phone, recipient := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	status, route, category, errTitle := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	account, errCode, rank := make([]*int64, n), make([]*int64, n), make([]int64, n)
	sent, delivered, read, failed := make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n)
	stamp := make([]time.Time, n)
	for i, w := range order {
		m := msgs[w]
		wamid[i], account[i], waba[i], phone[i], recipient[i] = m.wamid, int64Ptr(m.account), m.waba, m.phone, m.recipient
		status[i], rank[i], route[i], category[i] = m.status, int64(m.rank), m.route, m.category
		errCode[i], errTitle[i] = int64Ptr(m.errCode), m.errTitle
		sent[i], delivered[i], read[i], failed[i], stamp[i] = m.sent, m.delivered, m.read, m.failed, now
	}
	up, err := st.get(stmtKey{kind: stmtMessages})
	if err != nil {
		return err
	}
	// created_at and updated_at are both now: the same array twice.
	if _, err := up.ExecContext(st.ctx, wamid, account, waba, phone, recipient, status, rank, route, category, errCode,
		errTitle, sent, delivered, read, failed, stamp, stamp); err != nil {
		return fmt.Errorf("webhook: update messages: %w", err)
	}
	return nil
}
