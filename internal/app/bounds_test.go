package app

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"mmconsole/internal/config"
)

// served starts the dashboard with cfg on a loopback port and returns its base URL; it stops
// when the test ends.
func served(t *testing.T, cfg config.Config) (*App, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr = ln.Addr().String()
	cfg.LogLevel = "error"
	a, err := New(context.Background(), cfg, NewLogger(cfg, io.Discard))
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return a, "http://" + cfg.Addr
}

// metricSum adds up every sample of a metric in the /metrics text whose labels contain every one
// of match (e.g. `route="webhook"`).
func metricSum(t *testing.T, base, name string, match ...string) float64 {
	t.Helper()
	// No kept-alive connection left behind: the server's shutdown waits for open connections.
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := c.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line := regexp.MustCompile(`^` + regexp.QuoteMeta(name) + `(\{[^}]*\})? ([0-9.e+]+)$`)
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil || !containsAll(m[1], match) {
			continue
		}
		v, _ := strconv.ParseFloat(m[2], 64)
		sum += v
	}
	return sum
}

// metricExists tells whether /metrics has a sample of the metric.
func metricExists(t *testing.T, base, name string) bool {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := c.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.Contains(string(b), "\n"+name+" ")
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// storeSize is what the database takes on disk: the SQLite file and its WAL, or the PostgreSQL
// database's size as the server counts it.
func storeSize(t *testing.T, a *App, cfg config.Config) int64 {
	t.Helper()
	if cfg.DatabaseIsPostgres() {
		var n int64
		if err := a.DB().Raw("SELECT pg_database_size(current_database())").Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	return fileSize(cfg.Database) + fileSize(cfg.Database+"-wal")
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// An anonymous client posting unsigned bodies as fast as it can must not grow the database:
// every post is counted in the metrics, only a small sample is stored, and the database with
// its WAL grows by at most a few pages. (Before, every post wrote a row on the request path:
// ~90 MB/s of WAL.)
func TestUnsignedFloodCountsEveryPostAndBarelyGrowsTheDatabase(t *testing.T) {
	cfg := testConfig(t)
	a, base := served(t, cfg)
	before := storeSize(t, a, cfg)

	// The README's load command runs it for 60 s (MMC_TEST_FLOOD_FOR=60s).
	workers, maxPosts, floodFor := 8, int64(40000), 3*time.Second
	if d, err := time.ParseDuration(os.Getenv("MMC_TEST_FLOOD_FOR")); err == nil && d > 0 {
		floodFor, maxPosts = d, math.MaxInt64
	}
	body := strings.Repeat(`{"object":"whatsapp_business_account","entry":[]}`, 20) // ~1 KB
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}, Timeout: 10 * time.Second}
	var sent, refused atomic.Int64
	deadline := time.Now().Add(floodFor)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for time.Now().Before(deadline) && sent.Add(1) <= maxPosts {
				resp, err := client.Post(base+"/webhooks/whatsapp", "application/json", strings.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusUnauthorized {
					refused.Add(1)
				}
			}
		})
	}
	wg.Wait()
	client.CloseIdleConnections()
	posts := refused.Load()
	if posts < 100 {
		t.Fatalf("only %d posts refused in %s; the flood did not run", posts, floodFor)
	}
	counted := metricSum(t, base, "mmconsole_webhook_deliveries_total", `result="rejected"`)
	if counted != float64(posts) {
		t.Errorf("rejections counted %v, want every one of the %d posts", counted, posts)
	}
	// The sampler writes off the request path; give it a moment to store what it kept.
	time.Sleep(300 * time.Millisecond)
	var rows int64
	if err := a.DB().Table("webhook_rejections").Count(&rows).Error; err != nil {
		t.Fatal(err)
	}
	// 60 a minute; the flood may straddle two clock minutes.
	if rows == 0 || rows > int64(2*cfg.WebhookRejectionsPerMinute) {
		t.Errorf("%d rejections stored for %d posts, want a sample of 1..%d", rows, posts, 2*cfg.WebhookRejectionsPerMinute)
	}
	after := storeSize(t, a, cfg)
	if grew := after - before; grew > 2<<20 {
		t.Errorf("database and WAL grew by %d bytes for %d refused posts, want under 2 MiB", grew, posts)
	}
	t.Logf("%d unsigned posts in %s: %d rows stored, database+WAL grew %d bytes", posts, floodFor, rows, after-before)
}

