package send

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"mmconsole/internal/database"
	"mmconsole/internal/i18n"
	"mmconsole/internal/metarules"
	"mmconsole/models"
)

// Bounds of saved test recipients.
const (
	// MaxSavedAtOnce is how many saved recipients one test goes to at most.
	MaxSavedAtOnce = 5
	// MaxSavedPerAccount keeps the list a list of test phones, not an audience.
	MaxSavedPerAccount = 50
	// MaxSavedNameLen bounds a saved recipient's name (characters).
	MaxSavedNameLen = 80
)

// SavedView is a saved recipient with its marketing preferences as the user_preferences
// webhooks left them, one per WABA that reported one.
type SavedView struct {
	models.SavedRecipient
	AccountName string
	Preferences []SavedPreference
}

// SavedPreference is a recipient's latest preference towards one WABA.
type SavedPreference struct {
	WABAName string
	models.MarketingPreference
}

// Stopped reports whether the recipient stopped marketing messages from any WABA.
func (v SavedView) Stopped() bool {
	for _, p := range v.Preferences {
		if p.Stopped() {
			return true
		}
	}
	return false
}

// SavedInput is the form that saves a recipient.
type SavedInput struct {
	AccountID uint // staff choose the account; everyone else saves in their own
	Name      string
	Number    string
}

// SavedRecipients lists the saved recipients in scope (of one account when accountID is not 0),
// by name, with their marketing preferences: towards wabaID only when it is set (the composer's
// WABA), else towards each WABA of their account.
func (s *Service) SavedRecipients(ctx context.Context, scope models.Scope, accountID uint, wabaID string) ([]SavedView, error) {
	q := database.Scoped(s.db.WithContext(ctx), scope, "account_id")
	if accountID != 0 {
		q = q.Where("account_id = ?", accountID)
	}
	var rows []models.SavedRecipient
	if err := q.Order("name, id").Limit(MaxSavedPerAccount * 20).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("send: saved recipients: %w", err)
	}
	out := make([]SavedView, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	accIDs := []uint{}
	for i, r := range rows {
		out[i].SavedRecipient = r
		accIDs = append(accIDs, r.AccountID)
	}
	cq := s.db.WithContext(ctx).Select("id", "account_id", "waba_id", "name").Where("account_id IN ?", accIDs)
	if wabaID != "" {
		cq = cq.Where("waba_id = ?", wabaID)
	}
	var conns []models.WABAConnection
	if err := cq.Order("name, id").Find(&conns).Error; err != nil {
		return nil, fmt.Errorf("send: saved recipients' WABAs: %w", err)
	}
	var accs []models.Account
	if err := s.db.WithContext(ctx).Select("id", "name").Where("id IN ?", accIDs).Find(&accs).Error; err != nil {
		return nil, fmt.Errorf("send: saved recipients' accounts: %w", err)
	}
	accName := map[uint]string{}
	for _, a := range accs {
		accName[a.ID] = a.Name
	}
	for i := range out {
		out[i].AccountName = accName[out[i].AccountID]
		if s.prefs == nil {
			continue
		}
		for _, c := range conns {
			if c.AccountID != out[i].AccountID {
				continue
			}
			p, found, err := s.prefs.MarketingPreference(ctx, c.AccountID, c.WABAID, out[i].Recipient)
			if err != nil {
				return nil, fmt.Errorf("send: saved recipient's preference: %w", err)
			}
			if found {
				out[i].Preferences = append(out[i].Preferences, SavedPreference{WABAName: c.Name, MarketingPreference: p})
			}
		}
	}
	return out, nil
}

// SaveRecipient adds a named test number to an account, checked with the composer's rules for
// a recipient. Writers only; the change is audited.
func (s *Service) SaveRecipient(ctx context.Context, u models.User, in SavedInput) (*models.SavedRecipient, error) {
	if !u.CanWrite() {
		return nil, models.ErrForbidden
	}
	fields := map[string]string{}
	name := strings.TrimSpace(in.Name)
	switch {
	case name == "":
		fields["name"] = i18n.T(ctx, "send.recipients.err.name")
	case utf8.RuneCountInString(name) > MaxSavedNameLen:
		fields["name"] = i18n.T(ctx, "send.recipients.err.name_long", "Max", MaxSavedNameLen, "Len", utf8.RuneCountInString(name))
	}
	number, err := NormalizeRecipient(in.Number)
	if err != nil {
		fields["number"] = i18n.T(ctx, "send.recipients.err.number", "Problem", upperFirst(metarules.Words(ctx, err)))
	}
	accountID := in.AccountID
	if !u.Staff {
		if u.AccountID == nil {
			return nil, models.ErrForbidden
		}
		accountID = *u.AccountID
	} else if accountID == 0 || s.db.WithContext(ctx).Select("id").Where("id = ?", accountID).Take(&models.Account{}).Error != nil {
		fields["account"] = i18n.T(ctx, "send.recipients.err.account")
	}
	if len(fields) > 0 {
		return nil, &models.ValidationError{Fields: fields}
	}
	row := models.SavedRecipient{AccountID: accountID, Name: name, Recipient: number, CreatedBy: u.Email}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&models.SavedRecipient{}).Where("account_id = ?", accountID).Count(&n).Error; err != nil {
			return err
		}
		if n >= MaxSavedPerAccount {
			return &models.ValidationError{Fields: map[string]string{"number": i18n.T(ctx, "send.recipients.err.full", "Max", MaxSavedPerAccount)}}
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return &models.ValidationError{Fields: map[string]string{"number": "+" + number + " is already saved."}}
		}
		return nil
	})
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		return nil, ve
	}
	if err != nil {
		return nil, fmt.Errorf("send: save recipient: %w", err)
	}
	s.auditSaved(ctx, u, "send.recipient_saved", row, nil, map[string]any{"name": row.Name, "recipient": row.Recipient, "account_id": row.AccountID})
	return &row, nil
}

