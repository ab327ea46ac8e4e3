package insights_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"mmconsole/internal/insights"
	"mmconsole/models"
)

// seedEvents stores n status and click events over a few days, WABAs, routes and error codes,
// with the messages they are about (the composer's template name and acceptance time).
func seedEvents(t *testing.T, e *fetchEnv, from, n int, base time.Time) {
	t.Helper()
	routes := []string{models.RouteMMAPI, models.RouteFallback, models.RouteCloudAPI, ""}
	statuses := []string{models.MessageSent, models.MessageDelivered, models.MessageRead, models.MessageFailed, "click"}
	codes := []int{131049, 131026, 131049, 130472}
	acc := e.conn.AccountID
	var evs []models.WebhookEvent
	for i := from; i < from+n; i++ {
		wamid := fmt.Sprintf("wamid.%d", i/5)
		if i%5 == 0 {
			name := fmt.Sprintf("t%d", i%3)
			at := base.Add(time.Duration(i) * 17 * time.Minute)
			must(t, e.db.Create(&models.Message{WAMID: wamid, AccountID: &acc, WABAID: e.conn.WABAID, TemplateName: &name, AcceptedAt: &at}).Error)
		}
		st := statuses[i%5]
		at := base.Add(time.Duration(i)*17*time.Minute + time.Duration(i%5)*time.Minute)
		ev := models.WebhookEvent{DeliveryID: 1, ReceivedAt: at.Add(time.Second), AccountID: &acc, WABAID: e.conn.WABAID,
			Kind: models.KindStatus, Status: st, WAMID: wamid, Route: routes[(i/5)%4], DedupeHash: []byte(fmt.Sprintf("h%015d", i))}
		if i%7 != 0 {
			ev.OccurredAt = &at
		}
		if st == "click" {
			ev.Kind, ev.Status = models.KindClick, ""
		}
		if st == models.MessageFailed {
			c := codes[i%4]
			ev.ErrorCode, ev.ErrorTitle = &c, "title"
		}
		evs = append(evs, ev)
	}
	// A template event is not a message status: not counted.
	evs = append(evs, models.WebhookEvent{DeliveryID: 1, ReceivedAt: base, AccountID: &acc, WABAID: e.conn.WABAID,
		Kind: models.KindTemplateStatus, Status: "APPROVED", DedupeHash: []byte(fmt.Sprintf("tpl%013d", from))})
	must(t, e.db.CreateInBatches(evs, 200).Error)
}

type directKey struct {
	day         time.Time
	route, what string
}

// direct counts the raw events the way the rollups should: by event day, route and status.
func direct(t *testing.T, e *fetchEnv) (map[directKey]int64, map[int]int64) {
	t.Helper()
	var evs []models.WebhookEvent
	must(t, e.db.Find(&evs).Error)
	out := map[directKey]int64{}
	codes := map[int]int64{}
	for _, ev := range evs {
		route := ev.Route
		if route == "" {
			route = models.RouteUnknown
		}
		day := insights.EventDay(ev.OccurredAt, ev.ReceivedAt)
		switch {
		case ev.Kind == models.KindClick:
			out[directKey{day, route, "click"}]++
		case ev.Kind == models.KindStatus:
			out[directKey{day, route, ev.Status}]++
			if ev.Status == models.MessageFailed {
				codes[*ev.ErrorCode]++
			}
		}
	}
	return out, codes
}

