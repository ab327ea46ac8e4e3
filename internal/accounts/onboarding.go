package accounts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"mmconsole/internal/graph"
	"mmconsole/models"
)

// OnboardedHook is told when a connection's WABA has just become onboarded to MM API (the
// templates catalog starts its templates' sync windows then).
type OnboardedHook func(ctx context.Context, conn models.WABAConnection, at time.Time) error

// WithOnboardedHook sets the hook every onboarding re-read (Test connection, the
// MM_LITE_TERMS_SIGNED webhook, the periodic re-read) calls when the status becomes ONBOARDED.
func WithOnboardedHook(h OnboardedHook) Option { return func(s *Service) { s.onboarded = h } }

// storeWABA stores what a read of the WABA said about MM API: the onboarding status and the
// Cloud API marketing switch. The status changes with a conditional UPDATE, so that of several
// instances reading the same change only one reports the flip (and starts the sync windows).
func storeWABA(tx *gorm.DB, c models.WABAConnection, w graph.WABA) (becameOnboarded bool, err error) {
	err = tx.Model(&models.WABAConnection{}).Where("id = ? AND account_id = ?", c.ID, c.AccountID).
		Update("disable_marketing_messages_on_cloud_api", w.DisableMarketingMessagesOnCloudAPI).Error
	if err != nil {
		return false, err
	}
	res := tx.Model(&models.WABAConnection{}).
		Where("id = ? AND account_id = ? AND onboarding_status <> ?", c.ID, c.AccountID, w.MarketingMessagesOnboardingStatus).
		Update("onboarding_status", w.MarketingMessagesOnboardingStatus)
	if res.Error != nil {
		return false, res.Error
	}
	return res.RowsAffected == 1 && w.Onboarded(), nil
}

// readerFor picks the Graph client that reaches c's WABA (the sandbox's for a sandbox
// connection) and opens c's own token.
func (s *Service) readerFor(c models.WABAConnection) (WABAReader, string, error) {
	g := s.graph
	if c.Sandbox && s.sandboxGraph != nil {
		g = s.sandboxGraph
	}
	if g == nil || s.box == nil {
		return nil, "", errors.New("accounts: no Graph API client configured")
	}
	token, err := s.box.Open(c.TokenSealed)
	if err != nil {
		return nil, "", err
	}
	return g, token, nil
}

// afterFlip runs the onboarded hook; its failure is reported, not fatal: the re-read is stored.
func (s *Service) afterFlip(ctx context.Context, c models.WABAConnection, flipped bool, at time.Time) error {
	if !flipped || s.onboarded == nil {
		return nil
	}
	if err := s.onboarded(ctx, c, at); err != nil {
		return fmt.Errorf("accounts: waba %s became onboarded: %w", c.WABAID, err)
	}
	return nil
}

// RecheckOnboarding re-reads the onboarding status and the Cloud API marketing switch of WABA
// wabaID as connected by accountID (the WABA's own connection, with its own token; another
// account's connection of the same id is never read or written), and stores them. A Graph error
// is stored as the connection's check error and returned.
func (s *Service) RecheckOnboarding(ctx context.Context, accountID uint, wabaID string) (models.WABAConnection, error) {
	var c models.WABAConnection
	err := s.db.WithContext(ctx).Where("waba_id = ? AND account_id = ?", wabaID, accountID).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return c, fmt.Errorf("accounts: waba %s of account %d: %w", wabaID, accountID, models.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("accounts: waba %s: %w", wabaID, err)
	}
	g, token, err := s.readerFor(c)
	if err != nil {
		return c, fmt.Errorf("accounts: waba %s: %w", wabaID, err)
	}
	now := s.now().UTC()
	w, readErr := g.GetWABA(ctx, token, c.WABAID)
	c.LastCheckedAt = &now
	c.LastCheckError = ""
	if readErr != nil {
		c.LastCheckError = readErr.Error()
	}
	flipped := false
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&models.WABAConnection{}).Where("id = ? AND account_id = ?", c.ID, c.AccountID).
			Updates(map[string]any{"last_checked_at": now, "last_check_error": c.LastCheckError}).Error; err != nil {
			return err
		}
		if readErr != nil {
			return nil
		}
		var err error
		flipped, err = storeWABA(tx, c, w)
		return err
	})
	if err != nil {
		return c, fmt.Errorf("accounts: store re-read of waba %s: %w", wabaID, err)
	}
	if readErr != nil {
		return c, fmt.Errorf("accounts: re-read waba %s: %w", wabaID, readErr)
	}
	c.OnboardingStatus, c.CloudMarketingOff = w.MarketingMessagesOnboardingStatus, w.DisableMarketingMessagesOnCloudAPI
	return c, s.afterFlip(ctx, c, flipped, now)
}

