package app

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestServeStopsWhenShutdownFollowsStartAtOnce cancels Serve's context before and just after
// Serve starts, the order a test's cleanup can meet, and requires Serve to return every time:
// before the fix a shutdown that came before the server had taken its listener left Serve
// accepting forever.
func TestServeStopsWhenShutdownFollowsStartAtOnce(t *testing.T) {
	for i := range 20 {
		cfg := testConfig(t)
		cfg.LogLevel = "error"
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Addr = ln.Addr().String()
		a, err := New(context.Background(), cfg, NewLogger(cfg, io.Discard))
		if err != nil {
			ln.Close()
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		if i%2 == 0 {
			cancel() // already over when Serve begins
		}
		done := make(chan error, 1)
		go func() { done <- a.Serve(ctx, ln) }()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("round %d: Serve returned %v", i, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: Serve did not return 30 s after its context was cancelled", i)
		}
		// The port is free again: nothing is left accepting on it.
		if c, err := net.DialTimeout("tcp", cfg.Addr, time.Second); err == nil {
			c.Close()
			t.Fatalf("round %d: %s still accepts connections after Serve returned", i, cfg.Addr)
		}
	}
}

// TestServeAnswersUntilStopped makes sure the listener wrapper does not keep Serve from serving.
func TestServeAnswersUntilStopped(t *testing.T) {
	_, base := served(t, testConfig(t))
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := c.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz = %d", resp.StatusCode)
	}
}
