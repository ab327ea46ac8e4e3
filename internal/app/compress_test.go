package app

import (
	"compress/gzip"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"

	"mmconsole/internal/config"
)

// Pages and assets go out compressed to a client that accepts gzip or brotli, assets keep their
// long cache, and a client that accepts neither gets plain bytes.
func TestResponsesAreCompressed(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name, role, path, accept, want, body string
		longCache                            bool
	}{
		{"sign-in page, gzip", "", "/login", "gzip", "gzip", "Sign in", false},
		{"overview, brotli", "viewer", "/", "br, gzip", "br", "Overview", false},
		{"sends page, gzip", "admin", "/sends", "gzip", "gzip", "Sends", false},
		{"stylesheet, brotli", "", "/static/app.css?v=1", "br", "br", "{", true},
		{"htmx, gzip", "", "/static/vendor/htmx-2.0.11.min.js?v=1", "gzip", "gzip", "htmx", true},
		{"no encoding accepted", "viewer", "/", "", "", "Overview", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", tc.path, nil)
			if tc.accept != "" {
				req.Header.Set("Accept-Encoding", tc.accept)
			}
			if c := f.sessions[tc.role]; c != nil {
				req.AddCookie(c)
			}
			resp, raw := do(t, f.a, req)
			if resp.StatusCode != 200 {
				t.Fatalf("%s = %d", tc.path, resp.StatusCode)
			}
			if got := resp.Header.Get("Content-Encoding"); got != tc.want {
				t.Fatalf("Content-Encoding = %q, want %q", got, tc.want)
			}
			if tc.want != "" && !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("Vary = %q: a shared cache could hand compressed bytes to a client that cannot read them", resp.Header.Get("Vary"))
			}
			var r io.Reader = strings.NewReader(raw)
			switch tc.want {
			case "gzip":
				zr, err := gzip.NewReader(r)
				if err != nil {
					t.Fatal(err)
				}
				r = zr
			case "br":
				r = brotli.NewReader(r)
			}
			plain, err := io.ReadAll(r)
			if err != nil {
				t.Fatalf("decode %s: %v", tc.want, err)
			}
			if !strings.Contains(string(plain), tc.body) {
				t.Errorf("decoded body lacks %q", tc.body)
			}
			if tc.want != "" && len(raw) >= len(plain) {
				t.Errorf("compressed %d bytes, plain %d: not smaller", len(raw), len(plain))
			}
			if cc := resp.Header.Get("Cache-Control"); tc.longCache != strings.Contains(cc, "max-age=31536000") {
				t.Errorf("Cache-Control = %q, long cache wanted: %v", cc, tc.longCache)
			}
		})
	}
}

// The webhook endpoint's answers are not compressed: Meta's deliveries get a few bytes back. The
// handshake echoes a long challenge here, which would be compressed anywhere else.
func TestWebhookAnswersAreNotCompressed(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.VerifyToken = "verify-me" })
	challenge := strings.Repeat("challenge", 100)
	req := httptest.NewRequest("GET", "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge="+challenge, nil)
	req.Header.Set("Accept-Encoding", "gzip, br")
	resp, body := do(t, f.a, req)
	if resp.StatusCode != 200 || body != challenge {
		t.Fatalf("handshake = %d, %d bytes", resp.StatusCode, len(body))
	}
	if got := resp.Header.Get("Content-Encoding"); got != "" {
		t.Errorf("webhook answer Content-Encoding = %q, want none", got)
	}
}
