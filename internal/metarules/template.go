package metarules

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"mmconsole/internal/i18n"
)

// Rules Meta applies when a template is created or its components are edited
// (mm-api-reference §3.3 and Meta's template guidelines). The console's authoring form checks
// them as the user types, and the sandbox refuses a create request that breaks them, with the
// same words, so both tell one story.

// Authoring limits of a template's components.
const (
	MaxTemplateName   = 512  // [C] §3.3
	MaxHeaderText     = 60   // text header
	MaxBodyText       = 1024 // body
	MaxFooterText     = 60   // footer
	MaxButtonText     = 25   // a button's label
	MaxButtons        = 10   // buttons of a template
	MaxURLButtons     = 2    // URL buttons of a template
	MaxPhoneButtons   = 1    // phone-number buttons of a template
	MaxCopyButtons    = 1    // copy-code buttons of a template
	MaxURLLength      = 2000 // a URL button's link
	MaxPhoneLength    = 20   // a phone button's number
	MaxHeaderVars     = 1    // variables a text header may hold
	MaxMediaReference = 2048 // a sample URL or upload handle of a media header
)

// Error subcodes Meta answers (with code 100) when it refuses a template at creation. Only
// 2388024 is in the reference [C]; the others are Meta's template-creation subcodes as public
// error pages list them [I], used by the sandbox so the console can put each refusal next to the
// field it concerns.
const (
	SubcodeDuplicate      = 2388024 // name already exists in that language [C]
	SubcodeTooLong        = 2388040 // a field has too many characters [I]
	SubcodeHeaderFormat   = 2388047 // the header is not well formed [I]
	SubcodeBodyFormat     = 2388072 // the body (or its variables) is not well formed [I]
	SubcodeFooterFormat   = 2388073 // the footer is not well formed [I]
	SubcodeMissingExample = 2388043 // a variable or media header lacks its sample [I]
	SubcodeButtons        = 2388071 // the buttons break a limit or a rule [I]
)

// TemplateDef is the part of a template's definition the creation rules look at, the same for a
// form and a create request.
type TemplateDef struct {
	Name, Language, Category string
	ParameterFormat          string // NAMED or POSITIONAL ("" = POSITIONAL)
	Header                   *HeaderDef
	Body                     TextDef
	Footer                   string
	Buttons                  []ButtonDef
}

// HeaderDef is a header: TEXT (with at most one variable and its example) or a media format
// (IMAGE, VIDEO, DOCUMENT) with a sample (an upload handle or a sample URL).
type HeaderDef struct {
	Format string
	TextDef
	Sample string
}

// TextDef is text with variables and their examples: positional examples in order ({{1}},
// {{2}}…), named ones by name.
type TextDef struct {
	Text     string
	Examples []string
	Named    map[string]string
}

// ButtonDef is one button: URL (a variable only as the link's suffix, with an example of the
// whole link), QUICK_REPLY, PHONE_NUMBER or COPY_CODE (Example is the code).
type ButtonDef struct {
	Type, Text, URL, Phone, Example string
}

// Problem is one broken rule: the field it concerns (as the authoring form names its inputs),
// what is wrong in words, and the subcode Meta answers for it.
type Problem struct {
	Field   string
	Message string
	Subcode int
}

// Fields of the authoring form, used in Problem.Field.
const (
	FieldName          = "name"
	FieldLanguage      = "language"
	FieldCategory      = "category"
	FieldFormat        = "parameter_format"
	FieldHeader        = "header_text"
	FieldHeaderExample = "header_example"
	FieldHeaderSample  = "header_sample"
	FieldHeaderFormat  = "header_format"
	FieldBody          = "body"
	FieldBodyExamples  = "body_examples"
	FieldFooter        = "footer"
	FieldButtons       = "buttons"
)

// ButtonField names one button's input, e.g. ButtonField(0, "url") = "button_url_0".
func ButtonField(i int, part string) string { return "button_" + part + "_" + strconv.Itoa(i) }

