package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mmconsole/internal/accounts"
	"mmconsole/internal/database"
	"mmconsole/models"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time        { return c.t }
func (c *clock) add(d time.Duration)   { c.t = c.t.Add(d) }
func newClock() *clock                 { return &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)} }
func migrations() []database.Migration { return append(accounts.Migrations(), Migrations()...) }
func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newService(t *testing.T) (*Service, *clock) {
	t.Helper()
	c := newClock()
	db := database.OpenTest(t, migrations())
	return New(db, Options{Now: c.now, Idle: time.Hour, Absolute: 8 * time.Hour}), c
}

const pw = "correct horse battery"

func TestSignInLocksTheEmailAndAddressPairWithGrowingDelays(t *testing.T) {
	ctx := context.Background()
	s, clk := newService(t)
	_, err := s.Setup(ctx, "a@example.com", "", pw, pw)
	mustNil(t, err)
	for i := range 4 {
		if _, _, err := s.SignIn(ctx, "a@example.com", "wrong password!", "10.0.0.1"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	var le *LockedError
	_, _, err = s.SignIn(ctx, "a@example.com", "wrong password!", "10.0.0.1")
	if !errors.As(err, &le) || le.Email || !strings.Contains(err.Error(), "try again in 1 minute") {
		t.Fatalf("5th failure = %v, want a 1-minute lock", err)
	}
	// Locked for this address even with the right password...
	if _, _, err := s.SignIn(ctx, "a@example.com", pw, "10.0.0.1"); !errors.As(err, &le) {
		t.Fatalf("right password while locked = %v", err)
	}
	// ...but not for another address, nor for another email from this address.
	if _, _, err := s.SignIn(ctx, "a@example.com", pw, "10.0.0.2"); err != nil {
		t.Fatalf("another address is locked out: %v", err)
	}
	if _, _, err := s.SignIn(ctx, "b@example.com", "wrong password!", "10.0.0.1"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("another email from the locked address: %v", err)
	}
	// Each failure after a lock doubles it: 2, 4, 8 ... minutes.
	for _, want := range []string{"2 minutes", "4 minutes", "8 minutes", "16 minutes", "30 minutes", "30 minutes"} {
		clk.add(le.Until.Sub(clk.t) + time.Second)
		_, _, err := s.SignIn(ctx, "a@example.com", "wrong password!", "10.0.0.1")
		if !errors.As(err, &le) || !strings.Contains(err.Error(), want) {
			t.Fatalf("failure after a lock = %v, want %s", err, want)
		}
	}
	// After the lock and a quiet window, the right password works and the pair starts again.
	clk.add(le.Until.Sub(clk.t) + 15*time.Minute)
	if _, _, err := s.SignIn(ctx, "a@example.com", pw, "10.0.0.1"); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	for i := range 4 {
		if _, _, err := s.SignIn(ctx, "a@example.com", "wrong password!", "10.0.0.1"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure %d after a success: %v", i+1, err)
		}
	}
}

func TestEmailCeilingPausesNewAddressesButNotTheOwners(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := New(database.OpenTest(t, migrations()), Options{Now: clk.now, EmailMaxFailures: 8})
	_, err := s.Setup(ctx, "a@example.com", "", pw, pw)
	mustNil(t, err)
	_, _, err = s.SignIn(ctx, "a@example.com", pw, "192.0.2.10") // the owner's usual address
	mustNil(t, err)
	// Guesses from many addresses, a few each: no pair reaches its lock.
	var le *LockedError
	for i := range 8 {
		_, _, err := s.SignIn(ctx, "a@example.com", "wrong password!", fmt.Sprintf("10.0.%d.1", i))
		if i < 7 && !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("guess %d: %v", i+1, err)
		}
		if i == 7 && (!errors.As(err, &le) || !le.Email) {
			t.Fatalf("guess that reaches the email ceiling = %v", err)
		}
	}
	if _, _, err := s.SignIn(ctx, "a@example.com", pw, "10.9.9.9"); !errors.As(err, &le) || !le.Email || !strings.Contains(err.Error(), "address you signed in from before") {
		t.Fatalf("new address while the email is paused = %v", err)
	}
	if _, _, err := s.SignIn(ctx, "a@example.com", pw, "192.0.2.10"); err != nil {
		t.Fatalf("the owner's address is locked out: %v", err)
	}
	clk.add(le.Until.Sub(clk.t) + time.Second)
	if _, _, err := s.SignIn(ctx, "a@example.com", pw, "10.9.9.9"); err != nil {
		t.Fatalf("new address after the pause: %v", err)
	}
	// That right attempt reached the ceiling again, but gave its pause back: another new
	// address is not paused by it.
	if _, _, err := s.SignIn(ctx, "a@example.com", pw, "10.9.9.10"); err != nil {
		t.Fatalf("another new address after a right sign-in: %v", err)
	}
}

// TestParallelGuessesGetAtMostTheAllowedChecks holds every password check in flight while 40
// guesses from one address race, then sends the right password among them: attempts are
// reserved before the check, so only MaxFailures checks start and the right password is refused.
func TestParallelGuessesGetAtMostTheAllowedChecks(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	s.o.Hashing = NewHashPool(64, time.Second)
	_, err := s.Setup(ctx, "a@example.com", "", pw, pw)
	mustNil(t, err)
	var checks atomic.Int32
	gate := make(chan struct{})
	s.beforeArgon = func() { checks.Add(1); <-gate }
	results := make(chan error, 41)
	guess := func(password string) {
		_, _, err := s.SignIn(ctx, "a@example.com", password, "10.0.0.1")
		results <- err
	}
	for range 14 {
		go guess("wrong password!")
	}
	// Wait (bounded) until the first 14 have settled: 5 in the check, 9 refused.
	refused := 0
	deadline := time.After(10 * time.Second)
	for refused < 9 {
		select {
		case err := <-results:
			var le *LockedError
			if !errors.As(err, &le) {
				t.Fatalf("a guess beyond the limit got %v, want locked", err)
			}
			refused++
		case <-deadline:
			t.Fatalf("only %d guesses refused, %d checks started", refused, checks.Load())
		}
	}
	for checks.Load() < 5 {
		select {
		case <-deadline:
			t.Fatalf("%d password checks started, want 5", checks.Load())
		case <-time.After(time.Millisecond):
		}
	}
	if n := checks.Load(); n != 5 {
		t.Fatalf("%d password checks started, want 5", n)
	}
	go guess(pw) // the 15th
	for range 25 {
		go guess("wrong password!")
	}
	for range 26 {
		var le *LockedError
		if err := <-results; !errors.As(err, &le) {
			t.Fatalf("a later guess (perhaps the right one) got %v, want locked", err)
		}
	}
	close(gate)
	for range 5 {
		if err := <-results; err == nil {
			t.Fatal("a wrong guess signed in")
		}
	}
	if n := checks.Load(); n != 5 {
		t.Fatalf("%d password checks in all, want 5", n)
	}
	var sessions int64
	mustNil(t, s.db.Model(&models.Session{}).Count(&sessions).Error)
	if sessions != 0 {
		t.Fatalf("%d sessions opened", sessions)
	}
}

func TestFullHashingPoolRefusesAtOnce(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	_, err := s.Setup(ctx, "a@example.com", "", pw, pw)
	mustNil(t, err)
	s.o.Hashing = NewHashPool(2, 10*time.Millisecond)
	gate := make(chan struct{})
	started := make(chan struct{}, 2)
	s.beforeArgon = func() { started <- struct{}{}; <-gate }
	done := make(chan error, 2)
	for i := range 2 {
		go func() {
			_, _, err := s.SignIn(ctx, "a@example.com", pw, fmt.Sprintf("10.0.0.%d", i+1))
			done <- err
		}()
	}
	<-started
	<-started
	var busy *BusyError
	if _, _, err := s.SignIn(ctx, "a@example.com", pw, "10.0.0.3"); !errors.As(err, &busy) || busy.RetryAfterSeconds() < 1 {
		t.Fatalf("sign-in with the pool full = %v, want BusyError", err)
	}
	if _, err := s.AcceptInvite(ctx, "whatever", pw, pw); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("accept invite: %v", err) // an unknown invite needs no hashing
	}
	if _, err := s.Setup(ctx, "b@example.com", "", pw, pw); !errors.As(err, &busy) {
		t.Fatalf("setup with the pool full = %v, want BusyError", err)
	}
	close(gate)
	for range 2 {
		mustNil(t, <-done)
	}
	// Refused while busy, not counted: the address can still sign in.
	s.beforeArgon = nil
	if _, _, err := s.SignIn(ctx, "a@example.com", pw, "10.0.0.3"); err != nil {
		t.Fatalf("after the burst: %v", err)
	}
}

