package config

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaults(t *testing.T) {
	cfg, err := Load(nil, env(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatalf("defaults must be valid: %v", err)
	}
	if cfg.Addr != "127.0.0.1:8080" || cfg.Database != "./mmconsole.db" || cfg.GraphVersion != "v25.0" ||
		cfg.Sandbox != SandboxAuto || cfg.TemplateRefresh != 15*time.Minute || cfg.LogFormat != "text" {
		t.Fatalf("unexpected defaults: %+v", cfg)
	}
	if cfg.PublicURL() != "http://127.0.0.1:8080" {
		t.Fatalf("PublicURL = %q", cfg.PublicURL())
	}
}

func TestFlagWinsOverEnvironment(t *testing.T) {
	cfg, err := Load([]string{"--addr", "127.0.0.1:9999"}, env(map[string]string{"MMC_ADDR": "127.0.0.1:7777", "MMC_LOG_FORMAT": "json"}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9999" {
		t.Errorf("flag should win: Addr = %q", cfg.Addr)
	}
	if cfg.LogFormat != "json" {
		t.Errorf("environment should apply: LogFormat = %q", cfg.LogFormat)
	}
}

func TestInvalidValuesNameTheSetting(t *testing.T) {
	cases := []struct {
		env     map[string]string
		setting string
	}{
		{map[string]string{"MMC_ADDR": "nope"}, "MMC_ADDR"},
		{map[string]string{"MMC_LOG_FORMAT": "xml"}, "MMC_LOG_FORMAT"},
		{map[string]string{"MMC_LOG_LEVEL": "loud"}, "MMC_LOG_LEVEL"},
		{map[string]string{"MMC_GRAPH_VERSION": "25"}, "MMC_GRAPH_VERSION"},
		{map[string]string{"MMC_GRAPH_BASE_URL": "ftp://x"}, "MMC_GRAPH_BASE_URL"},
		{map[string]string{"MMC_GRAPH_TIMEOUT": "soon"}, "MMC_GRAPH_TIMEOUT"},
		{map[string]string{"MMC_SANDBOX": "maybe"}, "MMC_SANDBOX"},
		{map[string]string{"MMC_SEND_CALLBACK_DATA": "sometimes"}, "MMC_SEND_CALLBACK_DATA"},
		{map[string]string{"MMC_SECRET_KEY": "short"}, "MMC_SECRET_KEY"},
		{map[string]string{"MMC_ADMIN_EMAIL": "a@b.c"}, "MMC_ADMIN_EMAIL"},
		{map[string]string{"MMC_ADMIN_EMAIL": "a@b.c", "MMC_ADMIN_PASSWORD": "short"}, "MMC_ADMIN_PASSWORD"},
		{map[string]string{"MMC_SESSION_IDLE": "48h"}, "MMC_SESSION_IDLE"},
		{map[string]string{"MMC_TEMPLATE_REFRESH": "1s"}, "MMC_TEMPLATE_REFRESH"},
		{map[string]string{"MMC_WEBHOOK_MAX_BODY": "lots"}, "MMC_WEBHOOK_MAX_BODY"},
		{map[string]string{"MMC_WEBHOOK_MAX_BODY": "10"}, "MMC_WEBHOOK_MAX_BODY"},
		{map[string]string{"MMC_TRUSTED_PROXIES": "10.0.0.0/8,proxy.local"}, "MMC_TRUSTED_PROXIES"},
		{map[string]string{"MMC_PROXY_HEADER": "X Forwarded"}, "MMC_PROXY_HEADER"},
		{map[string]string{"MMC_HASH_WORKERS": "-1"}, "MMC_HASH_WORKERS"},
		{map[string]string{"MMC_BASE_URL": "example.com"}, "MMC_BASE_URL"},
		{map[string]string{"MMC_READ_TIMEOUT": "10ms"}, "MMC_READ_TIMEOUT"},
		{map[string]string{"MMC_IDLE_TIMEOUT": "0s"}, "MMC_IDLE_TIMEOUT"},
		{map[string]string{"MMC_MAX_CONNS": "3"}, "MMC_MAX_CONNS"},
		{map[string]string{"MMC_MAX_CONNS_PER_IP": "-1"}, "MMC_MAX_CONNS_PER_IP"},
		{map[string]string{"MMC_MAX_BODY": "100"}, "MMC_MAX_BODY"},
		{map[string]string{"MMC_BODY_MEMORY": "1048576"}, "MMC_BODY_MEMORY"},
		{map[string]string{"MMC_MIN_FREE_DISK_MB": "-5"}, "MMC_MIN_FREE_DISK_MB"},
		{map[string]string{"MMC_WEBHOOK_REJECTIONS_PER_MINUTE": "0"}, "MMC_WEBHOOK_REJECTIONS_PER_MINUTE"},
		{map[string]string{"MMC_WEBHOOK_REJECTIONS_KEEP": "0"}, "MMC_WEBHOOK_REJECTIONS_KEEP"},
		{map[string]string{"MMC_WEBHOOK_WRITERS": "-1"}, "MMC_WEBHOOK_WRITERS"},
		{map[string]string{"MMC_WEBHOOK_WRITERS": "17"}, "MMC_WEBHOOK_WRITERS"},
		{map[string]string{"MMC_DATABASE": "postgres://mmc:pw@127.0.0.1/mmc", "MMC_DATABASE_CONNS": "2"}, "MMC_WEBHOOK_WRITERS"},
		{map[string]string{"MMC_DATABASE": "postgres://mmc:pw@127.0.0.1/mmc", "MMC_DATABASE_CONNS": "8", "MMC_WEBHOOK_WRITERS": "8"}, "MMC_WEBHOOK_WRITERS"},
		{map[string]string{"MMC_DATABASE": "postgres://mmc:pw@/mmconsole"}, "MMC_DATABASE"},
		{map[string]string{"MMC_DATABASE": "postgresql://mmc:pw@127.0.0.1:5432/"}, "MMC_DATABASE"},
		{map[string]string{"MMC_DATABASE": " "}, "MMC_DATABASE"},
		{map[string]string{"MMC_DATABASE_CONNS": "-1"}, "MMC_DATABASE_CONNS"},
	}
	for _, tc := range cases {
		_, err := Load(nil, env(tc.env), &bytes.Buffer{})
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%v: want a FieldError, got %v", tc.env, err)
			continue
		}
		if fe.Setting != tc.setting || !strings.Contains(err.Error(), tc.setting) || fe.Allowed == "" {
			t.Errorf("%v: error %q should name %s and what is allowed", tc.env, err, tc.setting)
		}
	}
}

func TestSecretsAreNeverPrinted(t *testing.T) {
	key := strings.Repeat("ab", 32)
	cfg, err := Load(nil, env(map[string]string{"MMC_SECRET_KEY": key, "MMC_APP_SECRET": "topsecretvalue",
		"MMC_ADMIN_EMAIL": "a@b.c", "MMC_ADMIN_PASSWORD": "correct horse battery"}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	red := cfg.Redacted()
	for k, v := range red {
		if strings.Contains(v, "topsecret") || strings.Contains(v, key) || strings.Contains(v, "horse") {
			t.Errorf("%s leaks a secret: %q", k, v)
		}
	}
	if red["MMC_APP_SECRET"] != "(set)" || red["MMC_VERIFY_TOKEN"] != "(unset)" {
		t.Errorf("secret markers wrong: %v", red)
	}
	_, err = Load(nil, env(map[string]string{"MMC_ADMIN_EMAIL": "a@b.c", "MMC_ADMIN_PASSWORD": "hunter2"}), &bytes.Buffer{})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("a bad secret must be refused without echoing it: %v", err)
	}
}

// A PostgreSQL URL is accepted as MMC_DATABASE, its password never printed (not even when the
// URL is refused), and the files kept beside the database get a place of their own.
func TestPostgresDatabaseURL(t *testing.T) {
	cfg, err := Load(nil, env(map[string]string{"MMC_DATABASE": "postgres://mmc:pgsecret@db.internal:5432/mm_prod?sslmode=require"}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.DatabaseIsPostgres() {
		t.Error("a postgres:// URL is not taken for PostgreSQL")
	}
	if v := cfg.Redacted()["MMC_DATABASE"]; strings.Contains(v, "pgsecret") || !strings.Contains(v, "db.internal") {
		t.Errorf("Redacted MMC_DATABASE = %q, want the URL without its password", v)
	}
	if got := cfg.StateFile(".key"); got != "mmconsole-mm_prod.key" {
		t.Errorf("StateFile on PostgreSQL = %q, want mmconsole-mm_prod.key in the working directory", got)
	}
	cfg.StateDir = "/var/lib/mmc"
	if got := cfg.StateFile(".key"); got != "/var/lib/mmc/mmconsole-mm_prod.key" {
		t.Errorf("StateFile with MMC_STATE_DIR = %q", got)
	}
	_, err = Load(nil, env(map[string]string{"MMC_DATABASE": "postgres://mmc:pgsecret@db.internal:5432/"}), &bytes.Buffer{})
	if err == nil || strings.Contains(err.Error(), "pgsecret") {
		t.Errorf("a URL without a database must be refused without echoing the password: %v", err)
	}
	sqlite, err := Load(nil, env(map[string]string{"MMC_DATABASE": "/data/mm.db"}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if sqlite.DatabaseIsPostgres() || sqlite.StateFile(".key") != "/data/mm.db.key" {
		t.Errorf("SQLite: postgres=%v key file %q, want /data/mm.db.key", sqlite.DatabaseIsPostgres(), sqlite.StateFile(".key"))
	}
}

func TestHelpListsEverySetting(t *testing.T) {
	var out bytes.Buffer
	_, err := Load([]string{"--help"}, env(nil), &out)
	if !errors.Is(err, ErrHelp) {
		t.Fatalf("want ErrHelp, got %v", err)
	}
	for _, f := range fields() {
		if !strings.Contains(out.String(), f.env) || !strings.Contains(out.String(), "--"+f.flag) || f.help == "" {
			t.Errorf("--help misses %s", f.env)
		}
	}
}

func TestDecodeKey(t *testing.T) {
	if _, err := DecodeKey(strings.Repeat("0f", 32)); err != nil {
		t.Errorf("hex key: %v", err)
	}
	if _, err := DecodeKey("MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE="); err != nil {
		t.Errorf("base64 key: %v", err)
	}
	if _, err := DecodeKey(strings.Repeat("0f", 16)); err == nil {
		t.Error("a 16-byte key must be refused")
	}
}

func TestTrustedProxiesParseIPsAndCIDRs(t *testing.T) {
	cfg, err := Load(nil, env(map[string]string{"MMC_TRUSTED_PROXIES": " 10.1.2.3/8 , 192.0.2.7,::1"}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.TrustedProxyList()
	if err != nil || len(got) != 3 || got[0].String() != "10.0.0.0/8" || got[1].String() != "192.0.2.7/32" || got[2].String() != "::1/128" {
		t.Fatalf("TrustedProxyList = %v %v", got, err)
	}
	if cfg.ProxyHeader != "X-Forwarded-For" || cfg.HashWorkerCount() < 2 {
		t.Fatalf("defaults: header %q, hash workers %d", cfg.ProxyHeader, cfg.HashWorkerCount())
	}
}
