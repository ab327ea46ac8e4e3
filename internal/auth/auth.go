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
	"runtime"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"mmconsole/internal/database"
	"mmconsole/internal/i18n"
	"mmconsole/models"
)

// Options tune the service; zero values get the defaults in brackets.
type Options struct {
	Now      func() time.Time // [time.Now]; tests move time
	Idle     time.Duration    // a session ends after this long unused [2h]
	Absolute time.Duration    // a session ends this long after sign-in [24h]
	// MaxFailures failed sign-ins for one email from one address lock that pair [5].
	MaxFailures int
	// EmailMaxFailures failed sign-ins for one email from all addresses together slow that email
	// down for every address that has not signed in as it before [50].
	EmailMaxFailures int
	// FailWindow: a counter starts again after this long without a failure or a lock [15m].
	FailWindow time.Duration
	// FirstLock is the first lock; each further failure after a lock doubles it [1m], up to
	// MaxLock [30m].
	FirstLock time.Duration
	MaxLock   time.Duration
	InviteTTL time.Duration // how long an invite link works [7 days]
	// Hashing bounds concurrent password hashing [a pool of 2 per CPU, waiting at most 1s].
	Hashing *HashPool
}

// Service is the users-and-sessions service.
type Service struct {
	db *gorm.DB
	o  Options
	// beforeArgon, when set (by this package's tests), runs before every argon2id computation,
	// so tests can count them and hold them in flight.
	beforeArgon func()
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
	if o.EmailMaxFailures <= 0 {
		o.EmailMaxFailures = 50
	}
	if o.FailWindow <= 0 {
		o.FailWindow = 15 * time.Minute
	}
	if o.FirstLock <= 0 {
		o.FirstLock = time.Minute
	}
	if o.MaxLock < o.FirstLock {
		o.MaxLock = max(30*time.Minute, o.FirstLock)
	}
	if o.InviteTTL <= 0 {
		o.InviteTTL = 7 * 24 * time.Hour
	}
	if o.Hashing == nil {
		o.Hashing = NewHashPool(2*runtime.NumCPU(), time.Second)
	}
	return &Service{db: db, o: o}
}

// Migrations creates the sessions, invites and throttle tables.
func Migrations() []database.Migration {
	return []database.Migration{
		database.AutoMigrateStep("0003_auth", &models.Session{}, &models.Invite{}, &models.SignInThrottle{}),
		// Counters become per (email, address) and per email; the old per-address rows would
		// lock everyone behind one proxy, so they go.
		{ID: "0040_signin_pairs", Up: func(tx *gorm.DB) error {
			if err := tx.AutoMigrate(&models.SignInThrottle{}); err != nil {
				return err
			}
			return tx.Where("subject LIKE ?", "ip:%").Delete(&models.SignInThrottle{}).Error
		}},
		// Each user's language (empty: the browser's). A new database has it from 0001, which
		// migrates the current model.
		{ID: "0290_user_language", Up: func(tx *gorm.DB) error {
			if tx.Migrator().HasColumn(&models.User{}, "Language") {
				return nil
			}
			return tx.Migrator().AddColumn(&models.User{}, "Language")
		}},
	}
}

// SetLanguage stores the language a user chose on the account page ("" goes back to the
// browser's).
func (s *Service) SetLanguage(ctx context.Context, userID uint, code string) error {
	if code != "" && !i18n.Supported(code) {
		ve := &models.ValidationError{}
		ve.Add("language", i18n.T(ctx, "account.err.language"))
		return ve
	}
	if err := s.db.WithContext(ctx).Model(&models.User{}).Where("id = ?", userID).Update("language", code).Error; err != nil {
		return fmt.Errorf("auth: set language: %w", err)
	}
	return nil
}

func (s *Service) now() time.Time { return s.o.Now().UTC() }

// Errors a sign-in form shows as they are.
var (
	ErrBadCredentials = errors.New("Email or password is wrong.")
	ErrDisabled       = errors.New("This user is disabled. Ask an admin of your account to enable it.")
	// ErrNoSession: no cookie, an unknown token, an expired session or a disabled user.
	ErrNoSession = errors.New("auth: no valid session")
)

