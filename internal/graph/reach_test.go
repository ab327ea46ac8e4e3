package graph

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// blackHole accepts connections on loopback and never answers; it closes them when the test ends.
func blackHole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

type recorder struct {
	mu  sync.Mutex
	got []Contact
	ids []uint
}

func (r *recorder) GraphContact(_ context.Context, id uint, c Contact) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids, r.got = append(r.ids, id), append(r.got, c)
}

func TestInteractiveCallsShareOneDeadline(t *testing.T) {
	obs := &recorder{}
	c := New(Options{BaseURL: blackHole(t), Timeout: time.Minute, Deadline: 300 * time.Millisecond, Observer: obs,
		RetryBaseDelay: time.Millisecond, RetryMaxDelay: time.Millisecond})
	ctx := Interactive(context.Background(), time.Now())
	Attribute(ctx, "tok-abcdefgh", 7)
	start := time.Now()
	_, err1 := c.GetWABA(ctx, "tok-abcdefgh", "1")
	_, err2 := c.ListPhoneNumbers(ctx, "tok-abcdefgh", "1") // the deadline is already used up
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("two calls took %s with a 300ms deadline", took)
	}
	for _, err := range []error{err1, err2} {
		ue, ok := AsUnreachable(err)
		if !ok || !ue.Timeout {
			t.Fatalf("want a timeout UnreachableError, got %v", err)
		}
		if _, ok := AsGraphError(err); ok {
			t.Fatalf("no answer must not look like a Graph error: %v", err)
		}
		st, title, msg := ue.UserFacing(context.Background())
		if st != http.StatusBadGateway || title != "Meta did not answer" || !strings.Contains(msg, "Nothing was changed") {
			t.Fatalf("user facing = %d %q %q", st, title, msg)
		}
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.got) != 2 || obs.ids[0] != 7 || obs.got[0].OK || !strings.HasPrefix(obs.got[0].Failure, "no answer within") {
		t.Fatalf("observer heard %v %+v", obs.ids, obs.got)
	}
}

func TestBackgroundCallsAreNotCutByTheInteractiveDeadline(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(400 * time.Millisecond)
		_, _ = w.Write([]byte(`{"id":"1"}`))
	}))
	t.Cleanup(srv.Close)
	c := New(Options{BaseURL: srv.URL, Timeout: 5 * time.Second, Deadline: 100 * time.Millisecond})
	if _, err := c.GetWABA(Background(context.Background()), "t", "1"); err != nil {
		t.Fatalf("background read: %v", err)
	}
	// The same slow answer is too late for a person waiting (no marker = the deadline alone).
	if _, err := c.GetWABA(context.Background(), "t", "1"); !errors.Is(err, context.DeadlineExceeded) && !isTimeoutErr(err) {
		t.Fatalf("interactive read: want a timeout, got %v", err)
	}
}

func isTimeoutErr(err error) bool {
	ue, ok := AsUnreachable(err)
	return ok && ue.Timeout
}

func TestSendToABlackHoleHasAnUnknownOutcome(t *testing.T) {
	c := New(Options{BaseURL: blackHole(t), Deadline: 200 * time.Millisecond})
	_, err := c.SendMarketingMessage(context.Background(), "tok-abcdefgh", "123", MarketingMessageRequest{To: "1", TemplateName: "x", LanguageCode: "en"})
	if !OutcomeUnknown(err) {
		t.Fatalf("want an unknown outcome, got %v", err)
	}
	_, _, msg := err.(interface{ Unwrap() error }).Unwrap().(*UnreachableError).UserFacing(context.Background())
	if !strings.Contains(msg, "may have applied it") {
		t.Fatalf("message does not warn about a repeat: %q", msg)
	}
}

func TestGatewayTimeoutOnASendIsAnUnknownOutcome(t *testing.T) {
	const token = "EAAGm0PX4ZCpsBAKZCZAZBx9gatewaysecret123"
	tests := []struct {
		name, contentType, body string
		unknown                 bool
	}{
		// An egress proxy or load balancer passed the send on and stopped waiting.
		{"proxy page", "text/html", "<html><body><h1>504 Gateway Time-out</h1>Authorization: Bearer " + token + "</body></html>", true},
		{"empty", "", "", true},
		// Meta's own JSON error is Meta's answer: the send was refused, and that is known.
		{"Meta's JSON error", "application/json", `{"error":{"message":"Service temporarily unavailable","type":"OAuthException","code":2,"is_transient":true}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := server(t, func(w http.ResponseWriter, r *http.Request, _ int) {
				if tt.contentType != "" {
					w.Header().Set("Content-Type", tt.contentType)
				}
				w.WriteHeader(http.StatusGatewayTimeout)
				_, _ = w.Write([]byte(tt.body))
			})
			_, err := c.SendMarketingMessage(context.Background(), token, "123", MarketingMessageRequest{To: "1", TemplateName: "x", LanguageCode: "en"})
			if err == nil || OutcomeUnknown(err) != tt.unknown {
				t.Fatalf("outcome unknown = %v, want %v (%v)", OutcomeUnknown(err), tt.unknown, err)
			}
			if n.Load() != 1 {
				t.Errorf("%d requests, want 1: a send is never repeated", n.Load())
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("the error holds the token: %v", err)
			}
			if !tt.unknown {
				return
			}
			ue, _ := AsUnreachable(err)
			status, title, msg := ue.UserFacing(context.Background())
			if status != http.StatusBadGateway || title != "Meta did not answer" || !strings.Contains(msg, "504 Gateway Timeout") || !strings.Contains(msg, "may have applied it") {
				t.Errorf("shown as %d %q %q", status, title, msg)
			}
		})
	}
	// A read that meets a gateway timeout is still retried: nothing can have changed at Meta.
	c, n := server(t, func(w http.ResponseWriter, r *http.Request, k int) {
		if k == 1 {
			w.WriteHeader(http.StatusGatewayTimeout)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"1","name":"W"}`))
	})
	if _, err := c.GetWABA(context.Background(), token, "1"); err != nil || n.Load() != 2 {
		t.Errorf("read after a 504: %v after %d requests, want success on the retry", err, n.Load())
	}
}

