package accounts

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"gorm.io/gorm"

	"mmconsole/internal/secrets"
	"mmconsole/models"
)

// WebhookSecrets lists the app secrets a webhook delivery may be signed with: the configured
// one, then every connection's own (opened with the secrets box). Connections' secrets are
// re-read at most every TTL, so verifying a delivery costs no query and no decryption.
type WebhookSecrets struct {
	db     *gorm.DB
	box    *secrets.Box // nil: no per-connection secrets can be opened
	static []byte
	ttl    time.Duration
	log    *slog.Logger

	mu     sync.Mutex
	cached [][]byte
	at     time.Time
}

// NewWebhookSecrets builds the list; static may be empty, box may be nil.
func NewWebhookSecrets(db *gorm.DB, box *secrets.Box, static []byte, log *slog.Logger) *WebhookSecrets {
	return &WebhookSecrets{db: db, box: box, static: static, ttl: 10 * time.Second, log: log}
}

// Secrets returns the configured secret first (the common case), then the connections' ones.
func (w *WebhookSecrets) Secrets() [][]byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cached != nil && time.Since(w.at) < w.ttl {
		return w.cached
	}
	out := [][]byte{}
	if len(w.static) > 0 {
		out = append(out, w.static)
	}
	if w.box != nil {
		var conns []models.WABAConnection
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err := w.db.WithContext(ctx).Select("id", "app_secret_sealed").Where("app_secret_sealed IS NOT NULL").Find(&conns).Error
		if err != nil {
			w.log.Error("webhook secrets: read connections", "err", err)
		}
		for _, c := range conns {
			if len(c.AppSecretSealed) == 0 {
				continue
			}
			s, err := w.box.Open(c.AppSecretSealed)
			if err != nil {
				w.log.Warn("webhook secrets: cannot open a connection's app secret", "connection", c.ID, "err", err)
				continue
			}
			out = append(out, []byte(s))
		}
	}
	w.cached, w.at = out, time.Now()
	return out
}
