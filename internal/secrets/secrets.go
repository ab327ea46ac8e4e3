// Package secrets encrypts values at rest (WABA access tokens, app secrets) with AES-256-GCM and
// masks them for display. A sealed value carries its own random nonce; opening with the wrong key
// fails instead of returning garbage.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// Box seals and opens secrets with one key.
type Box struct {
	aead cipher.AEAD
}

// ErrDecrypt means a sealed value could not be opened: the key changed or the data is damaged.
var ErrDecrypt = errors.New("secrets: cannot decrypt (was MMC_SECRET_KEY changed?)")

// NewBox builds a Box from a 32-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secrets: key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext; the result is nonce || ciphertext.
func (b *Box) Seal(plaintext string) ([]byte, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("secrets: nonce: %w", err)
	}
	return b.aead.Seal(nonce, nonce, []byte(plaintext), nil), nil
}

// Open decrypts what Seal produced.
func (b *Box) Open(sealed []byte) (string, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n {
		return "", ErrDecrypt
	}
	pt, err := b.aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return "", ErrDecrypt
	}
	return string(pt), nil
}

// Mask shows only the last 4 characters of a secret, e.g. "••••••••3f9a".
func Mask(s string) string {
	if len(s) <= 4 {
		return "••••"
	}
	return "••••••••" + s[len(s)-4:]
}