var (
	templateNameRe = regexp.MustCompile(`^[a-z0-9_]+$`)
	namedVarRe     = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	anyVarRe       = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)
	phoneRe        = regexp.MustCompile(`^\+?[0-9]{6,19}$`)
	couponRe       = regexp.MustCompile(`^[A-Za-z0-9]+$`)
)

// CheckTemplateName applies Meta's name rule: lowercase letters, digits and underscores, at most
// 512 characters. It returns "" when the name is fine.
func CheckTemplateName(ctx context.Context, name string) string {
	switch {
	case name == "":
		return i18n.T(ctx, "rules.name.empty")
	case len(name) > MaxTemplateName:
		return i18n.T(ctx, "rules.name.too_long", "Max", MaxTemplateName, "N", len(name))
	case !templateNameRe.MatchString(name):
		return i18n.T(ctx, "rules.name.chars")
	}
	return ""
}

// Variables lists the variables of text in order of appearance (names inside the braces, e.g.
// "1" or "first_name").
func Variables(text string) []string {
	var out []string
	for _, m := range anyVarRe.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}

// checkVars applies the variable rules to one text: every variable is {{1}}, {{2}}… in order
// (positional) or {{lowercase_name}} (named), never both, never empty; it returns the distinct
// variables in order.
func checkVars(ctx context.Context, where, text, format string) ([]string, string) {
	vars := Variables(text)
	var distinct []string
	seen := map[string]bool{}
	for _, v := range vars {
		if v == "" {
			return nil, i18n.T(ctx, "rules.var.empty", "Where", where, "Empty", "{{}}", "One", "{{1}}", "Named", "{{first_name}}")
		}
		if format == "NAMED" {
			if !namedVarRe.MatchString(v) {
				return nil, i18n.T(ctx, "rules.var.not_named", "Where", where, "Var", "{{"+v+"}}", "Named", "{{first_name}}")
			}
		} else if _, err := strconv.Atoi(v); err != nil {
			return nil, i18n.T(ctx, "rules.var.not_numbered", "Where", where, "Var", "{{"+v+"}}", "Numbered", "{{1}}, {{2}}…")
		}
		if !seen[v] {
			seen[v] = true
			distinct = append(distinct, v)
		}
	}
	if format != "NAMED" {
		for i, v := range distinct {
			if n, _ := strconv.Atoi(v); n != i+1 {
				return nil, i18n.T(ctx, "rules.var.gap", "Where", where, "Numbered", "{{1}}, {{2}}, {{3}}…", "Var", "{{"+v+"}}", "Want", "{{"+strconv.Itoa(i+1)+"}}")
			}
		}
	}
	return distinct, ""
}

// checkExamples checks that every variable has a usable example.
func checkExamples(ctx context.Context, field, section string, vars []string, def TextDef, format string) *Problem {
	where := i18n.T(ctx, "rules.in.body")
	if section == SectionHeader {
		where = i18n.T(ctx, "rules.in.header")
	}
	for i, v := range vars {
		var ex string
		if format == "NAMED" {
			ex = def.Named[v]
		} else if i < len(def.Examples) {
			ex = def.Examples[i]
		}
		label := "{{" + v + "}}"
		if strings.TrimSpace(ex) == "" {
			return &Problem{field, i18n.T(ctx, "rules.example.missing", "Var", label, "Where", where), SubcodeMissingExample}
		}
		if p := CheckTextParam(ctx, section, ex); p != nil {
			return &Problem{field, i18n.T(ctx, "rules.example.problem", "Var", label, "Problem", p.Message), SubcodeMissingExample}
		}
		// An example longer than the text it fills may hold could never be sent, and without a
		// bound a header example (no parameter limit of its own) would take any length. [I]
		if n, max := utf8.RuneCountInString(ex), exampleMax(section); n > max {
			return &Problem{field, i18n.T(ctx, "rules.example.too_long", "Var", label, "Max", max, "N", n, "Where", where), SubcodeTooLong}
		}
	}
	return nil
}

