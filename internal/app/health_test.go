package app

import (
	"context"
	"database/sql"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the driver gorm.io/driver/postgres registers, for a second connection
	_ "github.com/mattn/go-sqlite3"    // the driver gorm.io/driver/sqlite registers, for a second connection
)

// A database that still answers reads but cannot take a write (here: another process holds
// the write lock) must make /healthz fail, and it must recover once writes work again.
func TestHealthzFailsWhenTheDatabaseCannotWrite(t *testing.T) {
	cfg := testConfig(t)
	a, err := New(context.Background(), cfg, NewLogger(cfg, &strings.Builder{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if resp, body := do(t, a, httptest.NewRequest("GET", "/healthz", nil)); resp.StatusCode != 200 {
		t.Fatalf("healthz = %d %s", resp.StatusCode, body)
	}

	// Another client holds the write lock: SQLite's database lock, or on PostgreSQL the lock of
	// the probe's table, which the probe's UPDATE waits for past /healthz's deadline.
	driver, dsn, lock := "sqlite3", "file:"+cfg.Database+"?_busy_timeout=100", []string{"BEGIN IMMEDIATE"}
	if cfg.DatabaseIsPostgres() {
		driver, dsn, lock = "pgx", cfg.Database, []string{"BEGIN", "LOCK TABLE health_probe IN EXCLUSIVE MODE"}
	}
	other, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range lock {
		if _, err := conn.ExecContext(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(1100 * time.Millisecond) // past the probe's reuse window
	resp, body := do(t, a, httptest.NewRequest("GET", "/healthz", nil))
	if resp.StatusCode != 503 || !strings.Contains(body, "cannot write") {
		t.Errorf("healthz while writes are blocked = %d %s, want 503 naming the write", resp.StatusCode, body)
	}
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if resp, body := do(t, a, httptest.NewRequest("GET", "/healthz", nil)); resp.StatusCode != 200 {
		t.Errorf("healthz once writes work again = %d %s", resp.StatusCode, body)
	}
}

// Less free disk than MMC_MIN_FREE_DISK_MB is a 503 naming the disk; the default passes here.
func TestHealthzFailsWhenTheDiskIsNearlyFull(t *testing.T) {
	cases := []struct {
		name    string
		minFree int
		want    int
		says    string
	}{
		{"default threshold", -1, 200, `"status":"ok"`},
		{"more than any disk has", 1 << 40, 503, "MMC_MIN_FREE_DISK_MB"},
		{"check off", 0, 200, `"status":"ok"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig(t)
			if c.minFree >= 0 {
				cfg.MinFreeDiskMB = c.minFree
			}
			a, err := New(context.Background(), cfg, NewLogger(cfg, &strings.Builder{}))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { a.Close() })
			if cfg.DatabaseIsPostgres() {
				// PostgreSQL's disk is the server's: no free-space check, whatever the setting.
				c.want, c.says = 200, `"status":"ok"`
			}
			resp, body := do(t, a, httptest.NewRequest("GET", "/healthz", nil))
			if resp.StatusCode != c.want || !strings.Contains(body, c.says) {
				t.Errorf("healthz = %d %s, want %d with %q", resp.StatusCode, body, c.want, c.says)
			}
		})
	}
}
