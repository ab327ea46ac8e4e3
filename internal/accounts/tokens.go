package accounts

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"mmconsole/internal/graph"
	"mmconsole/internal/secrets"
	"mmconsole/models"
)

// Tokens opens a connection's sealed access token for a Graph API call. The plaintext lives only
// for the call; it is never stored, rendered or logged.
type Tokens struct {
	Box *secrets.Box
}

// Token returns the access token of conn. It also tells the Graph API client, through ctx, which
// connection the token belongs to, so every Graph call is counted for its connection ("Meta
// last answered …") without the caller doing anything.
func (t Tokens) Token(ctx context.Context, conn models.WABAConnection) (string, error) {
	tok, err := t.Box.Open(conn.TokenSealed)
	if err != nil {
		return "", fmt.Errorf("accounts: token of WABA %s: %w", conn.WABAID, err)
	}
	graph.Attribute(ctx, tok, conn.ID)
	return tok, nil
}

// GraphContacts stores, per connection, when the Graph API last answered and last failed. It is
// the Graph client's Observer.
type GraphContacts struct {
	DB  *gorm.DB
	Log *slog.Logger
}

// contactWriteGap spares the database one write per page of a long template listing: a success
// newer than this is not written again.
const contactWriteGap = 5 * time.Second

// GraphContact records c for connection id. Errors are logged: a page must not fail because
// this bookkeeping did.
func (g GraphContacts) GraphContact(ctx context.Context, id uint, c graph.Contact) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	q := g.DB.WithContext(ctx).Model(&models.WABAConnection{}).Where("id = ?", id)
	var err error
	switch {
	case c.OK:
		err = q.Where("graph_ok_at IS NULL OR graph_ok_at < ?", c.At.Add(-contactWriteGap)).
			UpdateColumn("graph_ok_at", c.At).Error
	case c.Answered:
		// Meta answered with its own error: it is up, and this WABA's call failed. Both at
		// once, so the page says Meta answered just now and the call failed.
		err = q.UpdateColumns(map[string]any{"graph_ok_at": c.At, "graph_failed_at": c.At, "graph_failure": c.Failure}).Error
	default:
		err = q.UpdateColumns(map[string]any{"graph_failed_at": c.At, "graph_failure": c.Failure}).Error
	}
	if err != nil && g.Log != nil {
		g.Log.Warn("accounts: record graph contact", "connection", id, "err", err)
	}
}
