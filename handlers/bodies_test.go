package handlers_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"mmconsole/handlers"
)

// ReadBody hands the whole body to the handler within the route's limit, takes the memory it
// holds from the shared budget and gives it back after the request.
func TestReadBodyLimitsAndBudget(t *testing.T) {
	guard := handlers.NewBodyGuard(16<<10, nil)
	var refused []string
	app := fiber.New(fiber.Config{StreamRequestBody: true, BodyLimit: 1024, ErrorHandler: handlers.ErrorHandler(&handlers.Shells{})})
	app.Use(handlers.ReadBody(handlers.BodyLimit{Max: 64 << 10, Guard: guard,
		Refused: func(_ *fiber.Ctx, reason string, _ int) { refused = append(refused, reason) }}))
	app.Post("/", func(c *fiber.Ctx) error {
		return c.SendString(fmt.Sprint(len(c.Body()), " ", guard.Used() > 0))
	})
	cases := []struct {
		name   string
		size   int
		want   int
		body   string
		reason string
	}{
		{"small", 100, 200, "100 true", ""},
		{"within the budget", 10000, 200, "10000 true", ""},
		{"over the memory budget", 40000, 503, "", handlers.RefusedBusy},
		{"over the route's limit", 70000, 413, "", handlers.RefusedTooLarge},
		{"empty", 0, 200, "0 false", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			refused = nil
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("x", c.size)))
			req.Header.Set("Accept", "text/plain")
			resp, err := app.Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.want || c.body != "" && string(got) != c.body {
				t.Errorf("answer %d %q, want %d %q", resp.StatusCode, got, c.want, c.body)
			}
			if c.reason == "" && len(refused) > 0 || c.reason != "" && (len(refused) != 1 || refused[0] != c.reason) {
				t.Errorf("refusals %v, want %q", refused, c.reason)
			}
			if c.want != 200 && !resp.Close {
				t.Errorf("a refused body must close the connection")
			}
			if guard.Used() != 0 {
				t.Errorf("%d body bytes still held after the request", guard.Used())
			}
		})
	}
}

// A note of a request whose body never reached ReadBody (the client reset the connection while
// the server wrote "100 Continue") must not stay for ever: it would keep the request's pooled
// context alive. Notes older than StaleAfter are swept once the map grows.
func TestBodyGuardSweepsNotesNoRequestTakesOut(t *testing.T) {
	guard := handlers.NewBodyGuard(16<<10, nil)
	guard.StaleAfter = time.Millisecond
	header := func() *fasthttp.RequestHeader {
		var h fasthttp.RequestHeader
		h.SetMethod("POST")
		h.SetRequestURI("/login")
		h.SetContentLength(100)
		return &h
	}
	const abandoned = 600
	for range abandoned {
		guard.HeaderReceived(header())
	}
	time.Sleep(20 * time.Millisecond) // every note above is now older than StaleAfter
	// As many fresh ones again: the map passes the sweep size and the stale notes go.
	for range abandoned {
		guard.HeaderReceived(header())
	}
	if got := guard.Pending(); got > abandoned {
		t.Errorf("%d notes kept after %d were abandoned and %d are fresh, want the stale ones swept", got, abandoned, abandoned)
	}
	if got := guard.Pending(); got == 0 {
		t.Error("fresh notes were swept too")
	}
}
