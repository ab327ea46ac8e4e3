package webhook

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"github.com/klauspost/compress/zstd"
	"gorm.io/gorm"

	"mmconsole/internal/database"
	"mmconsole/models"
)

// How an event is stored, and why (0030_webhook_storage). An event used to cost about 2 KB on
// disk: its raw JSON in its own row, the delivery's body again in full, a text dedupe key in the
// row and in a unique index, and eleven indexes each carrying (column, received_at, id). Now:
//   - the delivery's body is stored once, zstd-compressed; an event keeps only where its JSON is
//     in that body (RawAt, RawLen), and its own copy only when it is not there verbatim;
//   - the dedupe key is 16 bytes of its SHA-256 (a collision needs about 2^64 events);
//   - the log is ordered by id (the order events were stored, which is the order they were
//     received), so each filter's index is the column alone: SQLite appends the rowid to every
//     index entry, which gives the id order for free;
//   - received_at is kept to the millisecond (its text is shorter, in the row and its index);
//   - filters whose column is empty for almost every event (error code, template) have partial
//     indexes that leave the empty rows out.

// dedupeLen is how many bytes of the dedupe key's SHA-256 are kept.
const dedupeLen = 16

func dedupeHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return string(sum[:dedupeLen])
}

// logIndexes are the log's indexes: one per filter, plus time and the dedupe key.
var logIndexes = []string{
	"CREATE UNIQUE INDEX IF NOT EXISTS idx_wh_ev_dedupe ON webhook_events (dedupe_hash)",
	"CREATE INDEX IF NOT EXISTS idx_wh_ev_received_at ON webhook_events (received_at)",
	"CREATE INDEX IF NOT EXISTS idx_wh_ev_account_id ON webhook_events (account_id)",
	"CREATE INDEX IF NOT EXISTS idx_wh_ev_waba_id ON webhook_events (waba_id)",
	"CREATE INDEX IF NOT EXISTS idx_wh_ev_phone_number_id ON webhook_events (phone_number_id)",
	"CREATE INDEX IF NOT EXISTS idx_wh_ev_kind ON webhook_events (kind)",
	"CREATE INDEX IF NOT EXISTS idx_wh_ev_status ON webhook_events (status)",
	"CREATE INDEX IF NOT EXISTS idx_wh_ev_route ON webhook_events (route)",
	"CREATE INDEX IF NOT EXISTS idx_wh_ev_recipient ON webhook_events (recipient)",
	"CREATE INDEX IF NOT EXISTS idx_wh_ev_wamid ON webhook_events (wamid)",
	"CREATE INDEX IF NOT EXISTS idx_wh_ev_error_code ON webhook_events (error_code) WHERE error_code IS NOT NULL",
	"CREATE INDEX IF NOT EXISTS idx_wh_ev_template_id ON webhook_events (template_id) WHERE template_id <> ''",
	"CREATE INDEX IF NOT EXISTS idx_wh_ev_template_name ON webhook_events (template_name) WHERE template_name <> ''",
}

// oldIndexes are 0006's indexes on webhook_events, replaced by logIndexes, and those on messages
// that no query uses (a message is read by wamid, template name, or phone+route+sent_at).
var oldIndexes = []string{"idx_messages_account_id", "idx_messages_waba_id", "idx_messages_recipient", "idx_messages_status", "idx_wh_events_received", "idx_webhook_events_delivery_id", "idx_webhook_events_dedupe_key",
	"idx_wh_events_account_id", "idx_wh_events_waba_id", "idx_wh_events_phone_number_id", "idx_wh_events_kind",
	"idx_wh_events_status", "idx_wh_events_route", "idx_wh_events_error_code", "idx_wh_events_template_id",
	"idx_wh_events_template_name", "idx_wh_events_recipient", "idx_wh_events_wamid"}

// storageMigration moves 0006's layout to the one above. 0006 creates the tables from the
// current models, so on a new database the columns may already be there; every step checks.
func storageMigration() database.Migration {
	return database.Migration{ID: "0030_webhook_storage", Up: func(tx *gorm.DB) error {
		m := tx.Migrator()
		for _, name := range oldIndexes {
			if err := tx.Exec("DROP INDEX IF EXISTS " + name).Error; err != nil {
				return err
			}
		}
		add := []struct{ table, col, ddl string }{
			{"webhook_events", "dedupe_hash", "blob NOT NULL DEFAULT x''"},
			{"webhook_events", "raw_at", "integer"},
			{"webhook_events", "raw_len", "integer NOT NULL DEFAULT 0"},
			{"webhook_deliveries", "body_zstd", "blob"},
		}
		for _, a := range add {
			if !m.HasColumn(a.table, a.col) {
				if err := tx.Exec("ALTER TABLE " + a.table + " ADD COLUMN " + a.col + " " + a.ddl).Error; err != nil {
					return err
				}
			}
		}
		if m.HasColumn("webhook_events", "dedupe_key") {
			enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
			if err != nil {
				return err
			}
			defer enc.Close()
			if err := migrateEvents(tx); err != nil {
				return err
			}
			if err := migrateDeliveries(tx, enc); err != nil {
				return err
			}
			if err := tx.Exec("ALTER TABLE webhook_events DROP COLUMN dedupe_key").Error; err != nil {
				return err
			}
		}
		for _, q := range logIndexes {
			if err := tx.Exec(q).Error; err != nil {
				return err
			}
		}
		return nil
	}}
}

