package webhook

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"mmconsole/internal/database"
)

// The webhook store runs on SQLite (the embedded default) and on PostgreSQL (several instances
// sharing one database). Nearly all of its SQL is common to both (the larger of two values is
// database.Greatest); what is not lives here, so the writer, the pruner and the effects never
// test the engine themselves:
//   - the writer's prepared statements bypass GORM, so their placeholders are the driver's own
//     (? for SQLite, $1… for PostgreSQL), and so are the values it binds (timeArg); on
//     PostgreSQL its multi-row statements take one array per column (arrays);
//   - a column IN a subquery, OR-ed with indexed terms (the log's template filter), is
//     inSubquery: PostgreSQL can combine the terms' indexes only when the subquery is an array;
//   - counting the events of a set of messages (the log's template filter) is eventsOfMessages:
//     PostgreSQL is told the join order with LATERAL;
//   - the WAL, its checkpoints and journal_size_limit are SQLite's alone: on PostgreSQL the
//     server manages its own write-ahead log, so the checkpointer does not run and the WAL
//     metrics stay 0.

// dialect is what the store needs to know about the engine behind a *gorm.DB.
type dialect struct {
	postgres bool
}

func dialectOf(db *gorm.DB) dialect {
	return dialect{postgres: database.IsPostgres(db)}
}

// hasWAL reports whether the engine is SQLite, whose WAL file the service checkpoints itself.
func (d dialect) hasWAL() bool { return !d.postgres }

// arrays reports whether the writer binds its multi-row statements as one array per column
// (PostgreSQL, arrays.go) rather than as VALUES lists (SQLite, which has no arrays).
func (d dialect) arrays() bool { return d.postgres }

// placeholders rewrites the ? placeholders of a statement for the driver: PostgreSQL numbers
// them. The writer's statements hold no ? inside string literals, which this does not parse.
func (d dialect) placeholders(q string) string {
	if !d.postgres {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + len(q)/4)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] != '?' {
			b.WriteByte(q[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// sqliteTime is how the SQLite driver writes a time.Time bound to a statement (the first of
// its SQLiteTimestampFormats), and how it reads it back.
const sqliteTime = "2006-01-02 15:04:05.999999999-07:00"

// timeArg is t as the writer binds it; nil for nil. The SQLite driver formats every time.Time
// it binds, on the single writer; formatting it beforehand, on the request's goroutine, gives
// the same text and takes that work off the writer. PostgreSQL gets the time itself (pgx sends
// it in binary).
func (d dialect) timeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	if d.postgres {
		return *t
	}
	return t.Format(sqliteTime)
}

// inSubquery is the SQL for "col IN (sub)". On PostgreSQL an IN (subquery) beside OR-ed
// indexed terms makes the whole condition a filter, so a count scans the table (measured: 1 s
// at a million events); = ANY(ARRAY(sub)) runs the subquery once and lets a bitmap scan OR the
// indexes of every term. SQLite has no arrays and already ORs the indexes of an IN.
func (d dialect) inSubquery(col, sub string) string {
	if d.postgres {
		return col + " = ANY(ARRAY(" + sub + "))"
	}
	return col + " IN (" + sub + ")"
}

// eventsOfMessages counts, up to n, the rows of events (a query on webhook_events selecting 1)
// whose wamid is one of those msgs (SQL selecting wamid, with its arguments) selects. It must go
// from the messages to their events by the wamid index and stop at n. SQLite does so with an
// IN. PostgreSQL, estimating many matches, would rather hash the messages and scan every event
// in scope (a second and more at a million events when few or none match): a LATERAL subquery
// with its own LIMIT cannot be flattened into that join, so each message probes its events.
func (d dialect) eventsOfMessages(db *gorm.DB, msgs string, args []any, events *gorm.DB, n int) *gorm.DB {
	if d.postgres {
		events = events.Where("webhook_events.wamid = tm.wamid").Limit(n)
		return db.Raw("SELECT count(*) FROM (SELECT 1 FROM ("+msgs+") AS tm CROSS JOIN LATERAL (?) AS e LIMIT ?) AS c",
			append(slices.Clone(args), events, n)...)
	}
	return db.Raw("SELECT count(*) FROM (?) AS c", events.Where("wamid IN ("+msgs+")", args...).Limit(n))
}

// storable is the filter as stored text can match it: a value holding a NUL byte or invalid
// UTF-8 (anyone can type one into a URL) is cleaned as the stored text was (cleanText), so it
// matches what it would have matched on SQLite instead of failing the whole query on
// PostgreSQL, which refuses such text even as a parameter.
func (f Filter) storable() Filter {
	for _, v := range []*string{&f.WABAID, &f.PhoneNumberID, &f.Kind, &f.Status, &f.Route, &f.Template, &f.Recipient, &f.WAMID} {
		*v = cleanText(*v)
	}
	return f
}

// storedID is a cursor's id as a bound parameter: ids are signed 64-bit on both engines, and
// PostgreSQL refuses a larger unsigned value outright. No row has a larger id, so the largest
// one compares the same.
func storedID(id uint) uint {
	return min(id, math.MaxInt64)
}

// idInRange reports whether id can be a stored row's id (a signed 64-bit number on both
// engines): a larger one names no row, and PostgreSQL would refuse it as a parameter.
func idInRange(id uint) bool { return id <= math.MaxInt64 }
