package accounts

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"mmconsole/internal/database"
	"mmconsole/internal/graph"
	"mmconsole/internal/i18n"
	"mmconsole/internal/secrets"
	"mmconsole/models"
)

// WABAReader is the part of the Graph API client "Test connection" needs.
type WABAReader interface {
	GetWABA(ctx context.Context, token, wabaID string) (graph.WABA, error)
	ListPhoneNumbers(ctx context.Context, token, wabaID string) ([]graph.PhoneNumber, error)
}

// Option configures the service.
type Option func(*Service)

// WithSecrets gives the service the box that seals access tokens and app secrets.
func WithSecrets(b *secrets.Box) Option { return func(s *Service) { s.box = b } }

// WithGraph gives the service the Graph API client for real connections and the one for
// sandbox connections (nil: the same).
func WithGraph(real, sandbox WABAReader) Option {
	return func(s *Service) { s.graph, s.sandboxGraph = real, sandbox }
}

// WithUnkeptKey says the secrets box's key is the sandbox's key file at path, which the operator
// has not said they keep (empty: the key is kept). Real connections are then refused: a token
// sealed with a key nobody keeps is lost with the file.
func WithUnkeptKey(path string) Option { return func(s *Service) { s.unkeptKey = path } }

// UnkeptKeyNotice tells an admin why real connections cannot be added while the key is the key
// file at path, and what the operator does about it (empty when path is: the key is kept).
func UnkeptKeyNotice(ctx context.Context, path string) string {
	if path == "" {
		return ""
	}
	return i18n.T(ctx, "settings.key_notice", "Path", path)
}

// WithMetaGraph says whether MMC_GRAPH_BASE_URL is Meta's own Graph API (graph.facebook.com):
// then no real connection may say it talks to Hibot's gateway.
func WithMetaGraph(meta bool) Option { return func(s *Service) { s.metaHost = meta } }

// WithClock injects the clock that stamps LastCheckedAt.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// SandboxAccountName is the account that owns the sandbox WABAs and the demo users.
const SandboxAccountName = "Hibot Demo"

// EnsureSandboxAccount returns the sandbox demo account, creating it if missing.
func (s *Service) EnsureSandboxAccount(ctx context.Context) (models.Account, error) {
	// Insert-if-missing then read, not read-then-insert: instances starting together against
	// one database would otherwise both insert, and the unique name would fail one's start.
	db := s.db.WithContext(ctx)
	a := models.Account{Name: SandboxAccountName, Sandbox: true}
	if err := db.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "name"}}, DoNothing: true}).Create(&a).Error; err != nil {
		return a, fmt.Errorf("accounts: sandbox account: %w", err)
	}
	a = models.Account{}
	if err := db.Where("name = ?", SandboxAccountName).Take(&a).Error; err != nil {
		return a, fmt.Errorf("accounts: sandbox account: %w", err)
	}
	return a, nil
}

// Accounts lists every account by name (for staff).
func (s *Service) Accounts(ctx context.Context) ([]models.Account, error) {
	var out []models.Account
	if err := s.db.WithContext(ctx).Order("name").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("accounts: list: %w", err)
	}
	return out, nil
}

// Account returns account id if scope may see it; otherwise models.ErrNotFound.
func (s *Service) Account(ctx context.Context, scope models.Scope, id uint) (models.Account, error) {
	var a models.Account
	if !scope.Allows(&id) {
		return a, models.ErrNotFound
	}
	err := s.db.WithContext(ctx).First(&a, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return a, models.ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("accounts: account %d: %w", id, err)
	}
	return a, nil
}