// DeleteSavedRecipient removes a saved recipient in scope. Writers only; audited.
func (s *Service) DeleteSavedRecipient(ctx context.Context, u models.User, id uint) error {
	if !u.CanWrite() {
		return models.ErrForbidden
	}
	var row models.SavedRecipient
	err := database.Scoped(s.db.WithContext(ctx), u.Scope(), "account_id").Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("send: saved recipient %d: %w", id, err)
	}
	if err := s.db.WithContext(ctx).Where("id = ? AND account_id = ?", row.ID, row.AccountID).Delete(&models.SavedRecipient{}).Error; err != nil {
		return fmt.Errorf("send: delete saved recipient %d: %w", id, err)
	}
	s.auditSaved(ctx, u, "send.recipient_deleted", row, map[string]any{"name": row.Name, "recipient": row.Recipient, "account_id": row.AccountID}, nil)
	return nil
}

func (s *Service) auditSaved(ctx context.Context, u models.User, action string, row models.SavedRecipient, before, after any) {
	if s.audit == nil {
		return
	}
	if err := s.audit.Record(ctx, u, action, fmt.Sprintf("saved recipient %s (+%s)", row.Name, row.Recipient), before, after); err != nil {
		s.log.Warn("send: audit", "err", err)
	}
}

// SavedResult is what became of the test to one saved recipient.
type SavedResult struct {
	Recipient models.SavedRecipient
	Composer  *Composer // its own composer: checks, refusal or result
	Err       error     // the send could not be made at all
}

// SendToSaved sends the composed test to each chosen saved recipient of the connection's
// account (at most MaxSavedAtOnce), each as its own send: its own checks (a blocker stops that
// one only), its own row, budget and throttle, its own result. The form's key is extended per
// recipient, so a repeated submit shows the first results instead of sending again.
func (s *Service) SendToSaved(ctx context.Context, u models.User, in Input, ids []uint) ([]SavedResult, error) {
	if !u.CanWrite() {
		return nil, models.ErrForbidden
	}
	if len(ids) == 0 || len(ids) > MaxSavedAtOnce {
		return nil, &models.ValidationError{Fields: map[string]string{"saved": i18n.T(ctx, "send.recipients.err.count", "Max", MaxSavedAtOnce)}}
	}
	c, err := s.Compose(ctx, u, Input{ConnectionID: in.ConnectionID, TemplateRef: in.TemplateRef, Values: in.Values})
	if err != nil {
		return nil, err
	}
	if c.Connection == nil {
		return nil, &models.ValidationError{Fields: map[string]string{"connection": i18n.T(ctx, "send.recipients.err.connection")}}
	}
	var rows []models.SavedRecipient
	if err := database.Scoped(s.db.WithContext(ctx), u.Scope(), "account_id").
		Where("account_id = ? AND id IN ?", c.Connection.AccountID, ids).Order("name, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("send: saved recipients: %w", err)
	}
	if len(rows) != len(dedupe(ids)) {
		return nil, &models.ValidationError{Fields: map[string]string{"saved": i18n.T(ctx, "send.recipients.err.foreign")}}
	}
	out := make([]SavedResult, 0, len(rows))
	for _, r := range rows {
		one := in
		one.Recipient = "+" + r.Recipient
		one.Saved = nil
		one.Key = savedKey(in.Key, r.ID)
		comp, err := s.Send(ctx, u, one)
		out = append(out, SavedResult{Recipient: r, Composer: comp, Err: err})
	}
	return out, nil
}

// savedKey derives a recipient's own idempotency key from the form's key (both 32 hex digits);
// an invalid form key stays invalid, so that each send reports the expired form.
func savedKey(key string, id uint) string {
	if !validKey(key) {
		return key
	}
	sum := sha256.Sum256([]byte(key + ":" + strconv.FormatUint(uint64(id), 10)))
	return hex.EncodeToString(sum[:16])
}

// dedupe is ids sorted, each once.
func dedupe(ids []uint) []uint {
	return slices.Compact(slices.Sorted(slices.Values(ids)))
}

// AnySent reports whether any of the sends reached Meta (accepted, refused or unknown), as
// opposed to every one being stopped before it left.
func AnySent(rs []SavedResult) bool {
	for _, r := range rs {
		if r.Err == nil && r.Composer != nil && r.Composer.Result != nil {
			return true
		}
	}
	return false
}

// upperFirst starts a sentence that is used alone with a capital (the phone rules' messages are
// written to follow a label).
func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return strings.ToUpper(string(r)) + s[n:]
}
