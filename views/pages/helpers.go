package pages

import (
	"net/url"
	"strconv"

	"mmconsole/internal/templates"
	"mmconsole/models"
)

func itoa(n int) string { return strconv.Itoa(n) }

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
	case templates.KindSyncing, templates.KindDormant:
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