func rolled(t *testing.T, e *fetchEnv) (map[directKey]int64, map[int]int64) {
	t.Helper()
	var rs []models.WebhookRollup
	must(t, e.db.Find(&rs).Error)
	out := map[directKey]int64{}
	for _, r := range rs {
		d := r.Day.UTC()
		for what, n := range map[string]int64{models.MessageSent: r.Sent, models.MessageDelivered: r.Delivered,
			models.MessageRead: r.Read, models.MessageFailed: r.Failed, "click": r.Clicked} {
			if n != 0 {
				out[directKey{d, r.Route, what}] += n
			}
		}
	}
	// The per-day rollups (summed over templates) hold the same counts.
	var ds []models.WebhookDayRollup
	must(t, e.db.Find(&ds).Error)
	byDay := map[directKey]int64{}
	for _, r := range ds {
		d := r.Day.UTC()
		for what, n := range map[string]int64{models.MessageSent: r.Sent, models.MessageDelivered: r.Delivered,
			models.MessageRead: r.Read, models.MessageFailed: r.Failed, "click": r.Clicked} {
			if n != 0 {
				byDay[directKey{d, r.Route, what}] += n
			}
		}
	}
	sameCounts(t, "day rollup", byDay, out)
	var es []models.WebhookErrorRollup
	must(t, e.db.Find(&es).Error)
	codes := map[int]int64{}
	for _, r := range es {
		codes[r.ErrorCode] += r.Count
	}
	return out, codes
}

func sameCounts[K comparable](t *testing.T, what string, got, want map[K]int64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d groups rolled up, %d counted directly", what, len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s %v: rollup %d, direct count %d", what, k, got[k], v)
		}
	}
}

// The rollups equal a direct count over the raw events, however the events are split into
// fold batches, and folding again adds nothing; events stored later are folded in next time.
func TestRollupsEqualDirectCount(t *testing.T) {
	e := newFetchEnv(t, 0, nil)
	e.svc = insights.New(e.db, nil, nil, insights.Options{FoldBatch: 37, Now: func() time.Time { return e.now }})
	ctx := context.Background()
	base := time.Date(2026, 11, 20, 20, 0, 0, 0, time.UTC)
	e.now = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) // after every seeded event has settled
	seedEvents(t, e, 0, 500, base)
	n, err := e.svc.Fold(ctx)
	must(t, err)
	if n != 501 {
		t.Errorf("folded %d events, want 501", n)
	}
	got, gotCodes := rolled(t, e)
	want, wantCodes := direct(t, e)
	sameCounts(t, "rollup", got, want)
	sameCounts(t, "error code", gotCodes, wantCodes)

	if n, err := e.svc.Fold(ctx); err != nil || n != 0 {
		t.Fatalf("second fold: %d, %v", n, err)
	}
	seedEvents(t, e, 500, 123, base)
	_, err = e.svc.Fold(ctx)
	must(t, err)
	got, gotCodes = rolled(t, e)
	want, wantCodes = direct(t, e)
	sameCounts(t, "rollup after more events", got, want)
	sameCounts(t, "error code after more events", gotCodes, wantCodes)

	// Times to delivered come from the message's acceptance: each delivered status here is 18
	// minutes after it (and a second more when only its arrival time is known).
	var rs []models.WebhookRollup
	must(t, e.db.Where("deliver_n > 0").Find(&rs).Error)
	for _, r := range rs {
		if r.DeliverSecs < 1080*r.DeliverN || r.DeliverSecs > 1081*r.DeliverN {
			t.Errorf("rollup %s %s: %d s over %d delivered, want 18 min each", r.Day, r.Route, r.DeliverSecs, r.DeliverN)
		}
	}
}

