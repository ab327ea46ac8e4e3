package webhook

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"mmconsole/models"
)

// TestTemplateFilterMatchesEveryPageExactly: the events view's template filter lists, page after
// page and for staff and each account, exactly the events that name the template or whose
// message (in the viewer's scope) was sent with it, newest first, with the exact count. The
// first pages are found among the newest events; later ones, where the template is rare, by its
// indexes: both must give the same rows.
func TestTemplateFilterMatchesEveryPageExactly(t *testing.T) {
	db := testDB(t)
	s := newService(t, db)
	ctx := context.Background()
	a := connect(t, db, "A", "100")
	b := connect(t, db, "B", "300")
	const msgs = 2000 // three events each: more than templateWindow events in all
	owner := func(i int) uint {
		if i%3 == 2 {
			return b
		}
		return a
	}
	// Sparse in the older half, dense in the newer: the newest pages are found among the
	// newest events, the older ones only through the indexes.
	tpl := map[string]string{}
	var ms []models.Message
	for i := range msgs {
		w := fmt.Sprintf("wamid.tf%d", i)
		m := models.Message{WAMID: w, AccountID: new(owner(i)), WABAID: "100", Status: "read", Route: models.RouteMMAPI,
			CreatedAt: t0, UpdatedAt: t0}
		if (i < msgs/2 && i%97 == 0) || (i >= msgs/2 && i%10 == 0) {
			m.TemplateName = new("promo")
			tpl[w] = "promo"
		} else if i%10 == 1 {
			m.TemplateName = new("other")
			tpl[w] = "other"
		}
		ms = append(ms, m)
	}
	if err := db.CreateInBatches(ms, 200).Error; err != nil {
		t.Fatal(err)
	}
	var rows []models.WebhookEvent
	for i := range msgs {
		for k, st := range []string{"sent", "delivered", "read"} {
			acct := owner(i)
			if i%20 == 0 && owner(i) == a && k == 2 {
				acct = b // another account's event naming this wamid: not a send of its template
			}
			rows = append(rows, models.WebhookEvent{DeliveryID: 1, AccountID: new(acct), WABAID: "100", Kind: models.KindStatus,
				Status: st, WAMID: fmt.Sprintf("wamid.tf%d", i)})
		}
		if i%150 == 0 {
			rows = append(rows, models.WebhookEvent{DeliveryID: 1, AccountID: new(owner(i)), WABAID: "100",
				Kind: models.KindTemplateStatus, Status: "APPROVED", TemplateID: "tpl1", TemplateName: "promo"})
		}
	}
	for i := range rows {
		rows[i].ReceivedAt = t0.Add(time.Duration(i) * time.Millisecond)
		rows[i].DedupeHash = []byte(fmt.Sprint("tf", i))
	}
	if err := db.CreateInBatches(rows, 200).Error; err != nil {
		t.Fatal(err)
	}
	var stored []models.WebhookEvent
	if err := db.Order("id").Find(&stored).Error; err != nil {
		t.Fatal(err)
	}
	msgAcct := map[string]uint{}
	for i, m := range ms {
		msgAcct[m.WAMID] = owner(i)
	}
	from, to := t0.Add(1000*time.Millisecond), t0.Add(5000*time.Millisecond)
	cases := []struct {
		name  string
		scope models.Scope
		f     Filter
	}{
		{"staff, by name", models.Scope{AllAccounts: true}, Filter{Template: "promo"}},
		{"account A, by name", models.Scope{AccountID: a}, Filter{Template: "promo"}},
		{"account B, by name", models.Scope{AccountID: b}, Filter{Template: "promo"}},
		{"staff, by Meta's id", models.Scope{AllAccounts: true}, Filter{Template: "tpl1"}},
		{"staff, with a status", models.Scope{AllAccounts: true}, Filter{Template: "promo", Status: "read"}},
		{"staff, a time range", models.Scope{AllAccounts: true}, Filter{Template: "promo", From: &from, To: &to}},
		{"account A, a time range", models.Scope{AccountID: a}, Filter{Template: "promo", From: &from, To: &to}},
		{"a template nobody used", models.Scope{AllAccounts: true}, Filter{Template: "nothing"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var want []uint
			for _, e := range stored {
				if !c.scope.AllAccounts && *e.AccountID != c.scope.AccountID {
					continue
				}
				if c.f.Status != "" && e.Status != c.f.Status {
					continue
				}
				if c.f.From != nil && (e.ReceivedAt.Before(*c.f.From) || !e.ReceivedAt.Before(*c.f.To)) {
					continue
				}
				sent := tpl[e.WAMID] == c.f.Template && (c.scope.AllAccounts || msgAcct[e.WAMID] == c.scope.AccountID)
				if e.TemplateName == c.f.Template || e.TemplateID == c.f.Template || sent {
					want = append(want, e.ID)
				}
			}
			slices.Reverse(want)
			var got []uint
			var cur *Cursor
			for pages := 0; ; pages++ {
				if pages > len(want)/7+2 {
					t.Fatalf("more pages than %d rows need", len(want))
				}
				p, err := s.List(ctx, c.scope, c.f, cur, 7)
				if err != nil {
					t.Fatal(err)
				}
				if pages == 0 && (p.Total != int64(len(want)) || p.TotalCapped) {
					t.Errorf("total %d (capped %v), want %d", p.Total, p.TotalCapped, len(want))
				}
				for _, e := range p.Events {
					got = append(got, e.ID)
				}
				if p.Next == nil {
					break
				}
				cur = p.Next
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("listed %d events, want %d:\n got %v\nwant %v", len(got), len(want), got, want)
			}
			if c.f.Template != "nothing" && len(want) < 8 {
				t.Errorf("only %d matches: the case does not page", len(want))
			}
		})
	}
}
