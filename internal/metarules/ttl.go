package metarules

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
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

// TTL parse errors. ErrTTLUnit is a value no form offers (a crafted request); callers refuse it
// like any other bad input, naming the field.
var (
	ErrTTLUnit   = errors.New("unknown TTL unit")
	ErrTTLNumber = errors.New("not a TTL number")
	ErrTTLWhole  = errors.New("not a whole number of seconds")
)

// TTLError says what is wrong with a TTL input, in words for the form.
type TTLError struct {
	Err     error // ErrTTLUnit, ErrTTLNumber or ErrTTLWhole
	Message string
}

func (e *TTLError) Error() string { return e.Message }
func (e *TTLError) Unwrap() error { return e.Err }

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
			return 0, false, &TTLError{ErrTTLUnit, "choose the TTL's unit (hours, days or seconds)"}
		}
		return 0, false, &TTLError{ErrTTLUnit, fmt.Sprintf("%q is not a TTL unit: use hours, days or seconds", unit)}
	}
	if value == "" {
		return 0, false, nil
	}
	if !ttlNumberRe.MatchString(value) {
		return 0, false, &TTLError{ErrTTLNumber, fmt.Sprintf("enter the TTL as a number of %s, e.g. 12 or 1.5", unit)}
	}
	r, ok := new(big.Rat).SetString(value)
	if !ok {
		return 0, false, &TTLError{ErrTTLNumber, fmt.Sprintf("enter the TTL as a number of %s, e.g. 12 or 1.5", unit)}
	}
	r.Mul(r, new(big.Rat).SetInt64(per))
	if !r.IsInt() {
		return 0, false, &TTLError{ErrTTLWhole, fmt.Sprintf("%s %s is not a whole number of seconds; Meta sets TTLs in 1-second steps", value, unit)}
	}
	n := r.Num()
	if !n.IsInt64() || n.Int64() > 1<<31-1 {
		return 0, false, &TTLError{ErrTTLNumber, "the TTL is far too long"}
	}
	return int(n.Int64()), true, nil
}

// CheckMarketingTTL checks seconds against Meta's range for marketing templates.
func CheckMarketingTTL(seconds int) error {
	if seconds < MinMarketingTTL || seconds > MaxMarketingTTL {
		return fmt.Errorf("a marketing TTL is between 12 hours and 30 days (%d to %d seconds); %s is outside that", MinMarketingTTL, MaxMarketingTTL, HumanTTL(seconds))
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

// HumanTTL writes seconds as "12 hours", "3 days", "90 minutes" or "45000 seconds"…
func HumanTTL(sec int) string {
	switch {
	case sec <= 0:
		return strconv.Itoa(sec) + " seconds"
	case sec%86400 == 0:
		return plural(sec/86400, "day")
	case sec%3600 == 0:
		return plural(sec/3600, "hour")
	case sec%60 == 0:
		return plural(sec/60, "minute")
	}
	return plural(sec, "second")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
