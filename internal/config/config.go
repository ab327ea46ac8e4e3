// Package config is the dashboard's one typed configuration: every setting, its default and its
// meaning, loaded from MMC_* environment variables and command-line flags (a flag wins over the
// environment). Validate names the offending setting and what it allows, so a bad value stops
// start-up with a message a person can act on. Secrets are marked so they are never printed.
package config

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"mmconsole/internal/database"
	"mmconsole/internal/graph"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Config holds every setting. The `env` tag names the variable (the flag is the same name in
// lower case without the prefix, with dashes), `default` the value used when neither is set,
// `help` the meaning shown by --help, and `secret` marks values that are never printed.
type Config struct {
	Addr            string        `env:"MMC_ADDR" default:"127.0.0.1:8080" help:"address the dashboard listens on (host:port)"`
	BaseURL         string        `env:"MMC_BASE_URL" default:"" help:"public URL of the dashboard (used in invite links and the sandbox webhook callback); empty = http://<addr>"`
	Database        string        `env:"MMC_DATABASE" default:"./mmconsole.db" help:"SQLite database file (created if missing), or a postgres:// (postgresql://) URL of a PostgreSQL database, which every instance of a deployment shares"`
	DatabaseConns   int           `env:"MMC_DATABASE_CONNS" default:"0" help:"most database connections this instance opens; 0 = 8 on SQLite, 24 on PostgreSQL (keep the sum over instances under the server's max_connections)"`
	StateDir        string        `env:"MMC_STATE_DIR" default:"" help:"folder of the files kept beside the database (the sandbox's key file, the demo sign-ins); empty = the SQLite file's folder, or the working directory with PostgreSQL"`
	TrustedProxies  string        `env:"MMC_TRUSTED_PROXIES" default:"" help:"comma-separated IPs or CIDRs of reverse proxies whose client-address header is believed; empty = the header is ignored and the client is the TCP peer"`
	ProxyHeader     string        `env:"MMC_PROXY_HEADER" default:"X-Forwarded-For" help:"header a trusted proxy puts the client address in (X-Forwarded-For: the right-most address that is not a trusted proxy)"`
	MinFreeDiskMB   int           `env:"MMC_MIN_FREE_DISK_MB" default:"256" help:"/healthz answers 503 when the SQLite database's disk has less free space than this, in MiB (0 = no check; PostgreSQL's disk is the server's to watch)"`
	LogFormat       string        `env:"MMC_LOG_FORMAT" default:"text" help:"log format: text or json"`
	LogLevel        string        `env:"MMC_LOG_LEVEL" default:"info" help:"log level: debug, info, warn or error"`
	ShutdownTimeout time.Duration `env:"MMC_SHUTDOWN_TIMEOUT" default:"10s" help:"how long in-flight requests may take to finish on SIGINT/SIGTERM"`
	ReadTimeout     time.Duration `env:"MMC_READ_TIMEOUT" default:"10s" help:"longest time to receive one request, headers and body (slower: 408)"`
	IdleTimeout     time.Duration `env:"MMC_IDLE_TIMEOUT" default:"60s" help:"how long an idle keep-alive connection stays open"`
	MaxConns        int           `env:"MMC_MAX_CONNS" default:"4096" help:"most connections served at once (beyond: 503)"`
	MaxConnsPerIP   int           `env:"MMC_MAX_CONNS_PER_IP" default:"256" help:"most connections open at once from one client address (beyond: 429), 0 = no limit; behind a reverse proxy every connection is the proxy's"`
	MaxBody         int           `env:"MMC_MAX_BODY" default:"65536" help:"largest request body of every route but the webhook, in bytes (larger: 413)"`
	BodyMemory      int           `env:"MMC_BODY_MEMORY" default:"67108864" help:"most request body bytes held in memory at once over all requests, in bytes (beyond: 503, which Meta retries)"`

	GraphBaseURL string        `env:"MMC_GRAPH_BASE_URL" default:"https://graph.facebook.com" help:"Graph API base URL for real WABA connections (Meta, or a BSP proxy)"`
	GraphVersion string        `env:"MMC_GRAPH_VERSION" default:"v25.0" help:"Graph API version used in request paths, e.g. v25.0"`
	GraphTimeout time.Duration `env:"MMC_GRAPH_TIMEOUT" default:"15s" help:"timeout of one Graph API request"`
	// GraphDeadline bounds what a person waits for Meta: every Graph call of one page or action,
	// retries included. Background refreshes are bounded by GraphTimeout and the retries instead.
	GraphDeadline    time.Duration `env:"MMC_GRAPH_DEADLINE" default:"10s" help:"how long a page or action waits for the Graph API in all, retries included (background refreshes may take longer)"`
	SendCallbackData string        `env:"MMC_SEND_CALLBACK_DATA" default:"auto" help:"which test sends carry biz_opaque_callback_data (absent from Meta's /marketing_messages schema): auto (Hibot's gateway and the sandbox), on (every connection), off"`

	Sandbox             string        `env:"MMC_SANDBOX" default:"auto" help:"sandbox Graph API: auto (on until a real WABA connection exists), on (also beside real connections), off"`
	SandboxEventDelay   time.Duration `env:"MMC_SANDBOX_EVENT_DELAY" default:"2s" help:"sandbox: delay between a send's sent, delivered and read webhooks"`
	SandboxApproveAfter time.Duration `env:"MMC_SANDBOX_APPROVE_AFTER" default:"20s" help:"sandbox: how long a new or edited template stays PENDING before its review (approved, or rejected when its name starts with reject_)"`

	AppSecret     string `env:"MMC_APP_SECRET" default:"" secret:"true" help:"Meta app secret: verifies X-Hub-Signature-256 on webhooks; empty in sandbox mode = a random secret per run"`
	VerifyToken   string `env:"MMC_VERIFY_TOKEN" default:"" secret:"true" help:"token Meta echoes in the webhook verification handshake; empty = handshake always refused"`
	SecretKey     string `env:"MMC_SECRET_KEY" default:"" secret:"true" help:"32-byte key (hex or base64) encrypting access tokens at rest; required unless the sandbox is the only Graph API"`
	SecretKeyFile string `env:"MMC_SECRET_KEY_FILE" default:"" help:"file holding the MMC_SECRET_KEY value instead (e.g. the <database>.key file the sandbox made, to keep using it); the file must exist"`

	AdminEmail    string `env:"MMC_ADMIN_EMAIL" default:"" help:"first run: create this admin when no user exists"`
	AdminPassword string `env:"MMC_ADMIN_PASSWORD" default:"" secret:"true" help:"first run: password of MMC_ADMIN_EMAIL (at least 12 characters)"`

	SessionIdle     time.Duration `env:"MMC_SESSION_IDLE" default:"2h" help:"a session ends after this long without a request"`
	SessionAbsolute time.Duration `env:"MMC_SESSION_ABSOLUTE" default:"24h" help:"a session ends this long after sign-in, whatever its use"`
	HashWorkers     int           `env:"MMC_HASH_WORKERS" default:"0" help:"password hashes (sign-in, setup, invite, password change) computed at once; more wait up to 1s, then get 429; 0 = 2 per CPU"`

	TemplateRefresh     time.Duration `env:"MMC_TEMPLATE_REFRESH" default:"15m" help:"how often the template catalog is re-read from the Graph API (0 = only at start and on demand)"`
	InsightsRefresh     time.Duration `env:"MMC_INSIGHTS_REFRESH" default:"1h" help:"how often each WABA's template analytics are fetched from the Graph API, the last 7 days again each time (0 = only at start)"`
	OptimizationDefault string        `env:"MMC_OPTIMIZATION_DEFAULT" default:"OPT_OUT" help:"what a creative optimization is when neither the template nor the WABA sets it (Meta documents no precedence): OPT_OUT or OPT_IN"`
	WebhookMaxBody      int           `env:"MMC_WEBHOOK_MAX_BODY" default:"4194304" help:"largest webhook body accepted, in bytes (larger: 413)"`
	// Refused webhook posts are anonymous: all are counted, only a sample is stored.
	WebhookRejectionsPerMinute int `env:"MMC_WEBHOOK_REJECTIONS_PER_MINUTE" default:"60" help:"refused webhook posts stored per minute as a sample (every one is counted in /metrics)"`
	WebhookRejectionsKeep      int `env:"MMC_WEBHOOK_REJECTIONS_KEEP" default:"10000" help:"most refused webhook posts kept in the database (the oldest are pruned)"`
	// More writers overlap one group's wait for the server with the next group's work; SQLite
	// has one write lock, so there it is always one.
	WebhookWriters int `env:"MMC_WEBHOOK_WRITERS" default:"0" help:"webhook group-commit writers per instance on PostgreSQL, each holding one database connection (fewer than MMC_DATABASE_CONNS); 0 = 2 (SQLite always has 1)"`

	// A CSV export streams in batches, so memory stays flat; the bound is on how long one
	// request may keep a database connection and the network busy.
	LogExportMaxRows int `env:"MMC_LOG_EXPORT_MAX_ROWS" default:"1000000" help:"most rows one CSV export of the webhook log writes (the file says when it stopped there)"`

	Retention    time.Duration `env:"MMC_RETENTION" default:"2160h" help:"webhook events, deliveries and rejected deliveries older than this are deleted, in small batches (0 = keep everything)"`
	WALSizeLimit int           `env:"MMC_WAL_SIZE_LIMIT" default:"67108864" help:"size in bytes the SQLite WAL is checkpointed and truncated back to under load"`
	WALAlertSize int           `env:"MMC_WAL_ALERT_SIZE" default:"268435456" help:"a WAL larger than this many bytes is reported (mmconsole_database_wal_over_limit) and logged"`
}

// Sandbox modes.
const (
	SandboxAuto = "auto"
	SandboxOn   = "on"
	SandboxOff  = "off"
)

// FieldError says which setting is wrong and what it allows.
type FieldError struct {
	Setting string // the environment variable name
	Value   string
	Allowed string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("invalid %s=%q: %s", e.Setting, e.Value, e.Allowed)
}

// ErrHelp is returned by Load when --help was asked for; the usage has been written.
var ErrHelp = flag.ErrHelp

type field struct {
	index  int
	env    string
	flag   string
	def    string
	help   string
	secret bool
}

func fields() []field {
	t := reflect.TypeFor[Config]()
	out := make([]field, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		env := f.Tag.Get("env")
		out = append(out, field{
			index:  i,
			env:    env,
			flag:   strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(env, "MMC_")), "_", "-"),
			def:    f.Tag.Get("default"),
			help:   f.Tag.Get("help"),
			secret: f.Tag.Get("secret") == "true",
		})
	}
	return out
}