// LockedError says sign-in is refused until Until because of too many failures: for this email
// from this address, or (Email) for this email from any address it has not signed in from.
type LockedError struct {
	Until, Now time.Time
	Email      bool
}

func (e *LockedError) Error() string {
	mins := int(math.Ceil(e.Until.Sub(e.Now).Minutes()))
	if mins < 1 {
		mins = 1
	}
	unit := "minutes"
	if mins == 1 {
		unit = "minute"
	}
	if e.Email {
		return fmt.Sprintf("Too many failed sign-ins for this email. Sign-in from a new address is paused; try again in %d %s, or from an address you signed in from before.", mins, unit)
	}
	return fmt.Sprintf("Too many failed sign-ins for this email from your address. Sign-in is locked; try again in %d %s.", mins, unit)
}

// UserFacing is the refusal in the language of ctx.
func (e *LockedError) UserFacing(ctx context.Context) (int, string, string) {
	mins := int(math.Ceil(e.Until.Sub(e.Now).Minutes()))
	if mins < 1 {
		mins = 1
	}
	msg := i18n.N(ctx, "auth.locked.address", mins)
	if e.Email {
		msg = i18n.N(ctx, "auth.locked.email", mins)
	}
	return 429, i18n.T(ctx, "auth.locked.title"), msg
}

// RetryAfterSeconds is the Retry-After header value.
func (e *LockedError) RetryAfterSeconds() int { return ceilSeconds(e.Until.Sub(e.Now)) }

// UnavailableError says the sign-in could not be checked because the database did not answer
// (busy, locked, gone). The attempt is refused, never let through, and nothing was recorded.
type UnavailableError struct{ Err error }

func (e *UnavailableError) Error() string {
	return "Sign-in could not be checked just now. Nothing was changed; try again in a few seconds."
}

// Unwrap gives the database error, for the log.
func (e *UnavailableError) Unwrap() error { return e.Err }

// UserFacing lets the central error handler show the message as it is.
func (e *UnavailableError) UserFacing(ctx context.Context) (int, string, string) {
	return 503, i18n.T(ctx, "auth.unavailable.title"), i18n.T(ctx, "auth.unavailable.message")
}

// RetryAfterSeconds is the Retry-After header value.
func (e *UnavailableError) RetryAfterSeconds() int { return 5 }

// refusedError is an action a user may not take on themselves; the string is its catalog key.
type refusedError string

func (e refusedError) Error() string { return "auth: refused: " + string(e) }
func (e refusedError) UserFacing(ctx context.Context) (int, string, string) {
	return 403, i18n.T(ctx, "errors.forbidden.title"), i18n.T(ctx, string(e))
}

