// Package webhook receives what Meta posts to the dashboard's webhook callback: it checks the
// handshake and the X-Hub-Signature-256 signature, parses every change of every entry (statuses,
// inbound messages, clicks, template, preference and account updates, and anything else kept raw),
// commits each delivery with its events through a single group-commit writer before it is
// acknowledged, applies the effects (message state, template status and quality) in the same
// transaction, and answers the log's queries. It knows nothing of HTTP frameworks.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strings"
)

// VerifyHandshake answers Meta's subscription check: the challenge to echo, and whether the
// request may be answered with it. An empty configured token refuses every handshake.
func VerifyHandshake(mode, token, challenge, configured string) (string, bool) {
	if configured == "" || mode != "subscribe" {
		return "", false
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(configured)) != 1 {
		return "", false
	}
	return challenge, true
}

// SecretSource lists the app secrets a delivery may be signed with (the configured app secret
// and any per-connection one). How they are stored is not this package's business.
type SecretSource interface {
	Secrets() [][]byte
}

// StaticSecrets is a fixed list of secrets.
type StaticSecrets [][]byte

// Secrets returns the list.
func (s StaticSecrets) Secrets() [][]byte { return s }

// Signature problems, recorded as the rejection's reason.
var (
	ErrNoSignature  = errors.New("missing X-Hub-Signature-256")
	ErrBadSignature = errors.New("signature does not match any app secret")
	ErrMalformedSig = errors.New("malformed X-Hub-Signature-256 (want sha256=<hex>)")
)

// VerifySignature checks header ("sha256=<hex>") against the HMAC-SHA256 of the raw body under
// each secret in turn.
func VerifySignature(body []byte, header string, secrets [][]byte) error {
	if header == "" {
		return ErrNoSignature
	}
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return ErrMalformedSig
	}
	want, err := hex.DecodeString(hexSig)
	if err != nil || len(want) != sha256.Size {
		return ErrMalformedSig
	}
	for _, s := range secrets {
		if len(s) == 0 {
			continue
		}
		m := hmac.New(sha256.New, s)
		m.Write(body)
		if hmac.Equal(m.Sum(nil), want) {
			return nil
		}
	}
	return ErrBadSignature
}

// Sign returns the X-Hub-Signature-256 value of body under secret (for the sandbox, tests and
// the load generator).
func Sign(body, secret []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}