// rssBytes is this process's resident memory (Linux), or 0 when it cannot be read.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// raiseFileLimit lets the test hold n sockets at both ends.
func raiseFileLimit(t *testing.T, n uint64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("file limit: %v", err)
	}
	if lim.Cur >= n {
		return
	}
	if lim.Max < n {
		t.Skipf("file limit %d is below the %d this test needs", lim.Max, n)
	}
	lim.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("raise file limit: %v", err)
	}
}

// dialFrom opens a connection to addr from the loopback address 127.0.0.<host>, so that many
// connections can come from several client addresses (the per-address cap applies to each).
func dialFrom(addr string, host int) (net.Conn, error) {
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(host))}}
	return d.Dial("tcp", addr)
}

// The attack that held 12 GB: many connections each announce a large body (4 MiB on the
// webhook, 64 KiB on the sign-in form) and trickle it. The announced length must reserve nothing: memory grows by a few KiB per connection, /healthz
// keeps answering, and every connection ends with the dashboard's own 408 once the read
// timeout passes, counted in the metrics.
func TestAnnouncedLengthWithATrickleReservesNothing(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads RSS from /proc")
	}
	// Half on /login, half on the webhook. The README's load command runs it with 3,000.
	conns := 1000
	if n, err := strconv.Atoi(os.Getenv("MMC_TEST_TRICKLE_CONNS")); err == nil && n >= 2 {
		conns = n &^ 1
	}
	raiseFileLimit(t, uint64(3*conns+1000))
	cfg := testConfig(t)
	cfg.ReadTimeout = 4 * time.Second
	_, base := served(t, cfg)
	addr := strings.TrimPrefix(base, "http://")
	if resp, err := http.Get(base + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz before: %v %v", resp, err)
	}
	runtime.GC()
	debug.FreeOSMemory()
	before := rssBytes()

	open := make([]net.Conn, 0, conns)
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	for i := range conns {
		// 200 per client address, under the default per-address cap of 256.
		c, err := dialFrom(addr, 2+i/200)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		// Each announces the most its route accepts (a sign-in form announcing more is refused
		// at once: TestOversizeAndSlowBodiesAreRefusedAndCounted).
		path, length := "/login", cfg.MaxBody
		if i%2 == 1 {
			path, length = "/webhooks/whatsapp", cfg.WebhookMaxBody
		}
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\nemail=", path, length)
		open = append(open, c)
	}
	// Trickle: one byte per connection every 250 ms, for a second.
	for range 4 {
		time.Sleep(250 * time.Millisecond)
		for _, c := range open {
			c.Write([]byte("a"))
		}
	}
	during := rssBytes()
	hc := &http.Client{Timeout: 3 * time.Second}
	resp, err := hc.Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz during the attack: %v %v", resp, err)
	}
	resp.Body.Close()
	grew := during - before
	t.Logf("%d connections announcing 4 MiB or 64 KiB: RSS %d MiB before, %d MiB during (+%d KiB per connection)",
		conns, before>>20, during>>20, grew/int64(conns)>>10)
	// Reserving the announced length would be 4 GiB; a few KiB each is what a connection costs.
	if limit := int64(conns) * 120 << 10; grew > limit {
		t.Errorf("RSS grew by %d MiB for %d connections, want under %d MiB (120 KiB each)", grew>>20, conns, limit>>20)
	}

	// Each ends with the dashboard's 408 once the read timeout passes.
	var timedOut atomic.Int64
	var wg sync.WaitGroup
	for _, c := range open {
		wg.Go(func() {
			c.SetReadDeadline(time.Now().Add(cfg.ReadTimeout + 10*time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			if strings.HasPrefix(line, "HTTP/1.1 408") {
				timedOut.Add(1)
			}
		})
	}
	wg.Wait()
	if got := timedOut.Load(); got != int64(conns) {
		t.Errorf("%d of %d trickling connections were answered 408", got, conns)
	}
	slowHooks := metricSum(t, base, "mmconsole_http_body_refused_total", `route="webhook"`, `reason="slow body"`)
	slowForms := metricSum(t, base, "mmconsole_http_body_refused_total", `route="dashboard"`, `reason="slow body"`)
	if slowHooks != float64(conns/2) || slowForms != float64(conns/2) {
		t.Errorf("slow bodies counted: webhook %v, dashboard %v; want %d each", slowHooks, slowForms, conns/2)
	}
	if !metricExists(t, base, "mmconsole_http_body_bytes_held") {
		t.Error("mmconsole_http_body_bytes_held is not in /metrics")
	} else if held := metricSum(t, base, "mmconsole_http_body_bytes_held"); held != 0 {
		t.Errorf("%v body bytes still held once every connection ended", held)
	}
	if got := metricSum(t, base, "mmconsole_webhook_rejections_total", `reason="slow body"`); got != float64(conns/2) {
		t.Errorf("webhook rejections for slow bodies %v, want %d", got, conns/2)
	}
}

// rawExchange sends req on a new connection from 127.0.0.<host> and waits up to wait, sending
// nothing more; it returns the status line of the answer.
func rawExchange(t *testing.T, addr string, host int, req string, wait time.Duration) string {
	t.Helper()
	c, err := dialFrom(addr, host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A write may fail once the server has answered and closed; the answer is still there.
	io.WriteString(c, req)
	c.SetReadDeadline(time.Now().Add(wait))
	line, _ := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line)
}

// Bodies over a route's limit are refused while reading, slow ones once the read timeout
// passes, each with the dashboard's own answer, and counted.
func TestOversizeAndSlowBodiesAreRefusedAndCounted(t *testing.T) {
	cfg := testConfig(t)
	cfg.ReadTimeout = 2 * time.Second
	cfg.WebhookMaxBody = 64 << 10
	cfg.MaxBody = 16 << 10
	_, base := served(t, cfg)
	addr := strings.TrimPrefix(base, "http://")
	// Webhook posts carry a well-formed (wrong) signature: an unsigned one is refused before
	// its body is read (TestUnsignedBodyIsRefusedBeforeItIsRead).
	header := func(path string, length int) string {
		return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n", path, sigFor(path), length)
	}
	chunked := func(path string, chunks, size int) string {
		var b strings.Builder
		fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n", path, sigFor(path))
		for range chunks {
			fmt.Fprintf(&b, "%x\r\n%s\r\n", size, strings.Repeat("x", size))
		}
		return b.String()
	}
	cases := []struct {
		name, req, route, reason string
		want                     string
	}{
		// Announced over the limit: answered before a byte of the body is read.
		{"form announces 1 MiB", header("/login", 1<<20), "dashboard", "too large", "413"},
		{"webhook announces 4 MiB", header("/webhooks/whatsapp", 4<<20), "webhook", "too large", "413"},
		// No length announced: refused once what arrived passes the limit.
		{"chunked form over the limit", chunked("/login", 20, 8192), "dashboard", "too large", "413"},
		{"chunked webhook over the limit", chunked("/webhooks/whatsapp", 12, 8192), "webhook", "too large", "413"},
		// The first 8 KiB arrive, the rest never does: the read in ReadBody times out.
		{"webhook stalls after 9 KiB", header("/webhooks/whatsapp", 60000) + strings.Repeat("x", 9000), "webhook", "slow body", "408"},
		{"form stalls after 9 KiB", header("/login", 16000) + strings.Repeat("x", 9000), "dashboard", "slow body", "408"},
		// Stalls within the first bytes: the server's pre-read times out, the path is still known.
		{"webhook stalls at once", header("/webhooks/whatsapp", 1000), "webhook", "slow body", "408"},
		// Not even the header: no route is known.
		{"header never ends", "POST /login HTTP/1.1\r\nHost: x\r\n", "dashboard", "slow header", "408"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := metricSum(t, base, "mmconsole_http_body_refused_total", `route="`+c.route+`"`, `reason="`+c.reason+`"`)
			line := rawExchange(t, addr, 2+i, c.req, cfg.ReadTimeout+5*time.Second)
			if !strings.HasPrefix(line, "HTTP/1.1 "+c.want) {
				t.Fatalf("answer %q, want %s", line, c.want)
			}
			after := metricSum(t, base, "mmconsole_http_body_refused_total", `route="`+c.route+`"`, `reason="`+c.reason+`"`)
			if after != before+1 {
				t.Errorf("refusals counted %v → %v, want one more", before, after)
			}
		})
	}
	if got := metricSum(t, base, "mmconsole_webhook_rejections_total", `reason="too large"`); got != 2 {
		t.Errorf("webhook rejections for size %v, want 2", got)
	}
	if got := metricSum(t, base, "mmconsole_webhook_rejections_total", `reason="slow body"`); got != 2 {
		t.Errorf("webhook rejections for pace %v, want 2", got)
	}
	// The server still serves a normal request.
	if resp, err := http.Get(base + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz after: %v %v", resp, err)
	}
}

