package app

import (
	"net/url"
	"testing"
)

// TestSignInRedirectStaysOnTheSite signs in with next= values that name another site in the
// ways browsers accept (scheme, protocol-relative, backslash, tab and newline that browsers
// strip) and asserts the redirect goes home instead; local paths are kept.
func TestSignInRedirectStaysOnTheSite(t *testing.T) {
	f := newFixture(t)
	cases := map[string]string{
		"https://evil.example/":    "/",
		"//evil.example":           "/",
		"///evil.example":          "/",
		"/\\evil.example":          "/",
		"\\\\evil.example":         "/",
		"/\t/evil.example":         "/",
		"/\n/evil.example":         "/",
		"/\r\n/evil.example":       "/",
		"javascript:alert(1)":      "/",
		"evil.example":             "/",
		"":                         "/",
		"/login?next=//evil":       "/",
		"/templates?status=PAUSED": "/templates?status=PAUSED",
		"/messages/wamid.A%2FB":    "/messages/wamid.A%2FB",
	}
	for next, want := range cases {
		pre := f.preSession()
		resp, body := f.post("", "/login", url.Values{"email": {"viewer@acme.example"}, "password": {testPW},
			"_csrf": {pre.Value}, "next": {next}}, pre)
		if resp.StatusCode != 303 {
			t.Errorf("next=%q: status %d %.200s", next, resp.StatusCode, body)
			continue
		}
		if got := resp.Header.Get("Location"); got != want {
			t.Errorf("next=%q: redirected to %q, want %q", next, got, want)
		}
	}
}