// Load reads defaults, then the environment (lookup, usually os.LookupEnv), then args (flags),
// and validates the result. Usage goes to out on --help or on a flag error.
func Load(args []string, lookup func(string) (string, bool), out io.Writer) (Config, error) {
	var cfg Config
	fs := flag.NewFlagSet("mmconsole", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() { Usage(out) }
	raw := map[string]*string{}
	for _, f := range fields() {
		v := f.def
		if envVal, ok := lookup(f.env); ok {
			v = envVal
		}
		raw[f.env] = fs.String(f.flag, v, f.help)
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q (settings are flags like --addr or MMC_* variables; see --help)", fs.Arg(0))
	}
	rv := reflect.ValueOf(&cfg).Elem()
	for _, f := range fields() {
		if err := set(rv.Field(f.index), *raw[f.env]); err != nil {
			return cfg, &FieldError{Setting: f.env, Value: display(f, *raw[f.env]), Allowed: err.Error()}
		}
	}
	return cfg, cfg.Validate()
}

func display(f field, v string) string {
	if f.secret && v != "" {
		return "****"
	}
	return v
}

func set(v reflect.Value, s string) error {
	switch v.Interface().(type) {
	case time.Duration:
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil || d < 0 {
			return errors.New("a non-negative duration such as 30s, 15m or 2h")
		}
		v.SetInt(int64(d))
	case int:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return errors.New("a whole number")
		}
		v.SetInt(int64(n))
	case string:
		v.SetString(s)
	default:
		return fmt.Errorf("unsupported setting type %s", v.Type())
	}
	return nil
}

