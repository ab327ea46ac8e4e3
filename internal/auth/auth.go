// Package auth owns who may use the dashboard: users and their passwords (argon2id), server-side
// sessions kept in the database (the cookie carries a random token, the database only its
// SHA-256), idle and absolute session expiry, throttling of failed sign-ins per email and per
// client address (counted in the database so every instance agrees), invitations, first-run
// bootstrap and the sandbox demo users. It knows nothing about HTTP.
package auth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/mail"
	"strings"
	"time"

	"gorm.io/gorm"

	"mmconsole/internal/database"
	"mmconsole/models"
)

// Options tune the service; zero values get the defaults in brackets.
type Options struct {
	Now         func() time.Time // [time.Now]; tests move time
	Idle        time.Duration    // a session ends after this long unused [2h]
	Absolute    time.Duration    // a session ends this long after sign-in [24h]
	MaxFailures int              // failed sign-ins per email or address before a lock [5]
	FailWindow  time.Duration    // the window those failures are counted in [15m]
	LockFor     time.Duration    // how long a lock lasts [15m]
	InviteTTL   time.Duration    // how long an invite link works [7 days]
}

// Service is the users-and-sessions service.
type Service struct {
	db *gorm.DB
	o  Options
}

// New builds the service.
func New(db *gorm.DB, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Idle <= 0 {
		o.Idle = 2 * time.Hour
	}
	if o.Absolute <= 0 {
		o.Absolute = 24 * time.Hour
	}
	if o.MaxFailures <= 0 {
		o.MaxFailures = 5
	}
	if o.FailWindow <= 0 {
		o.FailWindow = 15 * time.Minute
	}
	if o.LockFor <= 0 {
		o.LockFor = 15 * time.Minute
	}
	if o.InviteTTL <= 0 {
		o.InviteTTL = 7 * 24 * time.Hour
	}
	return &Service{db: db, o: o}
}

// Migrations creates the sessions, invites and throttle tables.
func Migrations() []database.Migration {
	return []database.Migration{
		database.AutoMigrateStep("0003_auth", &models.Session{}, &models.Invite{}, &models.SignInThrottle{}),
	}
}

func (s *Service) now() time.Time { return s.o.Now().UTC() }

// Errors a sign-in form shows as they are.
var (
	ErrBadCredentials = errors.New("Email or password is wrong.")
	ErrDisabled       = errors.New("This user is disabled. Ask an admin of your account to enable it.")
	// ErrNoSession: no cookie, an unknown token, an expired session or a disabled user.
	ErrNoSession = errors.New("auth: no valid session")
)

// LockedError says sign-in is refused until Until because of too many failures.
type LockedError struct{ Until, Now time.Time }

func (e *LockedError) Error() string {
	mins := int(math.Ceil(e.Until.Sub(e.Now).Minutes()))
	if mins < 1 {
		mins = 1
	}
	unit := "minutes"
	if mins == 1 {
		unit = "minute"
	}
	return fmt.Sprintf("Too many failed sign-ins from this email or address. Sign-in is locked; try again in %d %s.", mins, unit)
}

// UserFacing lets the central error handler show the message as it is.
func (e *LockedError) UserFacing() (int, string, string) {
	return 429, "Sign-in locked", e.Error()
}

// refusedError is an action a user may not take on themselves.
type refusedError string

func (e refusedError) Error() string { return string(e) }
func (e refusedError) UserFacing() (int, string, string) {
	return 403, "Not allowed", string(e)
}

// ErrSelf refuses an admin disabling or demoting themselves (which could leave an account with
// no admin, and is never what was meant).
var ErrSelf error = refusedError("You cannot disable or demote yourself; ask another admin.")

// Current is the signed-in user of a request.
type Current struct {
	User        models.User
	AccountName string
	SessionID   uint
	CSRF        string
}

// NormalizeEmail is how emails are compared and stored.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ---- sign-in and sessions ----

// SignIn checks email and password from client address ip and, when they match an enabled user
// that is not locked out, opens a session and returns its token (for the cookie only).
func (s *Service) SignIn(ctx context.Context, email, password, ip string) (string, models.User, error) {
	email = NormalizeEmail(email)
	keys := []string{"email:" + email, "ip:" + ip}
	if err := s.locked(ctx, keys); err != nil {
		return "", models.User{}, err
	}
	var u models.User
	err := s.db.WithContext(ctx).Where("email = ?", email).First(&u).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return "", models.User{}, fmt.Errorf("auth: sign in: %w", err)
	}
	hash := u.PasswordHash
	if u.ID == 0 {
		hash = dummyHash
	}
	if !checkPassword(hash, password) || u.ID == 0 {
		if err := s.fail(ctx, keys); err != nil {
			return "", models.User{}, err
		}
		return "", models.User{}, ErrBadCredentials
	}
	if u.Disabled {
		return "", u, ErrDisabled
	}
	// A correct password clears the email's counter; the address's stays, so one good account
	// cannot be used to reset the count while guessing others.
	if err := s.db.WithContext(ctx).Where("subject = ?", keys[0]).Delete(&models.SignInThrottle{}).Error; err != nil {
		return "", u, fmt.Errorf("auth: sign in: %w", err)
	}
	token, err := s.openSession(ctx, u.ID, ip)
	if err != nil {
		return "", u, err
	}
	now := s.now()
	u.LastSignInAt = &now
	if err := s.db.WithContext(ctx).Model(&models.User{}).Where("id = ?", u.ID).Update("last_sign_in_at", now).Error; err != nil {
		return "", u, fmt.Errorf("auth: sign in: %w", err)
	}
	return token, u, nil
}

