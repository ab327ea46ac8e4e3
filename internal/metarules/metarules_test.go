package metarules

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestNANPRegionTellsUSFromCanadaAndCaribbean(t *testing.T) {
	cases := []struct {
		digits string
		region string
		us     bool
	}{
		{"12125550100", "United States", true},        // New York
		{"14155550100", "United States", true},        // San Francisco
		{"17875550100", "United States", true},        // Puerto Rico is a US territory
		{"18005550100", "United States", true},        // toll-free: cannot be told apart, counts as US
		{"14165550100", "Canada", false},              // Toronto
		{"16045550100", "Canada", false},              // Vancouver
		{"15145550100", "Canada", false},              // Montréal
		{"18675550100", "Canada", false},              // Yukon, Northwest Territories, Nunavut
		{"18765550100", "Jamaica", false},             // Jamaica
		{"18095550100", "Dominican Republic", false},  // Dominican Republic
		{"12425550100", "Bahamas", false},             // Nassau
		{"14415550100", "Bermuda", false},             // Bermuda
		{"18685550100", "Trinidad and Tobago", false}, // Port of Spain
		{"5215512345678", "", false},                  // Mexico is +52, not NANP
		{"447700900123", "", false},                   // United Kingdom
		{"1", "", false},                              // too short to have an area code
	}
	for _, c := range cases {
		if got := NANPRegion(c.digits); got != c.region {
			t.Errorf("NANPRegion(%s) = %q, want %q", c.digits, got, c.region)
		}
		if got := IsUSNumber(c.digits); got != c.us {
			t.Errorf("IsUSNumber(%s) = %v, want %v", c.digits, got, c.us)
		}
	}
}

func TestParseTTLOneRuleForEveryForm(t *testing.T) {
	cases := []struct {
		value, unit string
		want        int
		set         bool
		err         error
	}{
		{"", "", 0, false, nil},                // nothing chosen
		{"", "hours", 0, false, nil},           // a unit alone is still nothing chosen
		{"12", "hours", 43200, true, nil},      // Meta's minimum
		{"12.5", "hours", 45000, true, nil},    // fractions that give whole seconds are fine
		{"1.5", "days", 129600, true, nil},     // same rule for days
		{"30", "days", 2592000, true, nil},     // Meta's maximum
		{"43200", "seconds", 43200, true, nil}, //
		{"0.00001", "hours", 0, false, ErrTTLWhole},
		{"1.0000001", "days", 0, false, ErrTTLNumber}, // too many decimals to be typed on purpose
		{"3", "weeks", 0, false, ErrTTLUnit},          // crafted unit: refused, not read as days
		{"3", "", 0, false, ErrTTLUnit},               // empty unit: refused, not read as days
		{"", "weeks", 0, false, ErrTTLUnit},           // crafted unit even without a value
		{"-12", "hours", 0, false, ErrTTLNumber},
		{"1e5", "seconds", 0, false, ErrTTLNumber},
		{"12 h", "hours", 0, false, ErrTTLNumber},
		{"abc", "days", 0, false, ErrTTLNumber},
	}
	for _, c := range cases {
		got, set, err := ParseTTL(c.value, c.unit)
		if !errors.Is(err, c.err) || got != c.want || set != c.set {
			t.Errorf("ParseTTL(%q, %q) = %d, %v, %v; want %d, %v, %v", c.value, c.unit, got, set, err, c.want, c.set, c.err)
		}
	}
}

func TestCheckMarketingTTLRange(t *testing.T) {
	for _, c := range []struct {
		s  int
		ok bool
	}{{43199, false}, {43200, true}, {45000, true}, {2592000, true}, {2592001, false}, {0, false}} {
		if err := CheckMarketingTTL(c.s); (err == nil) != c.ok {
			t.Errorf("CheckMarketingTTL(%d) = %v, want ok=%v", c.s, err, c.ok)
		}
	}
}

func TestSplitTTLRoundTrips(t *testing.T) {
	for _, s := range []int{43200, 45000, 86400, 129600, 2592000, 43201} {
		v, u := SplitTTL(s)
		got, set, err := ParseTTL(v, u)
		if err != nil || !set || got != s {
			t.Errorf("SplitTTL(%d) = %q %q, which parses to %d, %v, %v", s, v, u, got, set, err)
		}
	}
}

func TestCheckTextParamWhitespaceAndLength(t *testing.T) {
	cases := []struct {
		name, section, value string
		code                 int
	}{
		{"plain", SectionBody, "Ana", 0},
		{"four spaces allowed", SectionBody, "a    b", 0},
		{"five spaces refused", SectionBody, "a     b", CodeParamProblem},
		{"newline refused", SectionBody, "a\nb", CodeParamProblem},
		{"carriage return refused", SectionHeader, "a\rb", CodeParamProblem},
		{"tab refused", SectionHeader, "a\tb", CodeParamProblem},
		{"body at its limit", SectionBody, strings.Repeat("x", MaxBodyParam), 0},
		{"body beyond its limit", SectionBody, strings.Repeat("x", MaxBodyParam+1), CodeParamProblem},
		{"multibyte counted as characters", SectionBody, strings.Repeat("é", MaxBodyParam), 0},
	}
	for _, c := range cases {
		p := CheckTextParam(context.Background(), c.section, c.value)
		got := 0
		if p != nil {
			got = p.Code
		}
		if got != c.code {
			t.Errorf("%s: code %d, want %d (%v)", c.name, got, c.code, p)
		}
	}
}

func TestCheckHydratedLimits(t *testing.T) {
	if p := CheckHydrated(context.Background(), SectionHeader, strings.Repeat("h", MaxHeaderHydrate)); p != nil {
		t.Errorf("header at its limit refused: %v", p)
	}
	if p := CheckHydrated(context.Background(), SectionHeader, strings.Repeat("h", MaxHeaderHydrate+1)); p == nil || p.Code != CodeHydratedTooLong || !p.Inferred {
		t.Errorf("header beyond its limit: %+v", p)
	}
	if p := CheckHydrated(context.Background(), SectionBody, strings.Repeat("b", MaxBodyHydrated)); p != nil {
		t.Errorf("body at its limit refused: %v", p)
	}
	if p := CheckHydrated(context.Background(), SectionBody, strings.Repeat("b", MaxBodyHydrated+1)); p == nil || p.Code != CodeHydratedTooLong {
		t.Errorf("body beyond its limit: %+v", p)
	}
	if p := CheckURLSuffix(context.Background(), "https://x.example/", "a b"); p == nil || p.Code != CodeParamProblem {
		t.Errorf("url suffix with a space: %+v", p)
	}
	if p := CheckURLSuffix(context.Background(), "https://x.example/", strings.Repeat("a", MaxURLHydrated)); p == nil || p.Code != CodeHydratedTooLong {
		t.Errorf("url beyond its limit: %+v", p)
	}
}