// exampleMax is the longest example a variable of section may have: the length of the text it
// fills once filled in. [I]
func exampleMax(section string) int {
	if section == SectionHeader {
		return MaxHeaderHydrate
	}
	return MaxBodyHydrated
}

// ExampleMax is the longest example of variable v of a template whose header has headerVars:
// the header's bound when v is in the header (checked first), else the body's. The form's
// maxlength uses it so the browser and the server agree.
func ExampleMax(v string, headerVars []string) int {
	for _, h := range headerVars {
		if h == v {
			return MaxHeaderHydrate
		}
	}
	return MaxBodyHydrated
}

func tooLong(ctx context.Context, field, what, text string, max int) *Problem {
	if n := utf8.RuneCountInString(text); n > max {
		return &Problem{field, i18n.T(ctx, "rules.too_long", "What", what, "Max", max, "N", n), SubcodeTooLong}
	}
	return nil
}

// CheckTemplate applies Meta's creation rules to a definition and returns every problem, at
// most one per field, in the order of the form. Duplicates (a name that exists in the language)
// are the caller's to check: they need the WABA's templates.
func CheckTemplate(ctx context.Context, d TemplateDef) []Problem {
	var out []Problem
	add := func(p *Problem) {
		if p == nil {
			return
		}
		for _, q := range out {
			if q.Field == p.Field {
				return
			}
		}
		out = append(out, *p)
	}
	if msg := CheckTemplateName(ctx, d.Name); msg != "" {
		add(&Problem{FieldName, msg, 0})
	}
	if !KnownLanguage(d.Language) {
		add(&Problem{FieldLanguage, i18n.T(ctx, "rules.language"), 0})
	}
	switch strings.ToUpper(d.Category) {
	case "MARKETING", "UTILITY", "AUTHENTICATION":
	default:
		add(&Problem{FieldCategory, i18n.T(ctx, "rules.category"), 0})
	}
	format := strings.ToUpper(d.ParameterFormat)
	switch format {
	case "", "POSITIONAL":
		format = "POSITIONAL"
	case "NAMED":
	default:
		add(&Problem{FieldFormat, i18n.T(ctx, "rules.format"), 0})
	}

	if h := d.Header; h != nil {
		switch strings.ToUpper(h.Format) {
		case "TEXT":
			if strings.TrimSpace(h.Text) == "" {
				add(&Problem{FieldHeader, i18n.T(ctx, "rules.header.empty"), SubcodeHeaderFormat})
			}
			theHeader := i18n.T(ctx, "rules.where.header")
			add(tooLong(ctx, FieldHeader, theHeader, h.Text, MaxHeaderText))
			vars, msg := checkVars(ctx, theHeader, h.Text, format)
			switch {
			case msg != "":
				add(&Problem{FieldHeader, msg, SubcodeHeaderFormat})
			case len(vars) > MaxHeaderVars:
				add(&Problem{FieldHeader, i18n.T(ctx, "rules.header.vars", "Max", MaxHeaderVars, "N", len(vars)), SubcodeHeaderFormat})
			case strings.ContainsAny(anyVarRe.ReplaceAllString(h.Text, ""), "\n*_~"):
				add(&Problem{FieldHeader, i18n.T(ctx, "rules.header.format"), SubcodeHeaderFormat})
			default:
				add(checkExamples(ctx, FieldHeaderExample, SectionHeader, vars, h.TextDef, format))
			}
		case "IMAGE", "VIDEO", "DOCUMENT":
			s := strings.TrimSpace(h.Sample)
			switch {
			case s == "":
				add(&Problem{FieldHeaderSample, i18n.T(ctx, "rules.sample.missing", "Format", h.Format), SubcodeMissingExample})
			case len(s) > MaxMediaReference:
				add(&Problem{FieldHeaderSample, i18n.T(ctx, "rules.sample.too_long", "Max", MaxMediaReference), SubcodeTooLong})
			case strings.ContainsAny(s, " \t\n\r"):
				add(&Problem{FieldHeaderSample, i18n.T(ctx, "rules.sample.spaces"), SubcodeHeaderFormat})
			case strings.HasPrefix(strings.ToLower(s), "http://"):
				add(&Problem{FieldHeaderSample, i18n.T(ctx, "rules.sample.https"), SubcodeHeaderFormat})
			}
		default:
			add(&Problem{FieldHeaderFormat, i18n.T(ctx, "rules.header.kind"), SubcodeHeaderFormat})
		}
	}

	body := d.Body.Text
	switch {
	case strings.TrimSpace(body) == "":
		add(&Problem{FieldBody, i18n.T(ctx, "rules.body.empty"), SubcodeBodyFormat})
	default:
		theBody := i18n.T(ctx, "rules.where.body")
		add(tooLong(ctx, FieldBody, theBody, body, MaxBodyText))
		vars, msg := checkVars(ctx, theBody, body, format)
		trimmed := strings.TrimSpace(body)
		switch {
		case msg != "":
			add(&Problem{FieldBody, msg, SubcodeBodyFormat})
		case len(vars) > 0 && (anyVarAt(trimmed, true) || anyVarAt(trimmed, false)):
			add(&Problem{FieldBody, i18n.T(ctx, "rules.body.edges"), SubcodeBodyFormat})
		default:
			add(checkExamples(ctx, FieldBodyExamples, SectionBody, vars, d.Body, format))
		}
	}

	if d.Footer != "" {
		add(tooLong(ctx, FieldFooter, i18n.T(ctx, "rules.where.footer"), d.Footer, MaxFooterText))
		if len(Variables(d.Footer)) > 0 {
			add(&Problem{FieldFooter, i18n.T(ctx, "rules.footer.vars"), SubcodeFooterFormat})
		}
	}

	for _, p := range checkButtons(ctx, d.Buttons) {
		add(&p)
	}
	return out
}

