package database

import (
	"context"
	"errors"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gorm.io/gorm"
)

// openSQLite opens a SQLite file whatever MMC_TEST_DATABASE says: the pragmas and file modes
// are SQLite's own, so their tests run on SQLite in both runs of the suite.
func openSQLiteTest(t *testing.T) *gorm.DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "p.db"), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Close(db) })
	return db
}

func TestOpenSetsPragmas(t *testing.T) {
	db := openSQLiteTest(t)
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
	db := openSQLiteTest(t)
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
	path := TestDSN(t)
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
	path := TestDSN(t)
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
	_, err := Open(context.Background(), TestDSN(t), []Migration{{"0001", noop}, {"0001", noop}}, Options{})
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

func TestIsPostgresURL(t *testing.T) {
	for _, tc := range []struct {
		dsn  string
		want bool
	}{
		{"postgres://mmc:mmc@127.0.0.1:5432/mmc", true},
		{"postgresql://db.example.com/mmc?sslmode=require", true},
		{"POSTGRES://host/db", true},
		{"./mmconsole.db", false},
		{"/var/lib/mmc/postgres.db", false},
		{"postgres.db", false},
		{"", false},
	} {
		if got := IsPostgresURL(tc.dsn); got != tc.want {
			t.Errorf("IsPostgresURL(%q) = %v, want %v", tc.dsn, got, tc.want)
		}
	}
}

func TestRedactHidesThePassword(t *testing.T) {
	got := Redact("postgres://mmc:s3cret@127.0.0.1:5432/mmc")
	if strings.Contains(got, "s3cret") || !strings.Contains(got, "127.0.0.1:5432/mmc") {
		t.Errorf("Redact = %q, want the URL without its password", got)
	}
	if got := Redact("postgres://mmc@db/mmc?sslmode=require&password=s3cret"); strings.Contains(got, "s3cret") || !strings.Contains(got, "sslmode=require") {
		t.Errorf("Redact = %q, want the URL without the password parameter", got)
	}
	if got := Redact("./x.db"); got != "./x.db" {
		t.Errorf("Redact of a path = %q, want it unchanged", got)
	}
}

// TestOpenFailsClearlyAndQuietly opens a PostgreSQL URL where no server listens: Open must fail
// with an error that names the database but not the password.
func TestOpenFailsClearlyAndQuietly(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = Open(ctx, "postgres://mmc:s3cret@"+addr+"/nowhere?connect_timeout=5", nil, Options{})
	if err == nil {
		t.Fatal("Open of an unreachable server succeeded")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error shows the password: %v", err)
	}
	if !strings.Contains(err.Error(), "nowhere") {
		t.Errorf("the error does not name the database: %v", err)
	}
}

// TestDialectMatchesTheTestDatabase checks DialectOf and the helpers against the engine the
// suite runs on, and that each engine's answer to Greatest/Least is what the engine computes.
func TestDialectMatchesTheTestDatabase(t *testing.T) {
	db := OpenTest(t, nil)
	want := SQLite
	if TestIsPostgres() {
		want = Postgres
	}
	if got := DialectOf(db); got != want {
		t.Fatalf("DialectOf = %q, want %q", got, want)
	}
	var hi, lo int
	if err := db.Raw("SELECT " + Greatest(db) + "(3, 7)").Scan(&hi).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Raw("SELECT " + Least(db) + "(3, 7)").Scan(&lo).Error; err != nil {
		t.Fatal(err)
	}
	if hi != 7 || lo != 3 {
		t.Errorf("Greatest(3,7) = %d, Least(3,7) = %d; want 7 and 3", hi, lo)
	}
}

// TestWriteProbe runs the health probe's migration and write on the test database's engine.
func TestWriteProbe(t *testing.T) {
	db := OpenTest(t, ProbeMigrations())
	if err := ProbeWrite(context.Background(), db); err != nil {
		t.Fatalf("probe: %v", err)
	}
	if err := db.Exec("DELETE FROM health_probe").Error; err != nil {
		t.Fatal(err)
	}
	if err := ProbeWrite(context.Background(), db); err == nil {
		t.Error("the probe succeeded without its row")
	}
}

// TestPostgresSessions checks what Open promises on PostgreSQL: UTC sessions and the dialect's
// pool size. It runs only when the suite runs on PostgreSQL.
func TestPostgresSessions(t *testing.T) {
	if !TestIsPostgres() {
		t.Skip("runs with " + TestDatabaseEnv + " set")
	}
	db := OpenTest(t, nil)
	var tz string
	if err := db.Raw("SHOW TimeZone").Scan(&tz).Error; err != nil {
		t.Fatal(err)
	}
	if tz != "UTC" {
		t.Errorf("session TimeZone = %q, want UTC", tz)
	}
	sqlDB, _ := db.DB()
	if got := sqlDB.Stats().MaxOpenConnections; got != DefaultMaxConns(Postgres) {
		t.Errorf("pool size = %d, want %d", got, DefaultMaxConns(Postgres))
	}
	if _, err := ReadPragmas(context.Background(), db); !errors.Is(err, ErrNotSQLite) {
		t.Errorf("ReadPragmas on PostgreSQL = %v, want ErrNotSQLite", err)
	}
}

// TestEachTestGetsItsOwnDatabase writes in one test database and checks that a second one,
// made from the same migrations, does not see it, and that dropping happens at cleanup.
func TestEachTestGetsItsOwnDatabase(t *testing.T) {
	ms := []Migration{AutoMigrateStep("0001_widgets", &widget{})}
	var first *gorm.DB
	t.Run("first", func(t *testing.T) {
		first = OpenTest(t, ms)
		if err := first.Create(&widget{Name: "a"}).Error; err != nil {
			t.Fatal(err)
		}
	})
	second := OpenTest(t, ms)
	var n int64
	if err := second.Model(&widget{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("a fresh test database holds %d widgets from another test", n)
	}
	if err := first.Exec("SELECT 1").Error; err == nil {
		t.Error("the first test's database is still open after its test ended")
	}
}

func TestCheckArgsNamesWhatPostgresCannotHold(t *testing.T) {
	huge := uint64(1 << 63)
	for _, tc := range []struct {
		arg  any
		want string // "" = accepted
	}{
		{"plain", ""},
		{"🙂 ünïcode", ""},
		{"a\x00b", "NUL"},
		{"\xff\xfe", "UTF-8"},
		{uint64(math.MaxInt64), ""},
		{huge, "9223372036854775807"},
		{&huge, "9223372036854775807"},
		{uint(1 << 63), "9223372036854775807"},
		{int64(-1), ""},
		{[]byte{0, 0xff}, ""}, // bytes are bytea, which holds anything
	} {
		err := checkArgs([]any{1, tc.arg})
		if tc.want == "" {
			if err != nil {
				t.Errorf("%#v refused: %v", tc.arg, err)
			}
			continue
		}
		var ue *UnrepresentableError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%#v: error %v, want an UnrepresentableError naming %q", tc.arg, err, tc.want)
			continue
		}
		if st, _, msg := ue.UserFacing(context.Background()); st != 400 || !strings.Contains(msg, tc.want) {
			t.Errorf("%#v: answers %d %q, want 400 naming %q", tc.arg, st, msg, tc.want)
		}
	}
}

// TestPostgresRefusesUnrepresentableValues: on PostgreSQL a NUL byte or an id past int64 in a
// query or a write is refused before it reaches the server, in and out of transactions, and
// nothing is written.
func TestPostgresRefusesUnrepresentableValues(t *testing.T) {
	if !TestIsPostgres() {
		t.Skip("runs with " + TestDatabaseEnv + " set")
	}
	db := OpenTest(t, []Migration{AutoMigrateStep("0001_widgets", &widget{})})
	var ws []widget
	var ue *UnrepresentableError
	if err := db.Where("name = ?", "x\x00").Find(&ws).Error; !errors.As(err, &ue) {
		t.Errorf("query with a NUL byte: %v, want UnrepresentableError", err)
	}
	if err := db.Where("id = ?", uint64(1<<63)).Find(&ws).Error; !errors.As(err, &ue) {
		t.Errorf("query with an id past int64: %v, want UnrepresentableError", err)
	}
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&widget{Name: "kept?"}).Error; err != nil {
			return err
		}
		return tx.Create(&widget{Name: "bad\xff"}).Error
	})
	if !errors.As(err, &ue) {
		t.Errorf("write with bytes that are not UTF-8: %v, want UnrepresentableError", err)
	}
	var n int64
	if err := db.Model(&widget{}).Count(&n).Error; err != nil || n != 0 {
		t.Errorf("after the refused transaction: %d widgets (%v), want 0", n, err)
	}
	if sqlDB, err := db.DB(); err != nil || sqlDB.Ping() != nil {
		t.Errorf("db.DB() through the checked pool: %v", err)
	}
}
