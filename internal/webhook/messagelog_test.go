package webhook

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"mmconsole/models"
)

var t0 = time.Date(2026, 4, 21, 9, 0, 0, 0, time.UTC)

// putMessage stores a message as ingestion leaves it.
func putMessage(t *testing.T, db *gorm.DB, acct uint, wamid, status, route string, at time.Time) {
	t.Helper()
	m := models.Message{WAMID: wamid, AccountID: &acct, WABAID: "100", PhoneNumberID: "200", Recipient: "525512345678",
		Status: status, StatusRank: models.StatusRank(status), Route: route, CreatedAt: at, UpdatedAt: at}
	if err := db.Create(&m).Error; err != nil {
		t.Fatal(err)
	}
}

// putEvent stores one status event of wamid; route is the event's own (only sent and delivered
// carry pricing).
func putEvent(t *testing.T, db *gorm.DB, acct uint, wamid, status, route string, at time.Time) models.WebhookEvent {
	t.Helper()
	e := models.WebhookEvent{DeliveryID: 1, ReceivedAt: at, AccountID: &acct, WABAID: "100", PhoneNumberID: "200",
		Kind: models.KindStatus, Status: status, WAMID: wamid, Recipient: "525512345678", Route: route,
		DedupeHash: []byte(fmt.Sprintf("%s/%s/%d", wamid, status, at.UnixNano()))}
	if err := db.Create(&e).Error; err != nil {
		t.Fatal(err)
	}
	return e
}

// "fallback and read" finds the read events of fallback messages, though read statuses carry no
// pricing and so no route of their own.
func TestRouteFilterAsksTheMessage(t *testing.T) {
	db := testDB(t)
	s := newService(t, db)
	acct := connect(t, db, "A", "100")
	putMessage(t, db, acct, "wamid.FB", models.MessageRead, models.RouteFallback, t0)
	putMessage(t, db, acct, "wamid.MM", models.MessageRead, models.RouteMMAPI, t0)
	for i, w := range []string{"wamid.FB", "wamid.MM"} {
		route := map[string]string{"wamid.FB": models.RouteFallback, "wamid.MM": models.RouteMMAPI}[w]
		putEvent(t, db, acct, w, "sent", route, t0.Add(time.Duration(i)*time.Second))
		putEvent(t, db, acct, w, "read", "", t0.Add(time.Minute+time.Duration(i)*time.Second))
	}
	cases := []struct {
		f    Filter
		want []string // wamid/status, newest first
	}{
		{Filter{Route: models.RouteFallback, Status: "read"}, []string{"wamid.FB/read"}},
		{Filter{Route: models.RouteFallback}, []string{"wamid.FB/read", "wamid.FB/sent"}},
		{Filter{Route: models.RouteMMAPI, Status: "read"}, []string{"wamid.MM/read"}},
		{Filter{Route: models.RouteCloudAPI}, nil},
	}
	for _, c := range cases {
		p, err := s.List(context.Background(), models.Scope{AccountID: acct}, c.f, nil, 50)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range p.Events {
			got = append(got, e.WAMID+"/"+e.Status)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) || p.Total != int64(len(c.want)) {
			t.Errorf("%+v: got %v (total %d), want %v", c.f, got, p.Total, c.want)
		}
	}
}

