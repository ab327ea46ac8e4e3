package accounts

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"time"

	"gorm.io/gorm"

	"mmconsole/internal/secrets"
	"mmconsole/models"
)

// ConnectionSecret is one connection's app secret, with the account it may speak for.
type ConnectionSecret struct {
	ConnectionID uint
	AccountID    uint
	Key          []byte
	// Shared lists the other connections holding the same secret (one Meta app serving WABAs
	// of several accounts): the secret speaks for their accounts too.
	Shared []uint
}

// SecretIndex is what a webhook delivery may be signed with: the configured app secret, which
// speaks for every WABA, and the connections' own secrets by WABA. A connection's secret speaks
// only for its account's WABAs, so each connected WABA lists the secrets of its account (its own
// connection's first, the same key only once) and an unconnected WABA lists none. All lists
// every distinct secret once, by connection id (a secret several connections hold is tried
// once, and names the others in Shared).
type SecretIndex struct {
	App    []byte
	ByWABA map[string][]ConnectionSecret
	All    []ConnectionSecret
}

// WebhookSecrets builds the SecretIndex from the connections (secrets opened with the box) and
// re-reads it at most every TTL, so verifying a delivery costs no query and no decryption.
type WebhookSecrets struct {
	db     *gorm.DB
	box    *secrets.Box // nil: no per-connection secrets can be opened
	static []byte
	ttl    time.Duration
	log    *slog.Logger

	mu     sync.Mutex
	cached *SecretIndex
	at     time.Time
}

// NewWebhookSecrets builds the index source; static may be empty, box may be nil.
func NewWebhookSecrets(db *gorm.DB, box *secrets.Box, static []byte, log *slog.Logger) *WebhookSecrets {
	return &WebhookSecrets{db: db, box: box, static: static, ttl: 10 * time.Second, log: log}
}

// Index returns the current index. The pointer stays the same until the index is rebuilt, so a
// caller may cache what it derives from it.
func (w *WebhookSecrets) Index() *SecretIndex {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cached != nil && time.Since(w.at) < w.ttl {
		return w.cached
	}
	idx := &SecretIndex{App: w.static, ByWABA: map[string][]ConnectionSecret{}}
	if w.box != nil {
		if err := w.build(idx); err != nil {
			w.log.Error("webhook secrets: read connections", "err", err)
		}
	}
	w.cached, w.at = idx, time.Now()
	return idx
}

func (w *WebhookSecrets) build(idx *SecretIndex) error {
	var conns []models.WABAConnection
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := w.db.WithContext(ctx).Select("id", "account_id", "waba_id", "app_secret_sealed").Order("id").Find(&conns).Error; err != nil {
		return err
	}
	var opened []ConnectionSecret
	holders := map[string][]uint{} // secret → the connections holding it
	for _, c := range conns {
		if len(c.AppSecretSealed) == 0 {
			continue
		}
		s, err := w.box.Open(c.AppSecretSealed)
		if err != nil {
			w.log.Warn("webhook secrets: cannot open a connection's app secret", "connection", c.ID, "err", err)
			continue
		}
		opened = append(opened, ConnectionSecret{ConnectionID: c.ID, AccountID: c.AccountID, Key: []byte(s)})
		holders[s] = append(holders[s], c.ID)
	}
	byAccount := map[uint][]ConnectionSecret{}
	own := map[uint]ConnectionSecret{}
	for _, cs := range opened {
		for _, id := range holders[string(cs.Key)] {
			if id != cs.ConnectionID {
				cs.Shared = append(cs.Shared, id)
			}
		}
		own[cs.ConnectionID] = cs
		idx.All = appendKey(idx.All, cs)
		byAccount[cs.AccountID] = appendKey(byAccount[cs.AccountID], cs)
	}
	for _, c := range conns {
		rest := byAccount[c.AccountID]
		if len(rest) == 0 {
			continue
		}
		var list []ConnectionSecret
		if cs, ok := own[c.ID]; ok {
			list = append(list, cs)
		}
		for _, cs := range rest {
			list = appendKey(list, cs)
		}
		idx.ByWABA[c.WABAID] = list
	}
	return nil
}

// appendKey adds cs unless its key is listed already: one app's secret stored on several
// connections is tried once.
func appendKey(list []ConnectionSecret, cs ConnectionSecret) []ConnectionSecret {
	for _, l := range list {
		if bytes.Equal(l.Key, cs.Key) {
			return list
		}
	}
	return append(list, cs)
}