// CreateAccount adds a customer account.
func (s *Service) CreateAccount(ctx context.Context, name string) (models.Account, error) {
	name = strings.TrimSpace(name)
	ve := &models.ValidationError{}
	switch {
	case name == "":
		ve.Add("name", i18n.T(ctx, "settings.err.account_name"))
	case len(name) > 120:
		ve.Add("name", i18n.T(ctx, "settings.err.name_long", "Max", 120))
	default:
		var n int64
		if err := s.db.WithContext(ctx).Model(&models.Account{}).Where("name = ?", name).Count(&n).Error; err != nil {
			return models.Account{}, fmt.Errorf("accounts: create: %w", err)
		}
		if n > 0 {
			ve.Add("name", i18n.T(ctx, "settings.err.account_exists"))
		}
	}
	if err := ve.OrNil(); err != nil {
		return models.Account{}, err
	}
	a := models.Account{Name: name}
	if err := s.db.WithContext(ctx).Create(&a).Error; err != nil {
		return a, fmt.Errorf("accounts: create: %w", err)
	}
	return a, nil
}

// ConnectionInput is the add/edit connection form. An empty AccessToken or AppSecret on edit
// keeps the stored one (they are never sent back to the browser).
type ConnectionInput struct {
	WABAID         string
	Name           string
	AccessToken    string
	AppSecret      string
	ClearAppSecret bool   // edit: remove the stored app secret
	API            string // models.APIMeta or models.APIHibotGateway
	// Actor is who submits the form: only a Hibot staff admin may set, change or clear an app
	// secret (see CanManageAppSecrets).
	Actor models.User
}

// CanManageAppSecrets reports whether u may set, change or clear a connection's own app secret.
// Such a secret makes the dashboard accept webhook deliveries signed with it as speaking for the
// account's WABAs; customers' WABAs normally use Hibot's app (MMC_APP_SECRET), so only Hibot
// staff admins decide when one is needed.
func CanManageAppSecrets(u models.User) bool { return u.Staff && u.CanAdmin() }

// Changes of a connection's app secret, as AppSecretChange names them.
const (
	SecretSet     = "set"
	SecretChanged = "changed"
	SecretCleared = "cleared"
)

// AppSecretChange names what a saved form did to the app secret ("" when nothing): before is the
// zero connection for a new one.
func AppSecretChange(before models.WABAConnection, in ConnectionInput) string {
	had := len(before.AppSecretSealed) > 0
	switch {
	case strings.TrimSpace(in.AppSecret) != "" && had:
		return SecretChanged
	case strings.TrimSpace(in.AppSecret) != "":
		return SecretSet
	case in.ClearAppSecret && had:
		return SecretCleared
	}
	return ""
}

// ConnectionView is a connection as the settings page shows it: no secrets, only masks.
type ConnectionView struct {
	models.WABAConnection
	TokenMask    string
	HasAppSecret bool
	Phones       []models.PhoneNumber
}

var digits = regexp.MustCompile(`^[0-9]{5,32}$`)

