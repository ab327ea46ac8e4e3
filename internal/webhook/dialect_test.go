package webhook

import (
	"context"
	"math"
	"testing"

	"mmconsole/models"
)

// TestLogQueriesTakeAnyInput: filter values with NUL bytes or invalid UTF-8 and cursors past
// the largest id are answered (with what matches), not refused by the database; PostgreSQL
// refuses such text and such numbers as parameters.
func TestLogQueriesTakeAnyInput(t *testing.T) {
	db := testDB(t)
	s := newService(t, db)
	ingest(t, s, string(statusDelivery("wamid.odd.", 1, 3, "sent")))
	staff := models.Scope{AllAccounts: true}
	for _, v := range []string{"\x00", "a\x00b", "\xff\xfe", "sent\x00"} {
		filters := []Filter{{WABAID: v}, {PhoneNumberID: v}, {Kind: v}, {Status: v}, {Route: v}, {Template: v}, {Recipient: v}, {WAMID: v}}
		for _, f := range filters {
			p, err := s.List(context.Background(), staff, f, nil, 50)
			if err != nil {
				t.Fatalf("List(%+v): %v", f, err)
			}
			if len(p.Events) != 0 {
				t.Errorf("List(%+v): %d events, want none", f, len(p.Events))
			}
			if _, err := s.Newer(context.Background(), staff, f, Cursor{ID: 1}); err != nil {
				t.Fatalf("Newer(%+v): %v", f, err)
			}
		}
	}
	for _, id := range []uint{math.MaxInt64, math.MaxInt64 + 1, math.MaxUint64} {
		p, err := s.List(context.Background(), staff, Filter{}, &Cursor{ID: id}, 50)
		if err != nil {
			t.Fatalf("List before %d: %v", id, err)
		}
		if len(p.Events) != 3 {
			t.Errorf("List before %d: %d events, want all 3", id, len(p.Events))
		}
		if id > math.MaxInt64 {
			if _, err := s.Event(context.Background(), staff, id); err != models.ErrNotFound {
				t.Errorf("Event(%d): %v, want not found", id, err)
			}
			if _, err := s.Delivery(context.Background(), staff, id); err != models.ErrNotFound {
				t.Errorf("Delivery(%d): %v, want not found", id, err)
			}
		}
		newer, err := s.Newer(context.Background(), staff, Filter{}, Cursor{ID: id})
		if err != nil {
			t.Fatalf("Newer after %d: %v", id, err)
		}
		if len(newer) != 0 {
			t.Errorf("Newer after %d: %d events, want none", id, len(newer))
		}
	}
}
