// Package i18n is how the dashboard speaks English, Spanish (Latin American usage) and Brazilian
// Portuguese. Every sentence a person reads comes from the catalogs in locales/ (one TOML file
// per language, embedded, edited by translators); the code only names messages by key.
//
// How to use it (the rules the catalog tests enforce):
//
//   - In templ: { i18n.T(ctx, "log.title") }, with arguments as name/value pairs:
//     { i18n.T(ctx, "log.showing", "From", a, "To", b) } for "Showing {{.From}}–{{.To}}".
//     Counted things: i18n.N(ctx, "log.events", n) with one/other forms in the catalog
//     ({{.Count}} is the count formatted for the language). Sentences with markup (a link,
//     <code>) are one catalog entry rendered by @i18n.HTML(ctx, key, args...): the catalog's
//     HTML is trusted, every argument is escaped.
//   - In Go: the same calls with the request's context (handlers pass c.UserContext(); services
//     get that context already). Without a locale in the context (background jobs, logs) the
//     text is English. Text stored in the database is stored as data (codes, keys), and words
//     are chosen when it is shown, so every reader sees their own language.
//   - A key is always a literal in the call, so the tests can find it. A key chosen at run time
//     (a table of error codes, feature names) is written where it is defined as i18n.Key("…").
//   - Numbers, percentages and dates: i18n.Num, i18n.Pct, i18n.Date, i18n.DateTime, i18n.Ago.
//     Relative times in the browser use Intl.RelativeTimeFormat with the page's lang.
//   - Meta's tokens (OPT_IN, STRICT, marketing_lite, error codes, field names) are not
//     translated; they may appear in catalog text as they are, ideally inside <code>.
//
// Keys are grouped by page or area ("log.", "send.", "common."), one TOML table per group, so a
// translator finds a page's sentences together. Catalog text is a Go text/template: a literal
// "{{1}}" (a WhatsApp variable) cannot be written in it; pass it as an argument
// (i18n.T(ctx, k, "Var", "{{1}}") with "… such as {{.Var}} …"). Key segments may not be go-i18n's
// reserved words (id, description, hash, zero, one, two, few, many, other, translation,
// leftdelim, rightdelim).
package i18n

