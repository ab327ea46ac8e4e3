// Command loadgen measures the webhook receiver: it posts signed, real-shaped status deliveries
// (1 and 50 events each) from many connections to a loopback URL, and the same load to a no-op
// endpoint it serves itself, and reports deliveries/s, events/s and p50/p99 latency for both.
//
//	go run ./internal/webhook/loadgen -url http://127.0.0.1:8080/webhooks/whatsapp -secret "$MMC_APP_SECRET"
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mmconsole/internal/webhook"
)

type scenario struct {
	events   int
	count    int
	rate     int // deliveries per second; 0 = as fast as the connections go
	duration time.Duration
}

type result struct {
	sent, failed int
	elapsed      time.Duration
	lat          []time.Duration
}

func main() {
	target := flag.String("url", "http://127.0.0.1:8080/webhooks/whatsapp", "webhook URL (loopback only); several, comma-separated, are loaded at once (instances sharing one database), the connections spread over them")
	secret := flag.String("secret", "", "app secret the receiver verifies with (MMC_APP_SECRET)")
	conns := flag.Int("conns", 32, "concurrent connections")
	count := flag.Int("n", 20000, "most deliveries per scenario")
	dur := flag.Duration("duration", 15*time.Second, "longest time per scenario")
	steady := flag.Int("steady-rate", 1000, "deliveries/s of the steady-rate scenario (0 = skip it)")
	waba := flag.String("waba", "100000000000001", "WABA id in the deliveries")
	flag.Parse()
	targets := strings.Split(*target, ",")
	for _, t := range targets {
		u, err := url.Parse(strings.TrimSpace(t))
		if err != nil || !loopback(u.Hostname()) {
			fmt.Fprintln(os.Stderr, "loadgen: each -url must be an http URL on 127.0.0.1, ::1 or localhost")
			os.Exit(2)
		}
	}
	if *secret == "" {
		fmt.Fprintln(os.Stderr, "loadgen: -secret is required")
		os.Exit(2)
	}

	noop, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	go http.Serve(noop, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write([]byte("ok"))
	}))
	noopURL := "http://" + noop.Addr().String() + "/webhooks/whatsapp"

	run := make([]byte, 6)
	rand.Read(run)
	runID := hex.EncodeToString(run)
	scenarios := []scenario{
		{events: 1, count: *count, duration: *dur},
		{events: 50, count: *count / 10, duration: *dur},
	}
	if *steady > 0 {
		scenarios = append(scenarios, scenario{events: 1, count: *steady * 10, rate: *steady, duration: *dur})
	}
	fmt.Printf("%-10s %-22s %8s %12s %12s %9s %9s %7s\n", "endpoint", "scenario", "ok", "deliveries/s", "events/s", "p50", "p99", "errors")
	for i, sc := range scenarios {
		name := fmt.Sprintf("%d event(s)/delivery", sc.events)
		if sc.rate > 0 {
			name = fmt.Sprintf("steady %d/s, 1 event", sc.rate)
		}
		for _, ep := range []struct {
			name string
			urls []string
		}{{"no-op", []string{noopURL}}, {"receiver", targets}} {
			prefix := fmt.Sprintf("wamid.load.%s.%d.%s.", runID, i, ep.name)
			r := load(ep.urls, []byte(*secret), *waba, prefix, sc, *conns)
			secs := r.elapsed.Seconds()
			fmt.Printf("%-10s %-22s %8d %12.0f %12.0f %9s %9s %7d\n", ep.name, name, r.sent,
				float64(r.sent)/secs, float64(r.sent*sc.events)/secs,
				pct(r.lat, 50), pct(r.lat, 99), r.failed)
		}
	}
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func pct(l []time.Duration, p int) string {
	if len(l) == 0 {
		return "-"
	}
	return l[(len(l)-1)*p/100].Round(10 * time.Microsecond).String()
}

func body(waba, prefix string, n, events int) []byte {
	var b strings.Builder
	b.WriteString(`{"object":"whatsapp_business_account","entry":[{"id":"` + waba + `","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"statuses":[`)
	ts := time.Now().Unix()
	for i := range events {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"%s%d.%d","status":"sent","timestamp":"%d","recipient_id":"16505551234","pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing_lite"}}`, prefix, n, i, ts)
	}
	b.WriteString(`]}}]}]}`)
	return []byte(b.String())
}

func load(targets []string, secret []byte, waba, prefix string, sc scenario, conns int) result {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}, Timeout: 30 * time.Second}
	var next atomic.Int64
	var mu sync.Mutex
	var res result
	deadline := time.Now().Add(sc.duration)
	start := time.Now()
	var tick <-chan time.Time
	if sc.rate > 0 {
		t := time.NewTicker(time.Second / time.Duration(sc.rate))
		defer t.Stop()
		tick = t.C
	}
	var wg sync.WaitGroup
	for c := range conns {
		target := strings.TrimSpace(targets[c%len(targets)])
		wg.Go(func() {
			var lat []time.Duration
			ok, failed := 0, 0
			for {
				if tick != nil {
					<-tick
				}
				n := next.Add(1)
				if n > int64(sc.count) || time.Now().After(deadline) {
					break
				}
				b := body(waba, prefix, int(n), sc.events)
				req, _ := http.NewRequest(http.MethodPost, target, bytes.NewReader(b))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Hub-Signature-256", webhook.Sign(b, secret))
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err != nil || resp.StatusCode != http.StatusOK {
					failed++
					continue
				}
				lat = append(lat, time.Since(t0))
				ok++
			}
			mu.Lock()
			res.sent += ok
			res.failed += failed
			res.lat = append(res.lat, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(res.lat)
	return res
}