// anyVarAt reports whether text starts (or ends) with a variable.
func anyVarAt(text string, start bool) bool {
	for _, m := range anyVarRe.FindAllStringIndex(text, -1) {
		if start && m[0] == 0 || !start && m[1] == len(text) {
			return true
		}
	}
	return false
}

func checkButtons(ctx context.Context, bs []ButtonDef) []Problem {
	var out []Problem
	if len(bs) > MaxButtons {
		out = append(out, Problem{FieldButtons, i18n.T(ctx, "rules.buttons.too_many", "Max", MaxButtons, "N", len(bs)), SubcodeButtons})
	}
	counts := map[string]int{}
	// Meta shows quick replies and call-to-action buttons as two groups: they may not interleave.
	groups, lastQuick := 0, false
	for i, b := range bs {
		t := strings.ToUpper(b.Type)
		counts[t]++
		quick := t == "QUICK_REPLY"
		if i == 0 || quick != lastQuick {
			groups++
		}
		lastQuick = quick
		n := i + 1
		if t != "COPY_CODE" {
			if strings.TrimSpace(b.Text) == "" {
				out = append(out, Problem{ButtonField(i, "text"), i18n.T(ctx, "rules.button.label_empty", "N", n), SubcodeButtons})
			} else if p := tooLong(ctx, ButtonField(i, "text"), i18n.T(ctx, "rules.button.label_what", "N", n), b.Text, MaxButtonText); p != nil {
				out = append(out, *p)
			} else if len(Variables(b.Text)) > 0 {
				out = append(out, Problem{ButtonField(i, "text"), i18n.T(ctx, "rules.button.label_vars", "N", n), SubcodeButtons})
			}
		}
		switch t {
		case "URL":
			out = append(out, checkURLButton(ctx, i, b)...)
		case "PHONE_NUMBER":
			if !phoneRe.MatchString(strings.ReplaceAll(b.Phone, " ", "")) || len(b.Phone) > MaxPhoneLength {
				out = append(out, Problem{ButtonField(i, "phone"), i18n.T(ctx, "rules.button.phone", "N", n, "Max", MaxPhoneLength), SubcodeButtons})
			}
		case "COPY_CODE":
			switch {
			case b.Example == "":
				out = append(out, Problem{ButtonField(i, "example"), i18n.T(ctx, "rules.button.code_missing", "N", n), SubcodeMissingExample})
			case utf8.RuneCountInString(b.Example) > MaxCouponCode || !couponRe.MatchString(b.Example):
				out = append(out, Problem{ButtonField(i, "example"), i18n.T(ctx, "rules.button.code_format", "N", n, "Max", MaxCouponCode), SubcodeButtons})
			}
		case "QUICK_REPLY":
		default:
			out = append(out, Problem{ButtonField(i, "type"), i18n.T(ctx, "rules.button.kind", "N", n), SubcodeButtons})
		}
	}
	switch {
	case counts["URL"] > MaxURLButtons:
		out = append(out, Problem{FieldButtons, i18n.T(ctx, "rules.buttons.url", "Max", MaxURLButtons), SubcodeButtons})
	case counts["PHONE_NUMBER"] > MaxPhoneButtons:
		out = append(out, Problem{FieldButtons, i18n.T(ctx, "rules.buttons.phone"), SubcodeButtons})
	case counts["COPY_CODE"] > MaxCopyButtons:
		out = append(out, Problem{FieldButtons, i18n.T(ctx, "rules.buttons.code"), SubcodeButtons})
	case groups > 2:
		out = append(out, Problem{FieldButtons, i18n.T(ctx, "rules.buttons.groups"), SubcodeButtons})
	}
	return out
}

