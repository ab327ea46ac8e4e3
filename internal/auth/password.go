package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: OWASP's minimum recommendation (19 MiB, 2 passes, 1 lane). They are
// stored in each hash, so raising them later only affects new hashes.
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
)

// MinPasswordLen is the shortest password accepted anywhere (also MMC_ADMIN_PASSWORD).
const MinPasswordLen = 12

// hashPassword returns a PHC-style argon2id string.
func hashPassword(pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// argonHash is a decoded PHC-style argon2id string.
type argonHash struct {
	m, t      uint32
	p         uint8
	salt, key []byte
}

// parseHash decodes an encoded hash; ok is false for an empty or malformed one (an invited user
// who has not set a password yet).
func parseHash(encoded string) (h argonHash, ok bool) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return h, false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.m, &h.t, &h.p); err != nil {
		return h, false
	}
	b64 := base64.RawStdEncoding
	var err1, err2 error
	h.salt, err1 = b64.DecodeString(parts[4])
	h.key, err2 = b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(h.key) == 0 || h.m == 0 || h.t == 0 || h.p == 0 {
		return h, false
	}
	return h, true
}

// checkPassword compares pw with an encoded hash in constant time. An empty or malformed hash
// never matches, but still costs one argon2id computation (of dummyHash), so that an invited
// user without a password answers as slowly as anyone else.
func checkPassword(encoded, pw string) bool {
	h, ok := parseHash(encoded)
	if !ok {
		h, _ = parseHash(dummyHash)
	}
	got := argon2.IDKey([]byte(pw), h.salt, h.t, h.m, h.p, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(got, h.key) == 1 && ok
}

// dummyHash is checked against when the email is unknown or its user has no password, so such a
// sign-in takes as long to refuse as a wrong password and response times do not reveal which
// emails exist or are invited. Its parameters are the ones hashPassword uses (a test checks).
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$3q0b7l0bJ7m0q8bS3w1nq8QmB2O7F4h2c9o1a6y0bmE"

// newToken returns a random 32-byte token, URL-safe.
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// hashToken is what the database keeps of a session or invite token.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewCSRFToken returns a random token for the pre-session (double-submit) CSRF cookie.
func NewCSRFToken() (string, error) { return newToken() }

// TokensEqual compares two tokens in constant time.
func TokensEqual(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
