package i18n

import (
	"go/scanner"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/a-h/templ/parser/v2"
)

// properNouns are names that read the same in every language.
var properNouns = map[string]bool{
	"Meta": true, "WhatsApp": true, "Hibot": true, "Console": true, "Graph": true, "Cloud": true,
	"Manager": true, "Business": true, "Facebook": true, "Instagram": true, "Android": true,
	"uPlot": true, "htmx": true, "SQLite": true, "PostgreSQL": true, "JavaScript": true,
	"wamid": true, "wamids": true, "fbtrace_id": true, "Sandbox": true, "sandbox": true,
}

// visibleAttrs are the attributes a person reads (or hears from a screen reader).
var visibleAttrs = map[string]bool{
	"title": true, "placeholder": true, "alt": true, "aria-label": true, "aria-description": true,
	"aria-roledescription": true, "aria-valuetext": true, "hx-confirm": true, "data-confirm": true,
	"data-done": true, "data-format": true, "label": true,
}

// skipped elements hold code, data or script, not words.
var skipped = map[string]bool{"code": true, "kbd": true, "samp": true, "pre": true, "script": true, "style": true}

var word = regexp.MustCompile(`[A-Za-z][A-Za-z0-9_']+`)

// tokenLike is a word that is a token rather than language: OPT_IN, TTL, marketing_lite, MM.
func tokenLike(w string) bool {
	if strings.Contains(w, "_") || properNouns[w] {
		return true
	}
	return strings.ToUpper(w) == w
}

// englishWords are the words of w that are not tokens.
func englishWords(s string) []string {
	var out []string
	for _, w := range word.FindAllString(s, -1) {
		if !tokenLike(w) {
			out = append(out, w)
		}
	}
	return out
}

// functionWords mark a Go string literal as a sentence even when it starts lower case.
var functionWords = map[string]bool{
	"the": true, "and": true, "or": true, "of": true, "to": true, "is": true, "are": true, "was": true,
	"not": true, "no": true, "for": true, "with": true, "from": true, "this": true, "that": true,
	"your": true, "you": true, "in": true, "on": true, "at": true, "by": true, "be": true, "has": true,
	"have": true, "will": true, "can": true, "when": true, "which": true, "its": true, "an": true,
	"than": true, "only": true, "all": true, "each": true, "per": true, "ago": true, "more": true,
}

var capitalised = regexp.MustCompile(`^[A-Z][a-z]`)

// proseLiteral reports whether a Go string literal inside a templ file reads as English words
// (a capitalised word, or a sentence with English function words) rather than a class, a
// name, a path or a format.
func proseLiteral(s string) bool {
	if strings.HasPrefix(s, "/") || strings.Contains(s, "://") {
		return false
	}
	ws := englishWords(s)
	for _, w := range ws {
		if capitalised.MatchString(w) {
			return true
		}
	}
	if !strings.Contains(s, " ") {
		return false
	}
	for _, w := range ws {
		if functionWords[strings.ToLower(w)] {
			return true
		}
	}
	return false
}

// goLiterals are the string literals of a Go expression.
func goLiterals(src string) []string {
	var s scanner.Scanner
	fset := token.NewFileSet()
	file := fset.AddFile("", fset.Base(), len(src))
	s.Init(file, []byte(src), nil, 0)
	var out []string
	for {
		_, tok, lit := s.Scan()
		if tok == token.EOF {
			return out
		}
		if tok == token.STRING {
			if v, err := strconv.Unquote(lit); err == nil {
				out = append(out, v)
			}
		}
	}
}

type finding struct{ where, text string }

type checker struct{ found []finding }

func (c *checker) text(where, s string) {
	if ws := englishWords(s); len(ws) > 0 {
		c.found = append(c.found, finding{where, strings.TrimSpace(s)})
	}
}

// argName is a placeholder name passed to the catalog ("Email" in i18n.T(ctx, k, "Email", e)).
var argName = regexp.MustCompile(`^[A-Z][A-Za-z]*$`)

