package secrets

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestSealOpenRoundTripAndNoPlaintextAtRest(t *testing.T) {
	b, err := NewBox(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := b.Seal("EAAGsecretTOKEN1234")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("secretTOKEN")) {
		t.Fatal("sealed value contains the plaintext")
	}
	again, _ := b.Seal("EAAGsecretTOKEN1234")
	if bytes.Equal(sealed, again) {
		t.Error("two seals of one value must differ (random nonce)")
	}
	got, err := b.Open(sealed)
	if err != nil || got != "EAAGsecretTOKEN1234" {
		t.Fatalf("Open = %q, %v", got, err)
	}
}

func TestOpenFailsWithAnotherKeyOrDamagedData(t *testing.T) {
	a, _ := NewBox(bytes.Repeat([]byte{1}, 32))
	other, _ := NewBox(bytes.Repeat([]byte{2}, 32))
	sealed, _ := a.Seal("token")
	if _, err := other.Open(sealed); !errors.Is(err, ErrDecrypt) {
		t.Errorf("wrong key: %v, want ErrDecrypt", err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := a.Open(sealed); !errors.Is(err, ErrDecrypt) {
		t.Errorf("damaged data: %v, want ErrDecrypt", err)
	}
	if _, err := a.Open([]byte{1, 2}); !errors.Is(err, ErrDecrypt) {
		t.Errorf("short data: %v, want ErrDecrypt", err)
	}
	if _, err := NewBox([]byte("short")); err == nil {
		t.Error("a short key must be refused")
	}
}

func TestMaskShowsOnlyTheLastFour(t *testing.T) {
	m := Mask("EAAGsecretTOKEN1234")
	if !strings.HasSuffix(m, "1234") || strings.Contains(m, "secret") {
		t.Errorf("Mask = %q", m)
	}
	if Mask("abc") != "••••" {
		t.Errorf("short secrets are fully masked: %q", Mask("abc"))
	}
}
