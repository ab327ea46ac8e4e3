package auth

import (
	"context"
	"errors"
	"strings"
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

func TestSignInThrottlesPerEmailAndPerAddress(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		email    func(i int) string
		ip       func(i int) string
		thenIP   string
		thenMail string
	}{
		// Five wrong passwords for one email from different addresses lock that email everywhere.
		{"per email", func(int) string { return "a@example.com" }, func(i int) string { return "10.0.0." + string(rune('1'+i)) }, "10.9.9.9", "a@example.com"},
		// Five failures from one address, each on a different email, lock that address.
		{"per address", func(i int) string { return string(rune('b'+i)) + "@example.com" }, func(int) string { return "10.0.0.1" }, "10.0.0.1", "a@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := newService(t)
			_, err := s.Setup(ctx, "a@example.com", "", pw, pw)
			mustNil(t, err)
			for i := range 4 {
				_, _, err := s.SignIn(ctx, tt.email(i), "wrong password!", tt.ip(i))
				if !errors.Is(err, ErrBadCredentials) {
					t.Fatalf("failure %d: %v", i+1, err)
				}
			}
			_, _, err = s.SignIn(ctx, tt.email(4), "wrong password!", tt.ip(4))
			var le *LockedError
			if !errors.As(err, &le) || !strings.Contains(err.Error(), "try again in 15 minutes") {
				t.Fatalf("5th failure = %v, want a lock", err)
			}
			// Locked even with the right password.
			if _, _, err := s.SignIn(ctx, tt.thenMail, pw, tt.thenIP); !errors.As(err, &le) {
				t.Fatalf("right password while locked = %v", err)
			}
			clk.add(15*time.Minute + time.Second)
			if _, _, err := s.SignIn(ctx, tt.thenMail, pw, tt.thenIP); err != nil {
				t.Fatalf("after the lock: %v", err)
			}
		})
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
