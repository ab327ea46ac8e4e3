package graph

import (
	"net/url"
	"regexp"
	"strings"
)

// Redacted replaces a secret found in text that came from the Graph API (or from the network in
// between). It says what was there, so a reader knows the text was changed on purpose.
const Redacted = "[redacted token]"

// Patterns of things that look like credentials, whoever's they are. They are compiled once and
// never changed: lookup tables, not state.
var (
	// Meta user, system user and page access tokens start with EAA.
	metaToken = regexp.MustCompile(`EAA[A-Za-z0-9]{10,}`)
	// "Bearer xyz", "OAuth xyz": what a proxy echoing the Authorization header shows.
	bearer = regexp.MustCompile(`(?i)\b(bearer|oauth)(\s+|%20|\+)[^\s"'<>,;&]+`)
	// access_token=xyz, "access_token":"xyz", access_token: xyz.
	tokenParam = regexp.MustCompile(`(?i)(access_token|client_secret|app_secret|appsecret_proof)(["']?\s*[:=]\s*["']?|%3D)[^\s"'<>,;&]+`)
	// A long opaque run of token characters (40+): app tokens and tokens of other providers.
	opaque = regexp.MustCompile(`[A-Za-z0-9_\-\.~+/=|]{40,}`)
)

// Scrub removes the connection's access token and anything else that looks like a bearer or
// access token from text, so that error text answered by the Graph API can be stored, shown,
// logged, put in a cookie or audited. The client applies it when it builds an error, which is
// the one place all Graph text passes through; callers never need to remember it.
func Scrub(s, token string) string {
	if s == "" {
		return s
	}
	if t := strings.TrimSpace(token); len(t) >= 8 {
		s = strings.ReplaceAll(s, t, Redacted)
		if q := url.QueryEscape(t); q != t {
			s = strings.ReplaceAll(s, q, Redacted)
		}
	}
	s = bearer.ReplaceAllString(s, "${1} "+Redacted)
	s = tokenParam.ReplaceAllString(s, "${1}="+Redacted)
	s = metaToken.ReplaceAllString(s, Redacted)
	return scrubOpaque(s)
}

// scrubOpaque redacts long opaque runs, except the identifiers Meta legitimately puts in error
// text: message IDs (wamid.…), URLs' paths and digit-only IDs.
func scrubOpaque(s string) string {
	locs := opaque.FindAllStringIndex(s, -1)
	if locs == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, l := range locs {
		run := s[l[0]:l[1]]
		if !looksLikeSecret(s[:l[0]], run) {
			continue
		}
		b.WriteString(s[last:l[0]])
		b.WriteString(Redacted)
		last = l[1]
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func looksLikeSecret(before, run string) bool {
	if strings.HasPrefix(run, "wamid.") || strings.HasSuffix(before, "wamid.") || strings.Contains(run, Redacted) {
		return false
	}
	// A path ("/v25.0/123/message_templates") or a URL is not a token.
	if strings.Count(run, "/") > 1 || strings.HasSuffix(before, "://") {
		return false
	}
	// Names (summer_sale_2026_final_v2) are words joined by separators; a token has one long
	// run of mixed letters and digits.
	longest := ""
	for _, seg := range strings.FieldsFunc(run, func(r rune) bool { return strings.ContainsRune("_-.~+/=|", r) }) {
		if len(seg) > len(longest) {
			longest = seg
		}
	}
	if len(longest) < 24 {
		return false
	}
	var letters, digits int
	for _, r := range longest {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
			letters++
		}
	}
	return letters >= 8 && digits >= 4
}

// scrubBytes is Scrub for a raw response body.
func scrubBytes(b []byte, token string) []byte {
	if len(b) == 0 {
		return b
	}
	s := Scrub(string(b), token)
	if s == string(b) {
		return b
	}
	return []byte(s)
}

// scrub removes token-like text from every free-text field of ge (and of its DecodeError).
func (ge *GraphError) scrub(token string) *GraphError {
	ge.Message = Scrub(ge.Message, token)
	ge.Details = Scrub(ge.Details, token)
	ge.Type = Scrub(ge.Type, token)
	ge.UserTitle = Scrub(ge.UserTitle, token)
	ge.UserMessage = Scrub(ge.UserMessage, token)
	ge.FBTraceID = Scrub(ge.FBTraceID, token)
	ge.Raw = scrubBytes(ge.Raw, token)
	if de, ok := ge.Err.(*DecodeError); ok {
		de.Snippet = Scrub(de.Snippet, token)
		de.ContentType = Scrub(de.ContentType, token)
		if de.Err != nil {
			de.Err = scrubbedError{Scrub(de.Err.Error(), token)}
		}
	}
	return ge
}

// scrubbedError replaces an error whose text held a secret; only its words are kept.
type scrubbedError struct{ msg string }

func (e scrubbedError) Error() string { return e.msg }