// TestEveryRefusedSignInCostsOneArgon2 checks that unknown, invited (no password yet), disabled
// and wrong sign-ins all spend one argon2id computation, so timing does not tell them apart.
func TestEveryRefusedSignInCostsOneArgon2(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	admin, err := s.Setup(ctx, "a@example.com", "", pw, pw)
	mustNil(t, err)
	_, _, err = s.Invite(ctx, nil, InviteInput{Email: "invited@example.com", Role: "viewer"})
	mustNil(t, err)
	off, tok, err := s.Invite(ctx, nil, InviteInput{Email: "off@example.com", Role: "viewer"})
	mustNil(t, err)
	_, err = s.AcceptInvite(ctx, tok, pw, pw)
	mustNil(t, err)
	mustNil(t, s.SetDisabled(ctx, admin, off, true))
	var checks int
	s.beforeArgon = func() { checks++ }
	for i, tc := range []struct{ email, password string }{
		{"nobody@example.com", pw}, {"invited@example.com", ""}, {"invited@example.com", pw},
		{"off@example.com", "wrong password!"}, {"off@example.com", pw}, {"a@example.com", "wrong password!"},
	} {
		checks = 0
		if _, _, err := s.SignIn(ctx, tc.email, tc.password, fmt.Sprintf("10.1.0.%d", i)); err == nil || checks != 1 {
			t.Errorf("%s: err %v after %d argon2 computations, want an error after 1", tc.email, err, checks)
		}
	}
	h, ok := parseHash(dummyHash)
	if !ok {
		t.Fatal("dummyHash does not parse")
	}
	if h.m != argonMemory || h.t != argonTime || h.p != argonThreads || len(h.key) != argonKeyLen {
		t.Errorf("dummyHash parameters %+v differ from hashPassword's", h)
	}
}

