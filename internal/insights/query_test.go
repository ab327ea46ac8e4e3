package insights_test

import (
	"context"
	"testing"

	"mmconsole/internal/insights"
	"mmconsole/models"
)

// The overview's webhook numbers count a rollup row only under the connection that owns both its
// account and its WABA. Rows that pair one account with another account's WABA (kept from before
// a WABA moved, or written under another account's secret) and rows of no account are never
// shown to either account's users, nor added to a staff overview over both accounts.
func TestRollupScopeMatchesEachConnectionsAccountAndWABA(t *testing.T) {
	e := newFetchEnv(t, 0, nil)
	accA, wabaA := e.conn.AccountID, e.conn.WABAID
	accB := models.Account{Name: "Other shop"}
	must(t, e.db.Create(&accB).Error)
	connB := models.WABAConnection{AccountID: accB.ID, WABAID: "5550002", Name: "Other", TokenSealed: []byte("x")}
	must(t, e.db.Create(&connB).Error)
	day := insights.Day(e.now)
	rows := []struct {
		acc  uint
		waba string
		n    int64
	}{
		{accA, wabaA, 1},              // A's own
		{accB.ID, connB.WABAID, 10},   // B's own
		{accA, connB.WABAID, 100},     // A's account with B's WABA
		{accB.ID, wabaA, 1000},        // B's account with A's WABA
		{0, wabaA, 10000},             // no account (staff-only raw data)
		{accA, "5550999", 100000},     // a WABA no connection has
		{accB.ID, "5550999", 1000000}, // the same under B
	}
	for _, r := range rows {
		must(t, e.db.Create(&models.WebhookDayRollup{AccountID: r.acc, WABAID: r.waba, Day: day, Route: models.RouteMMAPI, Sent: r.n}).Error)
		must(t, e.db.Create(&models.WebhookErrorRollup{AccountID: r.acc, WABAID: r.waba, Day: day, ErrorCode: 131049, Title: "t", Count: r.n}).Error)
	}
	p, err := insights.ParsePeriod("7", "", "", e.now)
	must(t, err)
	cases := []struct {
		name string
		f    insights.Filter
		want int64
	}{
		{"account A's user", insights.Filter{Scope: models.Scope{AccountID: accA}}, 1},
		{"account B's user", insights.Filter{Scope: models.Scope{AccountID: accB.ID}}, 10},
		{"staff, every WABA", insights.Filter{Scope: models.Scope{AllAccounts: true}}, 11},
		{"staff, A's WABA", insights.Filter{Scope: models.Scope{AllAccounts: true}, ConnectionID: e.conn.ID}, 1},
		{"staff, B's WABA", insights.Filter{Scope: models.Scope{AllAccounts: true}, ConnectionID: connB.ID}, 10},
		{"A's user asking for B's WABA", insights.Filter{Scope: models.Scope{AccountID: accA}, ConnectionID: connB.ID}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := e.svc.Overview(context.Background(), c.f, p)
			must(t, err)
			if o.Webhook.All.Sent != c.want {
				t.Errorf("webhook sent = %d, want %d", o.Webhook.All.Sent, c.want)
			}
			var failed int64
			for _, er := range o.Errors {
				failed += er.Count
			}
			if failed != c.want {
				t.Errorf("failures by error code = %d, want %d", failed, c.want)
			}
		})
	}
}