// sigFor is a well-formed X-Hub-Signature-256 header line (matching no secret) for a webhook
// path, nothing for another.
func sigFor(path string) string {
	if !strings.HasPrefix(path, "/webhooks") {
		return ""
	}
	return "X-Hub-Signature-256: sha256=" + strings.Repeat("0", 64) + "\r\n"
}

// A post without a well-formed signature is refused (401) on its header alone: the body it
// announces is not read, so an anonymous client cannot make the server read megabytes into the
// shared body budget, nor hold a connection until the read timeout. Without that, each of these
// waits for the rest of its body and ends in 408 after MMC_READ_TIMEOUT.
func TestUnsignedBodyIsRefusedBeforeItIsRead(t *testing.T) {
	cfg := testConfig(t)
	cfg.ReadTimeout = 20 * time.Second
	a, base := served(t, cfg)
	addr := strings.TrimPrefix(base, "http://")
	part := strings.Repeat("x", 16<<10) // past the server's 8 KiB pre-read; the rest never comes
	cases := []struct{ name, sig, reason string }{
		{"no signature", "", "missing signature"},
		{"malformed signature", "X-Hub-Signature-256: sha1=abc\r\n", "malformed signature"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for j, framing := range []string{"Content-Length: 4194304\r\n\r\n" + part,
				"Transfer-Encoding: chunked\r\n\r\n" + fmt.Sprintf("%x\r\n%s\r\n", len(part), part)} {
				start := time.Now()
				line := rawExchange(t, addr, 20+2*i+j, "POST /webhooks/whatsapp HTTP/1.1\r\nHost: x\r\n"+c.sig+framing, 5*time.Second)
				if !strings.HasPrefix(line, "HTTP/1.1 401") {
					t.Fatalf("answer %q after %s, want 401 at once", line, time.Since(start).Round(time.Millisecond))
				}
			}
			if got := metricSum(t, base, "mmconsole_webhook_rejections_total", `reason="`+c.reason+`"`); got != 2 {
				t.Errorf("rejections for %q counted %v, want 2", c.reason, got)
			}
		})
	}
	if held := metricSum(t, base, "mmconsole_http_body_bytes_held"); held != 0 {
		t.Errorf("%v body bytes held after the refusals", held)
	}
	// A small unsigned body (pre-read whole) is still refused by the receiver, on a connection
	// that stays usable.
	resp, err := http.Post(base+"/webhooks/whatsapp", "application/json", strings.NewReader(`{"entry":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("small unsigned post answered %d, want 401", resp.StatusCode)
	}
	var events int64
	if err := a.DB().Table("webhook_deliveries").Count(&events).Error; err != nil || events != 0 {
		t.Errorf("%d deliveries stored (%v), want none", events, err)
	}
}

// One client address holds at most MMC_MAX_CONNS_PER_IP connections (the next is answered 429
// and closed); another address is still served.
func TestConnectionsPerClientAddressAreCapped(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxConnsPerIP = 3
	_, base := served(t, cfg)
	addr := strings.TrimPrefix(base, "http://")
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range 3 {
		c, err := dialFrom(addr, 7)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	time.Sleep(100 * time.Millisecond) // let the server accept them
	if line := rawExchange(t, addr, 7, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 3*time.Second); !strings.HasPrefix(line, "HTTP/1.1 429") {
		t.Errorf("a fourth connection from one address was answered %q, want 429", line)
	}
	if line := rawExchange(t, addr, 8, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 3*time.Second); !strings.HasPrefix(line, "HTTP/1.1 200") {
		t.Errorf("another address was answered %q, want 200", line)
	}
}
