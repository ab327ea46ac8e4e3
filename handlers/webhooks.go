package handlers

import (
	"context"
	"errors"

	"github.com/gofiber/fiber/v2"

	"mmconsole/internal/webhook"
)

// WebhookStore stores verified deliveries and records refused ones.
type WebhookStore interface {
	Ingest(ctx context.Context, d webhook.Delivery) (webhook.Result, error)
	Reject(ctx context.Context, remoteAddr, reason string, size int, body []byte)
}

// Webhooks is Meta's callback: the verification handshake and the signed deliveries. It is
// public (no session, no CSRF): the verify token and the signature are its authentication.
type Webhooks struct {
	VerifyToken string
	Secrets     webhook.SecretSource
	MaxBody     int
	Store       WebhookStore
	// Guard holds the body memory budget shared with every route (nil: unbounded); Count is
	// told of each body refused on this route, by reason (for the metrics; nil: not counted).
	Guard *BodyGuard
	Count func(reason string)
}

// refused records a body the route would not read: too large and too slow are rejected
// deliveries (counted and sampled like unsigned ones); a full memory budget is only counted,
// since the 503 makes Meta retry it.
func (h *Webhooks) refused(c *fiber.Ctx, reason string, size int) {
	if reason != RefusedBusy {
		h.Store.Reject(c.UserContext(), c.IP(), reason, size, nil)
	}
	if h.Count != nil {
		h.Count(reason)
	}
}

// signatureReason names a signature error as the rejection records it.
func signatureReason(err error) string {
	switch {
	case errors.Is(err, webhook.ErrNoSignature):
		return "missing signature"
	case errors.Is(err, webhook.ErrMalformedSig):
		return "malformed signature"
	}
	return "bad signature"
}

// preReadSize is how much of a streamed body the server reads before any handler runs: a body
// no larger than this is in memory already.
const preReadSize = 8 << 10

// SignatureFirst refuses a delivery whose X-Hub-Signature-256 is missing or malformed before
// its body is read, so that an unsigned post costs one look at a header instead of reading up
// to MMC_WEBHOOK_MAX_BODY from the network into the shared body budget (where sixteen unsigned
// 4 MiB posts would hold every genuine delivery off with 503s). A body the server pre-read
// whole is left to Receive, which refuses it the same way and keeps the connection; a larger
// one is refused here and its connection closed, since the rest of it is never read.
func (h *Webhooks) SignatureFirst(c *fiber.Ctx) error {
	if c.Method() != fiber.MethodPost {
		return c.Next()
	}
	announced := c.Request().Header.ContentLength() // -1 chunked, -2 none
	if announced >= 0 && announced <= preReadSize {
		return c.Next()
	}
	if _, err := webhook.SignatureHeader(c.Get("X-Hub-Signature-256")); err != nil {
		h.Store.Reject(c.UserContext(), c.IP(), signatureReason(err), max(announced, 0), nil)
		c.Context().SetConnectionClose()
		return c.Status(fiber.StatusUnauthorized).SendString("invalid signature")
	}
	return c.Next()
}

// Verify answers the subscription handshake with the bare challenge, or 403.
func (h *Webhooks) Verify(c *fiber.Ctx) error {
	challenge, ok := webhook.VerifyHandshake(c.Query("hub.mode"), c.Query("hub.verify_token"), c.Query("hub.challenge"), h.VerifyToken)
	if !ok {
		return c.Status(fiber.StatusForbidden).SendString("verification refused")
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.Status(fiber.StatusOK).SendString(challenge)
}

// Receive checks the signature over the raw body and answers 200 only once the delivery and its
// events are committed; an error answer makes Meta retry.
func (h *Webhooks) Receive(c *fiber.Ctx) error {
	ctx := c.UserContext()
	// The raw bytes Meta signed (c.Body would undo a Content-Encoding), already read within
	// MaxBody by the route's ReadBody.
	body := c.Request().Body()
	signer, err := webhook.VerifySignature(body, c.Get("X-Hub-Signature-256"), h.Secrets)
	if err != nil {
		h.Store.Reject(ctx, c.IP(), signatureReason(err), len(body), body)
		return c.Status(fiber.StatusUnauthorized).SendString("invalid signature")
	}
	// fasthttp reuses the request buffer once the handler returns; Ingest returns only after
	// the commit, but the copy keeps the writer independent of that detail.
	res, err := h.Store.Ingest(ctx, webhook.Delivery{Body: append([]byte(nil), body...), RemoteAddr: c.IP(), Signer: signer})
	if err != nil {
		Log(c).Error("webhook delivery not stored", "err", err)
		return c.Status(fiber.StatusServiceUnavailable).SendString("not stored, retry later")
	}
	if res.ParseError != "" {
		Log(c).Warn("webhook delivery stored raw but not fully readable", "delivery", res.DeliveryID, "err", res.ParseError)
	}
	return c.Status(fiber.StatusOK).SendString("ok")
}
