package pages

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"mmconsole/internal/templates"
	"mmconsole/models"
)

func itoa(n int) string { return strconv.Itoa(n) }

func statusTone(s string) string {
	switch s {
	case "delivered", "read", "APPROVED", "GREEN", "resume", "MM_LITE_TERMS_SIGNED", "clicked":
		return "ok"
	case "failed", "REJECTED", "DISABLED", "RED", "stop", "PAUSED":
		return "bad"
	case "YELLOW", "PENDING", "FLAGGED", "IMPENDING", "accepted":
		return "warn"
	}
	return ""
}

// shortID keeps long ids readable in tables; the full id is in the link and the raw JSON.
func shortID(s string) string {
	if len(s) <= 28 {
		return s
	}
	return s[:24] + "…"
}

// messagePath is the message page of a wamid. Wamids are base64: "/" and "+" must be escaped.
func messagePath(wamid string) string { return "/messages/" + url.PathEscape(wamid) }

func withParam(query, key, value string) string {
	if query == "" {
		return key + "=" + value
	}
	return query + "&" + key + "=" + value
}

func uitoa(n uint) string { return strconv.FormatUint(uint64(n), 10) }

func connName(c models.WABAConnection) string {
	if c.Name != "" {
		return c.Name
	}
	return "WABA " + c.WABAID
}

func ariaInvalid(msg string) string {
	if msg != "" {
		return "true"
	}
	return "false"
}

func kindClass(k templates.Kind) string {
	switch k {
	case templates.KindReady:
		return "badge-ok"
	case templates.KindSyncing, templates.KindDormant, templates.KindFallback:
		return "badge-warn"
	case templates.KindNotForMMAPI:
		return "badge-info"
	}
	return "badge-bad"
}

func withState(f templates.Filter, k templates.Kind) templates.Filter {
	f.State = string(k)
	return f
}

// catalogQuery is the catalog's query string for a filter and page, so links and pushed URLs
// keep the filters.
func catalogQuery(f templates.Filter, page int) string {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("q", f.Name)
	if f.Connection != 0 {
		v.Set("waba", uitoa(f.Connection))
	}
	set("status", f.Status)
	set("category", f.Category)
	set("language", f.Language)
	set("quality", f.Quality)
	set("state", f.State)
	set("sort", f.Sort)
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return v.Encode()
}

// rfc formats a time for <time datetime> and data-countdown attributes.
func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// plural writes "1 event matches" or "3 events match".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(n) + " " + many
}

// words turns one of Meta's enum names into words people read: "MARKETING" -> "Marketing",
// "PENDING_DELETION" -> "Pending deletion". Filters keep the enum as their value.
func words(enum string) string {
	if enum == "" {
		return ""
	}
	s := strings.ToLower(strings.ReplaceAll(enum, "_", " "))
	return strings.ToUpper(s[:1]) + s[1:]
}

// asIs shows a value unchanged (language codes, Meta's status names).
func asIs(s string) string { return s }

// shortTime is a time in UTC to the minute, for text people read.
func shortTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// graphFailedLast reports whether c's latest Graph API call failed.
func graphFailedLast(c models.WABAConnection) bool {
	// Equal times: Meta answered that call with an error (see accounts.GraphContacts).
	return c.GraphFailedAt != nil && (c.GraphOKAt == nil || !c.GraphFailedAt.Before(*c.GraphOKAt))
}

// maxLen is the maxlength of an input named name: the limit the server enforces on that field
// (models.FieldMax), so the page and the server stop a person at the same length.
func maxLen(name string) string { return strconv.Itoa(models.FieldMax(name)) }