// An event that commits after one with a higher id (another writer's transaction still open
// when the higher id committed) is folded all the same: a fold does not pass events younger
// than the settle horizon, so the lower id is visible before the cursor moves beyond it.
func TestLateCommittedLowerIDFolded(t *testing.T) {
	e := newFetchEnv(t, 0, nil)
	e.now = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	e.svc = insights.New(e.db, nil, nil, insights.Options{FoldBatch: 50, Settle: time.Minute, Now: func() time.Time { return e.now }})
	ctx := context.Background()
	seedEvents(t, e, 0, 100, time.Date(2026, 11, 20, 20, 0, 0, 0, time.UTC))
	var maxID uint
	must(t, e.db.Model(&models.WebhookEvent{}).Select("MAX(id)").Scan(&maxID).Error)
	acc := e.conn.AccountID
	ev := func(id uint, hash string) *models.WebhookEvent {
		at := e.now.Add(-10 * time.Second)
		return &models.WebhookEvent{ID: id, DeliveryID: 1, ReceivedAt: at, OccurredAt: &at, AccountID: &acc, WABAID: e.conn.WABAID,
			Kind: models.KindStatus, Status: models.MessageDelivered, WAMID: "wamid.late", Route: models.RouteMMAPI, DedupeHash: []byte(hash)}
	}
	// The higher id commits first; the lower one is still in its writer's transaction.
	must(t, e.db.Create(ev(maxID+20, "late-high-000000")).Error)
	if _, err := e.svc.Fold(ctx); err != nil {
		t.Fatal(err)
	}
	must(t, e.db.Create(ev(maxID+10, "late-low-0000000")).Error)
	e.now = e.now.Add(2 * time.Minute)
	if _, err := e.svc.Fold(ctx); err != nil {
		t.Fatal(err)
	}
	got, gotCodes := rolled(t, e)
	want, wantCodes := direct(t, e)
	sameCounts(t, "rollup", got, want)
	sameCounts(t, "error code", gotCodes, wantCodes)
}

// Two services folding the same events at once count each event once.
func TestConcurrentFoldsCountOnce(t *testing.T) {
	e := newFetchEnv(t, 0, nil)
	seedEvents(t, e, 0, 400, time.Date(2026, 11, 20, 20, 0, 0, 0, time.UTC))
	a := insights.New(e.db, nil, nil, insights.Options{FoldBatch: 13})
	b := insights.New(e.db, nil, nil, insights.Options{FoldBatch: 29})
	done := make(chan error, 2)
	for _, s := range []*insights.Service{a, b} {
		go func() { _, err := s.Fold(context.Background()); done <- err }()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	_, err := a.Fold(context.Background())
	must(t, err)
	got, _ := rolled(t, e)
	want, _ := direct(t, e)
	sameCounts(t, "rollup", got, want)
}

// TTL expiries: a message with no delivered status past its TTL (and the buffer) is counted on
// the day its TTL started; one delivered or failed is not; the count follows when a late
// delivered arrives.
func TestTTLExpiriesRecounted(t *testing.T) {
	e := newFetchEnv(t, 0, nil)
	e.svc = insights.New(e.db, nil, nil, insights.Options{Now: func() time.Time { return e.now }})
	acc := e.conn.AccountID
	ttl := 12 * 3600
	old := e.now.Add(-20 * time.Hour)
	name := "t1"
	mk := func(id string, delivered, failed *time.Time) {
		must(t, e.db.Create(&models.Message{WAMID: id, AccountID: &acc, WABAID: e.conn.WABAID, TemplateName: &name, Route: models.RouteMMAPI,
			AcceptedAt: &old, TTLSeconds: &ttl, DeliveredAt: delivered, FailedAt: failed}).Error)
	}
	mk("w1", nil, nil)
	mk("w2", nil, nil)
	mk("w3", &e.now, nil)
	mk("w4", nil, &e.now)
	ctx := context.Background()
	must(t, e.svc.RecountExpired(ctx))
	sum := func() int64 {
		var n int64
		must(t, e.db.Model(&models.WebhookRollup{}).Select("COALESCE(SUM(expired), 0)").Scan(&n).Error)
		return n
	}
	if n := sum(); n != 2 {
		t.Fatalf("expired = %d, want 2", n)
	}
	must(t, e.db.Model(&models.Message{}).Where("wamid = ?", "w2").Update("delivered_at", e.now).Error)
	must(t, e.svc.RecountExpired(ctx))
	if n := sum(); n != 1 {
		t.Errorf("expired after a late delivered = %d, want 1", n)
	}
}