// migrateEvents hashes every event's dedupe key and, where its raw JSON is found verbatim in its
// delivery's (still uncompressed) body, points it there instead of keeping a copy.
func migrateEvents(tx *gorm.DB) error {
	type row struct {
		ID         uint
		DeliveryID uint
		DedupeKey  string
		Raw        string
	}
	var last uint
	for {
		var rows []row
		if err := tx.Table("webhook_events").Select("id, delivery_id, dedupe_key, raw").Where("id > ?", last).
			Order("id").Limit(1000).Scan(&rows).Error; err != nil {
			return fmt.Errorf("webhook: migrate events: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		ids := map[uint]bool{}
		for _, r := range rows {
			ids[r.DeliveryID] = true
		}
		dids := make([]uint, 0, len(ids))
		for id := range ids {
			dids = append(dids, id)
		}
		var bodies []struct {
			ID   uint
			Body string
		}
		if err := tx.Table("webhook_deliveries").Select("id, body").Where("id IN ?", dids).Scan(&bodies).Error; err != nil {
			return fmt.Errorf("webhook: migrate events: %w", err)
		}
		body := make(map[uint]string, len(bodies))
		for _, b := range bodies {
			body[b.ID] = b.Body
		}
		for _, r := range rows {
			var at *int
			raw := r.Raw
			if k := strings.Index(body[r.DeliveryID], r.Raw); k >= 0 && r.Raw != "" {
				at, raw = &k, ""
			}
			if err := tx.Exec("UPDATE webhook_events SET dedupe_hash = ?, raw_at = ?, raw_len = ?, raw = ? WHERE id = ?",
				[]byte(dedupeHash(r.DedupeKey)), at, len(r.Raw), raw, r.ID).Error; err != nil {
				return fmt.Errorf("webhook: migrate event %d: %w", r.ID, err)
			}
		}
		last = rows[len(rows)-1].ID
	}
}

// migrateDeliveries compresses the stored bodies.
func migrateDeliveries(tx *gorm.DB, enc *zstd.Encoder) error {
	var last uint
	for {
		var rows []struct {
			ID   uint
			Body string
		}
		if err := tx.Table("webhook_deliveries").Select("id, body").Where("id > ? AND body <> ''", last).
			Order("id").Limit(500).Scan(&rows).Error; err != nil {
			return fmt.Errorf("webhook: migrate deliveries: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		for _, r := range rows {
			z := enc.EncodeAll([]byte(r.Body), nil)
			if err := tx.Exec("UPDATE webhook_deliveries SET body = '', body_zstd = ? WHERE id = ?", z, r.ID).Error; err != nil {
				return fmt.Errorf("webhook: migrate delivery %d: %w", r.ID, err)
			}
		}
		last = rows[len(rows)-1].ID
	}
}

// codec compresses delivery bodies on the request's goroutine and expands them when one is read.
// Both sides are safe for concurrent use.
type codec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}

// maxBodyExpand bounds what one stored body may expand to when read back.
const maxBodyExpand = 256 << 20

func newCodec() (*codec, error) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		return nil, fmt.Errorf("webhook: zstd encoder: %w", err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxBodyExpand))
	if err != nil {
		enc.Close()
		return nil, fmt.Errorf("webhook: zstd decoder: %w", err)
	}
	return &codec{enc: enc, dec: dec}, nil
}

func (c *codec) close() {
	c.enc.Close()
	c.dec.Close()
}

// ErrRawMissing means an event points into a delivery body that is not there (any more).
var ErrRawMissing = errors.New("webhook: the event's raw JSON is no longer stored")

// body returns a delivery's body, from whichever column holds it.
func (c *codec) body(d *models.WebhookDelivery) error {
	if len(d.BodyZstd) == 0 {
		return nil
	}
	b, err := c.dec.DecodeAll(d.BodyZstd, nil)
	if err != nil {
		return fmt.Errorf("webhook: delivery %d body: %w", d.ID, err)
	}
	d.Body, d.BodyZstd = string(b), nil
	return nil
}