func (s *Service) validate(ctx context.Context, in *ConnectionInput, id uint, creating, sandbox bool) error {
	in.WABAID, in.Name = strings.TrimSpace(in.WABAID), strings.TrimSpace(in.Name)
	in.AccessToken, in.AppSecret = strings.TrimSpace(in.AccessToken), strings.TrimSpace(in.AppSecret)
	ve := &models.ValidationError{}
	if !digits.MatchString(in.WABAID) {
		ve.Add("waba_id", i18n.T(ctx, "settings.err.waba_id"))
	} else {
		var n int64
		if err := s.db.WithContext(ctx).Model(&models.WABAConnection{}).Where("waba_id = ? AND id <> ?", in.WABAID, id).Count(&n).Error; err != nil {
			return fmt.Errorf("accounts: check waba id: %w", err)
		}
		if n > 0 {
			ve.Add("waba_id", i18n.T(ctx, "settings.err.waba_taken"))
		}
	}
	if len(in.Name) > 120 {
		ve.Add("name", i18n.T(ctx, "settings.err.name_long", "Max", 120))
	}
	if creating && s.unkeptKey != "" {
		ve.Add("access_token", UnkeptKeyNotice(ctx, s.unkeptKey))
	} else if creating && in.AccessToken == "" {
		ve.Add("access_token", i18n.T(ctx, "settings.err.token_missing"))
	} else if in.AccessToken != "" && (len(in.AccessToken) < 20 || strings.ContainsAny(in.AccessToken, " \t\n")) {
		ve.Add("access_token", i18n.T(ctx, "settings.err.token_bad"))
	}
	switch in.API {
	case models.APIMeta:
	case models.APIHibotGateway:
		// Meta refuses the gateway's per-send time_to_live, so a real connection may only say
		// "gateway" when its requests actually reach one. The sandbox plays either API.
		if s.metaHost && !sandbox {
			ve.Add("api", i18n.T(ctx, "settings.err.api_gateway"))
		}
	default:
		ve.Add("api", i18n.T(ctx, "settings.err.api"))
	}
	switch {
	case (in.AppSecret != "" || in.ClearAppSecret) && !CanManageAppSecrets(in.Actor):
		ve.Add("app_secret", i18n.T(ctx, "settings.err.secret_staff"))
	case in.AppSecret != "" && in.ClearAppSecret:
		ve.Add("app_secret", i18n.T(ctx, "settings.err.secret_both"))
	case in.AppSecret != "" && (len(in.AppSecret) < 16 || len(in.AppSecret) > 128 || strings.ContainsAny(in.AppSecret, " \t\n")):
		ve.Add("app_secret", i18n.T(ctx, "settings.err.secret_bad"))
	}
	if ve.OrNil() == nil && s.box == nil && (in.AccessToken != "" || in.AppSecret != "") {
		return errors.New("accounts: no secrets box configured")
	}
	return ve.OrNil()
}

// Connection returns connection id if scope may see it; otherwise models.ErrNotFound.
func (s *Service) Connection(ctx context.Context, scope models.Scope, id uint) (models.WABAConnection, error) {
	var c models.WABAConnection
	err := database.Scoped(s.db.WithContext(ctx), scope, "account_id").First(&c, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return c, models.ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("accounts: connection %d: %w", id, err)
	}
	return c, nil
}