func (s *Service) locked(ctx context.Context, keys []string) error {
	var rows []models.SignInThrottle
	if err := s.db.WithContext(ctx).Where("subject IN ?", keys).Find(&rows).Error; err != nil {
		return fmt.Errorf("auth: throttle: %w", err)
	}
	now := s.now()
	for _, r := range rows {
		if r.LockedUntil != nil && r.LockedUntil.After(now) {
			return &LockedError{Until: *r.LockedUntil, Now: now}
		}
	}
	return nil
}

// fail counts one failure for each key; it returns a LockedError when this failure locks one.
func (s *Service) fail(ctx context.Context, keys []string) error {
	now := s.now()
	var lock *LockedError
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, k := range keys {
			var r models.SignInThrottle
			err := tx.Where("subject = ?", k).First(&r).Error
			isNew := errors.Is(err, gorm.ErrRecordNotFound)
			if err != nil && !isNew {
				return err
			}
			if isNew || now.Sub(r.WindowStart) >= s.o.FailWindow || (r.LockedUntil != nil && !r.LockedUntil.After(now)) {
				r = models.SignInThrottle{Subject: k, WindowStart: now}
			}
			r.Failures++
			if r.Failures >= s.o.MaxFailures {
				until := now.Add(s.o.LockFor)
				r.LockedUntil = &until
				lock = &LockedError{Until: until, Now: now}
			}
			if err := tx.Save(&r).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("auth: throttle: %w", err)
	}
	if lock != nil {
		return lock
	}
	return nil
}

func (s *Service) openSession(ctx context.Context, userID uint, ip string) (string, error) {
	token, err := newToken()
	if err != nil {
		return "", err
	}
	csrf, err := newToken()
	if err != nil {
		return "", err
	}
	now := s.now()
	sess := models.Session{UserID: userID, TokenHash: hashToken(token), CSRFToken: csrf, IP: ip, CreatedAt: now, LastSeenAt: now}
	if err := s.db.WithContext(ctx).Create(&sess).Error; err != nil {
		return "", fmt.Errorf("auth: open session: %w", err)
	}
	return token, nil
}

// Authenticate returns the session's user, refusing expired sessions (which it deletes) and
// disabled users, and records the use for the idle limit.
func (s *Service) Authenticate(ctx context.Context, token string) (Current, error) {
	if token == "" {
		return Current{}, ErrNoSession
	}
	db := s.db.WithContext(ctx)
	var sess models.Session
	err := db.Preload("User.Account").Where("token_hash = ?", hashToken(token)).First(&sess).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Current{}, ErrNoSession
	}
	if err != nil {
		return Current{}, fmt.Errorf("auth: session: %w", err)
	}
	now := s.now()
	if now.Sub(sess.CreatedAt) >= s.o.Absolute || now.Sub(sess.LastSeenAt) >= s.o.Idle || sess.User == nil || sess.User.Disabled {
		if err := db.Delete(&models.Session{}, sess.ID).Error; err != nil {
			return Current{}, fmt.Errorf("auth: end session: %w", err)
		}
		return Current{}, ErrNoSession
	}
	// Writing on every request would make each page a write; a minute of slack on a limit
	// measured in hours is harmless.
	if now.Sub(sess.LastSeenAt) >= time.Minute {
		if err := db.Model(&models.Session{}).Where("id = ?", sess.ID).Update("last_seen_at", now).Error; err != nil {
			return Current{}, fmt.Errorf("auth: touch session: %w", err)
		}
	}
	cur := Current{User: *sess.User, SessionID: sess.ID, CSRF: sess.CSRFToken}
	if sess.User.Account != nil {
		cur.AccountName = sess.User.Account.Name
	}
	cur.User.Account = nil
	return cur, nil
}

// SignOut ends the session of token.
func (s *Service) SignOut(ctx context.Context, token string) error {
	if err := s.db.WithContext(ctx).Where("token_hash = ?", hashToken(token)).Delete(&models.Session{}).Error; err != nil {
		return fmt.Errorf("auth: sign out: %w", err)
	}
	return nil
}

// ChangePassword replaces the password of userID after checking the current one, and ends
// every other session of the user (keepSession stays signed in).
func (s *Service) ChangePassword(ctx context.Context, userID, keepSession uint, current, next, confirm string) error {
	var u models.User
	if err := s.db.WithContext(ctx).First(&u, userID).Error; err != nil {
		return fmt.Errorf("auth: change password: %w", err)
	}
	ve := &models.ValidationError{}
	if !checkPassword(u.PasswordHash, current) {
		ve.Add("current", "This is not your current password.")
	}
	if msg := passwordProblem(next); msg != "" {
		ve.Add("new", msg)
	} else if next != confirm {
		ve.Add("confirm", "The two new passwords differ.")
	}
	if err := ve.OrNil(); err != nil {
		return err
	}
	hash, err := hashPassword(next)
	if err != nil {
		return err
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&models.User{}).Where("id = ?", userID).Update("password_hash", hash).Error; err != nil {
			return fmt.Errorf("auth: change password: %w", err)
		}
		if err := tx.Where("user_id = ? AND id <> ?", userID, keepSession).Delete(&models.Session{}).Error; err != nil {
			return fmt.Errorf("auth: end other sessions: %w", err)
		}
		return nil
	})
}

func passwordProblem(pw string) string {
	switch {
	case len([]rune(pw)) < MinPasswordLen:
		return fmt.Sprintf("Use at least %d characters.", MinPasswordLen)
	case len(pw) > 256:
		return "Use at most 256 characters."
	}
	return ""
}

func emailProblem(email string) string {
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || !strings.Contains(email, "@") {
		return "Enter an email address like name@example.com."
	}
	return ""
}