// OnboardingWatch keeps every connection's onboarding status current without a person pressing
// "Test connection": it re-reads a WABA when its MM_LITE_TERMS_SIGNED webhook arrives, and every
// connection once per interval (the template refresh interval).
type OnboardingWatch struct {
	svc      *Service
	interval time.Duration
	queue    chan wabaRef
	log      *slog.Logger
}

type wabaRef struct {
	account uint
	waba    string
}

// NewOnboardingWatch builds the watch; interval 0 re-reads only on webhooks.
func NewOnboardingWatch(svc *Service, interval time.Duration, log *slog.Logger) *OnboardingWatch {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &OnboardingWatch{svc: svc, interval: interval, queue: make(chan wabaRef, 256), log: log}
}

// TermsSigned queues a re-read of the WABA (called by the webhook writer after its commit; it
// never blocks it). When the queue is full the periodic re-read catches up.
func (w *OnboardingWatch) TermsSigned(accountID uint, wabaID string) {
	select {
	case w.queue <- wabaRef{accountID, wabaID}:
	default:
		w.log.Warn("accounts: onboarding re-read queue full; the periodic re-read will catch up", "waba", wabaID)
	}
}

// Run serves the queue and the periodic re-read until ctx ends. Several instances may run it: a
// re-read is an idempotent Graph read, and the conditional status update makes one of them
// start the sync windows. The composition root instead runs Serve and schedules RecheckAll once
// per interval across instances.
func (w *OnboardingWatch) Run(ctx context.Context) error {
	var tick <-chan time.Time
	if w.interval > 0 {
		tk := time.NewTicker(w.interval)
		defer tk.Stop()
		tick = tk.C
	}
	return w.serve(ctx, tick)
}

// Serve re-reads the WABAs TermsSigned queued, until ctx ends. The queue is this instance's:
// the webhook that asked for the re-read was stored by this instance's writer.
func (w *OnboardingWatch) Serve(ctx context.Context) error { return w.serve(ctx, nil) }

func (w *OnboardingWatch) serve(ctx context.Context, tick <-chan time.Time) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case r := <-w.queue:
			if _, err := w.svc.RecheckOnboarding(ctx, r.account, r.waba); err != nil {
				w.log.Warn("accounts: onboarding re-read after MM_LITE_TERMS_SIGNED failed", "waba", r.waba, "error", err)
			}
		case <-tick:
			w.RecheckAll(ctx)
		}
	}
}

// RecheckAll re-reads every connection not checked within half an interval (by any instance).
func (w *OnboardingWatch) RecheckAll(ctx context.Context) {
	var conns []models.WABAConnection
	q := w.svc.db.WithContext(ctx).Select("id", "account_id", "waba_id").Order("id")
	if w.interval > 0 {
		q = q.Where("last_checked_at IS NULL OR last_checked_at < ?", w.svc.now().UTC().Add(-w.interval/2))
	}
	if err := q.Find(&conns).Error; err != nil {
		w.log.Error("accounts: list connections to re-read", "error", err)
		return
	}
	for _, c := range conns {
		if ctx.Err() != nil {
			return
		}
		if _, err := w.svc.RecheckOnboarding(ctx, c.AccountID, c.WABAID); err != nil {
			w.log.Warn("accounts: periodic onboarding re-read failed", "waba", c.WABAID, "error", err)
		}
	}
}
