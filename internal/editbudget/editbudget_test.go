package editbudget_test

import (
	"context"
	"testing"
	"time"

	"mmconsole/internal/database"
	"mmconsole/internal/editbudget"
	"mmconsole/internal/i18n"
	"mmconsole/models"
)

func TestBudgetWords(t *testing.T) {
	for _, tc := range []struct {
		b          editbudget.Budget
		left       int
		atLimit    bool
		spendsLast bool
		words      string
	}{
		{editbudget.Budget{Applies: true, Used: 0, Limit: 10}, 10, false, false, "0 of 10 edits used in the last 30 days; this spends 1 edit, 9 left after it."},
		{editbudget.Budget{Applies: true, Used: 7, Limit: 10}, 3, false, false, "7 of 10 edits used in the last 30 days; this spends 1 edit, 2 left after it."},
		{editbudget.Budget{Applies: true, Used: 8, Limit: 10}, 2, false, true, "8 of 10 edits used in the last 30 days; this spends 1 edit, 1 left after it."},
		{editbudget.Budget{Applies: true, Used: 9, Limit: 10}, 1, false, true, "9 of 10 edits used in the last 30 days; this spends 1 edit, 0 left after it."},
		{editbudget.Budget{Applies: true, Used: 12, Limit: 10}, 0, true, false, "All 10 edits of the last 30 days are used: Meta refuses further edits of this template until the oldest is 30 days old."},
		{editbudget.Budget{Applies: false, Used: 12, Limit: 10}, 10, false, false, "This template is not approved: Meta does not limit its edits."},
	} {
		if tc.b.Left() != tc.left || tc.b.AtLimit() != tc.atLimit || tc.b.SpendsLast() != tc.spendsLast || tc.b.Words(context.Background()) != tc.words {
			t.Errorf("%+v: left %d at %v last %v %q", tc.b, tc.b.Left(), tc.b.AtLimit(), tc.b.SpendsLast(), tc.b.Words(context.Background()))
		}
	}
}

// TestBudgetWordsInSpanishAndPortuguese: the budget is said in the reader's language, with the
// edits left counted in that language's plural forms.
func TestBudgetWordsInSpanishAndPortuguese(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		lang  string
		b     editbudget.Budget
		words string
	}{
		{"es", editbudget.Budget{Applies: true, Used: 3, Limit: 10}, "3 de 10 ediciones usadas en los últimos 30 días; esta usa 1 edición y quedan 6 después."},
		{"es", editbudget.Budget{Applies: true, Used: 8, Limit: 10}, "8 de 10 ediciones usadas en los últimos 30 días; esta usa 1 edición y queda 1 después."},
		{"es", editbudget.Budget{Applies: true, Used: 10, Limit: 10}, "Se usaron las 10 ediciones de los últimos 30 días: Meta rechaza más ediciones de esta plantilla hasta que la más antigua tenga 30 días."},
		{"pt-BR", editbudget.Budget{Applies: true, Used: 3, Limit: 10}, "3 de 10 edições usadas nos últimos 30 dias; esta usa 1 edição e restam 6 depois dela."},
		{"pt-BR", editbudget.Budget{Applies: true, Used: 8, Limit: 10}, "8 de 10 edições usadas nos últimos 30 dias; esta usa 1 edição e resta 1 depois dela."},
		{"pt-BR", editbudget.Budget{Applies: false, Limit: 10}, "Este modelo não está aprovado: a Meta não limita as edições dele."},
	} {
		ctx := i18n.WithLocale(context.Background(), cat.Locale(tc.lang))
		if got := tc.b.Words(ctx); got != tc.words {
			t.Errorf("%s %+v: %q, want %q", tc.lang, tc.b, got, tc.words)
		}
	}
}