func TestDatabaseErrorRefusesSignInAndLocksNothing(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	_, err := s.Setup(ctx, "a@example.com", "", pw, pw)
	mustNil(t, err)
	mustNil(t, s.db.Exec("ALTER TABLE sign_in_throttles RENAME TO throttles_away").Error)
	var ue *UnavailableError
	for range 8 {
		if _, _, err := s.SignIn(ctx, "a@example.com", pw, "10.0.0.1"); !errors.As(err, &ue) || ue.Unwrap() == nil {
			t.Fatalf("sign-in without the throttle table = %v, want UnavailableError", err)
		}
	}
	mustNil(t, s.db.Exec("ALTER TABLE throttles_away RENAME TO sign_in_throttles").Error)
	var n int64
	mustNil(t, s.db.Model(&models.Session{}).Count(&n).Error)
	if n != 0 {
		t.Fatal("a sign-in went through while its attempt could not be recorded")
	}
	if _, _, err := s.SignIn(ctx, "a@example.com", pw, "10.0.0.1"); err != nil {
		t.Fatalf("after the database recovered: %v", err)
	}
}

func TestPruneKeepsLocksAndOwnersAddressesOnly(t *testing.T) {
	ctx := context.Background()
	s, clk := newService(t)
	_, err := s.Setup(ctx, "a@example.com", "", pw, pw)
	mustNil(t, err)
	_, _, err = s.SignIn(ctx, "a@example.com", pw, "192.0.2.1") // a trusted pair
	mustNil(t, err)
	for i := range 5 { // locks pair (a, 10.0.0.1) for 1 minute
		_, _, _ = s.SignIn(ctx, "a@example.com", "wrong password!", "10.0.0.1")
		_, _, _ = s.SignIn(ctx, fmt.Sprintf("x%d@example.com", i), "wrong password!", "10.0.0.2")
	}
	count := func() (n int64) {
		mustNil(t, s.db.Model(&models.SignInThrottle{}).Count(&n).Error)
		return n
	}
	before := count()
	clk.add(10 * time.Minute)
	if n, err := s.PruneThrottles(ctx); err != nil || n != 0 {
		t.Fatalf("prune within the window removed %d (%v)", n, err)
	}
	clk.add(7 * time.Minute) // 17 minutes after the failures, 16 after the lock ended
	n, err := s.PruneThrottles(ctx)
	mustNil(t, err)
	if after := count(); after != 1 || n != before-1 {
		t.Fatalf("after pruning %d of %d rows, %d remain; want only the trusted pair", n, before, after)
	}
	var kept models.SignInThrottle
	mustNil(t, s.db.First(&kept).Error)
	if !kept.Trusted || kept.Subject != "pair:a@example.com|192.0.2.1" {
		t.Fatalf("kept %+v", kept)
	}
}

