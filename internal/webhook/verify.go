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
	"strconv"
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

// Signer is what verified a delivery, and so what it may speak for: Hibot's own app secret
// (MMC_APP_SECRET, ConnectionID 0) speaks for every WABA; a connection's own app secret speaks
// only for the WABAs of that connection's account. One Meta app may serve WABAs of several
// accounts, each of whose connections then holds the same secret: Shared lists those other
// connections, and the secret speaks for each of their accounts too (otherwise a genuine
// delivery would be refused, and lost, whenever another account's copy matched first).
type Signer struct {
	ConnectionID uint   // 0: MMC_APP_SECRET
	AccountID    uint   // the connection's account; 0 for MMC_APP_SECRET
	Shared       []uint // other connections holding the same secret
}

// Connections is every connection whose secret matched: ConnectionID, then Shared.
func (s Signer) Connections() []uint {
	if s.Global() {
		return nil
	}
	return append([]uint{s.ConnectionID}, s.Shared...)
}

// Global reports whether the signer is MMC_APP_SECRET, which covers every WABA.
func (s Signer) Global() bool { return s.ConnectionID == 0 }

// String is how a delivery records its signer: "app", "connection:<id>", or
// "connection:<id>+<id>…" for a secret several connections hold.
func (s Signer) String() string {
	if s.Global() {
		return "app"
	}
	var b strings.Builder
	b.WriteString("connection:")
	for i, id := range s.Connections() {
		if i > 0 {
			b.WriteByte('+')
		}
		b.WriteString(strconv.FormatUint(uint64(id), 10))
	}
	return b.String()
}

// Secret is one connection's app secret and the signer it stands for.
type Secret struct {
	Key    []byte
	Signer Signer
}

// SecretIndex is a snapshot of the secrets a delivery may be signed with. Connections' secrets
// are indexed by WABA: a connection's secret may only speak for its account's WABAs, so a
// delivery is first checked against the secrets of the accounts owning the WABAs its entries
// name (ByWABA lists, for each connected WABA, that WABA's own connection's secret first and
// then the other secrets of its account). Others lists every connection secret: tried next,
// within the cap, so that another party's delivery about a WABA it does not own is recognised
// (and its entries stored as refused) rather than taken for noise.
type SecretIndex struct {
	App    []byte
	ByWABA map[string][]Secret
	Others []Secret
}

// SecretSource gives the current secret index. How secrets are stored is not this package's
// business.
type SecretSource interface {
	Index() SecretIndex
}

// AppSecretOnly is a source of MMC_APP_SECRET alone (tests, the load generator's receiver).
type AppSecretOnly []byte

// Index returns the app secret with no connection secrets.
func (a AppSecretOnly) Index() SecretIndex { return SecretIndex{App: a} }

// Signature problems, recorded as the rejection's reason.
var (
	ErrNoSignature  = errors.New("missing X-Hub-Signature-256")
	ErrBadSignature = errors.New("signature does not match any app secret")
	ErrMalformedSig = errors.New("malformed X-Hub-Signature-256 (want sha256=<64 hex digits>)")
)

// Bounds of what one badly signed delivery may cost: the WABAs of at most MaxSignedWABAs
// entries are looked up, and at most MaxConnectionSecretsTried connection secrets are tried
// after MMC_APP_SECRET. A forged delivery thus costs at most 1+MaxConnectionSecretsTried HMACs
// however many connections store a secret, and a genuine one is found among them because the
// secrets of the WABA it names come first. With more connection secrets than the cap, a delivery
// signed with the secret of an account that owns none of the WABAs it names may not be
// recognised: it is then rejected as a bad signature instead of stored as refused, and has no
// effect either way.
const (
	MaxSignedWABAs            = 16
	MaxConnectionSecretsTried = 8
)

// SignatureHeader checks the header's shape without any HMAC ("sha256=" and 64 hex digits) and
// returns the digest it carries. Unsigned and malformed posts stop here: one cheap check.
func SignatureHeader(header string) ([]byte, error) {
	if header == "" {
		return nil, ErrNoSignature
	}
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok || len(hexSig) != 2*sha256.Size {
		return nil, ErrMalformedSig
	}
	want, err := hex.DecodeString(hexSig)
	if err != nil {
		return nil, ErrMalformedSig
	}
	return want, nil
}

// VerifySignature checks header ("sha256=<hex>") against the HMAC-SHA256 of the raw body under
// MMC_APP_SECRET, then under the connection secrets of the WABAs the body's entries name (see
// the bounds above), and returns the signer whose secret matched. Comparisons are constant-time.
func VerifySignature(body []byte, header string, src SecretSource) (Signer, error) {
	want, err := SignatureHeader(header)
	if err != nil {
		return Signer{}, err
	}
	// Read only now: a post without a well-formed header must not even reach the secret cache.
	idx := src.Index()
	if len(idx.App) > 0 && macEqual(body, idx.App, want) {
		return Signer{}, nil
	}
	if len(idx.Others) == 0 {
		return Signer{}, ErrBadSignature
	}
	tried := 0
	seen := map[uint]bool{} // by connection: a list may repeat another's secret
	try := func(list []Secret) (Signer, bool) {
		for _, s := range list {
			if tried == MaxConnectionSecretsTried {
				return Signer{}, false
			}
			if seen[s.Signer.ConnectionID] || len(s.Key) == 0 {
				continue
			}
			seen[s.Signer.ConnectionID] = true
			tried++
			if macEqual(body, s.Key, want) {
				return s.Signer, true
			}
		}
		return Signer{}, false
	}
	// Reading the entries' WABAs costs a pass over the body; it is only needed to choose when
	// there are more connection secrets than may be tried.
	if len(idx.Others) > MaxConnectionSecretsTried {
		for _, waba := range entryWABAs(body, MaxSignedWABAs) {
			if s, ok := try(idx.ByWABA[waba]); ok {
				return s, nil
			}
		}
	}
	if s, ok := try(idx.Others); ok {
		return s, nil
	}
	return Signer{}, ErrBadSignature
}

func macEqual(body, key, want []byte) bool {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return hmac.Equal(m.Sum(nil), want)
}

// Sign returns the X-Hub-Signature-256 value of body under secret (for the sandbox, tests and
// the load generator).
func Sign(body, secret []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}