import (
	"context"
	"embed"
	"fmt"
	"html"
	"io/fs"
	"path"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed locales/*.toml
var files embed.FS

// Lang is one language the dashboard speaks.
type Lang struct {
	Code string // BCP 47, as stored on a user and written in <html lang>: "en", "es", "pt-BR"
	Name string // in the language itself, for the picker: "Español"
	tag  language.Tag
}

// Langs are the languages in the order the picker lists them; the first is the fallback.
func Langs() []Lang {
	return []Lang{
		{Code: "en", Name: "English", tag: language.English},
		{Code: "es", Name: "Español", tag: language.MustParse("es")},
		{Code: "pt-BR", Name: "Português (Brasil)", tag: language.BrazilianPortuguese},
	}
}

// Supported reports whether code is one of Langs (an empty code means "not chosen").
func Supported(code string) bool {
	for _, l := range Langs() {
		if l.Code == code {
			return true
		}
	}
	return false
}

// Catalog holds the parsed messages of every language.
type Catalog struct {
	bundle  *goi18n.Bundle
	matcher language.Matcher
	locales map[string]Locale
}

// Load parses the embedded catalogs.
func Load() (*Catalog, error) {
	return loadFS(files)
}

func loadFS(fsys fs.FS) (*Catalog, error) {
	b := goi18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	langs := Langs()
	tags := make([]language.Tag, len(langs))
	for i, l := range langs {
		tags[i] = l.tag
		buf, err := fs.ReadFile(fsys, path.Join("locales", l.Code+".toml"))
		if err != nil {
			return nil, fmt.Errorf("i18n: catalog for %s: %w", l.Code, err)
		}
		if _, err := b.ParseMessageFileBytes(buf, l.Code+".toml"); err != nil {
			return nil, fmt.Errorf("i18n: catalog for %s: %w", l.Code, err)
		}
	}
	c := &Catalog{bundle: b, matcher: language.NewMatcher(tags), locales: map[string]Locale{}}
	for _, l := range langs {
		c.locales[l.Code] = Locale{
			lang:    l,
			loc:     goi18n.NewLocalizer(b, l.Code),
			printer: message.NewPrinter(l.tag),
		}
	}
	return c, nil
}

// builtin is the embedded catalog, parsed once on first use. It is constant data (the files are
// compiled in), kept here so that text rendered without a request (background work, tests that
// render a component directly) still reads English rather than keys.
var builtin = sync.OnceValue(func() *Catalog {
	c, err := Load()
	if err != nil {
		panic(err) // the catalog tests fail first; a binary cannot ship with a broken catalog
	}
	return c
})

// Locale is one language's localizer and number printer.
type Locale struct {
	lang    Lang
	loc     *goi18n.Localizer
	printer *message.Printer
}

// Lang is the locale's language.
func (l Locale) Lang() Lang { return l.lang }

// Locale returns the locale for a language code; an unknown or empty code gives English.
func (c *Catalog) Locale(code string) Locale {
	if l, ok := c.locales[code]; ok {
		return l
	}
	return c.locales[Langs()[0].Code]
}

// Match picks the locale for an Accept-Language header (English when nothing fits).
func (c *Catalog) Match(acceptLanguage string) Locale {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return c.Locale("")
	}
	_, i, conf := c.matcher.Match(tags...)
	if conf == language.No {
		return c.Locale("")
	}
	return c.Locale(Langs()[i].Code)
}

type ctxKey struct{}

// WithLocale returns ctx carrying l; T and friends read it.
func WithLocale(ctx context.Context, l Locale) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// FromContext is the locale in ctx, or English.
func FromContext(ctx context.Context) Locale {
	if ctx != nil {
		if l, ok := ctx.Value(ctxKey{}).(Locale); ok && l.loc != nil {
			return l
		}
	}
	return builtin().Locale("")
}

// LangCode is the BCP 47 code of the locale in ctx, for <html lang> and the browser's Intl.
func LangCode(ctx context.Context) string { return FromContext(ctx).lang.Code }

// Key marks a literal as a catalog key where it is defined (a table of keys chosen at run time),
// so the catalog tests can see it is used. It returns key unchanged.
func Key(key string) string { return key }

// T is the message key in the language of ctx, with args as name/value pairs for the
// message's {{.Name}} placeholders. A key missing from every catalog comes back as itself (the
// catalog tests make that impossible for keys written in the code).
func T(ctx context.Context, key string, args ...any) string {
	return FromContext(ctx).localize(key, -1, pairs(args, false))
}

// N is like T for a counted message: the catalog has one/other (and any other CLDR form the
// language uses) and {{.Count}} is n formatted for the language.
func N(ctx context.Context, key string, n int, args ...any) string {
	l := FromContext(ctx)
	data := pairs(args, false)
	data["Count"] = l.printer.Sprintf("%d", n)
	return l.localize(key, n, data)
}

// HTMLString is T for a message whose catalog text is HTML: the catalog is trusted, and every
// argument is escaped before it is placed.
func HTMLString(ctx context.Context, key string, args ...any) string {
	return FromContext(ctx).localize(key, -1, pairs(args, true))
}

func (l Locale) localize(key string, count int, data map[string]any) string {
	cfg := &goi18n.LocalizeConfig{MessageID: key, TemplateData: data}
	if count >= 0 {
		cfg.PluralCount = count
	}
	s, err := l.loc.Localize(cfg)
	if err != nil && s == "" {
		if count >= 0 {
			// A language whose rules need a form the translator left out (Spanish "many"
			// for a million) reads the "other" form rather than the key.
			cfg.PluralCount = 1000
			if s2, err2 := l.loc.Localize(cfg); err2 == nil {
				return s2
			}
		}
		return key
	}
	return s
}

// pairs turns name/value arguments into template data; a value that is not a string is
// printed with %v (format numbers with Num first). With escape, values are HTML-escaped.
func pairs(args []any, escape bool) map[string]any {
	data := make(map[string]any, len(args)/2+1)
	for i := 0; i+1 < len(args); i += 2 {
		name, ok := args[i].(string)
		if !ok {
			continue
		}
		v := fmt.Sprint(args[i+1])
		if escape {
			v = html.EscapeString(v)
		}
		data[name] = v
	}
	return data
}

// stripTags is used by tests and plain-text outputs that must show an HTML message as text.
func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return html.UnescapeString(b.String())
}

// Text is HTMLString as plain text (tags removed), for a toast or a CSV.
func Text(ctx context.Context, key string, args ...any) string {
	return stripTags(HTMLString(ctx, key, args...))
}
