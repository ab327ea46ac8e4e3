package webhook

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gorm.io/gorm"

	"mmconsole/internal/accounts"
	"mmconsole/internal/database"
	"mmconsole/models"
)

// benchSchema names the generated database; change it when the events table changes so a stale
// cached file is not reused.
const benchSchema = "v8"

const benchEvents = 1_000_000

// benchDB opens (generating once, then reusing from the temp folder) a database with a million
// events spread over 4 accounts, 8 WABAs, kinds, statuses, routes and error codes. With
// MMC_TEST_DATABASE set it is a PostgreSQL database of its own, generated every time.
func benchDB(b *testing.B) *Service {
	ms := append(accounts.Migrations(), Migrations()...)
	dsn := filepath.Join(os.TempDir(), "mmconsole-webhook-bench-"+benchSchema+".db")
	fresh := false
	if database.TestIsPostgres() {
		dsn, fresh = database.TestDSN(b), true
	} else if _, err := os.Stat(dsn); err != nil {
		fresh = true
	}
	db, err := database.Open(context.Background(), dsn, ms, database.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { database.Close(db) })
	if fresh {
		generateBench(b, db, dsn)
	}
	s := New(db, NewMetrics(), Options{})
	b.Cleanup(func() { s.Close() })
	return s
}

// generateBench fills db with the benchmark's million events and their messages (dsn is the
// SQLite file, removed when the generation fails).
func generateBench(b *testing.B, db *gorm.DB, dsn string) {
	start := time.Now()
	// The rows are the same on both engines; only the number series, the time and the
	// blob are written differently.
	seq, at, key := `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?) `,
		`strftime('%Y-%m-%d %H:%M:%S', 1750000000 + n / 4, 'unixepoch') || '+00:00'`, `CAST('bench:' || n AS BLOB)`
	from := "seq"
	if database.IsPostgres(db) {
		seq, at, key, from = "", "to_timestamp(1750000000 + n / 4)", "convert_to('bench:' || n, 'UTF8')", "generate_series(1, ?) AS n"
	}
	err := db.Exec(seq+`INSERT INTO webhook_events (delivery_id, received_at, account_id, waba_id, phone_number_id, field, kind, status,
			wamid, recipient, route, pricing_category, error_code, error_title, template_id, template_name,
			template_language, detail, occurred_at, dedupe_hash, raw_at, raw_len, raw)
		SELECT n, `+at+`, 1 + n % 4,
			'waba' || (n % 8), 'phone' || (n % 16), 'messages',
			CASE WHEN n % 50 = 0 THEN 'template_status' WHEN n % 97 = 0 THEN 'click' ELSE 'status' END,
			CASE n % 4 WHEN 0 THEN 'sent' WHEN 1 THEN 'delivered' WHEN 2 THEN 'read' ELSE 'failed' END,
			'wamid.bench.' || (n / 3), '1650555' || (n % 5000),
			CASE WHEN n % 5 = 0 THEN 'fallback' ELSE 'mm_api' END,
			CASE WHEN n % 5 = 0 THEN 'marketing' ELSE 'marketing_lite' END,
			CASE WHEN n % 4 = 3 THEN (CASE n % 3 WHEN 0 THEN 131049 WHEN 1 THEN 131026 ELSE 131050 END) END, '',
			CASE WHEN n % 50 = 0 THEN 'tpl' || (n % 40) ELSE '' END,
			CASE WHEN n % 50 = 0 THEN 'promo_' || (n % 40) ELSE '' END, '', '', NULL, `+key+`, 0, 2, ''
		FROM `+from, benchEvents).Error
	if err != nil {
		if !database.IsPostgres(db) {
			os.Remove(dsn)
		}
		b.Fatal(err)
	}
	// The messages of those status events, one per wamid, as ingestion leaves them: the
	// per-message view and the route filter (by the message's route) read them.
	mseq, mat, mfrom := `WITH RECURSIVE seq(m) AS (SELECT 0 UNION ALL SELECT m + 1 FROM seq WHERE m < ?) `,
		`strftime('%Y-%m-%d %H:%M:%S', 1750000000 + (3 * m) / 4, 'unixepoch') || '+00:00'`, "seq"
	if database.IsPostgres(db) {
		mseq, mat, mfrom = "", "to_timestamp(1750000000 + (3 * m) / 4)", "generate_series(0, ?) AS m"
	}
	err = db.Exec(mseq+`INSERT INTO messages (wamid, account_id, waba_id, phone_number_id, recipient, template_name, status,
			status_rank, route, pricing_category, error_code, error_title, created_at, updated_at)
		SELECT 'wamid.bench.' || m, 1 + (3 * m) % 4, 'waba' || ((3 * m) % 8), 'phone' || ((3 * m) % 16),
			'1650555' || ((3 * m) % 5000), CASE WHEN m % 10 = 0 THEN 'promo_' || (m % 40) END,
			CASE m % 4 WHEN 0 THEN 'sent' WHEN 1 THEN 'delivered' WHEN 2 THEN 'read' ELSE 'failed' END, 2,
			CASE WHEN m % 5 = 0 THEN 'fallback' ELSE 'mm_api' END,
			CASE WHEN m % 5 = 0 THEN 'marketing' ELSE 'marketing_lite' END,
			CASE WHEN m % 4 = 3 THEN (CASE m % 3 WHEN 0 THEN 131049 WHEN 1 THEN 131026 ELSE 131050 END) END, '',
			`+mat+`, `+mat+`
		FROM `+mfrom, benchEvents/3).Error
	if err != nil {
		if !database.IsPostgres(db) {
			os.Remove(dsn)
		}
		b.Fatal(err)
	}
	if database.IsPostgres(db) {
		// What autovacuum does to a table that only grows, soon after the inserts: without
		// it the visibility map is empty and no count can be answered from an index alone.
		db.Exec("VACUUM ANALYZE webhook_events")
		db.Exec("VACUUM ANALYZE messages")
	} else {
		db.Exec("ANALYZE")
	}
	b.Logf("generated %d events in %s", benchEvents, time.Since(start))
}