// TestLedgerCountsTheWindowAndOnlyApprovedTemplates: edits older than the window no longer
// count; edits of a template that is not approved are not recorded.
func TestLedgerCountsTheWindowAndOnlyApprovedTemplates(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	db := database.OpenTest(t, []database.Migration{database.AutoMigrateStep("0001_t", &models.OptimizationChange{})})
	if err := database.Migrate(context.Background(), db, editbudget.Migrations()); err != nil {
		t.Fatal(err)
	}
	l := editbudget.New(db, editbudget.Options{Now: func() time.Time { return now }})
	ctx := context.Background()
	approved := models.Template{TemplateID: "1", Status: "APPROVED"}
	pending := models.Template{TemplateID: "2", Status: "PENDING"}
	for _, e := range []editbudget.Edit{{Template: approved, Kind: models.EditKindTTL}, {Template: approved, Kind: models.EditKindOptimizations}, {Template: pending, Kind: models.EditKindTTL}} {
		if err := l.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Create(&models.TemplateEdit{TemplateID: "1", Kind: models.EditKindTTL, CreatedAt: now.Add(-31 * 24 * time.Hour)}).Error; err != nil {
		t.Fatal(err)
	}
	b, err := l.Of(ctx, approved)
	if err != nil || b.Used != 2 || !b.Applies {
		t.Errorf("approved: %+v %v, want 2 used (the 31-day-old edit no longer counts)", b, err)
	}
	if n, _ := l.Used(ctx, "2"); n != 0 {
		t.Errorf("pending template: %d edits recorded, want 0", n)
	}
}

// TestMigrationCarriesOverCountedOptimizationEdits: edits counted before the ledger existed (one
// per accepted request, several features each) are not forgotten.
func TestMigrationCarriesOverCountedOptimizationEdits(t *testing.T) {
	db := database.OpenTest(t, []database.Migration{database.AutoMigrateStep("0001_t", &models.OptimizationChange{})})
	now := time.Now().UTC()
	for i, key := range []string{"a", "a", "b", "c"} {
		ch := models.OptimizationChange{Scope: models.OptScopeTemplate, TargetID: "9", Feature: []string{"x", "y", "x", "x"}[i],
			NewValue: "OPT_IN", Status: models.OptChangeConfirmed, RequestKey: key, CountsTowardLimit: key != "c", CreatedAt: now}
		if err := db.Create(&ch).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := database.Migrate(context.Background(), db, editbudget.Migrations()); err != nil {
		t.Fatal(err)
	}
	n, err := editbudget.New(db, editbudget.Options{}).Used(context.Background(), "9")
	if err != nil || n != 2 {
		t.Errorf("carried over %d edits (%v), want 2: requests a and b; c did not count", n, err)
	}
}

// TestContentEditsOncePerDay: a content edit of an approved template blocks the next one for
// 24 hours; TTL and optimization edits do not.
func TestContentEditsOncePerDay(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	db := database.OpenTest(t, []database.Migration{database.AutoMigrateStep("0001_t", &models.OptimizationChange{})})
	if err := database.Migrate(context.Background(), db, editbudget.Migrations()); err != nil {
		t.Fatal(err)
	}
	clock := now
	l := editbudget.New(db, editbudget.Options{Now: func() time.Time { return clock }})
	ctx := context.Background()
	approved := models.Template{TemplateID: "1", Status: "APPROVED"}
	for _, k := range []string{models.EditKindTTL, models.EditKindOptimizations} {
		if err := l.Record(ctx, editbudget.Edit{Template: approved, Kind: k}); err != nil {
			t.Fatal(err)
		}
	}
	if next, err := l.NextContentEdit(ctx, "1"); err != nil || !next.IsZero() {
		t.Fatalf("after TTL and optimization edits: next content edit %v %v, want now", next, err)
	}
	if err := l.Record(ctx, editbudget.Edit{Template: approved, Kind: models.EditKindComponents}); err != nil {
		t.Fatal(err)
	}
	clock = now.Add(time.Hour)
	if next, _ := l.NextContentEdit(ctx, "1"); !next.Equal(now.Add(editbudget.ContentGap)) {
		t.Errorf("an hour after a content edit: next %v, want %v", next, now.Add(editbudget.ContentGap))
	}
	clock = now.Add(editbudget.ContentGap + time.Second)
	if next, _ := l.NextContentEdit(ctx, "1"); !next.IsZero() {
		t.Errorf("a day later: next %v, want now", next)
	}
	if b, _ := l.Of(ctx, approved); b.Used != 3 {
		t.Errorf("the content edit counts in the shared budget: used %d, want 3", b.Used)
	}
}
