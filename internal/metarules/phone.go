package metarules

import (
	"errors"
	"fmt"
	"strings"
)

// NormalizePhone checks an international number (optional leading +, 8 to 15 digits; spaces,
// dashes, dots and parentheses are tolerated as separators) and returns its digits, the form
// Meta's webhooks carry. The composer and every filter or search over numbers read a number the
// same way, so a number a person can send to is a number they can find.
func NormalizePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("enter the recipient's number in international format, e.g. +52 55 1234 5678")
	}
	rest := strings.TrimPrefix(s, "+")
	var b strings.Builder
	for _, r := range rest {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", fmt.Errorf("%q is not a phone number: use digits only, with the country code and an optional leading +", s)
		}
	}
	d := b.String()
	if len(d) < 8 || len(d) > 15 {
		return "", fmt.Errorf("a number in international format has 8 to 15 digits (country code included); this one has %d", len(d))
	}
	if d[0] == '0' {
		return "", errors.New("start with the country code, not 0 (e.g. 52 for Mexico)")
	}
	return d, nil
}
