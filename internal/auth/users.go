package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"mmconsole/internal/database"
	"mmconsole/internal/i18n"
	"mmconsole/models"
)

// HasUsers reports whether any user exists (until one does, every page leads to /setup).
func (s *Service) HasUsers(ctx context.Context) (bool, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&models.User{}).Limit(1).Count(&n).Error; err != nil {
		return false, fmt.Errorf("auth: count users: %w", err)
	}
	return n > 0, nil
}

// Setup creates the first user, a Hibot staff admin. Once any user exists it answers
// models.ErrNotFound: the setup page no longer exists.
func (s *Service) Setup(ctx context.Context, email, name, password, confirm string) (models.User, error) {
	email = NormalizeEmail(email)
	ve := &models.ValidationError{}
	if msg := emailProblem(ctx, email); msg != "" {
		ve.Add("email", msg)
	}
	if msg := passwordProblem(ctx, password); msg != "" {
		ve.Add("password", msg)
	} else if password != confirm {
		ve.Add("confirm", i18n.T(ctx, "auth.err.differ"))
	}
	if err := ve.OrNil(); err != nil {
		return models.User{}, err
	}
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return models.User{}, err
	}
	u := models.User{Email: email, Name: strings.TrimSpace(name), PasswordHash: hash, Role: models.RoleAdmin, Staff: true}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Instances starting together with MMC_ADMIN_EMAIL each try this: one creates the admin,
		// the others then see a user and leave it.
		if err := database.LockKey(tx, "auth:setup"); err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&models.User{}).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return models.ErrNotFound
		}
		return tx.Create(&u).Error
	})
	if err != nil {
		return models.User{}, fmt.Errorf("auth: setup: %w", err)
	}
	return u, nil
}

// Bootstrap creates email as a Hibot staff admin when no user exists yet (MMC_ADMIN_EMAIL and
// MMC_ADMIN_PASSWORD). It reports whether it created the user.
func (s *Service) Bootstrap(ctx context.Context, email, password string) (bool, error) {
	_, err := s.Setup(ctx, email, "", password, password)
	if errors.Is(err, models.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// DemoUser is one sandbox demo sign-in.
type DemoUser struct {
	Email    string
	Role     models.Role
	Password string
}

// Demo user emails; they share one password generated at first start.
var demoUsers = []struct {
	email string
	role  models.Role
}{
	{"demo-admin@example.com", models.RoleAdmin},
	{"demo-marketer@example.com", models.RoleMarketer},
	{"demo-viewer@example.com", models.RoleViewer},
}

// errDemoExists ends EnsureDemo's transaction when the demo users appeared meanwhile.
var errDemoExists = errors.New("auth: demo users exist")

// EnsureDemo creates the sandbox demo users (admin, marketer, viewer) in accountID when that
// account has no users yet, all with one random password, and returns them with it. It returns
// nothing when the users exist: the password is only known at creation.
func (s *Service) EnsureDemo(ctx context.Context, accountID uint) ([]DemoUser, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&models.User{}).Where("account_id = ?", accountID).Count(&n).Error; err != nil {
		return nil, fmt.Errorf("auth: demo users: %w", err)
	}
	if n > 0 {
		return nil, nil
	}
	pw, err := newToken()
	if err != nil {
		return nil, err
	}
	pw = pw[:20] // long enough, short enough to type
	hash, err := s.hashPassword(ctx, pw)
	if err != nil {
		return nil, err
	}
	var out []DemoUser
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, d := range demoUsers {
			u := models.User{AccountID: &accountID, Email: d.email, Name: "Demo " + string(d.role), PasswordHash: hash, Role: d.role}
			res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "email"}}, DoNothing: true}).Create(&u)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				// Another instance starting at the same time made them (with its password,
				// which it prints): keep those, add none.
				return errDemoExists
			}
			out = append(out, DemoUser{Email: d.email, Role: d.role, Password: pw})
		}
		return nil
	})
	if errors.Is(err, errDemoExists) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auth: demo users: %w", err)
	}
	return out, nil
}

// ---- users of an account ----

// Users lists the users of accountID (nil: Hibot staff), by email.
func (s *Service) Users(ctx context.Context, accountID *uint) ([]models.User, error) {
	q := s.db.WithContext(ctx)
	if accountID == nil {
		q = q.Where("account_id IS NULL")
	} else {
		q = q.Where("account_id = ?", *accountID)
	}
	var out []models.User
	if err := q.Order("email").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("auth: list users: %w", err)
	}
	return out, nil
}

// User returns user id if scope may see it (staff users only to staff); otherwise ErrNotFound.
func (s *Service) User(ctx context.Context, scope models.Scope, id uint) (models.User, error) {
	var u models.User
	err := database.Scoped(s.db.WithContext(ctx), scope, "account_id").First(&u, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return u, models.ErrNotFound
	}
	if err != nil {
		return u, fmt.Errorf("auth: user %d: %w", id, err)
	}
	return u, nil
}

// InviteInput is the invite form.
type InviteInput struct {
	Email string
	Name  string
	Role  string
}

