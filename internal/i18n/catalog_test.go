package i18n

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"text/template"

	"github.com/BurntSushi/toml"
)

// root is the repository, from this package's directory.
const root = "../.."

// flatten reads one catalog into key → forms (a plain message has the single form "other").
func flatten(t *testing.T, code string) map[string]map[string]string {
	t.Helper()
	buf, err := os.ReadFile(filepath.Join("locales", code+".toml"))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := toml.Unmarshal(buf, &raw); err != nil {
		t.Fatalf("%s.toml: %v", code, err)
	}
	out := map[string]map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case string:
			out[prefix] = map[string]string{"other": x}
		case map[string]any:
			if _, plural := x["other"]; plural {
				forms := map[string]string{}
				for k, f := range x {
					s, _ := f.(string)
					forms[k] = s
				}
				out[prefix] = forms
				return
			}
			for k, c := range x {
				key := k
				if prefix != "" {
					key = prefix + "." + k
				}
				walk(key, c)
			}
		default:
			t.Errorf("%s.toml: %s has a %T; a message is a string or a table of plural forms", code, prefix, v)
		}
	}
	walk("", raw)
	return out
}

var placeholder = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

func placeholders(s string) []string {
	var names []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	sort.Strings(names)
	return names
}

// TestEveryKeyInEveryLanguage: the three catalogs have the same keys, no empty text, the same
// placeholders, and every counted message has at least its one and other forms.
func TestEveryKeyInEveryLanguage(t *testing.T) {
	en := flatten(t, "en")
	if len(en) == 0 {
		t.Fatal("the English catalog is empty")
	}
	for _, l := range Langs() {
		cat := flatten(t, l.Code)
		for key, forms := range en {
			got, ok := cat[key]
			if !ok {
				t.Errorf("%s: key %q is missing", l.Code, key)
				continue
			}
			want := placeholders(forms["other"])
			for form, text := range got {
				if _, err := template.New(key).Parse(text); err != nil {
					t.Errorf("%s: %q (%s) is not a valid message: %v (a literal {{1}} in text is written as a placeholder: pass \"Var\", \"{{1}}\" from the code)", l.Code, key, form, err)
				}
				if strings.TrimSpace(text) == "" {
					t.Errorf("%s: %q (%s) is empty", l.Code, key, form)
				}
				if p := placeholders(text); form != "one" && !slices.Equal(p, want) {
					t.Errorf("%s: %q (%s) has placeholders %v, English has %v", l.Code, key, form, p, want)
				}
			}
			if _, plural := forms["one"]; plural {
				if got["one"] == "" || got["other"] == "" {
					t.Errorf("%s: %q is counted in English and needs its one and other forms", l.Code, key)
				}
			}
		}
		for key := range cat {
			if _, ok := en[key]; !ok {
				t.Errorf("%s: key %q is not in the English catalog", l.Code, key)
			}
		}
	}
	if _, err := Load(); err != nil {
		t.Fatalf("the embedded catalogs do not load: %v", err)
	}
}

// keyUse finds the keys the code names: the second argument of T, N, HTML, HTMLString and Text
// (the first is the context) and the argument of Key.
var keyUse = regexp.MustCompile(`i18n\.(?:(?:T|N|HTML|HTMLString|Text)\(\s*[\w.]+(?:\(\))?\s*,|Key\()\s*"([^"]+)"`)

// ownUse is the same inside this package, where the calls have no package name.
var ownUse = regexp.MustCompile(`\b(?:(?:T|N|HTML|HTMLString|Text)\(\s*ctx\s*,|Key\()\s*"([^"]+)"`)

// usedKeys scans every non-test Go and templ source of the repository (generated _templ.go
// files mirror their templ file, so they are skipped).
func usedKeys(t *testing.T) map[string][]string {
	t.Helper()
	used := map[string][]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); p != root && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "static") {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if !(strings.HasSuffix(name, ".templ") || strings.HasSuffix(name, ".go")) ||
			strings.HasSuffix(name, "_test.go") || strings.HasSuffix(name, "_templ.go") {
			return nil
		}
		buf, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		re := keyUse
		if filepath.Base(filepath.Dir(p)) == "i18n" {
			re = ownUse
		}
		for _, line := range strings.Split(string(buf), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "//") {
				continue // examples in comments are not uses
			}
			for _, m := range re.FindAllStringSubmatch(line, -1) {
				used[m[1]] = append(used[m[1]], p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return used
}

// TestEveryUsedKeyExistsAndEveryKeyIsUsed: a key named in the code is in the catalog, and the
// catalog holds no key that no code names (a leftover a translator would translate for nothing).
func TestEveryUsedKeyExistsAndEveryKeyIsUsed(t *testing.T) {
	en := flatten(t, "en")
	used := usedKeys(t)
	for key, where := range used {
		if _, ok := en[key]; !ok {
			t.Errorf("key %q (used in %s) is not in the catalogs", key, where[0])
		}
	}
	for key := range en {
		if _, ok := used[key]; !ok {
			t.Errorf("catalog key %q is used by no code (pass it literally to i18n.T/N/HTML, or write i18n.Key(%q) where a table defines it)", key, key)
		}
	}
}