// ErrSelf refuses an admin disabling or demoting themselves (which could leave an account with
// no admin, and is never what was meant).
var ErrSelf error = refusedError(i18n.Key("auth.err.self"))

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
//
// The attempt is counted before the password is checked (reserve) and released when it was
// right, so parallel guesses cannot all pass a check made before any of them was recorded. Every
// attempt that reaches the check costs exactly one argon2id computation, whoever the email
// belongs to.
func (s *Service) SignIn(ctx context.Context, email, password, ip string) (string, models.User, error) {
	email = NormalizeEmail(email)
	release, err := s.o.Hashing.Acquire(ctx)
	if err != nil {
		return "", models.User{}, err
	}
	defer release()
	res, err := s.reserve(ctx, email, ip)
	if err != nil {
		return "", models.User{}, err
	}
	var u models.User
	err = s.db.WithContext(ctx).Where("email = ?", email).First(&u).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return "", models.User{}, &UnavailableError{Err: fmt.Errorf("auth: sign in: %w", err)}
	}
	// An unknown email is checked against dummyHash (via the empty hash): same work, no match.
	if !s.checkPassword(u.PasswordHash, password) || u.ID == 0 {
		if res.lockedNow != nil {
			return "", models.User{}, res.lockedNow
		}
		return "", models.User{}, ErrBadCredentials
	}
	if u.Disabled {
		return "", u, ErrDisabled
	}
	if err := s.succeeded(ctx, email, ip, res); err != nil {
		return "", u, err
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

// checkPassword is the package's checkPassword (one argon2id computation), seen by tests.
func (s *Service) checkPassword(encoded, pw string) bool {
	if s.beforeArgon != nil {
		s.beforeArgon()
	}
	return checkPassword(encoded, pw)
}

// hashPassword hashes pw in a slot of the hashing pool.
func (s *Service) hashPassword(ctx context.Context, pw string) (string, error) {
	release, err := s.o.Hashing.Acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	if s.beforeArgon != nil {
		s.beforeArgon()
	}
	return hashPassword(pw)
}

// throttle subjects: one counter per (email, address) and one per email.
func throttleSubjects(email, ip string) (pair, mail string) {
	if len(email) > 254 { // longer than any address a user can have; keep the key short
		email = "#" + hashToken(email)
	}
	return "pair:" + email + "|" + ip, "email:" + email
}

// reservation is one counted attempt.
type reservation struct {
	lockedNow    *LockedError // the lock this attempt set, shown if the password is wrong
	emailCounted bool         // the attempt also counts toward the per-email ceiling
	emailLock    *time.Time   // the per-email pause this attempt set, lifted if it was right
}

// reserve counts one attempt for (email, ip) and for email in one short write transaction, before
// the password is checked. It refuses with a LockedError while the pair is locked, or while the
// email is and ip has never signed in as it. A pair that has signed in before (Trusted) counts
// only toward its own limit: its typos are the owner's. When this attempt reaches a limit it sets
// the lock. A database error refuses the attempt (UnavailableError) and records nothing.
func (s *Service) reserve(ctx context.Context, email, ip string) (res reservation, err error) {
	now := s.now()
	pairKey, mailKey := throttleSubjects(email, ip)
	var refused *LockedError
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Parallel guesses at one address must each see the count the previous one wrote; the
		// pair's key contains the address, so one lock covers both rows.
		if err := database.LockKey(tx, mailKey); err != nil {
			return err
		}
		var rows []models.SignInThrottle
		if err := tx.Where("subject IN ?", []string{pairKey, mailKey}).Find(&rows).Error; err != nil {
			return err
		}
		pair := models.SignInThrottle{Subject: pairKey, WindowStart: now}
		mail := models.SignInThrottle{Subject: mailKey, WindowStart: now}
		for _, r := range rows {
			if r.Subject == pairKey {
				pair = r
			} else {
				mail = r
			}
		}
		s.expire(&pair, now)
		s.expire(&mail, now)
		if pair.LockedUntil != nil {
			refused = &LockedError{Until: *pair.LockedUntil, Now: now}
			return nil
		}
		if mail.LockedUntil != nil && !pair.Trusted {
			refused = &LockedError{Until: *mail.LockedUntil, Now: now, Email: true}
			return nil
		}
		pair.Failures++
		pair.LastFailureAt = &now
		if pair.Failures >= s.o.MaxFailures {
			until := now.Add(s.lockFor(pair.Failures - s.o.MaxFailures))
			pair.LockedUntil = &until
			res.lockedNow = &LockedError{Until: until, Now: now}
		}
		rows = []models.SignInThrottle{pair}
		if !pair.Trusted {
			res.emailCounted = true
			mail.Failures++
			mail.LastFailureAt = &now
			if mail.Failures >= s.o.EmailMaxFailures {
				until := now.Add(s.lockFor(mail.Failures - s.o.EmailMaxFailures))
				mail.LockedUntil = &until
				res.emailLock = &until
				if res.lockedNow == nil {
					res.lockedNow = &LockedError{Until: until, Now: now, Email: true}
				}
			}
			rows = append(rows, mail)
		}
		return tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&rows).Error
	})
	if err != nil {
		return reservation{}, &UnavailableError{Err: fmt.Errorf("auth: reserve sign-in attempt: %w", err)}
	}
	if refused != nil {
		return reservation{}, refused
	}
	return res, nil
}