// Invite creates a user without a password in accountID (nil: Hibot staff) and a one-time
// link token, valid InviteTTL, through which the user sets one. The token is returned once and
// only its hash is kept.
func (s *Service) Invite(ctx context.Context, accountID *uint, in InviteInput) (models.User, string, error) {
	in.Email = NormalizeEmail(in.Email)
	ve := &models.ValidationError{}
	if msg := emailProblem(ctx, in.Email); msg != "" {
		ve.Add("email", msg)
	}
	role := models.Role(in.Role)
	if !role.Valid() {
		ve.Add("role", i18n.T(ctx, "auth.err.role"))
	}
	if ve.OrNil() == nil {
		var n int64
		if err := s.db.WithContext(ctx).Model(&models.User{}).Where("email = ?", in.Email).Count(&n).Error; err != nil {
			return models.User{}, "", fmt.Errorf("auth: invite: %w", err)
		}
		if n > 0 {
			ve.Add("email", "A user with this email already exists.")
		}
	}
	if err := ve.OrNil(); err != nil {
		return models.User{}, "", err
	}
	token, err := newToken()
	if err != nil {
		return models.User{}, "", err
	}
	u := models.User{AccountID: accountID, Email: in.Email, Name: strings.TrimSpace(in.Name), Role: role, Staff: accountID == nil}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&u).Error; err != nil {
			return err
		}
		now := s.now()
		return tx.Create(&models.Invite{UserID: u.ID, TokenHash: hashToken(token), ExpiresAt: now.Add(s.o.InviteTTL), CreatedAt: now}).Error
	})
	if err != nil {
		return models.User{}, "", fmt.Errorf("auth: invite: %w", err)
	}
	return u, token, nil
}

// InvitedUser returns the user an unused, unexpired invite token belongs to; otherwise
// models.ErrNotFound.
func (s *Service) InvitedUser(ctx context.Context, token string) (models.User, error) {
	inv, err := s.invite(ctx, s.db.WithContext(ctx), token)
	if err != nil {
		return models.User{}, err
	}
	return *inv.User, nil
}

func (s *Service) invite(ctx context.Context, tx *gorm.DB, token string) (models.Invite, error) {
	var inv models.Invite
	err := tx.Preload("User").Where("token_hash = ? AND used_at IS NULL AND expires_at > ?", hashToken(token), s.now()).First(&inv).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || err == nil && (inv.User == nil || inv.User.Disabled) {
		return inv, models.ErrNotFound
	}
	if err != nil {
		return inv, fmt.Errorf("auth: invite: %w", err)
	}
	return inv, nil
}

// AcceptInvite sets the invited user's password and uses the invite up.
func (s *Service) AcceptInvite(ctx context.Context, token, password, confirm string) (models.User, error) {
	ve := &models.ValidationError{}
	if msg := passwordProblem(ctx, password); msg != "" {
		ve.Add("password", msg)
	} else if password != confirm {
		ve.Add("confirm", i18n.T(ctx, "auth.err.differ"))
	}
	if _, err := s.InvitedUser(ctx, token); err != nil {
		return models.User{}, err
	}
	if err := ve.OrNil(); err != nil {
		return models.User{}, err
	}
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return models.User{}, err
	}
	var u models.User
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		inv, err := s.invite(ctx, tx, token)
		if err != nil {
			return err
		}
		res := tx.Model(&models.Invite{}).Where("id = ? AND used_at IS NULL", inv.ID).Update("used_at", s.now())
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return models.ErrNotFound
		}
		u = *inv.User
		return tx.Model(&models.User{}).Where("id = ?", u.ID).Update("password_hash", hash).Error
	})
	if err != nil {
		return models.User{}, fmt.Errorf("auth: accept invite: %w", err)
	}
	return u, nil
}

// SetRole changes target's role. Admins cannot demote themselves.
func (s *Service) SetRole(ctx context.Context, actor, target models.User, role string) error {
	r := models.Role(role)
	if !r.Valid() {
		return &models.ValidationError{Fields: map[string]string{"role": i18n.T(ctx, "auth.err.role")}}
	}
	if actor.ID == target.ID && r != target.Role {
		return ErrSelf
	}
	if err := s.db.WithContext(ctx).Model(&models.User{}).Where("id = ?", target.ID).Update("role", r).Error; err != nil {
		return fmt.Errorf("auth: set role: %w", err)
	}
	return nil
}

// SetDisabled disables or enables target. Disabling ends its sessions at once (and Authenticate
// refuses disabled users anyway). Admins cannot disable themselves.
func (s *Service) SetDisabled(ctx context.Context, actor, target models.User, disabled bool) error {
	if actor.ID == target.ID {
		return ErrSelf
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&models.User{}).Where("id = ?", target.ID).Update("disabled", disabled).Error; err != nil {
			return fmt.Errorf("auth: set disabled: %w", err)
		}
		if disabled {
			if err := tx.Where("user_id = ?", target.ID).Delete(&models.Session{}).Error; err != nil {
				return fmt.Errorf("auth: end sessions: %w", err)
			}
		}
		return nil
	})
}
