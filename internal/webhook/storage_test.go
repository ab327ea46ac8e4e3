package webhook

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"mmconsole/internal/accounts"
	"mmconsole/internal/database"
	"mmconsole/models"
)

// dbFileSize checkpoints and vacuums db, so the file holds exactly its pages, and returns the
// file's size.
func dbFileSize(t testing.TB, db *gorm.DB) int64 {
	t.Helper()
	if dialectOf(db).postgres {
		return pgSchemaSize(t, db)
	}
	for _, q := range []string{"PRAGMA wal_checkpoint(TRUNCATE)", "VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"} {
		if err := db.Exec(q).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var file string
	if err := db.Raw("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&file).Error; err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// pgSchemaSize is dbFileSize on PostgreSQL: the tables of the test's schema after VACUUM FULL
// (which rewrites them compactly, as VACUUM does a SQLite file), with their indexes and TOAST.
func pgSchemaSize(t testing.TB, db *gorm.DB) int64 {
	t.Helper()
	var tables []string
	if err := db.Raw("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").Scan(&tables).Error; err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		if err := db.Exec("VACUUM FULL " + tb).Error; err != nil {
			t.Fatalf("VACUUM FULL %s: %v", tb, err)
		}
	}
	var size int64
	if err := db.Raw(`SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'`).Scan(&size).Error; err != nil {
		t.Fatal(err)
	}
	return size
}

// A real wamid's length (they are about 60 characters).
const realWAMID = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3"

// TestStoragePerStatusEvent stores 50-event status deliveries and checks what one event costs on
// disk after VACUUM: its row and indexes, its share of the delivery and of the message row. Two
// shapes: messages that get sent, delivered and read (three events share a message row, as in
// real traffic; aim under 800 bytes), and the load generator's, where every event is a "sent"
// of a new message (a message row each).
func TestStoragePerStatusEvent(t *testing.T) {
	const deliveries, events, senders = 240, 50, 8
	cases := []struct {
		name  string
		body  func(n int) []byte
		limit float64
	}{
		{"sent, delivered, read", func(n int) []byte {
			return statusDelivery(realWAMID, n/3, events, []string{"sent", "delivered", "read"}[n%3])
		}, 800},
		{"every event a new message", func(n int) []byte { return statusDelivery(realWAMID, n, events, "sent") }, 1000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := testDB(t)
			empty := dbFileSize(t, db)
			s := New(db, NewMetrics(), Options{})
			work := make(chan int)
			var wg sync.WaitGroup
			for range senders {
				wg.Go(func() {
					for n := range work {
						if _, err := s.Ingest(context.Background(), Delivery{Body: c.body(n), RemoteAddr: "127.0.0.1"}); err != nil {
							t.Error(err)
						}
					}
				})
			}
			// In order, so that a message's statuses come in the order Meta sends them.
			for n := range deliveries {
				work <- n
			}
			close(work)
			wg.Wait()
			s.Close()
			var stored int64
			if err := db.Table("webhook_events").Count(&stored).Error; err != nil {
				t.Fatal(err)
			}
			if stored != deliveries*events {
				t.Fatalf("%d events stored, want %d", stored, deliveries*events)
			}
			per := float64(dbFileSize(t, db)-empty) / float64(stored)
			t.Logf("%.0f bytes on disk per stored status event (%d events, %d per delivery)", per, stored, events)
			if per >= c.limit {
				t.Errorf("%.0f bytes per status event, want under %.0f", per, c.limit)
			}
		})
	}
}

// released0006 is the webhook schema as 0006_webhooks created it before 0030 (the models have
// changed since, so it is written out).
var released0006 = []string{
	"CREATE TABLE `webhook_events` (`id` integer PRIMARY KEY AUTOINCREMENT,`delivery_id` integer NOT NULL,`received_at` datetime NOT NULL,`account_id` integer,`waba_id` text NOT NULL DEFAULT \"\",`phone_number_id` text NOT NULL DEFAULT \"\",`field` text NOT NULL DEFAULT \"\",`kind` text NOT NULL,`status` text NOT NULL DEFAULT \"\",`wamid` text NOT NULL DEFAULT \"\",`recipient` text NOT NULL DEFAULT \"\",`route` text NOT NULL DEFAULT \"\",`pricing_category` text NOT NULL DEFAULT \"\",`error_code` integer,`error_title` text NOT NULL DEFAULT \"\",`template_id` text NOT NULL DEFAULT \"\",`template_name` text NOT NULL DEFAULT \"\",`template_language` text NOT NULL DEFAULT \"\",`detail` text NOT NULL DEFAULT \"\",`occurred_at` datetime,`dedupe_key` text NOT NULL,`raw` text NOT NULL)",
	"CREATE UNIQUE INDEX `idx_webhook_events_dedupe_key` ON `webhook_events`(`dedupe_key`)",
	"CREATE INDEX `idx_webhook_events_delivery_id` ON `webhook_events`(`delivery_id`)",
	"CREATE INDEX `idx_wh_events_received` ON `webhook_events`(`received_at`,`id`)",
	"CREATE INDEX idx_wh_events_wamid ON webhook_events (wamid, received_at, id)",
	"CREATE INDEX idx_wh_events_status ON webhook_events (status, received_at, id)",
	"CREATE TABLE `webhook_deliveries` (`id` integer PRIMARY KEY AUTOINCREMENT,`received_at` datetime NOT NULL,`remote_addr` text NOT NULL DEFAULT \"\",`body_size` integer NOT NULL,`body` text NOT NULL,`event_count` integer NOT NULL DEFAULT 0,`duplicate_count` integer NOT NULL DEFAULT 0,`parse_error` text NOT NULL DEFAULT \"\")",
	"CREATE TABLE `messages` (`wamid` text,`account_id` integer,`waba_id` text NOT NULL DEFAULT \"\",`phone_number_id` text NOT NULL DEFAULT \"\",`recipient` text NOT NULL DEFAULT \"\",`template_name` text,`template_language` text,`status` text NOT NULL DEFAULT \"\",`status_rank` integer NOT NULL DEFAULT 0,`route` text NOT NULL DEFAULT \"unknown\",`pricing_category` text NOT NULL DEFAULT \"\",`error_code` integer,`error_title` text NOT NULL DEFAULT \"\",`accepted_at` datetime,`sent_at` datetime,`delivered_at` datetime,`read_at` datetime,`failed_at` datetime,`clicked_at` datetime,`ttl_seconds` integer,`send_request` text,`created_at` datetime,`updated_at` datetime,PRIMARY KEY (`wamid`))",
	"CREATE INDEX `idx_messages_status` ON `messages`(`status`)",
	"CREATE INDEX `idx_messages_phone_sent` ON `messages`(`phone_number_id`,`route`,`sent_at`)",
}

// TestStorageMigrationKeepsReleasedData migrates a database holding deliveries and events in
// 0006's layout: the bodies still read back, each event's raw JSON is still shown, and a
// redelivery of a stored event is still recognised as a duplicate.
func TestStorageMigrationKeepsReleasedData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	old := database.Migration{ID: "0006_webhooks", Up: func(tx *gorm.DB) error {
		if err := tx.AutoMigrate(&models.Template{}); err != nil {
			return err
		}
		for _, q := range released0006 {
			if err := tx.Exec(q).Error; err != nil {
				return err
			}
		}
		return nil
	}}
	db, err := database.Open(context.Background(), path, append(accounts.Migrations(), old), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	compactBody := string(statusDelivery("wamid.old.", 1, 2, "sent"))
	prettyBody := "{\n \"object\": \"whatsapp_business_account\", \"entry\": [{\"id\": \"100\", \"changes\": [{\"field\": \"messages\", \"value\": {\"statuses\": [{\"id\": \"wamid.pretty\", \"status\": \"read\", \"timestamp\": \"1750000001\"}]}}]}]\n}"
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	type oldEvent struct {
		delivery uint
		ev       Event
	}
	var evs []oldEvent
	for i, body := range []string{compactBody, prettyBody} {
		if err := db.Exec("INSERT INTO webhook_deliveries (id, received_at, body_size, body, event_count) VALUES (?, ?, ?, ?, ?)",
			i+1, at, len(body), body, 0).Error; err != nil {
			t.Fatal(err)
		}
		for _, e := range Parse([]byte(body)).Events {
			evs = append(evs, oldEvent{uint(i + 1), e})
			if err := db.Exec(`INSERT INTO webhook_events (delivery_id, received_at, waba_id, field, kind, status, wamid, dedupe_key, raw)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, i+1, at, e.WABAID, e.Field, e.Kind, e.Status, e.WAMID, e.DedupeKey, e.Raw).Error; err != nil {
				t.Fatal(err)
			}
		}
	}
	database.Close(db)
	if len(evs) != 3 {
		t.Fatalf("%d events parsed, want 3", len(evs))
	}

	db, err = database.Open(context.Background(), path, append(accounts.Migrations(), Migrations()...), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer database.Close(db)
	s := newService(t, db)
	ctx, staff := context.Background(), models.Scope{AllAccounts: true}
	for i, want := range []string{compactBody, prettyBody} {
		d, err := s.Delivery(ctx, staff, uint(i+1))
		if err != nil || d.Body != want {
			t.Errorf("delivery %d body %q (%v), want %q", i+1, d.Body, err, want)
		}
	}
	var stored []models.WebhookEvent
	if err := db.Order("id").Find(&stored).Error; err != nil {
		t.Fatal(err)
	}
	for i, e := range stored {
		full, err := s.Event(ctx, staff, e.ID)
		if err != nil || full.Raw != evs[i].ev.Raw {
			t.Errorf("event %d raw %q (%v), want %q", e.ID, full.Raw, err, evs[i].ev.Raw)
		}
		// The compact body holds its events verbatim; the pretty one keeps its event's own copy.
		if inBody := e.Raw == ""; inBody != (evs[i].delivery == 1) {
			t.Errorf("event %d: raw kept in the event %q, raw_at %v", e.ID, e.Raw, e.RawAt)
		}
	}
	if r := ingest(t, s, compactBody); r.Events != 0 || r.Duplicates != 2 {
		t.Errorf("redelivery after the migration: %+v, want 2 duplicates", r)
	}
	var idx []string
	db.Raw("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('webhook_events', 'messages') ORDER BY name").Scan(&idx)
	for _, name := range idx {
		if slices.Contains(oldIndexes, name) {
			t.Errorf("index %s is still there", name)
		}
	}
	if !slices.Contains(idx, "idx_wh_ev_dedupe") || !slices.Contains(idx, "idx_wh_ev_wamid") {
		t.Errorf("new indexes missing: %v", idx)
	}
}

// TestRawJSONIsCutFromTheDelivery: events of a compact body point into it and show exactly
// their part; a body that is not compact JSON keeps each event's own copy.
func TestRawJSONIsCutFromTheDelivery(t *testing.T) {
	db := testDB(t)
	s := newService(t, db)
	ctx, staff := context.Background(), models.Scope{AllAccounts: true}
	cases := []struct {
		name   string
		body   string
		inBody bool
	}{
		{"compact", string(statusDelivery("wamid.cut.", 1, 3, "delivered")), true},
		{"indented", "{\"object\": \"whatsapp_business_account\",\n  \"entry\": [{\"id\": \"100\", \"changes\": [{\"field\": \"messages\", \"value\": {\"statuses\": [{\"id\": \"wamid.indented\", \"status\": \"read\", \"timestamp\": \"1750000001\"}]}}]}]}", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ingest(t, s, c.body)
			want := Parse([]byte(c.body)).Events
			var evs []models.WebhookEvent
			db.Where("delivery_id = ?", r.DeliveryID).Order("id").Find(&evs)
			if len(evs) != len(want) || len(evs) == 0 {
				t.Fatalf("%d events stored, want %d", len(evs), len(want))
			}
			for i, e := range evs {
				if (e.Raw == "") != c.inBody || (e.RawAt != nil) != c.inBody {
					t.Errorf("event %d: raw %q raw_at %v", i, e.Raw, e.RawAt)
				}
				full, err := s.Event(ctx, staff, e.ID)
				if err != nil || full.Raw != want[i].Raw || !strings.Contains(full.Raw, e.WAMID) {
					t.Errorf("event %d raw %q (%v), want %q", i, full.Raw, err, want[i].Raw)
				}
			}
		})
	}
}
