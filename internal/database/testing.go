package database

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"
)

// TestDatabaseEnv names the variable that moves the tests to PostgreSQL: a postgres:// URL of a
// database the role may connect to, whose role may create databases (the README's test command
// on PostgreSQL sets it). Unset, every test gets a fresh SQLite file.
const TestDatabaseEnv = "MMC_TEST_DATABASE"

// testPrefix starts the name of every database the test helpers create, followed by the Unix
// time of creation, so that those a crashed run left behind can be recognised and dropped.
const testPrefix = "mmc_t_"

// staleAfter is the age past which a test database is taken as left behind by a crash: longer
// than any test binary runs (go test stops one after 10 minutes unless told otherwise).
const staleAfter = 30 * time.Minute

// OpenTest gives a test its own fresh, migrated database, closed (and on PostgreSQL dropped) when
// the test ends: a SQLite file in t.TempDir, or, with MMC_TEST_DATABASE set, a PostgreSQL
// database of its own. On PostgreSQL the migrations run once per test binary and migration list
// into a template database, and each test gets a copy of it (CREATE DATABASE … TEMPLATE), which
// is much faster than migrating every time. The template is recognised by the migration IDs, so
// within one test binary two lists with the same IDs must describe the same schema.
func OpenTest(t testing.TB, migrations []Migration) *gorm.DB {
	t.Helper()
	dsn := filepath.Join(t.TempDir(), "test.db")
	if base := os.Getenv(TestDatabaseEnv); base != "" {
		dsn = newTestDatabase(t, base, migrations)
	}
	db, err := Open(context.Background(), dsn, migrations, Options{})
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { _ = Close(db) })
	return db
}

// TestDSN is for tests that open the database themselves (database.Open, the app's
// MMC_DATABASE): a path for a new SQLite file in t.TempDir, or, with MMC_TEST_DATABASE set, the
// URL of a new empty PostgreSQL database that is dropped when the test ends (even if the test
// left connections open).
func TestDSN(t testing.TB) string {
	t.Helper()
	if base := os.Getenv(TestDatabaseEnv); base != "" {
		return newTestDatabase(t, base, nil)
	}
	return filepath.Join(t.TempDir(), "test.db")
}

// TestIsPostgres reports whether the tests run on PostgreSQL (MMC_TEST_DATABASE is set).
func TestIsPostgres() bool { return os.Getenv(TestDatabaseEnv) != "" }

// newTestDatabase creates a database for one test, a copy of the migrated template for
// migrations (empty when there are none), registers its drop, and returns its URL.
func newTestDatabase(t testing.TB, base string, migrations []Migration) string {
	t.Helper()
	ctx := context.Background()
	if !IsPostgresURL(base) {
		t.Fatalf("%s must be a postgres:// URL, not %q", TestDatabaseEnv, Redact(base))
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("%s: %v", TestDatabaseEnv, err)
	}
	defer admin.Close()
	admin.SetMaxOpenConns(1)

	template := "template0"
	if len(migrations) > 0 {
		template, err = migratedTemplate(ctx, admin, base, migrations)
		if err != nil {
			t.Fatalf("test database template: %v", err)
		}
	}
	name := testName("d", randomHex(6))
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" TEMPLATE "+template); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() { dropDatabase(base, name) })
	return withDatabase(base, name)
}

// migratedTemplate returns the name of the template database holding migrations' schema, built
// under an advisory lock when this test binary has none yet, so that packages tested in parallel
// never build the same one twice or copy one half built.
func migratedTemplate(ctx context.Context, admin *sql.DB, base string, migrations []Migration) (string, error) {
	key := templateKey(migrations)
	find := func(q interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}) (string, error) {
		var name string
		err := q.QueryRowContext(ctx, `SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY datname DESC LIMIT 1`,
			strings.ReplaceAll(testPrefix, "_", `\_`)+`%\_tpl\_`+key).Scan(&name)
		if err == sql.ErrNoRows {
			return "", nil
		}
		return name, err
	}
	if name, err := find(admin); err != nil || name != "" {
		return name, err
	}
	conn, err := admin.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(hashtext($1))", "mmconsole test template "+key); err != nil {
		return "", err
	}
	defer conn.ExecContext(ctx, "SELECT pg_advisory_unlock(hashtext($1))", "mmconsole test template "+key) //nolint:errcheck // the connection closes next
	if name, err := find(conn); err != nil || name != "" {
		return name, err
	}
	dropStale(ctx, conn)
	// Built under a name of its own and renamed when complete, so that a crash mid-build leaves
	// nothing a later run would take for a finished template.
	building := testName("b", key)
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+building+" TEMPLATE template0"); err != nil {
		return "", err
	}
	db, err := Open(ctx, withDatabase(base, building), migrations, Options{MaxConns: 1})
	if err != nil {
		conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)") //nolint:errcheck // the migration error is the one to report
		return "", err
	}
	if err := Close(db); err != nil {
		return "", err
	}
	name := testName("tpl", key)
	if _, err := conn.ExecContext(ctx, "ALTER DATABASE "+building+" RENAME TO "+name); err != nil {
		return "", err
	}
	return name, nil
}

// templateKey names a migration list within one build of one test binary: the binary's path
// and time change with every `go test` build, so a template never outlives the code that made
// it.
func templateKey(migrations []Migration) string {
	h := sha256.New()
	if exe, err := os.Executable(); err == nil {
		fmt.Fprintln(h, exe)
		if st, err := os.Stat(exe); err == nil {
			fmt.Fprintln(h, st.ModTime().UnixNano(), st.Size())
		}
	}
	ids := make([]string, len(migrations))
	for i, m := range migrations {
		ids[i] = m.ID
	}
	slices.Sort(ids)
	fmt.Fprintln(h, strings.Join(ids, "\n"))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// testName is a test database name: the prefix, the creation time, a kind and a suffix.
func testName(kind, suffix string) string {
	return fmt.Sprintf("%s%d_%s_%s", testPrefix, time.Now().Unix(), kind, suffix)
}

// dropStale drops the test databases older than staleAfter: what crashed or killed test runs
// left. A database still in use is not dropped (no FORCE), so a long run elsewhere is safe.
func dropStale(ctx context.Context, conn *sql.Conn) {
	rows, err := conn.QueryContext(ctx, `SELECT datname FROM pg_database WHERE datname LIKE $1`,
		strings.ReplaceAll(testPrefix, "_", `\_`)+"%")
	if err != nil {
		return
	}
	var stale []string
	for rows.Next() {
		var name string
		if rows.Scan(&name) != nil {
			continue
		}
		ts, _, ok := strings.Cut(strings.TrimPrefix(name, testPrefix), "_")
		sec, err := strconv.ParseInt(ts, 10, 64)
		if ok && err == nil && time.Since(time.Unix(sec, 0)) > staleAfter {
			stale = append(stale, name)
		}
	}
	rows.Close()
	for _, name := range stale {
		_, _ = conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name)
	}
}

// dropDatabase drops a test's database at its end, closing whatever connections the test left.
func dropDatabase(base, name string) {
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return
	}
	defer admin.Close()
	_, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
}

// withDatabase is the URL base with its database replaced by name.
func withDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
