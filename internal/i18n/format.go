package i18n

import (
	"context"
	"time"

	"github.com/a-h/templ"
	"golang.org/x/text/number"
)

// Num is an integer with the language's digit grouping: 1,234,567 / 1.234.567.
func Num(ctx context.Context, n int64) string {
	return FromContext(ctx).printer.Sprint(number.Decimal(n))
}

// Dec is a decimal number with at most digits fraction digits: 12.5 / 12,5.
func Dec(ctx context.Context, f float64, digits int) string {
	return FromContext(ctx).printer.Sprint(number.Decimal(f, number.MaxFractionDigits(digits)))
}

// Pct is a ratio (0.253) as a percentage with at most digits fraction digits: 25.3% / 25,3 %.
func Pct(ctx context.Context, ratio float64, digits int) string {
	return FromContext(ctx).printer.Sprint(number.Percent(ratio, number.MaxFractionDigits(digits)))
}

// monthKeys name the months in the catalogs (format.month.1 … 12), abbreviated.
var monthKeys = [12]string{
	Key("format.month.1"), Key("format.month.2"), Key("format.month.3"), Key("format.month.4"),
	Key("format.month.5"), Key("format.month.6"), Key("format.month.7"), Key("format.month.8"),
	Key("format.month.9"), Key("format.month.10"), Key("format.month.11"), Key("format.month.12"),
}

// Date is a day as the language writes it, in UTC: "29 Nov 2026", "29 nov 2026", "29 de nov. de 2026".
func Date(ctx context.Context, t time.Time) string {
	t = t.UTC()
	return T(ctx, "format.date", "Day", t.Day(), "Month", T(ctx, monthKeys[t.Month()-1]), "Year", t.Year())
}

// DateTime is Date with the UTC time of day: "29 Nov 2026, 20:18 UTC".
func DateTime(ctx context.Context, t time.Time) string {
	return T(ctx, "format.datetime", "Date", Date(ctx, t), "Time", t.UTC().Format("15:04"))
}

// Ago is how long ago something happened, in the largest whole unit: "5 minutes ago",
// "hace 5 minutos", "há 5 minutos". A negative d (the future) reads as "just now".
func Ago(ctx context.Context, d time.Duration) string {
	switch {
	case d < time.Minute:
		return T(ctx, "format.ago.now")
	case d < time.Hour:
		return N(ctx, "format.ago.minutes", int(d/time.Minute))
	case d < 48*time.Hour:
		return N(ctx, "format.ago.hours", int(d/time.Hour))
	default:
		return N(ctx, "format.ago.days", int(d/(24*time.Hour)))
	}
}

// HTML renders a message whose catalog text holds markup (a link, <code>), escaping every
// argument. Use it for sentences a translator must be able to reorder around their markup.
func HTML(ctx context.Context, key string, args ...any) templ.Component {
	return templ.Raw(HTMLString(ctx, key, args...))
}
