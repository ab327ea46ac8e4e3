package database

import (
	"context"
	"path/filepath"
	"testing"

	"gorm.io/gorm"
)

// OpenTest gives a test its own fresh database file (in t.TempDir) with the given migrations,
// closed when the test ends.
func OpenTest(t testing.TB, migrations []Migration) *gorm.DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "test.db"), migrations, Options{})
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { _ = Close(db) })
	return db
}
