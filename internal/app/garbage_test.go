package app

import (
	"net/url"
	"strings"
	"testing"
)

// TestGarbageQueryStringsNeverFail sends values that do not parse (or parse into extremes) to
// every query parameter of the main pages, as a signed-in user and as staff: a filter or a
// cursor that makes no sense narrows to nothing or is ignored, it never answers 5xx.
func TestGarbageQueryStringsNeverFail(t *testing.T) {
	f := newFixture(t)
	params := map[string][]string{
		"/templates":            {"q", "status", "category", "quality", "language", "waba", "state", "sort", "page"},
		"/log":                  {"waba", "phone", "kind", "status", "route", "error_code", "template", "recipient", "wamid", "from", "to", "live", "before"},
		"/log/tail":             {"after", "kind", "from", "to", "error_code"},
		"/sends":                {"template", "recipient", "user", "before", "limit"},
		"/audit":                {"account", "actor", "action", "target", "from", "to", "before", "after", "page"},
		"/optimizations":        {"conn"},
		"/optimizations/matrix": {"conn", "after"},
		"/send":                 {"conn", "template", "phone", "recipient", "ttl", "ttl_unit", "policy", "sharing", "key"},
	}
	garbage := []string{
		"", " ", "-1", "0", "18446744073709551616", "18446744073709551615", "9223372036854775808", "9223372036854775807", "-9223372036854775808",
		"1e309", "NaN", "abc", "%", "%00", "\x00", "'; DROP TABLE users; --", "1-", "-", "9999999999999999999-1",
		"1-99999999999999999999", "2024-13-45T99:99", "0001-01-01T00:00", "9999-12-31T23:59", strings.Repeat("9", 400),
		strings.Repeat("a", 2000), "\\", "%5C%2F", "🙂", "[]", "{}", "1,2,3", "true",
	}
	for _, role := range []string{"viewer", "admin", "staff-admin"} {
		for path, names := range params {
			for _, name := range names {
				for _, g := range garbage {
					q := url.Values{name: {g}}
					// Some handlers read a parameter only when another one is set.
					if name != "conn" {
						q.Set("conn", "1")
					}
					target := path + "?" + q.Encode()
					resp, body := f.get(role, target)
					if resp.StatusCode >= 500 {
						t.Errorf("GET %s as %s: %d %.200s\nlog: %s", target, role, resp.StatusCode, body, lastError(f.logs.String()))
					}
				}
			}
		}
	}
	// Repeated and raw (not form-encoded) garbage, the way a hand-edited URL arrives.
	for _, raw := range []string{"/templates?page=1&page=x&page=", "/log?before=%ZZ", "/log?from=&to=&&&=", "/sends?before=-5",
		"/optimizations/matrix?after=-1&conn=-1", "/audit?before=%00", "/log/tail?after=-9223372036854775808-0",
		"/log?before=1-18446744073709551615", "/log/tail?after=1-18446744073709551615",
		// Path parameters past the database's integer range.
		"/templates/18446744073709551615", "/log/events/18446744073709551615", "/sends/18446744073709551615/result",
		"/optimizations/template/18446744073709551615", "/optimizations?conn=18446744073709551615",
		"/settings/connections/18446744073709551615", "/messages/%FF%FE", "/templates/%00"} {
		resp, body := f.get("admin", raw)
		if resp.StatusCode >= 500 {
			t.Errorf("GET %s: %d %.200s\nlog: %s", raw, resp.StatusCode, body, lastError(f.logs.String()))
		}
	}
}
