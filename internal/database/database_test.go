package database

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"gorm.io/gorm"
)

func TestOpenSetsPragmas(t *testing.T) {
	db := OpenTest(t, nil)
	p, err := ReadPragmas(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if p.JournalMode != "wal" {
		t.Errorf("journal_mode = %q, want wal", p.JournalMode)
	}
	if p.ForeignKeys != 1 {
		t.Errorf("foreign_keys = %d, want 1", p.ForeignKeys)
	}
	if p.BusyTimeout != 5000 {
		t.Errorf("busy_timeout = %d, want 5000", p.BusyTimeout)
	}
}

func TestPragmasHoldOnEveryPooledConnection(t *testing.T) {
	db := OpenTest(t, nil)
	ctx := context.Background()
	// Hold several connections at once so the pool must open new ones.
	sqlDB, _ := db.DB()
	var conns []interface{ Close() error }
	for range 4 {
		c, err := sqlDB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var fk int
		if err := c.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
			t.Errorf("connection without foreign keys: %d %v", fk, err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Close()
	}
}

type widget struct {
	ID   uint
	Name string
}

func TestMigrationsRunInOrderOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	var ran []string
	ms := []Migration{
		{ID: "0002_second", Up: func(tx *gorm.DB) error {
			ran = append(ran, "0002")
			return tx.Exec("ALTER TABLE widgets ADD COLUMN size INTEGER").Error
		}},
		{ID: "0001_first", Up: func(tx *gorm.DB) error { ran = append(ran, "0001"); return tx.AutoMigrate(&widget{}) }},
	}
	db, err := Open(context.Background(), path, ms, Options{})
	if err != nil {
		t.Fatal(err)
	}
	Close(db)
	if len(ran) != 2 || ran[0] != "0001" || ran[1] != "0002" {
		t.Fatalf("ran %v, want [0001 0002]", ran)
	}
	db, err = Open(context.Background(), path, ms, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer Close(db)
	if len(ran) != 2 {
		t.Fatalf("migrations ran again: %v", ran)
	}
}

func TestFailedMigrationRollsBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	ms := []Migration{
		{ID: "0001_ok", Up: func(tx *gorm.DB) error { return tx.AutoMigrate(&widget{}) }},
		{ID: "0002_bad", Up: func(tx *gorm.DB) error {
			if err := tx.Exec("CREATE TABLE half (id INTEGER)").Error; err != nil {
				return err
			}
			return tx.Exec("NOT SQL").Error
		}},
	}
	if _, err := Open(context.Background(), path, ms, Options{}); err == nil {
		t.Fatal("a failing migration must stop Open")
	}
	db, err := Open(context.Background(), path, ms[:1], Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer Close(db)
	if db.Migrator().HasTable("half") {
		t.Error("the failed migration's table should have been rolled back")
	}
}

func TestDuplicateMigrationIDsAreRefused(t *testing.T) {
	noop := func(*gorm.DB) error { return nil }
	_, err := Open(context.Background(), filepath.Join(t.TempDir(), "d.db"), []Migration{{"0001", noop}, {"0001", noop}}, Options{})
	if err == nil {
		t.Fatal("duplicate IDs must be refused")
	}
}

// TestDatabaseFilesAreOwnerOnly opens a new database under a permissive umask and checks that
// the file and its -wal and -shm companions are readable by the owner only.
func TestDatabaseFilesAreOwnerOnly(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "private.db")
	db, err := Open(context.Background(), path, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer Close(db)
	if err := db.Exec("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY)").Error; err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(p), err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want 0600", filepath.Base(p), st.Mode().Perm())
		}
	}
}
