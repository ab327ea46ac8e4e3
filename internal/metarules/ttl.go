package metarules

import (
	"context"
	"errors"
	"math/big"
	"regexp"
	"strconv"

	"mmconsole/internal/i18n"
)

// Marketing TTL limits (mm-api-reference §1.5): Meta accepts 12 hours to 30 days, in 1-second
// steps, and applies 30 days when a marketing template has no TTL.
const (
	MinMarketingTTL     = 43200   // 12 hours
	MaxMarketingTTL     = 2592000 // 30 days
	DefaultMarketingTTL = MaxMarketingTTL
)

// TTL input units. The console's TTL input is a number and one of these units.
const (
	UnitHours   = "hours"
	UnitDays    = "days"
	UnitSeconds = "seconds"
)

// TTLUnits lists the units in the order the input offers them.
var TTLUnits = [...]string{UnitHours, UnitDays, UnitSeconds}

// unitSeconds is the length of each unit.
func unitSeconds(unit string) (int64, bool) {
	switch unit {
	case UnitHours:
		return 3600, true
	case UnitDays:
		return 86400, true
	case UnitSeconds:
		return 1, true
	}
	return 0, false
}

// TTL errors. ErrTTLUnit is a value no form offers (a crafted request); callers refuse it
// like any other bad input, naming the field.
var (
	ErrTTLUnit   = errors.New("unknown TTL unit")
	ErrTTLNumber = errors.New("not a TTL number")
	ErrTTLWhole  = errors.New("not a whole number of seconds")
	ErrTTLRange  = errors.New("outside the marketing TTL range")
)

// TTLError says what is wrong with a TTL input. Error is English (logs); Words is the reader's
// language, for the form.
type TTLError struct {
	Err  error // ErrTTLUnit, ErrTTLNumber, ErrTTLWhole or ErrTTLRange
	key  string
	args []any
	// unit is a unit named in the message; it is put in the reader's words when shown.
	unit string
}

func (e *TTLError) Error() string { return e.Words(context.Background()) }
func (e *TTLError) Unwrap() error { return e.Err }

// Words is the message in the language of ctx.
func (e *TTLError) Words(ctx context.Context) string {
	args := e.args
	if e.unit != "" {
		args = append([]any{"Unit", UnitName(ctx, e.unit)}, args...)
	}
	return i18n.T(ctx, e.key, args...)
}

// UnitName is a TTL unit as the reader's language writes it ("hours", "horas").
func UnitName(ctx context.Context, unit string) string {
	switch unit {
	case UnitHours:
		return i18n.T(ctx, "ttlrule.unit.hours")
	case UnitDays:
		return i18n.T(ctx, "ttlrule.unit.days")
	case UnitSeconds:
		return i18n.T(ctx, "ttlrule.unit.seconds")
	}
	return unit
}

// A TTL number is decimal digits with an optional fraction: no sign, exponent or separators,
// so what the user sees is what is computed.
var ttlNumberRe = regexp.MustCompile(`^[0-9]{1,9}(\.[0-9]{1,6})?$`)

// ParseTTL reads the TTL input (value and unit) into seconds. An empty value means no TTL was
// chosen (set is false). Fractions are allowed when the result is a whole number of seconds,
// because Meta's TTL is set in 1-second steps: 12.5 hours (45000 s) and 1.5 days (129600 s) are
// fine, 0.00001 hours is not. The range is checked separately (CheckMarketingTTL), so the form
// can say "too short" rather than "invalid".
func ParseTTL(value, unit string) (seconds int, set bool, err error) {
	per, ok := unitSeconds(unit)
	if !ok && (unit != "" || value != "") {
		if unit == "" {
			return 0, false, &TTLError{Err: ErrTTLUnit, key: i18n.Key("ttlrule.err.no_unit")}
		}
		return 0, false, &TTLError{Err: ErrTTLUnit, key: i18n.Key("ttlrule.err.bad_unit"), args: []any{"Given", unit}}
	}
	if value == "" {
		return 0, false, nil
	}
	if !ttlNumberRe.MatchString(value) {
		return 0, false, &TTLError{Err: ErrTTLNumber, key: i18n.Key("ttlrule.err.number"), unit: unit}
	}
	r, ok := new(big.Rat).SetString(value)
	if !ok {
		return 0, false, &TTLError{Err: ErrTTLNumber, key: i18n.Key("ttlrule.err.number"), unit: unit}
	}
	r.Mul(r, new(big.Rat).SetInt64(per))
	if !r.IsInt() {
		return 0, false, &TTLError{Err: ErrTTLWhole, key: i18n.Key("ttlrule.err.whole"), args: []any{"Value", value}, unit: unit}
	}
	n := r.Num()
	if !n.IsInt64() || n.Int64() > 1<<31-1 {
		return 0, false, &TTLError{Err: ErrTTLNumber, key: i18n.Key("ttlrule.err.too_long")}
	}
	return int(n.Int64()), true, nil
}

// rangeError is a TTL outside Meta's range; the duration is written in the reader's words.
type rangeError struct{ seconds int }

func (e *rangeError) Error() string { return e.Words(context.Background()) }
func (e *rangeError) Unwrap() error { return ErrTTLRange }

// Words is the message in the language of ctx.
func (e *rangeError) Words(ctx context.Context) string {
	return i18n.T(ctx, "ttlrule.err.range", "Min", i18n.Num(ctx, MinMarketingTTL), "Max", i18n.Num(ctx, MaxMarketingTTL),
		"Given", HumanTTLIn(ctx, e.seconds))
}

// CheckMarketingTTL checks seconds against Meta's range for marketing templates. Its error
// wraps ErrTTLRange and has Words for the form (see metarules.Words).
func CheckMarketingTTL(seconds int) error {
	if seconds < MinMarketingTTL || seconds > MaxMarketingTTL {
		return &rangeError{seconds}
	}
	return nil
}

// SplitTTL writes seconds in the largest unit that divides it, for the input's initial value.
func SplitTTL(seconds int) (value, unit string) {
	switch {
	case seconds <= 0:
		return "", UnitHours
	case seconds%86400 == 0:
		return strconv.Itoa(seconds / 86400), UnitDays
	case seconds%3600 == 0:
		return strconv.Itoa(seconds / 3600), UnitHours
	}
	return strconv.Itoa(seconds), UnitSeconds
}

// HumanTTL writes seconds as "12 hours", "3 days", "90 minutes" or "45000 seconds", in
// English (logs, audit); pages use HumanTTLIn.
func HumanTTL(sec int) string { return HumanTTLIn(context.Background(), sec) }

// HumanTTLIn writes seconds in the largest unit that divides them, in the language of ctx:
// "12 hours", "3 días", "90 minutos".
func HumanTTLIn(ctx context.Context, sec int) string {
	switch {
	case sec <= 0:
		return i18n.N(ctx, "ttlrule.seconds", sec)
	case sec%86400 == 0:
		return i18n.N(ctx, "ttlrule.days", sec/86400)
	case sec%3600 == 0:
		return i18n.N(ctx, "ttlrule.hours", sec/3600)
	case sec%60 == 0:
		return i18n.N(ctx, "ttlrule.minutes", sec/60)
	}
	return i18n.N(ctx, "ttlrule.seconds", sec)
}