func TestRefusedConnectionIsKnownNotSent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c := New(Options{BaseURL: "http://" + addr, Deadline: 2 * time.Second, MaxRetries: -1})
	_, err = c.SendMarketingMessage(context.Background(), "t", "123", MarketingMessageRequest{To: "1", TemplateName: "x", LanguageCode: "en"})
	ue, ok := AsUnreachable(err)
	if !ok || ue.Written || ue.Timeout || OutcomeUnknown(err) {
		t.Fatalf("want a not-written connection failure, got %#v (%v)", ue, err)
	}
}

func TestGraphErrorTextIsScrubbedOfTokens(t *testing.T) {
	const token = "EAAGm0PX4ZCpsBAKZCZAZBx9secretsecret1234567890"
	bodies := map[string]string{
		"message echoes header": `{"error":{"message":"Invalid OAuth access token: Bearer ` + token + `","type":"OAuthException","code":190,"error_data":{"details":"Authorization: Bearer ` + token + `"},"error_user_msg":"token ` + token + ` expired","fbtrace_id":"Abc"}}`,
		"html page echoes it":   `<html><body>Bad gateway for access_token=` + token + `</body></html>`,
		"other long token":      `{"error":{"message":"upstream said: key sk_live_4eC39HqLyjWDarjtT1zdp7dcQ2aZ8b9c0d1e2f3 refused","code":1}}`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			c, _ := server(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if strings.HasPrefix(body, "<") {
					w.Header().Set("Content-Type", "text/html")
				}
				w.WriteHeader(400)
				_, _ = w.Write([]byte(body))
			})
			_, err := c.GetWABA(context.Background(), token, "1")
			ge, ok := AsGraphError(err)
			if !ok {
				t.Fatalf("want a GraphError, got %v", err)
			}
			for field, v := range map[string]string{"Error()": err.Error(), "Message": ge.Message, "Details": ge.Details,
				"UserMessage": ge.UserMessage, "Raw": string(ge.Raw)} {
				if strings.Contains(v, token) || strings.Contains(v, "EAAGm0PX") || strings.Contains(v, "sk_live_4eC39") {
					t.Errorf("%s still holds a token: %s", field, v)
				}
			}
			if !strings.Contains(err.Error(), Redacted) {
				t.Errorf("the redaction is not visible: %s", err)
			}
		})
	}
}

func TestScrubKeepsWhatIsNotASecret(t *testing.T) {
	for _, s := range []string{
		"wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3QUZBRTIyQzAyQjIyRjMyMjQA was not delivered",
		"Template name does not exist in the translation: summer_sale_2026_final_version_spanish_latam",
		"GET /v25.0/102290129340398/message_templates failed",
		"(#131009) Parameter value is not valid",
	} {
		if got := Scrub(s, "some-token-value"); got != s {
			t.Errorf("Scrub(%q) = %q", s, got)
		}
	}
	if got := Scrub("x sandbox-token-hibot-demo-store y", "sandbox-token-hibot-demo-store"); got != "x "+Redacted+" y" {
		t.Errorf("the connection's own token is kept: %q", got)
	}
}

func TestMetasOwnErrorIsAnAnswer(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		status                  int
		ok, answered            bool
	}{
		{"result", "application/json", `{"id":"1","name":"W"}`, 200, true, true},
		{"Meta's error", "application/json", `{"error":{"message":"Invalid OAuth access token","type":"OAuthException","code":190}}`, 400, false, true},
		{"a proxy's page", "text/html", "<html>502 Bad Gateway</html>", 502, false, false},
		{"plain 500", "text/plain", "Internal Server Error", 500, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			t.Cleanup(srv.Close)
			obs := &recorder{}
			c := New(Options{BaseURL: srv.URL, MaxRetries: -1, Observer: obs})
			ctx := Interactive(context.Background(), time.Now())
			Attribute(ctx, "tok-abcdefgh", 7)
			_, _ = c.GetWABA(ctx, "tok-abcdefgh", "1")
			obs.mu.Lock()
			defer obs.mu.Unlock()
			if len(obs.got) != 1 || obs.ids[0] != 7 {
				t.Fatalf("observed %v for %v, want one contact for connection 7", obs.got, obs.ids)
			}
			if got := obs.got[0]; got.OK != tt.ok || got.Answered != tt.answered {
				t.Errorf("ok %v answered %v, want %v %v", got.OK, got.Answered, tt.ok, tt.answered)
			}
		})
	}
}
