package metarules

import (
	"context"
	"errors"
	"strings"

	"mmconsole/internal/i18n"
)

// PhoneError says what is wrong with a typed number. Error is English (logs); Words is the
// reader's language, for the form.
type PhoneError struct {
	key  string
	args []any
}

func (e *PhoneError) Error() string { return e.Words(context.Background()) }

// Words is the message in the language of ctx.
func (e *PhoneError) Words(ctx context.Context) string { return i18n.T(ctx, e.key, e.args...) }

// NormalizePhone checks an international number (optional leading +, 8 to 15 digits; spaces,
// dashes, dots and parentheses are tolerated as separators) and returns its digits, the form
// Meta's webhooks carry. The composer and every filter or search over numbers read a number the
// same way, so a number a person can send to is a number they can find. Its errors are
// *PhoneError.
func NormalizePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", &PhoneError{key: i18n.Key("phone.empty")}
	}
	rest := strings.TrimPrefix(s, "+")
	var b strings.Builder
	for _, r := range rest {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", &PhoneError{key: i18n.Key("phone.not_digits"), args: []any{"Number", s}}
		}
	}
	d := b.String()
	if len(d) < 8 || len(d) > 15 {
		return "", &PhoneError{key: i18n.Key("phone.length"), args: []any{"Digits", len(d)}}
	}
	if d[0] == '0' {
		return "", &PhoneError{key: i18n.Key("phone.leading_zero")}
	}
	return d, nil
}

// Words is err in the language of ctx when it is one of this package's errors (a phone number
// or TTL that breaks the rules), else err's own text.
func Words(ctx context.Context, err error) string {
	var w interface{ Words(context.Context) string }
	if errors.As(err, &w) {
		return w.Words(ctx)
	}
	return err.Error()
}
