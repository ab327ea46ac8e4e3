package audit

import (
	"context"
	"testing"
	"time"

	"mmconsole/internal/accounts"
	"mmconsole/internal/database"
	"mmconsole/internal/templates"
	"mmconsole/models"
)

// Targets read as names and link to their object (connection, template, test send, user), only
// within the reader's account; entries recorded below the HTTP layer carry the client address
// from the request's context.
func TestTargetsAreNamedAndLinked(t *testing.T) {
	ms := append(append(accounts.Migrations(), templates.Migrations()...), Migrations()...)
	db := database.OpenTest(t, ms)
	l := New(db, time.Now)
	ctx := WithClientIP(context.Background(), "203.0.113.7")
	acc := models.Account{Name: "Acme"}
	db.Create(&acc)
	other := models.Account{Name: "Other"}
	db.Create(&other)
	conn := models.WABAConnection{AccountID: acc.ID, WABAID: "1001", Name: "Acme Mexico", TokenSealed: []byte("x")}
	db.Create(&conn)
	db.Create(&models.Template{AccountID: acc.ID, ConnectionID: conn.ID, WABAID: "1001", TemplateID: "555", Name: "spring_sale",
		Language: "es_MX", Status: "APPROVED", Category: "MARKETING"})
	db.Create(&models.User{AccountID: &acc.ID, Email: "ana@acme.example", Name: "Ana Ruiz", Role: models.RoleAdmin})
	entries := []Entry{
		{Action: ActionConnectionChanged, Target: "WABA 1001"},
		{Action: "template.ttl_set", Target: "template:555 (spring_sale/es_MX)"},
		{Action: "optimization.set", Target: "waba:1001:image_touchups"},
		{Action: "send.test", Target: "template spring_sale/es_MX to 525512345678",
			After: map[string]any{"template": "spring_sale", "language": "es_MX", "recipient": "525512345678", "wamid": "wamid.T/1"}},
		{Action: ActionUserRoleChanged, Target: "ana@acme.example"},
		{Action: ActionConnectionChanged, Target: "WABA 4242"}, // a connection since deleted: the id stays
	}
	for _, e := range entries {
		e.AccountID = &acc.ID
		if err := l.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	page, err := l.List(context.Background(), models.Scope{AccountID: acc.ID}, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := l.Targets(context.Background(), models.Scope{AccountID: acc.ID}, page.Entries)
	if err != nil {
		t.Fatal(err)
	}
	want := []Target{ // newest first
		{Label: "WABA 4242"},
		{Label: "Ana Ruiz <ana@acme.example>", Href: "/settings#users"},
		{Label: "Test send of spring_sale · es_MX to +525512345678", Href: "/messages/wamid.T%2F1"},
		{Label: "Acme Mexico (WABA): image_touchups", Href: "/settings/connections/1"},
		{Label: "spring_sale · es_MX", Href: "/templates/555"},
		{Label: "Acme Mexico (WABA)", Href: "/settings/connections/1"},
	}
	for i := range want {
		if got[i].Label != want[i].Label || got[i].Href != want[i].Href {
			t.Errorf("entry %d (%s): %+v, want %+v", i, page.Entries[i].Target, got[i], want[i])
		}
		if page.Entries[i].IP != "203.0.113.7" {
			t.Errorf("entry %d: client address %q", i, page.Entries[i].IP)
		}
	}
	// Another account's reader gets no names or links for these objects.
	otherView, err := l.Targets(context.Background(), models.Scope{AccountID: other.ID}, page.Entries)
	if err != nil {
		t.Fatal(err)
	}
	if otherView[5].Href != "" || otherView[5].Label != "WABA 1001" || otherView[4].Href != "" {
		t.Errorf("another account's reader resolved names: %+v", otherView)
	}
}
