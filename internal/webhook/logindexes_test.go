package webhook

import (
	"context"
	"slices"
	"testing"

	"mmconsole/models"
)

// TestEventRouteIndexDropped: after 0270_a the events table has no route index, every other
// index of the log's filters is still there, and the route filter (which asks the message)
// still finds the events of fallback messages, including the read statuses that carry no route.
func TestEventRouteIndexDropped(t *testing.T) {
	db := testDB(t)
	s := newService(t, db)
	var idx []string
	q := "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'webhook_events'"
	if s.dia.postgres {
		q = "SELECT indexname FROM pg_indexes WHERE tablename = 'webhook_events' AND schemaname = current_schema()"
	}
	if err := db.Raw(q).Scan(&idx).Error; err != nil {
		t.Fatal(err)
	}
	if slices.Contains(idx, "idx_wh_ev_route") {
		t.Errorf("the route index is still there: %v", idx)
	}
	for _, kept := range []string{"idx_wh_ev_dedupe", "idx_wh_ev_received_at", "idx_wh_ev_account_id", "idx_wh_ev_waba_id",
		"idx_wh_ev_phone_number_id", "idx_wh_ev_kind", "idx_wh_ev_status", "idx_wh_ev_recipient", "idx_wh_ev_wamid",
		"idx_wh_ev_error_code", "idx_wh_ev_template_id", "idx_wh_ev_template_name"} {
		if !slices.Contains(idx, kept) {
			t.Errorf("index %s is missing: %v", kept, idx)
		}
	}
	acct := connect(t, db, "A", "100")
	putMessage(t, db, acct, "wamid.fb", "read", models.RouteFallback, t0)
	putMessage(t, db, acct, "wamid.mm", "read", models.RouteMMAPI, t0)
	for _, w := range []string{"wamid.fb", "wamid.mm"} {
		putEvent(t, db, acct, w, "sent", "", t0)
		putEvent(t, db, acct, w, "read", "", t0.Add(1))
	}
	p, err := s.List(context.Background(), models.Scope{AccountID: acct}, Filter{Route: models.RouteFallback}, nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Events) != 2 || p.Total != 2 || p.Events[0].WAMID != "wamid.fb" || p.Events[1].WAMID != "wamid.fb" {
		t.Errorf("route filter: %d events (total %d), want the 2 of wamid.fb", len(p.Events), p.Total)
	}
}