func TestSessionsExpireIdleAndAbsolute(t *testing.T) {
	ctx := context.Background()
	s, clk := newService(t)
	_, err := s.Setup(ctx, "a@example.com", "", pw, pw)
	mustNil(t, err)

	tok, _, err := s.SignIn(ctx, "a@example.com", pw, "1.1.1.1")
	mustNil(t, err)
	clk.add(59 * time.Minute)
	if _, err := s.Authenticate(ctx, tok); err != nil {
		t.Fatalf("within idle: %v", err)
	}
	clk.add(61 * time.Minute)
	if _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrNoSession) {
		t.Fatalf("after idle: %v", err)
	}

	tok, _, err = s.SignIn(ctx, "a@example.com", pw, "1.1.1.1")
	mustNil(t, err)
	start := clk.t
	for clk.t.Sub(start) < 8*time.Hour-55*time.Minute { // used every 55 minutes: never idle
		clk.add(55 * time.Minute)
		if _, err := s.Authenticate(ctx, tok); err != nil {
			t.Fatalf("used session ended after %v: %v", clk.t.Sub(start), err)
		}
	}
	clk.t = start.Add(8 * time.Hour)
	if _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrNoSession) {
		t.Fatalf("after the absolute limit: %v", err)
	}
}

func TestDisabledUserLosesSessionAndCannotSignIn(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	admin, err := s.Setup(ctx, "a@example.com", "", pw, pw)
	mustNil(t, err)
	u, tokInv, err := s.Invite(ctx, nil, InviteInput{Email: "b@example.com", Role: "viewer"})
	mustNil(t, err)
	_, err = s.AcceptInvite(ctx, tokInv, pw, pw)
	mustNil(t, err)
	tok, _, err := s.SignIn(ctx, "b@example.com", pw, "1.1.1.1")
	mustNil(t, err)
	mustNil(t, s.SetDisabled(ctx, admin, u, true))
	if _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrNoSession) {
		t.Fatalf("disabled user's session still works: %v", err)
	}
	if _, _, err := s.SignIn(ctx, "b@example.com", pw, "1.1.1.1"); !errors.Is(err, ErrDisabled) {
		t.Fatalf("disabled user signed in: %v", err)
	}
	if err := s.SetDisabled(ctx, admin, admin, true); !errors.Is(err, ErrSelf) {
		t.Fatalf("admin disabled themselves: %v", err)
	}
	if err := s.SetRole(ctx, admin, admin, "viewer"); !errors.Is(err, ErrSelf) {
		t.Fatalf("admin demoted themselves: %v", err)
	}
}