// ConnectionViews lists an account's connections for the settings page.
func (s *Service) ConnectionViews(ctx context.Context, accountID uint) ([]ConnectionView, error) {
	var conns []models.WABAConnection
	if err := s.db.WithContext(ctx).Where("account_id = ?", accountID).Order("name, waba_id").Find(&conns).Error; err != nil {
		return nil, fmt.Errorf("accounts: list connections: %w", err)
	}
	var phones []models.PhoneNumber
	if err := s.db.WithContext(ctx).Where("account_id = ?", accountID).Order("display_phone_number").Find(&phones).Error; err != nil {
		return nil, fmt.Errorf("accounts: list phone numbers: %w", err)
	}
	out := make([]ConnectionView, 0, len(conns))
	for _, c := range conns {
		v := View(c)
		for _, p := range phones {
			if p.ConnectionID == c.ID {
				v.Phones = append(v.Phones, p)
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// View masks c's secrets.
func View(c models.WABAConnection) ConnectionView {
	v := ConnectionView{WABAConnection: c, TokenMask: secrets.Mask(c.TokenLast4), HasAppSecret: len(c.AppSecretSealed) > 0}
	if c.TokenLast4 != "" {
		v.TokenMask = "••••••••" + c.TokenLast4
	}
	v.TokenSealed, v.AppSecretSealed = nil, nil
	return v
}

// Audited is what the audit log records of a connection: never a secret.
type Audited struct {
	WABAID       string `json:"waba_id"`
	Name         string `json:"name"`
	API          string `json:"api"`
	Token        string `json:"token"`
	HasAppSecret bool   `json:"has_app_secret"`
	Onboarding   string `json:"onboarding_status,omitempty"`
	CheckError   string `json:"check_error,omitempty"`
}

// AuditView is c as the audit log records it.
func AuditView(c models.WABAConnection) Audited {
	v := View(c)
	return Audited{WABAID: c.WABAID, Name: c.Name, API: c.API, Token: v.TokenMask, HasAppSecret: v.HasAppSecret,
		Onboarding: c.OnboardingStatus, CheckError: c.LastCheckError}
}

func last4(s string) string {
	if len(s) <= 4 {
		return ""
	}
	return s[len(s)-4:]
}

// CreateConnection adds a WABA connection to accountID, sealing its secrets.
func (s *Service) CreateConnection(ctx context.Context, accountID uint, in ConnectionInput) (models.WABAConnection, error) {
	if err := s.validate(ctx, &in, 0, true, false); err != nil {
		return models.WABAConnection{}, err
	}
	c := models.WABAConnection{AccountID: accountID, WABAID: in.WABAID, Name: in.Name, API: in.API, TokenLast4: last4(in.AccessToken)}
	if c.Name == "" {
		c.Name = "WABA " + in.WABAID
	}
	var err error
	if c.TokenSealed, err = s.box.Seal(in.AccessToken); err != nil {
		return c, err
	}
	if in.AppSecret != "" {
		if c.AppSecretSealed, err = s.box.Seal(in.AppSecret); err != nil {
			return c, err
		}
	}
	if err := s.db.WithContext(ctx).Create(&c).Error; err != nil {
		return c, fmt.Errorf("accounts: add connection: %w", err)
	}
	return c, nil
}

// UpdateConnection changes connection id (in scope); it returns the connection before and after.
func (s *Service) UpdateConnection(ctx context.Context, scope models.Scope, id uint, in ConnectionInput) (before, after models.WABAConnection, err error) {
	before, err = s.Connection(ctx, scope, id)
	if err != nil {
		return before, after, err
	}
	err = s.validate(ctx, &in, id, false, before.Sandbox)
	// The secret speaks for the WABAs of this connection's account, and staff set it for the
	// WABA they checked it against: moving the connection to another WABA while it keeps the
	// secret is theirs to decide too. A customer admin may delete the connection instead.
	if in.WABAID != before.WABAID && len(before.AppSecretSealed) > 0 && !in.ClearAppSecret && !CanManageAppSecrets(in.Actor) {
		ve := &models.ValidationError{}
		if !errors.As(err, &ve) && err != nil {
			return before, after, err
		}
		ve.Add("waba_id", i18n.T(ctx, "settings.err.secret_move"))
		err = ve
	}
	if err != nil {
		return before, after, err
	}
	after = before
	after.WABAID, after.Name, after.API = in.WABAID, in.Name, in.API
	if after.Name == "" {
		after.Name = "WABA " + in.WABAID
	}
	cols := []string{"waba_id", "name", "api"}
	if in.AccessToken != "" {
		if after.TokenSealed, err = s.box.Seal(in.AccessToken); err != nil {
			return before, after, err
		}
		after.TokenLast4 = last4(in.AccessToken)
		cols = append(cols, "token_sealed", "token_last4")
	}
	if in.AppSecret != "" {
		if after.AppSecretSealed, err = s.box.Seal(in.AppSecret); err != nil {
			return before, after, err
		}
		cols = append(cols, "app_secret_sealed")
	} else if in.ClearAppSecret {
		after.AppSecretSealed = nil
		cols = append(cols, "app_secret_sealed")
	}
	if in.WABAID != before.WABAID {
		// Another WABA: what was read from the old one no longer applies.
		after.OnboardingStatus, after.LastCheckedAt, after.LastCheckError, after.CloudMarketingOff = "", nil, "", false
		after.GraphOKAt, after.GraphFailedAt, after.GraphFailure = nil, nil, ""
		cols = append(cols, "onboarding_status", "last_checked_at", "last_check_error", "disable_marketing_messages_on_cloud_api",
			"graph_ok_at", "graph_failed_at", "graph_failure")
	}
	if err := s.db.WithContext(ctx).Model(&after).Select(cols).Updates(&after).Error; err != nil {
		return before, after, fmt.Errorf("accounts: edit connection %d: %w", id, err)
	}
	return before, after, nil
}

// DeleteConnection removes connection id (in scope) and its phone numbers.
func (s *Service) DeleteConnection(ctx context.Context, scope models.Scope, id uint) (models.WABAConnection, error) {
	c, err := s.Connection(ctx, scope, id)
	if err != nil {
		return c, err
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("connection_id = ?", id).Delete(&models.PhoneNumber{}).Error; err != nil {
			return err
		}
		return tx.Delete(&models.WABAConnection{}, id).Error
	})
	if err != nil {
		return c, fmt.Errorf("accounts: delete connection %d: %w", id, err)
	}
	return c, nil
}

// TestConnection reads the WABA and its phone numbers through the Graph API with the stored
// token, and stores what it learnt (or the error). A Graph error is returned too, so the page
// can explain it; the connection is saved either way.
func (s *Service) TestConnection(ctx context.Context, scope models.Scope, id uint) (models.WABAConnection, error) {
	c, err := s.Connection(ctx, scope, id)
	if err != nil {
		return c, err
	}
	g, token, err := s.readerFor(c)
	if err != nil {
		return c, err
	}
	graph.Attribute(ctx, token, c.ID)
	now := s.now().UTC()
	c.LastCheckedAt = &now
	w, checkErr := g.GetWABA(ctx, token, c.WABAID)
	var phones []graph.PhoneNumber
	if checkErr == nil {
		phones, checkErr = g.ListPhoneNumbers(ctx, token, c.WABAID)
	}
	if checkErr != nil {
		c.LastCheckError = checkErr.Error()
	} else {
		c.LastCheckError = ""
	}
	flipped := false
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&c).Select("last_checked_at", "last_check_error").Updates(&c).Error; err != nil {
			return err
		}
		if checkErr != nil {
			return nil
		}
		var err error
		if flipped, err = storeWABA(tx, c, w); err != nil {
			return err
		}
		c.OnboardingStatus, c.CloudMarketingOff = w.MarketingMessagesOnboardingStatus, w.DisableMarketingMessagesOnCloudAPI
		if err := tx.Where("connection_id = ?", c.ID).Delete(&models.PhoneNumber{}).Error; err != nil {
			return err
		}
		var held []string
		for _, p := range phones {
			// A number moved from a WABA connected here before still has its old row: it stays
			// with that connection (and its account) until that one is tested or deleted, and
			// the check says so instead of failing on the unique phone number ID.
			var other int64
			if err := tx.Model(&models.PhoneNumber{}).Where("phone_number_id = ? AND connection_id <> ?", p.ID, c.ID).Count(&other).Error; err != nil {
				return err
			}
			if other > 0 {
				held = append(held, p.ID)
				continue
			}
			row := models.PhoneNumber{ConnectionID: c.ID, AccountID: c.AccountID, PhoneNumberID: p.ID,
				DisplayPhoneNumber: p.DisplayPhoneNumber, VerifiedName: p.VerifiedName, QualityRating: p.QualityRating}
			if err := tx.Create(&row).Error; err != nil {
				return err
			}
		}
		if len(held) > 0 {
			c.LastCheckError = "phone number(s) " + strings.Join(held, ", ") + " already belong to another connection here; test or delete that connection first"
			return tx.Model(&c).Select("last_check_error").Updates(&c).Error
		}
		return nil
	})
	if err != nil {
		return c, fmt.Errorf("accounts: store check of connection %d: %w", id, err)
	}
	if checkErr != nil {
		return c, checkErr
	}
	return c, s.afterFlip(ctx, c, flipped, now)
}
