package send

import (
	"context"
	"fmt"

	"mmconsole/internal/i18n"
	"mmconsole/models"
)

// Preferences reads a recipient's latest marketing preference for a WABA, in one account, as
// the user_preferences webhooks said (found is false when none named the recipient).
type Preferences interface {
	MarketingPreference(ctx context.Context, accountID uint, wabaID, recipient string) (p models.MarketingPreference, found bool, err error)
}

// checkPreference warns before a send to a recipient who stopped marketing messages from this
// WABA's business: Meta accepts the send and then fails it with 131050. It does not block: a
// test send may be meant to show exactly that.
func (s *Service) checkPreference(ctx context.Context, c *Composer) error {
	if s.prefs == nil || c.Connection == nil || c.Recipient == "" {
		return nil
	}
	p, found, err := s.prefs.MarketingPreference(ctx, c.Connection.AccountID, c.Connection.WABAID, c.Recipient)
	if err != nil {
		return fmt.Errorf("send: marketing preference of the recipient: %w", err)
	}
	if !found || !p.Stopped() {
		return nil
	}
	c.Checks = append(c.Checks, Check{Level: LevelDanger, Field: "recipient", Code: 131050,
		Message: i18n.T(ctx, "send.check.stopped", "When", i18n.DateTime(ctx, p.At))})
	return nil
}