func TestPasswordChangeNeedsCurrentAndEndsOtherSessions(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	u, err := s.Setup(ctx, "a@example.com", "", pw, pw)
	mustNil(t, err)
	t1, _, _ := s.SignIn(ctx, "a@example.com", pw, "1.1.1.1")
	t2, _, _ := s.SignIn(ctx, "a@example.com", pw, "1.1.1.2")
	cur, err := s.Authenticate(ctx, t1)
	mustNil(t, err)
	var ve *models.ValidationError
	if err := s.ChangePassword(ctx, u.ID, cur.SessionID, "not it at all", "a new long password", "a new long password"); !errors.As(err, &ve) || ve.Fields["current"] == "" {
		t.Fatalf("wrong current password accepted: %v", err)
	}
	mustNil(t, s.ChangePassword(ctx, u.ID, cur.SessionID, pw, "a new long password", "a new long password"))
	if _, err := s.Authenticate(ctx, t1); err != nil {
		t.Errorf("the session that changed the password ended: %v", err)
	}
	if _, err := s.Authenticate(ctx, t2); !errors.Is(err, ErrNoSession) {
		t.Errorf("another session survived the change: %v", err)
	}
	if _, _, err := s.SignIn(ctx, "a@example.com", "a new long password", "1.1.1.1"); err != nil {
		t.Errorf("new password refused: %v", err)
	}
}

func TestInviteWorksOnceAndExpires(t *testing.T) {
	ctx := context.Background()
	s, clk := newService(t)
	account := models.Account{Name: "Customer"}
	mustNil(t, s.db.Create(&account).Error)
	acc := account.ID
	_, tok, err := s.Invite(ctx, &acc, InviteInput{Email: "new@example.com", Role: "marketer"})
	mustNil(t, err)
	if _, _, err := s.SignIn(ctx, "new@example.com", "", "1.1.1.1"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("invited user signed in without a password: %v", err)
	}
	_, err = s.AcceptInvite(ctx, tok, pw, pw)
	mustNil(t, err)
	if _, err := s.AcceptInvite(ctx, tok, pw, pw); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("invite used twice: %v", err)
	}
	_, tok2, err := s.Invite(ctx, &acc, InviteInput{Email: "late@example.com", Role: "viewer"})
	mustNil(t, err)
	clk.add(7*24*time.Hour + time.Minute)
	if _, err := s.InvitedUser(ctx, tok2); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("expired invite works: %v", err)
	}
}

func TestSetupAndBootstrapOnlyOnAnEmptyDatabase(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	created, err := s.Bootstrap(ctx, "Boss@Example.com", pw)
	if err != nil || !created {
		t.Fatalf("bootstrap = %v %v", created, err)
	}
	if _, _, err := s.SignIn(ctx, "boss@example.com", pw, "1.1.1.1"); err != nil {
		t.Fatalf("bootstrap admin cannot sign in: %v", err)
	}
	if created, err := s.Bootstrap(ctx, "other@example.com", pw); created || err != nil {
		t.Fatalf("second bootstrap = %v %v", created, err)
	}
	if _, err := s.Setup(ctx, "x@example.com", "", pw, pw); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("setup after the first user = %v", err)
	}
}

func TestEnsureDemoCreatesThreeUsersOnce(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	acc := models.Account{Name: "Hibot Demo", Sandbox: true}
	mustNil(t, s.db.Create(&acc).Error)
	demo, err := s.EnsureDemo(ctx, acc.ID)
	if err != nil || len(demo) != 3 || demo[0].Password == "" || demo[0].Password != demo[2].Password {
		t.Fatalf("demo = %+v %v", demo, err)
	}
	for _, d := range demo {
		if _, u, err := s.SignIn(ctx, d.Email, d.Password, "1.1.1.1"); err != nil || u.Role != d.Role || u.AccountID == nil || *u.AccountID != acc.ID {
			t.Errorf("%s: %+v %v", d.Email, u, err)
		}
	}
	again, err := s.EnsureDemo(ctx, acc.ID)
	if err != nil || len(again) != 0 {
		t.Fatalf("second EnsureDemo = %+v %v", again, err)
	}
}
