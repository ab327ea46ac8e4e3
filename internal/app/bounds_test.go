package app

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// metricSum adds up every sample of a metric (all label values) in the /metrics text whose
// labels contain match.
func metricSum(t *testing.T, base, name, match string) float64 {
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
		if m == nil || !strings.Contains(m[1], match) {
			continue
		}
		v, _ := strconv.ParseFloat(m[2], 64)
		sum += v
	}
	return sum
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
	_ = a
	before := fileSize(cfg.Database) + fileSize(cfg.Database+"-wal")

	const workers, maxPosts, floodFor = 8, 40000, 3 * time.Second
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
	after := fileSize(cfg.Database) + fileSize(cfg.Database+"-wal")
	if grew := after - before; grew > 2<<20 {
		t.Errorf("database and WAL grew by %d bytes for %d refused posts, want under 2 MiB", grew, posts)
	}
	t.Logf("%d unsigned posts in %s: %d rows stored, database+WAL grew %d bytes", posts, floodFor, rows, after-before)
}
