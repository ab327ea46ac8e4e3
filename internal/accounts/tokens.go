package accounts

import (
	"context"
	"fmt"

	"mmconsole/internal/secrets"
	"mmconsole/models"
)

// Tokens opens a connection's sealed access token for a Graph API call. The plaintext lives only
// for the call; it is never stored, rendered or logged.
type Tokens struct {
	Box *secrets.Box
}

// Token returns the access token of conn.
func (t Tokens) Token(_ context.Context, conn models.WABAConnection) (string, error) {
	tok, err := t.Box.Open(conn.TokenSealed)
	if err != nil {
		return "", fmt.Errorf("accounts: token of WABA %s: %w", conn.WABAID, err)
	}
	return tok, nil
}