// The per-message view lists each message once, newest first, and pages through messages first
// seen at the same instant without losing or repeating one.
func TestMessagesViewPagesInOrder(t *testing.T) {
	db := testDB(t)
	s := newService(t, db)
	acct := connect(t, db, "A", "100")
	other := connect(t, db, "B", "101")
	for i := 0; i < 7; i++ {
		at := t0.Add(time.Duration(i/3) * time.Second) // three messages share each instant
		putMessage(t, db, acct, fmt.Sprintf("wamid.M%d", i), models.MessageDelivered, models.RouteMMAPI, at)
	}
	putMessage(t, db, other, "wamid.OTHER", models.MessageDelivered, models.RouteMMAPI, t0)
	// Newest first; within an instant, by wamid descending.
	want := []string{"wamid.M6", "wamid.M5", "wamid.M4", "wamid.M3", "wamid.M2", "wamid.M1", "wamid.M0"}
	var got []string
	var after *MessageCursor
	for pages := 0; pages < 10; pages++ {
		p, err := s.Messages(context.Background(), models.Scope{AccountID: acct}, Filter{}, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != 7 {
			t.Errorf("total %d, want 7", p.Total)
		}
		for _, m := range p.Messages {
			got = append(got, m.WAMID)
		}
		if p.Next == nil {
			break
		}
		after = p.Next
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pages read %v, want %v", got, want)
	}
	// Filters apply to the message's latest state.
	putMessage(t, db, acct, "wamid.FAILED", models.MessageFailed, models.RouteFallback, t0.Add(time.Hour))
	for _, c := range []struct {
		f    Filter
		want string
	}{
		{Filter{Status: models.MessageFailed}, "[wamid.FAILED]"},
		{Filter{Route: models.RouteFallback}, "[wamid.FAILED]"},
		{Filter{WAMID: "wamid.M3"}, "[wamid.M3]"},
		{Filter{Recipient: "525512345678", Status: models.MessageFailed}, "[]"}, // no event names it yet
	} {
		p, err := s.Messages(context.Background(), models.Scope{AccountID: acct}, c.f, nil, 50)
		if err != nil {
			t.Fatal(err)
		}
		var ws []string
		for _, m := range p.Messages {
			ws = append(ws, m.WAMID)
		}
		if fmt.Sprint(ws) != c.want && !(c.want == "[]" && len(ws) == 0) {
			t.Errorf("%+v: %v, want %s", c.f, ws, c.want)
		}
	}
}

// A saved filter is its owner's alone: another user neither lists nor deletes it. Saving a name
// again replaces the filter; bad names are refused and change nothing.
func TestSavedFiltersArePerUser(t *testing.T) {
	db := testDB(t)
	s := newService(t, db)
	ctx := context.Background()
	acct := connect(t, db, "A", "100")
	ann := models.User{ID: 1, AccountID: &acct}
	bob := models.User{ID: 2, AccountID: &acct}
	f, err := s.SaveFilter(ctx, ann, " Failed fallbacks ", "route=fallback&status=failed")
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := s.SavedFilters(ctx, bob.ID); len(list) != 0 {
		t.Errorf("another user lists %v", list)
	}
	if err := s.DeleteFilter(ctx, bob.ID, f.ID); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("another user deleted it: %v", err)
	}
	if _, err := s.SaveFilter(ctx, ann, "Failed fallbacks", "route=fallback&status=read"); err != nil {
		t.Fatal(err)
	}
	list, _ := s.SavedFilters(ctx, ann.ID)
	if len(list) != 1 || list[0].Name != "Failed fallbacks" || list[0].Query != "route=fallback&status=read" {
		t.Errorf("after saving the name again: %+v", list)
	}
	for _, bad := range []struct{ name, query string }{
		{"", "status=failed"}, {string(make([]byte, MaxFilterName+1)), "status=failed"}, {"Empty", ""},
	} {
		var ve *models.ValidationError
		if _, err := s.SaveFilter(ctx, ann, bad.name, bad.query); !errors.As(err, &ve) {
			t.Errorf("SaveFilter(%q, %q) = %v, want a validation error", bad.name, bad.query, err)
		}
	}
	if list, _ := s.SavedFilters(ctx, ann.ID); len(list) != 1 {
		t.Errorf("refused saves changed the list: %+v", list)
	}
	if err := s.DeleteFilter(ctx, ann.ID, f.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.SavedFilters(ctx, ann.ID); len(list) != 0 {
		t.Errorf("deleted filter still listed: %+v", list)
	}
}

// The search finds a wamid, a number in any composer format and template names, within the
// searcher's account only.
func TestSearchIsScopedByAccount(t *testing.T) {
	db := testDB(t)
	s := newService(t, db)
	ctx := context.Background()
	a := connect(t, db, "A", "100")
	b := connect(t, db, "B", "101")
	putMessage(t, db, a, "wamid.A1", models.MessageSent, models.RouteMMAPI, t0)
	for i, tp := range []struct {
		acct     uint
		id, name string
		language string
	}{{a, "111", "spring_sale", "en_US"}, {a, "112", "spring_sale", "es_MX"}, {a, "113", "spring_launch", "en_US"}, {b, "211", "winter_deal", "en_US"}} {
		row := models.Template{AccountID: tp.acct, ConnectionID: uint(i + 1), WABAID: "100", TemplateID: tp.id, Name: tp.name,
			Language: tp.language, Status: "APPROVED", Category: "MARKETING"}
		if err := db.Create(&row).Error; err != nil {
			t.Fatal(err)
		}
	}
	kinds := func(hits []SearchHit) string {
		out := ""
		for _, h := range hits {
			out += h.Kind + ":" + h.Key + " "
		}
		return out
	}
	cases := []struct {
		scope models.Scope
		q     string
		want  string
	}{
		{models.Scope{AccountID: a}, "wamid.A1", "message:wamid.A1 "},
		{models.Scope{AccountID: b}, "wamid.A1", ""},
		{models.Scope{AccountID: a}, "+52 55 1234 5678", "number:525512345678 "},
		{models.Scope{AccountID: a}, "(52) 55-1234.5678", "number:525512345678 "},
		{models.Scope{AccountID: b}, "+52 55 1234 5678", ""},
		{models.Scope{AccountID: a}, "SPRING_SALE", "template:111 template:112 "},
		{models.Scope{AccountID: a}, "spring", "template:113 template:111 template:112 "},
		{models.Scope{AccountID: a}, "winter_deal", ""},
		{models.Scope{AllAccounts: true}, "winter_deal", "template:211 "},
		{models.Scope{AccountID: a}, "spring%", ""},
	}
	for _, c := range cases {
		hits, err := s.Search(ctx, c.scope, c.q)
		if err != nil {
			t.Fatal(err)
		}
		if got := kinds(hits); got != c.want {
			t.Errorf("search %q in %+v: %q, want %q", c.q, c.scope, got, c.want)
		}
	}
}

// An export yields exactly the rows the filter lists, in the list's order, in batches, and
// stops at its bound.
func TestExportEqualsTheFilteredRows(t *testing.T) {
	db := testDB(t)
	s := newService(t, db)
	ctx := context.Background()
	acct := connect(t, db, "A", "100")
	n := exportBatch + 37 // more than one batch
	rows := make([]models.WebhookEvent, 0, n)
	for i := 0; i < n; i++ {
		st := []string{"sent", "delivered", "read"}[i%3]
		rows = append(rows, models.WebhookEvent{DeliveryID: 1, ReceivedAt: t0.Add(time.Duration(i) * time.Millisecond), AccountID: &acct,
			WABAID: "100", Kind: models.KindStatus, Status: st, WAMID: fmt.Sprintf("wamid.E%d", i/3), DedupeHash: []byte(fmt.Sprint(i))})
	}
	if err := db.CreateInBatches(rows, 200).Error; err != nil {
		t.Fatal(err)
	}
	f := Filter{Status: "read"}
	var listed []uint
	var after *Cursor
	for {
		p, err := s.List(ctx, models.Scope{AccountID: acct}, f, after, 500)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Events {
			listed = append(listed, e.ID)
		}
		if p.Next == nil {
			break
		}
		after = p.Next
	}
	var exported []uint
	batches := 0
	count, err := s.ExportEvents(ctx, models.Scope{AccountID: acct}, f, 0, func(evs []models.WebhookEvent) error {
		batches++
		if len(evs) > exportBatch {
			t.Errorf("a batch of %d rows, more than %d", len(evs), exportBatch)
		}
		for _, e := range evs {
			exported = append(exported, e.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) == 0 || fmt.Sprint(exported) != fmt.Sprint(listed) || count != len(listed) {
		t.Errorf("exported %d rows, listed %d; equal: %v", len(exported), len(listed), fmt.Sprint(exported) == fmt.Sprint(listed))
	}
	if all, _ := s.ExportEvents(ctx, models.Scope{AccountID: acct}, Filter{}, 0, func([]models.WebhookEvent) error { return nil }); all != n || batches < 1 {
		t.Errorf("exported %d of %d events unfiltered", all, n)
	}
	capped, err := s.ExportEvents(ctx, models.Scope{AccountID: acct}, Filter{}, 10, func([]models.WebhookEvent) error { return nil })
	if err != nil || capped != 10 {
		t.Errorf("bounded export wrote %d rows (%v), want 10", capped, err)
	}
}
