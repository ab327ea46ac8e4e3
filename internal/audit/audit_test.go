package audit

import (
	"context"
	"strings"
	"testing"
	"time"

	"mmconsole/internal/database"
	"mmconsole/models"
)

func TestEntriesCannotBeChangedOrDeleted(t *testing.T) {
	db := database.OpenTest(t, Migrations())
	l := New(db, func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) })
	if err := l.Record(context.Background(), Entry{Action: ActionSignIn, ActorEmail: "a@example.com", After: map[string]string{"role": "admin"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("UPDATE audit_entries SET action = 'x'").Error; err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("update was allowed: %v", err)
	}
	if err := db.Exec("DELETE FROM audit_entries").Error; err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("delete was allowed: %v", err)
	}
	if database.IsPostgres(db) { // TRUNCATE skips row triggers on PostgreSQL (SQLite has none)
		if err := db.Exec("TRUNCATE audit_entries").Error; err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("truncate was allowed: %v", err)
		}
	}
	var e models.AuditEntry
	db.First(&e)
	if e.Action != ActionSignIn || e.After != `{"role":"admin"}` || !e.At.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("stored %+v", e)
	}
}

func TestListIsScopedFilteredAndPaged(t *testing.T) {
	db := database.OpenTest(t, Migrations())
	l := New(db, time.Now)
	ctx := context.Background()
	one, two := uint(1), uint(2)
	for i := range 5 {
		l.Record(ctx, Entry{AccountID: &one, Action: ActionUserInvited, ActorEmail: "boss@one.example", Target: "user " + string(rune('a'+i))})
	}
	l.Record(ctx, Entry{AccountID: &two, Action: ActionSignIn, ActorEmail: "x@two.example"})
	p, err := l.List(ctx, models.Scope{AccountID: 1}, Filter{Limit: 2})
	if err != nil || len(p.Entries) != 2 || p.Next == 0 || p.Entries[0].Target != "user e" {
		t.Fatalf("page 1 = %+v %v", p, err)
	}
	p2, _ := l.List(ctx, models.Scope{AccountID: 1}, Filter{Limit: 2, Before: p.Next})
	if len(p2.Entries) != 2 || p2.Entries[0].Target != "user c" {
		t.Fatalf("page 2 = %+v", p2)
	}
	all, _ := l.List(ctx, models.Scope{AllAccounts: true}, Filter{Action: ActionSignIn})
	if len(all.Entries) != 1 || all.Entries[0].ActorEmail != "x@two.example" {
		t.Fatalf("staff filtered = %+v", all)
	}
	none, _ := l.List(ctx, models.Scope{AccountID: 1}, Filter{Actor: "two.example"})
	if len(none.Entries) != 0 {
		t.Fatalf("account 1 sees account 2's entries: %+v", none)
	}
}