// Validate checks values that parse but make no sense.
func (c Config) Validate() error {
	if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
		return &FieldError{"MMC_ADDR", c.Addr, "host:port, e.g. 127.0.0.1:8080"}
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &FieldError{"MMC_BASE_URL", c.BaseURL, "an absolute http(s) URL, e.g. https://mm.example.com"}
		}
	}
	if strings.TrimSpace(c.Database) == "" {
		return &FieldError{"MMC_DATABASE", c.Database, "a SQLite file path or a postgres:// URL"}
	}
	if database.IsPostgresURL(c.Database) {
		if u, err := url.Parse(strings.TrimSpace(c.Database)); err != nil || u.Host == "" || strings.Trim(u.Path, "/") == "" {
			return &FieldError{"MMC_DATABASE", database.Redact(c.Database), "a PostgreSQL URL with a host and a database, e.g. postgres://mmc:secret@127.0.0.1:5432/mmconsole"}
		}
	}
	if c.DatabaseConns < 0 || c.DatabaseConns > 1000 {
		return &FieldError{"MMC_DATABASE_CONNS", strconv.Itoa(c.DatabaseConns), "0 (the default of the database) or 1 to 1000"}
	}
	if c.MinFreeDiskMB < 0 {
		return &FieldError{"MMC_MIN_FREE_DISK_MB", strconv.Itoa(c.MinFreeDiskMB), "0 (no check) or a number of MiB"}
	}
	if c.ReadTimeout < time.Second {
		return &FieldError{"MMC_READ_TIMEOUT", c.ReadTimeout.String(), "at least 1s"}
	}
	if c.IdleTimeout < time.Second {
		return &FieldError{"MMC_IDLE_TIMEOUT", c.IdleTimeout.String(), "at least 1s"}
	}
	if c.MaxConns < 16 {
		return &FieldError{"MMC_MAX_CONNS", strconv.Itoa(c.MaxConns), "at least 16"}
	}
	if c.MaxConnsPerIP < 0 {
		return &FieldError{"MMC_MAX_CONNS_PER_IP", strconv.Itoa(c.MaxConnsPerIP), "0 (no limit) or a positive number"}
	}
	if c.MaxBody < 1024 || c.MaxBody > 64<<20 {
		return &FieldError{"MMC_MAX_BODY", strconv.Itoa(c.MaxBody), "between 1024 and 67108864 bytes"}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return &FieldError{"MMC_LOG_FORMAT", c.LogFormat, "text or json"}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return &FieldError{"MMC_LOG_LEVEL", c.LogLevel, "debug, info, warn or error"}
	}
	if u, err := url.Parse(c.GraphBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &FieldError{"MMC_GRAPH_BASE_URL", c.GraphBaseURL, "an absolute http(s) URL"}
	}
	if !validVersion(c.GraphVersion) {
		return &FieldError{"MMC_GRAPH_VERSION", c.GraphVersion, "a Graph API version such as v25.0"}
	}
	if c.GraphTimeout <= 0 {
		return &FieldError{"MMC_GRAPH_TIMEOUT", c.GraphTimeout.String(), "a positive duration"}
	}
	if c.GraphDeadline <= 0 || c.GraphDeadline > 2*time.Minute {
		return &FieldError{"MMC_GRAPH_DEADLINE", c.GraphDeadline.String(), "a positive duration of at most 2m"}
	}
	switch c.SendCallbackData {
	case "auto", "on", "off":
	default:
		return &FieldError{"MMC_SEND_CALLBACK_DATA", c.SendCallbackData, "auto, on or off"}
	}
	switch c.Sandbox {
	case SandboxAuto, SandboxOn, SandboxOff:
	default:
		return &FieldError{"MMC_SANDBOX", c.Sandbox, "auto, on or off"}
	}
	if c.SecretKey != "" {
		if _, err := DecodeKey(c.SecretKey); err != nil {
			return &FieldError{"MMC_SECRET_KEY", "****", err.Error()}
		}
	}
	if c.SecretKey != "" && c.SecretKeyFile != "" {
		return &FieldError{"MMC_SECRET_KEY_FILE", c.SecretKeyFile, "empty when MMC_SECRET_KEY is set (use one of them)"}
	}
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		return &FieldError{"MMC_ADMIN_EMAIL", c.AdminEmail, "set together with MMC_ADMIN_PASSWORD, or leave both empty"}
	}
	if c.AdminEmail != "" && !strings.Contains(c.AdminEmail, "@") {
		return &FieldError{"MMC_ADMIN_EMAIL", c.AdminEmail, "an email address"}
	}
	if c.AdminPassword != "" && len(c.AdminPassword) < 12 {
		return &FieldError{"MMC_ADMIN_PASSWORD", "****", "at least 12 characters"}
	}
	if _, err := c.TrustedProxyList(); err != nil {
		return &FieldError{"MMC_TRUSTED_PROXIES", c.TrustedProxies, err.Error()}
	}
	if !validHeaderName(c.ProxyHeader) {
		return &FieldError{"MMC_PROXY_HEADER", c.ProxyHeader, "a header name such as X-Forwarded-For or X-Real-IP"}
	}
	if c.HashWorkers < 0 || c.HashWorkers > 1024 {
		return &FieldError{"MMC_HASH_WORKERS", strconv.Itoa(c.HashWorkers), "0 (2 per CPU) or a number from 1 to 1024"}
	}
	if c.SessionIdle <= 0 || c.SessionAbsolute <= 0 || c.SessionIdle > c.SessionAbsolute {
		return &FieldError{"MMC_SESSION_IDLE", c.SessionIdle.String(), "a positive duration no longer than MMC_SESSION_ABSOLUTE"}
	}
	if c.TemplateRefresh != 0 && c.TemplateRefresh < 18*time.Second {
		// 200 management calls per hour per WABA (mm-api-reference §3.1): one refresh may take
		// several pages, so refreshing more than every 18 s would exhaust the budget.
		return &FieldError{"MMC_TEMPLATE_REFRESH", c.TemplateRefresh.String(), "0 or at least 18s (Meta allows 200 template calls per hour)"}
	}
	if c.InsightsRefresh != 0 && c.InsightsRefresh < 5*time.Minute {
		// A fetch spends two calls per 10 templates of Meta's 200 management calls per hour.
		return &FieldError{"MMC_INSIGHTS_REFRESH", c.InsightsRefresh.String(), "0 or at least 5m (each fetch spends 2 calls per 10 templates of Meta's 200 per hour)"}
	}
	if c.OptimizationDefault != "OPT_OUT" && c.OptimizationDefault != "OPT_IN" {
		return &FieldError{"MMC_OPTIMIZATION_DEFAULT", c.OptimizationDefault, "OPT_OUT or OPT_IN"}
	}
	if c.WebhookMaxBody < 1024 || c.WebhookMaxBody > 64<<20 {
		return &FieldError{"MMC_WEBHOOK_MAX_BODY", strconv.Itoa(c.WebhookMaxBody), "between 1024 and 67108864 bytes"}
	}
	if c.BodyMemory < max(c.WebhookMaxBody, c.MaxBody) {
		return &FieldError{"MMC_BODY_MEMORY", strconv.Itoa(c.BodyMemory), "at least MMC_WEBHOOK_MAX_BODY and MMC_MAX_BODY, so that the largest body allowed can be received"}
	}
	if c.WebhookRejectionsPerMinute < 1 || c.WebhookRejectionsPerMinute > 100000 {
		return &FieldError{"MMC_WEBHOOK_REJECTIONS_PER_MINUTE", strconv.Itoa(c.WebhookRejectionsPerMinute), "between 1 and 100000"}
	}
	if c.WebhookRejectionsKeep < 1 || c.WebhookRejectionsKeep > 10000000 {
		return &FieldError{"MMC_WEBHOOK_REJECTIONS_KEEP", strconv.Itoa(c.WebhookRejectionsKeep), "between 1 and 10000000 rows"}
	}
	if c.WebhookWriters < 0 || c.WebhookWriters > 16 {
		return &FieldError{"MMC_WEBHOOK_WRITERS", strconv.Itoa(c.WebhookWriters), "0 (the default) or 1 to 16"}
	}
	// Each writer keeps a connection for itself: the pages and the background work need the rest.
	if w := c.webhookWriters(); c.DatabaseIsPostgres() && c.DatabaseConns > 0 && c.DatabaseConns <= w {
		return &FieldError{"MMC_WEBHOOK_WRITERS", strconv.Itoa(c.WebhookWriters), "fewer writers (0 counts as 2) than MMC_DATABASE_CONNS (" + strconv.Itoa(c.DatabaseConns) + ")"}
	}
	if c.LogExportMaxRows < 1 || c.LogExportMaxRows > 100000000 {
		return &FieldError{"MMC_LOG_EXPORT_MAX_ROWS", strconv.Itoa(c.LogExportMaxRows), "between 1 and 100000000 rows"}
	}
	if c.Retention != 0 && c.Retention < time.Hour {
		// Retention is about days; anything shorter is a typo that would delete the log.
		return &FieldError{"MMC_RETENTION", c.Retention.String(), "0 (keep everything) or at least 1h"}
	}
	if c.WALSizeLimit < 1<<20 {
		return &FieldError{"MMC_WAL_SIZE_LIMIT", strconv.Itoa(c.WALSizeLimit), "at least 1048576 bytes"}
	}
	if c.WALAlertSize < c.WALSizeLimit {
		return &FieldError{"MMC_WAL_ALERT_SIZE", strconv.Itoa(c.WALAlertSize), "at least MMC_WAL_SIZE_LIMIT"}
	}
	return nil
}