// BenchmarkLogFirstPage measures the log's first page (50 rows and the capped count) with a
// million events stored, for each single filter. Aim: under 50 ms each.
func BenchmarkLogFirstPage(b *testing.B) {
	s := benchDB(b)
	code := 131049
	from := time.Unix(1750000000+100000, 0).UTC()
	to := from.Add(time.Hour)
	cases := []struct {
		name  string
		scope models.Scope
		f     Filter
	}{
		{"none/staff", models.Scope{AllAccounts: true}, Filter{}},
		{"none/account", models.Scope{AccountID: 2}, Filter{}},
		{"waba", models.Scope{AllAccounts: true}, Filter{WABAID: "waba3"}},
		{"phone", models.Scope{AllAccounts: true}, Filter{PhoneNumberID: "phone7"}},
		{"kind", models.Scope{AllAccounts: true}, Filter{Kind: models.KindClick}},
		{"status", models.Scope{AllAccounts: true}, Filter{Status: "failed"}},
		{"route", models.Scope{AllAccounts: true}, Filter{Route: models.RouteFallback}},
		{"route_and_status", models.Scope{AllAccounts: true}, Filter{Route: models.RouteFallback, Status: "read"}},
		{"error_code", models.Scope{AllAccounts: true}, Filter{ErrorCode: &code}},
		{"template", models.Scope{AllAccounts: true}, Filter{Template: "promo_10"}},
		{"template/account", models.Scope{AccountID: 2}, Filter{Template: "promo_10"}},
		{"recipient", models.Scope{AllAccounts: true}, Filter{Recipient: "16505551234"}},
		{"wamid", models.Scope{AllAccounts: true}, Filter{WAMID: "wamid.bench.12345"}},
		{"time_range", models.Scope{AllAccounts: true}, Filter{From: &from, To: &to}},
	}
	ctx := context.Background()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				p, err := s.List(ctx, c.scope, c.f, nil, 50)
				if err != nil {
					b.Fatal(err)
				}
				if len(p.Events) == 0 && c.name != "recipient" && c.name != "template/account" {
					b.Fatal(fmt.Sprintf("no rows for %s", c.name))
				}
			}
		})
	}
}

// BenchmarkLogFirstPageMessages is BenchmarkLogFirstPage for the per-message view (50 messages
// and the capped count), on the same million events and their 333,334 messages. Aim: under
// 50 ms each.
func BenchmarkLogFirstPageMessages(b *testing.B) {
	s := benchDB(b)
	code := 131049
	from := time.Unix(1750000000+100000, 0).UTC()
	to := from.Add(time.Hour)
	tpl := "promo_10"
	cases := []struct {
		name  string
		scope models.Scope
		f     Filter
		empty bool
	}{
		{"none/staff", models.Scope{AllAccounts: true}, Filter{}, false},
		{"none/account", models.Scope{AccountID: 2}, Filter{}, false},
		{"waba", models.Scope{AllAccounts: true}, Filter{WABAID: "waba3"}, false},
		{"phone", models.Scope{AllAccounts: true}, Filter{PhoneNumberID: "phone7"}, false},
		{"status", models.Scope{AllAccounts: true}, Filter{Status: "failed"}, false},
		{"route", models.Scope{AllAccounts: true}, Filter{Route: models.RouteFallback}, false},
		{"error_code", models.Scope{AllAccounts: true}, Filter{ErrorCode: &code}, false},
		{"template", models.Scope{AllAccounts: true}, Filter{Template: tpl}, false},
		{"template_rare", models.Scope{AllAccounts: true}, Filter{Template: "promo_11"}, true},
		{"recipient", models.Scope{AllAccounts: true}, Filter{Recipient: "16505551234"}, false},
		{"wamid", models.Scope{AllAccounts: true}, Filter{WAMID: "wamid.bench.12345"}, false},
		{"time_range", models.Scope{AllAccounts: true}, Filter{From: &from, To: &to}, false},
	}
	ctx := context.Background()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				p, err := s.Messages(ctx, c.scope, c.f, nil, 50)
				if err != nil {
					b.Fatal(err)
				}
				if len(p.Messages) == 0 && !c.empty {
					b.Fatal(fmt.Sprintf("no messages for %s", c.name))
				}
			}
		})
	}
}