func checkURLButton(ctx context.Context, i int, b ButtonDef) []Problem {
	n := i + 1
	u := strings.TrimSpace(b.URL)
	lower := strings.ToLower(u)
	switch {
	case u == "":
		return []Problem{{ButtonField(i, "url"), i18n.T(ctx, "rules.link.missing", "N", n), SubcodeButtons}}
	case !strings.HasPrefix(lower, "https://") && !strings.HasPrefix(lower, "http://"):
		return []Problem{{ButtonField(i, "url"), i18n.T(ctx, "rules.link.https", "N", n), SubcodeButtons}}
	case utf8.RuneCountInString(u) > MaxURLLength:
		return []Problem{{ButtonField(i, "url"), i18n.T(ctx, "rules.link.too_long", "N", n, "Max", MaxURLLength), SubcodeTooLong}}
	case strings.ContainsAny(u, " \t\n\r"):
		return []Problem{{ButtonField(i, "url"), i18n.T(ctx, "rules.link.spaces", "N", n), SubcodeButtons}}
	}
	vars := Variables(u)
	switch {
	case len(vars) == 0:
		return nil
	case len(vars) > 1 || vars[0] != "1" || !strings.HasSuffix(u, "{{1}}"):
		return []Problem{{ButtonField(i, "url"), i18n.T(ctx, "rules.link.var", "N", n, "Var", "{{1}}", "Example", "https://shop.example/p/{{1}}"), SubcodeButtons}}
	}
	ex := strings.TrimSpace(b.Example)
	prefix := strings.TrimSuffix(u, "{{1}}")
	switch {
	case ex == "":
		return []Problem{{ButtonField(i, "example"), i18n.T(ctx, "rules.link.example_missing", "N", n, "Example", prefix+"summer"), SubcodeMissingExample}}
	case !strings.HasPrefix(ex, prefix) || len(ex) == len(prefix):
		return []Problem{{ButtonField(i, "example"), i18n.T(ctx, "rules.link.example_prefix", "N", n, "Prefix", prefix), SubcodeMissingExample}}
	}
	if p := CheckURLSuffix(ctx, prefix, strings.TrimPrefix(ex, prefix)); p != nil {
		return []Problem{{ButtonField(i, "example"), i18n.T(ctx, "rules.link.example_problem", "N", n, "Problem", p.Message), SubcodeMissingExample}}
	}
	return nil
}