func validVersion(v string) bool {
	major, minor, ok := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	if !ok || !strings.HasPrefix(v, "v") {
		return false
	}
	_, err1 := strconv.Atoi(major)
	_, err2 := strconv.Atoi(minor)
	return err1 == nil && err2 == nil
}

// TrustedProxyList parses MMC_TRUSTED_PROXIES into CIDRs (a bare IP becomes a /32 or /128).
func (c Config) TrustedProxyList() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(c.TrustedProxies, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if p, err := netip.ParsePrefix(item); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP or CIDR; use a comma-separated list such as 10.0.0.0/8,192.0.2.7", item)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// HashWorkerCount is MMC_HASH_WORKERS with 0 resolved to 2 per CPU.
func (c Config) HashWorkerCount() int {
	if c.HashWorkers > 0 {
		return c.HashWorkers
	}
	return 2 * runtime.NumCPU()
}

func validHeaderName(h string) bool {
	if h == "" {
		return false
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// PublicURL is the URL people and Meta reach the dashboard at.
func (c Config) PublicURL() string {
	if c.BaseURL != "" {
		return strings.TrimRight(c.BaseURL, "/")
	}
	return "http://" + c.Addr
}

// GraphIsMeta reports whether MMC_GRAPH_BASE_URL is Meta's own Graph API (graph.facebook.com),
// which refuses the per-send time_to_live that Hibot's gateway documents.
func (c Config) GraphIsMeta() bool { return graph.IsMetaHost(c.GraphBaseURL) }

// Redacted lists every setting with secrets masked, for a start-up log line.
func (c Config) Redacted() map[string]string {
	out := map[string]string{}
	rv := reflect.ValueOf(c)
	for _, f := range fields() {
		v := fmt.Sprint(rv.Field(f.index).Interface())
		if f.secret {
			if v == "" {
				v = "(unset)"
			} else {
				v = "(set)"
			}
		}
		out[f.env] = v
	}
	out["MMC_DATABASE"] = database.Redact(c.Database) // a PostgreSQL URL may carry a password
	return out
}

// DatabaseIsPostgres reports whether MMC_DATABASE is a PostgreSQL URL rather than a SQLite file.
func (c Config) DatabaseIsPostgres() bool { return database.IsPostgresURL(c.Database) }

// webhookWriters is how many webhook writers run on PostgreSQL (MMC_WEBHOOK_WRITERS; 0 is the
// webhook package's default, 2).
func (c Config) webhookWriters() int {
	if c.WebhookWriters > 0 {
		return c.WebhookWriters
	}
	return 2
}

// StateFile is where a file kept beside the database lives, named by its suffix (".key",
// ".demo-credentials.txt"): next to the SQLite file as <database><suffix> (or in MMC_STATE_DIR),
// and with PostgreSQL, which has no file of its own to sit beside, mmconsole-<database
// name><suffix> in MMC_STATE_DIR or the working directory.
func (c Config) StateFile(suffix string) string {
	if !c.DatabaseIsPostgres() {
		if c.StateDir == "" {
			return c.Database + suffix
		}
		return filepath.Join(c.StateDir, filepath.Base(c.Database)+suffix)
	}
	name := "mmconsole"
	if u, err := url.Parse(strings.TrimSpace(c.Database)); err == nil && strings.Trim(u.Path, "/") != "" {
		// The name is the server's; only letters, digits, - and _ reach a file name.
		name += "-" + strings.Map(func(r rune) rune {
			if r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
				return r
			}
			return '_'
		}, strings.Trim(u.Path, "/"))
	}
	dir := c.StateDir
	if dir == "" {
		dir = "."
	}
	return filepath.Join(dir, name+suffix)
}

// Usage writes every setting with its flag, variable, default and meaning.
func Usage(w io.Writer) {
	fmt.Fprintln(w, "mmconsole: the MM API dashboard. Every setting is a flag or an MMC_* environment variable (a flag wins).")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FLAG\tVARIABLE\tDEFAULT\tMEANING")
	for _, f := range fields() {
		def := f.def
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(tw, "--%s\t%s\t%s\t%s\n", f.flag, f.env, def, f.help)
	}
	tw.Flush()
}

// LoadFromOS is Load with the process's arguments and environment.
func LoadFromOS(out io.Writer) (Config, error) {
	return Load(os.Args[1:], os.LookupEnv, out)
}

// DecodeKey parses a 32-byte key given as 64 hex characters or as standard/URL base64.
func DecodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, errors.New("32 bytes as 64 hex characters or base64 (e.g. the output of: openssl rand -hex 32)")
}