// expire clears a lock that has ended and, once FailWindow has passed since the later of the last
// failure and the end of the last lock, the counter too.
func (s *Service) expire(r *models.SignInThrottle, now time.Time) {
	last := r.WindowStart
	if r.LastFailureAt != nil {
		last = *r.LastFailureAt
	}
	if r.LockedUntil != nil {
		if r.LockedUntil.After(now) {
			return
		}
		last = *r.LockedUntil
		r.LockedUntil = nil
	}
	if now.Sub(last) >= s.o.FailWindow {
		r.Failures, r.WindowStart = 0, now
	}
}

// lockFor is the lock after the k-th failure beyond a limit: FirstLock doubled k times, at most
// MaxLock.
func (s *Service) lockFor(k int) time.Duration {
	d := s.o.FirstLock
	for range k {
		if d >= s.o.MaxLock {
			break
		}
		d *= 2
	}
	return min(d, s.o.MaxLock)
}

// succeeded releases the attempt reserve counted: the pair starts again and is remembered as an
// address this email signs in from (which the per-email limit does not pause), and the email's
// counter gives back the one attempt if it was counted there, and the pause it set, if any (a
// later attempt's pause has another end and stays).
func (s *Service) succeeded(ctx context.Context, email, ip string, res reservation) error {
	pairKey, mailKey := throttleSubjects(email, ip)
	now := s.now()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&models.SignInThrottle{}).Where("subject = ?", pairKey).
			Updates(map[string]any{"failures": 0, "locked_until": nil, "trusted": true, "window_start": now}).Error; err != nil {
			return err
		}
		if !res.emailCounted {
			return nil
		}
		if err := tx.Model(&models.SignInThrottle{}).Where("subject = ? AND failures > 0", mailKey).
			Update("failures", gorm.Expr("failures - 1")).Error; err != nil {
			return err
		}
		if res.emailLock == nil {
			return nil
		}
		return tx.Model(&models.SignInThrottle{}).Where("subject = ? AND locked_until = ?", mailKey, *res.emailLock).
			Update("locked_until", nil).Error
	})
	if err != nil {
		return &UnavailableError{Err: fmt.Errorf("auth: release sign-in attempt: %w", err)}
	}
	return nil
}

// PruneThrottles deletes the counters that would start again at their next use anyway (no lock
// or failure within FailWindow), except the pairs that have signed in, which remember the
// owner's addresses. Without it, guesses over many emails or addresses would grow the table
// without end.
func (s *Service) PruneThrottles(ctx context.Context) (int64, error) {
	cutoff := s.now().Add(-s.o.FailWindow)
	res := s.db.WithContext(ctx).Where("trusted = ? AND COALESCE(locked_until, last_failure_at, window_start) < ?", false, cutoff).
		Delete(&models.SignInThrottle{})
	if res.Error != nil {
		return 0, fmt.Errorf("auth: prune sign-in counters: %w", res.Error)
	}
	return res.RowsAffected, nil
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
	release, err := s.o.Hashing.Acquire(ctx)
	if err != nil {
		return err
	}
	ok := s.checkPassword(u.PasswordHash, current)
	release()
	ve := &models.ValidationError{}
	if !ok {
		ve.Add("current", i18n.T(ctx, "auth.err.not_current"))
	}
	if msg := passwordProblem(ctx, next); msg != "" {
		ve.Add("new", msg)
	} else if next != confirm {
		ve.Add("confirm", i18n.T(ctx, "auth.err.new_differ"))
	}
	if err := ve.OrNil(); err != nil {
		return err
	}
	hash, err := s.hashPassword(ctx, next)
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

func passwordProblem(ctx context.Context, pw string) string {
	switch {
	case len([]rune(pw)) < MinPasswordLen:
		return i18n.T(ctx, "auth.err.password_short", "Min", MinPasswordLen)
	case len(pw) > 256:
		return i18n.T(ctx, "auth.err.password_long", "Max", 256)
	}
	return ""
}

func emailProblem(ctx context.Context, email string) string {
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || !strings.Contains(email, "@") {
		return i18n.T(ctx, "auth.err.email")
	}
	return ""
}
