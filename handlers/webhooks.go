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
		reason := "bad signature"
		switch {
		case errors.Is(err, webhook.ErrNoSignature):
			reason = "missing signature"
		case errors.Is(err, webhook.ErrMalformedSig):
			reason = "malformed signature"
		}
		h.Store.Reject(ctx, c.IP(), reason, len(body), body)
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
