package webhook

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkVerify compares what a post costs before it is accepted or refused, with a thousand
// connection secrets stored: unsigned and malformed posts must cost no HMAC, and a forged
// well-formed signature at most MMC_APP_SECRET plus MaxConnectionSecretsTried.
func BenchmarkVerify(b *testing.B) {
	var list []Secret
	for i := range 1000 {
		list = append(list, Secret{Key: []byte(fmt.Sprintf("secret-%04d-0123456789abcdef", i)), Signer: Signer{ConnectionID: uint(i + 1), AccountID: uint(i/10 + 1)}})
	}
	idx := fixedIndex{idx: SecretIndex{App: []byte("app-secret"), ByWABA: map[string][]Secret{"100": list[:10]}, Others: list}}
	// A small deployment: as many connection secrets as may be tried, so no entry is read.
	few := fixedIndex{idx: SecretIndex{App: []byte("app-secret"), ByWABA: map[string][]Secret{"100": list[:MaxConnectionSecretsTried]}, Others: list[:MaxConnectionSecretsTried]}}
	var statuses []string
	for i := range 50 {
		statuses = append(statuses, fmt.Sprintf(`{"id":"wamid.%d","status":"delivered","timestamp":"1750030073","recipient_id":"16505551234"}`, i))
	}
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"100","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"200"},"statuses":[` +
		strings.Join(statuses, ",") + `]}}]}]}`)
	forged := "sha256=" + strings.Repeat("ab", 32)
	cases := []struct {
		name, header string
		src          SecretSource
	}{
		{"unsigned", "", idx},
		{"malformed", "sha256=xyz", idx},
		{"app secret", Sign(body, []byte("app-secret")), idx},
		{"own connection secret", Sign(body, list[3].Key), idx},
		{"forged", forged, idx},
		{"forged, 8 secrets", forged, few},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				VerifySignature(body, c.header, c.src)
			}
		})
	}
}
