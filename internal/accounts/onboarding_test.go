package accounts_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mmconsole/internal/accounts"
	"mmconsole/internal/database"
	"mmconsole/internal/graph"
	"mmconsole/internal/secrets"
	"mmconsole/models"
)

// fakeMeta answers GET /{waba} with the status it is set to, and only for the right token.
type fakeMeta struct {
	mu      sync.Mutex
	status  string
	disable bool
	reads   atomic.Int64
}

func (f *fakeMeta) set(status string, disable bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.disable = status, disable
}

func (f *fakeMeta) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.reads.Add(1)
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != "Bearer pharma-token" || r.URL.Path != "/v25.0/200" {
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":{"message":"Invalid OAuth access token","type":"OAuthException","code":190}}`))
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	d := "false"
	if f.disable {
		d = "true"
	}
	w.Write([]byte(`{"id":"200","name":"Pharma","marketing_messages_onboarding_status":"` + f.status + `","disable_marketing_messages_on_cloud_api":` + d + `}`))
}

func TestOnboardingReReadFlipsOnceAndStartsTheWindows(t *testing.T) {
	db := database.OpenTest(t, accounts.Migrations())
	box, err := secrets.NewBox(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	meta := &fakeMeta{status: "ELIGIBLE"}
	srv := httptest.NewServer(meta)
	t.Cleanup(srv.Close)
	gc := graph.New(graph.Options{BaseURL: srv.URL, MaxRetries: -1})

	var flips []string
	var mu sync.Mutex
	svc := accounts.New(db, accounts.WithSecrets(box), accounts.WithGraph(gc, nil),
		accounts.WithOnboardedHook(func(_ context.Context, c models.WABAConnection, _ time.Time) error {
			mu.Lock()
			defer mu.Unlock()
			flips = append(flips, c.WABAID)
			return nil
		}))
	ctx := context.Background()
	pharma, other := models.Account{Name: "Pharma"}, models.Account{Name: "Other"}
	for _, a := range []*models.Account{&pharma, &other} {
		if err := db.Create(a).Error; err != nil {
			t.Fatal(err)
		}
	}
	sealed, _ := box.Seal("pharma-token")
	conn := models.WABAConnection{AccountID: pharma.ID, WABAID: "200", TokenSealed: sealed, OnboardingStatus: "ELIGIBLE"}
	if err := db.Create(&conn).Error; err != nil {
		t.Fatal(err)
	}
	read := func() models.WABAConnection {
		var c models.WABAConnection
		if err := db.Where("id = ?", conn.ID).Take(&c).Error; err != nil {
			t.Fatal(err)
		}
		return c
	}

	// Another account naming this WABA reads and writes nothing.
	if _, err := svc.RecheckOnboarding(ctx, other.ID, "200"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("re-read by another account = %v, want ErrNotFound", err)
	}
	if meta.reads.Load() != 0 {
		t.Fatal("another account's re-read called Meta")
	}

	// Still ELIGIBLE: stored, no flip.
	if _, err := svc.RecheckOnboarding(ctx, pharma.ID, "200"); err != nil {
		t.Fatal(err)
	}
	if c := read(); c.OnboardingStatus != "ELIGIBLE" || c.LastCheckedAt == nil || len(flips) != 0 {
		t.Fatalf("after an unchanged re-read: %+v, flips %v", c, flips)
	}

	// Terms signed, Meta now says ONBOARDED and turns Cloud API marketing off.
	meta.set("ONBOARDED", true)
	c, err := svc.RecheckOnboarding(ctx, pharma.ID, "200")
	if err != nil {
		t.Fatal(err)
	}
	if got := read(); got.OnboardingStatus != "ONBOARDED" || !got.CloudMarketingOff || !c.Onboarded() {
		t.Fatalf("after the flip: %+v", got)
	}
	if len(flips) != 1 || flips[0] != "200" {
		t.Fatalf("onboarded hook calls = %v, want one for 200", flips)
	}
	// The periodic re-read (everything due) sees no change: no second window.
	accounts.NewOnboardingWatch(svc, 0, nil).RecheckAll(ctx)
	if len(flips) != 1 {
		t.Fatalf("an unchanged re-read flipped again: %v", flips)
	}

	// A failing read keeps the last status and records the error.
	bad, _ := box.Seal("wrong")
	db.Model(&models.WABAConnection{}).Where("id = ?", conn.ID).Update("token_sealed", bad)
	if _, err := svc.RecheckOnboarding(ctx, pharma.ID, "200"); err == nil {
		t.Fatal("a refused re-read returned no error")
	}
	if got := read(); got.OnboardingStatus != "ONBOARDED" || got.LastCheckError == "" {
		t.Fatalf("after a refused re-read: %+v", got)
	}
}

// The watch serves a TermsSigned request by itself, without blocking the caller.
func TestOnboardingWatchServesTermsSigned(t *testing.T) {
	db := database.OpenTest(t, accounts.Migrations())
	box, _ := secrets.NewBox(make([]byte, 32))
	meta := &fakeMeta{status: "ONBOARDED"}
	srv := httptest.NewServer(meta)
	t.Cleanup(srv.Close)
	svc := accounts.New(db, accounts.WithSecrets(box), accounts.WithGraph(graph.New(graph.Options{BaseURL: srv.URL, MaxRetries: -1}), nil))
	a := models.Account{Name: "Pharma"}
	db.Create(&a)
	sealed, _ := box.Seal("pharma-token")
	conn := models.WABAConnection{AccountID: a.ID, WABAID: "200", TokenSealed: sealed, OnboardingStatus: "ELIGIBLE"}
	db.Create(&conn)

	w := accounts.NewOnboardingWatch(svc, 0, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	w.TermsSigned(a.ID, "200")
	for i := 0; i < 200; i++ {
		var c models.WABAConnection
		db.Where("id = ?", conn.ID).Take(&c)
		if c.OnboardingStatus == "ONBOARDED" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("TermsSigned did not re-read the WABA within 2 s")
}