func (c *checker) goExpr(where, src string) {
	catalogCall := strings.Contains(src, "i18n.")
	for _, lit := range goLiterals(src) {
		if catalogCall && argName.MatchString(lit) {
			continue
		}
		if proseLiteral(lit) {
			c.found = append(c.found, finding{where, lit})
		}
	}
}

func (c *checker) attrs(el string, attrs []parser.Attribute) {
	for _, a := range attrs {
		switch x := a.(type) {
		case *parser.ConstantAttribute:
			if k, ok := x.Key.(parser.ConstantAttributeKey); ok && visibleAttrs[k.Name] {
				c.text(el+"@"+k.Name, x.Value)
			}
		case *parser.ExpressionAttribute:
			c.goExpr(el+" attribute", x.Expression.Value)
		case *parser.ConditionalAttribute:
			c.attrs(el, x.Then)
			c.attrs(el, x.Else)
		}
	}
}

func (c *checker) nodes(ns []parser.Node) {
	for _, n := range ns {
		switch x := n.(type) {
		case *parser.Text:
			c.text("text", x.Value)
		case *parser.Element:
			if skipped[x.Name] {
				continue
			}
			c.attrs("<"+x.Name+">", x.Attributes)
			c.nodes(x.Children)
		case *parser.StringExpression:
			c.goExpr("{ }", x.Expression.Value)
		case *parser.CallTemplateExpression:
			c.goExpr("@call", x.Expression.Value)
		case *parser.TemplElementExpression:
			c.goExpr("@call", x.Expression.Value)
			c.nodes(x.Children)
		case *parser.GoCode:
			c.goExpr("Go code", x.Expression.Value)
		case *parser.IfExpression:
			c.nodes(x.Then)
			for _, e := range x.ElseIfs {
				c.nodes(e.Then)
			}
			c.nodes(x.Else)
		case *parser.SwitchExpression:
			for _, cs := range x.Cases {
				c.nodes(cs.Children)
			}
		case *parser.ForExpression:
			c.nodes(x.Children)
		}
	}
}

// englishIn is what a parsed templ file shows in English outside the catalog: its templates'
// nodes and the Go code between them (imports aside).
func englishIn(tf *parser.TemplateFile) []finding {
	var c checker
	for _, n := range tf.Nodes {
		switch x := n.(type) {
		case *parser.HTMLTemplate:
			c.nodes(x.Children)
		case *parser.TemplateFileGoExpression:
			if src := x.Expression.Value; !strings.HasPrefix(strings.TrimSpace(src), "import") {
				c.goExpr("Go", src)
			}
		}
	}
	return c.found
}

// TestTemplFilesHaveNoEnglishLiterals: every word a person reads in a templ file comes from the
// catalogs. Text, visible attributes (title, aria-label, placeholder, …) and prose string
// literals in expressions and in the file's Go functions are checked; Meta's tokens (upper
// case, snake_case), the proper nouns above and <code> elements are allowed.
func TestTemplFilesHaveNoEnglishLiterals(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(root, "views", "*", "*.templ"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no templ files found: %v", err)
	}
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		rel = filepath.ToSlash(rel)
		buf, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		tf, err := parser.ParseString(string(buf))
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		for _, fd := range englishIn(tf) {
			t.Errorf("%s: English words outside the catalog (%s): %q", rel, fd.where, fd.text)
		}
	}
}

// TestTheCheckFindsEnglish keeps the check honest: it flags what it is meant to flag and lets
// tokens and catalog calls pass.
func TestTheCheckFindsEnglish(t *testing.T) {
	src := `package x

templ A() {
	<p>Sent today</p>
	<span title="Switch theme">x</span>
	@field("Email", "email")
	{ fmt.Sprintf("%d of %d", a, b) }
	<code>product_policy</code>
	<p>OPT_IN · TTL · marketing_lite</p>
	<p>{ i18n.T(ctx, "a.b") }</p>
	<b class="badge badge-muted">{ x }</b>
}

func label() string { return "Not sendable" }
`
	tf, err := parser.ParseString(src)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range englishIn(tf) {
		got = append(got, f.text)
	}
	want := []string{"Sent today", "Switch theme", "Email", "%d of %d", "Not sendable"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("flagged %q, want %q", got, want)
	}
}
