package send_test

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mmconsole/internal/send"
	"mmconsole/models"
)

func TestSendWithNoAnswerIsOutcomeUnknownAndNotSentAgain(t *testing.T) {
	e := newEnv(t, false)
	e.hang.Store(true)
	f := e.form("flash_coupon/pt_BR", map[string]string{"var.body.first_name": "Ana", "var.body.coupon": "SAVE20", "var.coupon.0": "SAVE20"})
	code, body := e.do(writer, "POST", "/send", f, true)
	if code != 200 {
		t.Fatalf("POST /send = %d, want the composer with the result\n%.500s", code, body)
	}
	row := e.lastSend()
	if row.MessageStatus != models.SendUnknown || row.WAMID != "" || row.ErrorCode != 0 {
		t.Fatalf("stored %q wamid %q code %d, want outcome unknown", row.MessageStatus, row.WAMID, row.ErrorCode)
	}
	for _, want := range []string{"Outcome unknown", "do not send again", "/log?", models.TestSendOpaque(row.ID), `hx-get="/sends/` + strconv.Itoa(int(row.ID)) + `/result"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the composer does not say %q", want)
		}
	}
	if strings.Contains(body, "Refused by Meta") || strings.Contains(body, "Something went wrong") {
		t.Error("an unknown outcome is shown as a failure")
	}
	// The send carried its id, which Meta echoes in the status webhooks.
	opaque := `"biz_opaque_callback_data":"` + models.TestSendOpaque(row.ID) + `"`
	if !strings.Contains(e.lastBody(), opaque) || !strings.Contains(row.RequestJSON, opaque) {
		t.Errorf("the send does not carry %s:\nsent %s\nstored %s", opaque, e.lastBody(), row.RequestJSON)
	}
	// The form keeps its key: pressing Send again shows this result and sends nothing.
	if !strings.Contains(body, `value="`+f.Get("key")+`"`) {
		t.Error("the form got a fresh key, so a second press would send a duplicate")
	}
	e.hang.Store(false)
	_, again := e.do(writer, "POST", "/send", f, true)
	if e.sendCount() != 1 || !strings.Contains(again, "Outcome unknown") {
		t.Errorf("second press: %d sends; result shown: %v", e.sendCount(), strings.Contains(again, "Outcome unknown"))
	}
	_, hist := e.do(writer, "GET", "/sends", nil, false)
	if !strings.Contains(hist, "Outcome unknown") || !strings.Contains(hist, "Look it up in the log") {
		t.Error("/sends does not show the unknown outcome with a way to look it up")
	}
	e.audit.mu.Lock()
	n := len(e.audit.entries)
	e.audit.mu.Unlock()
	if n != 1 {
		t.Errorf("audit entries = %d, want 1", n)
	}
}

func TestInterruptedSendsBecomeOutcomeUnknown(t *testing.T) {
	e := newEnv(t, false)
	now := time.Now().UTC()
	mk := func(key, status string, updated time.Time) models.TestSend {
		r := models.TestSend{AccountID: 1, ConnectionID: 1, MessageStatus: status, IdempotencyKey: key, CreatedAt: updated, UpdatedAt: updated}
		must(t, e.db.Create(&r).Error)
		return r
	}
	old := mk("k-old", models.SendSending, now.Add(-time.Hour))
	fresh := mk("k-fresh", models.SendSending, now) // maybe in flight on another instance
	done := mk("k-done", "accepted", now.Add(-time.Hour))
	n, err := send.RecoverInterrupted(context.Background(), e.db, now.Add(-15*time.Second), now)
	if err != nil || n != 1 {
		t.Fatalf("recovered %d, %v; want 1", n, err)
	}
	for _, c := range []struct {
		row  models.TestSend
		want string
	}{{old, models.SendUnknown}, {fresh, models.SendSending}, {done, "accepted"}} {
		var got models.TestSend
		must(t, e.db.First(&got, c.row.ID).Error)
		if got.MessageStatus != c.want {
			t.Errorf("%s: %q, want %q", c.row.IdempotencyKey, got.MessageStatus, c.want)
		}
	}
}

func TestRecoveryComparesTimesInUTC(t *testing.T) {
	e := newEnv(t, false)
	old := time.Now().UTC().Add(-time.Hour)
	row := models.TestSend{AccountID: 1, ConnectionID: 1, MessageStatus: models.SendSending, IdempotencyKey: "k-zone", CreatedAt: old, UpdatedAt: old}
	must(t, e.db.Create(&row).Error)
	// A server west of UTC: the same instants, written in its zone.
	west := time.FixedZone("UTC-5", -5*3600)
	now := time.Now().In(west)
	n, err := send.RecoverInterrupted(context.Background(), e.db, now.Add(-15*time.Second), now)
	if err != nil || n != 1 {
		t.Fatalf("recovered %d, %v; want the hour-old send", n, err)
	}
}

func TestRecoveryLoopGetsSendsInterruptedJustBeforeARestart(t *testing.T) {
	e := newEnv(t, false)
	start := time.Now().UTC()
	row := models.TestSend{AccountID: 1, ConnectionID: 1, MessageStatus: models.SendSending, IdempotencyKey: "k-quick", CreatedAt: start, UpdatedAt: start}
	must(t, e.db.Create(&row).Error)
	var clock atomic.Int64 // how far the clock has moved
	now := func() time.Time { return start.Add(time.Duration(clock.Load())) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- send.RunRecovery(ctx, e.db, 10*time.Millisecond, 15*time.Second, now, slog.New(slog.DiscardHandler))
	}()
	defer func() { cancel(); <-done }()

	status := func() string {
		var got models.TestSend
		must(t, e.db.First(&got, row.ID).Error)
		return got.MessageStatus
	}
	time.Sleep(100 * time.Millisecond) // several sweeps while the send may still be in flight
	if s := status(); s != models.SendSending {
		t.Fatalf("a send younger than the longest in-flight time became %q", s)
	}
	clock.Store(int64(time.Minute))
	for range 200 { // at most 10 s
		if status() == models.SendUnknown {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("still %q a minute after the interruption", status())
}

func TestSendAnsweredByAGatewayTimeoutIsOutcomeUnknown(t *testing.T) {
	e := newEnv(t, false)
	e.gateway504.Store(true)
	f := e.form("flash_coupon/pt_BR", map[string]string{"var.body.first_name": "Ana", "var.body.coupon": "SAVE20", "var.coupon.0": "SAVE20"})
	code, body := e.do(writer, "POST", "/send", f, true)
	if code != 200 {
		t.Fatalf("POST /send = %d, want the composer with the result\n%.500s", code, body)
	}
	row := e.lastSend()
	if row.MessageStatus != models.SendUnknown || row.ErrorCode != 0 {
		t.Fatalf("stored %q code %d, want outcome unknown: the proxy passed the send on", row.MessageStatus, row.ErrorCode)
	}
	if !strings.Contains(body, "Outcome unknown") || !strings.Contains(body, `value="`+f.Get("key")+`"`) {
		t.Error("the composer does not say the outcome is unknown, or gave the form a fresh key")
	}
	e.gateway504.Store(false)
	if _, again := e.do(writer, "POST", "/send", f, true); e.sendCount() != 1 || !strings.Contains(again, "Outcome unknown") {
		t.Errorf("a second press sent again (%d sends)", e.sendCount())
	}
}
