package metarules

import (
	"context"
	"strings"
	"unicode/utf8"

	"mmconsole/internal/i18n"
)

// Error codes of refused template parameters (mm-api-reference §2.3).
const (
	// CodeParamProblem is 132018, "template component parameter problems at send time"; the
	// whitespace rule below is the detail Meta gives with it. [I] for the pairing of code and rule.
	CodeParamProblem = 132018
	// CodeHydratedTooLong is 132005, "hydrated text too long".
	CodeHydratedTooLong = 132005
)

// Length limits of template text. Where the reference does not state a send-time limit, the
// template's own authoring limit is assumed to apply to the filled-in text: those are [I].
const (
	MaxBodyParam     = 32768 // one body text parameter [C] (Meta OpenAPI)
	MaxBodyHydrated  = 1024  // the body with its variables filled in [I] (body authoring limit)
	MaxHeaderHydrate = 60    // the text header with its variable filled in [I] (header authoring limit)
	MaxURLHydrated   = 2000  // a URL button's link with its suffix [I] (URL authoring limit)
	MaxCouponCode    = 15    // a copy-code button's coupon [C] (coupon template page)
)

// Section of a template a text parameter belongs to.
const (
	SectionHeader = "header"
	SectionBody   = "body"
)

// ParamProblem is a variable value Meta refuses, with the code it answers.
type ParamProblem struct {
	Code     int
	Message  string
	Inferred bool // the limit or the code is [I]
}

// CheckTextParam checks one header or body text variable: Meta refuses new lines, tabs and more
// than 4 consecutive spaces in a parameter, and a body parameter longer than 32768 characters.
func CheckTextParam(ctx context.Context, section, value string) *ParamProblem {
	switch {
	case strings.ContainsAny(value, "\n\r"):
		return &ParamProblem{Code: CodeParamProblem, Message: i18n.T(ctx, "rules.param.newline")}
	case strings.Contains(value, "\t"):
		return &ParamProblem{Code: CodeParamProblem, Message: i18n.T(ctx, "rules.param.tab")}
	case strings.Contains(value, "     "):
		return &ParamProblem{Code: CodeParamProblem, Message: i18n.T(ctx, "rules.param.spaces")}
	case section == SectionBody && utf8.RuneCountInString(value) > MaxBodyParam:
		return &ParamProblem{Code: CodeParamProblem, Message: i18n.T(ctx, "rules.param.too_long", "Max", MaxBodyParam, "N", utf8.RuneCountInString(value))}
	}
	return nil
}

// hydratedKeys name the too-long message of each section.
var hydratedKeys = map[string]string{
	SectionHeader: i18n.Key("rules.param.hydrated_header"),
	SectionBody:   i18n.Key("rules.param.hydrated_body"),
}

// CheckHydrated checks the text of a section with its variables filled in against the length
// Meta allows for it (132005). These limits are [I].
func CheckHydrated(ctx context.Context, section, hydrated string) *ParamProblem {
	n := utf8.RuneCountInString(hydrated)
	max := MaxBodyHydrated
	if section == SectionHeader {
		max = MaxHeaderHydrate
	}
	if n > max {
		return &ParamProblem{Code: CodeHydratedTooLong, Inferred: true,
			Message: i18n.T(ctx, hydratedKeys[section], "N", n, "Max", max)}
	}
	return nil
}

// CheckURLSuffix checks a URL button's variable: the whole link (prefix and suffix) is limited,
// and a link cannot hold whitespace.
func CheckURLSuffix(ctx context.Context, prefix, suffix string) *ParamProblem {
	if strings.ContainsAny(suffix, " \t\n\r") {
		return &ParamProblem{Code: CodeParamProblem, Message: i18n.T(ctx, "rules.param.suffix_spaces")}
	}
	if n := utf8.RuneCountInString(prefix + suffix); n > MaxURLHydrated {
		return &ParamProblem{Code: CodeHydratedTooLong, Inferred: true,
			Message: i18n.T(ctx, "rules.param.link_too_long", "N", n, "Max", MaxURLHydrated)}
	}
	return nil
}
