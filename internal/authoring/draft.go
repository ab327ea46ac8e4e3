// Package authoring creates, clones, edits and deletes marketing templates at Meta: it turns the
// authoring form's draft into Meta's create request (components with their examples,
// message_send_ttl_seconds and degrees_of_freedom_spec keyed lowercase), checks Meta's rules
// first (internal/metarules, the sandbox's copy too), puts Meta's refusals next to the field
// they concern, stores a new template at once as PENDING so the catalog shows it before any
// webhook, counts content edits in the edit ledger every kind of template edit shares, and
// records every change in the audit log with the request sent.
package authoring

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"mmconsole/internal/graph"
	"mmconsole/internal/i18n"
	"mmconsole/internal/metarules"
	"mmconsole/internal/optimize"
	"mmconsole/models"
)

// Header formats the form offers.
const (
	HeaderNone     = "NONE"
	HeaderText     = "TEXT"
	HeaderImage    = "IMAGE"
	HeaderVideo    = "VIDEO"
	HeaderDocument = "DOCUMENT"
)

// HeaderFormats lists the header choices in the form's order.
var HeaderFormats = [...]string{HeaderNone, HeaderText, HeaderImage, HeaderVideo, HeaderDocument}

// Button types the form offers.
var ButtonTypes = [...]string{"URL", "QUICK_REPLY", "PHONE_NUMBER", "COPY_CODE"}

// Category is the only category this form creates: only marketing templates go through MM API.
const Category = "MARKETING"

// Draft is the authoring form's content: a new template, a clone, or the new components of an
// existing one.
type Draft struct {
	ConnectionID    uint
	Name            string
	Language        string
	ParameterFormat string // POSITIONAL or NAMED
	HeaderFormat    string // Header*
	HeaderText      string
	HeaderExample   string
	HeaderSample    string // media header: sample URL or upload handle
	Body            string
	// Examples holds each variable's example by variable ("1", "first_name"), header and body
	// alike: Meta's variables are one set per template.
	Examples map[string]string
	Footer   string
	Buttons  []Button
	TTLValue string
	TTLUnit  string
	// Optimizations is each creative feature set explicitly (lowercase key -> OPT_IN/OPT_OUT);
	// a feature left out follows the WABA default and is not sent.
	Optimizations map[string]string
	// CloneOf is the Meta id of the template this draft was cloned from ("" for a new one).
	CloneOf string
}

// Button is one button of the draft.
type Button struct {
	Type    string // URL, QUICK_REPLY, PHONE_NUMBER, COPY_CODE
	Text    string
	URL     string
	Example string // URL: the whole example link; COPY_CODE: the example code
	Phone   string
}

// format is the draft's parameter format, POSITIONAL unless NAMED was chosen.
func (d Draft) format() string {
	if strings.EqualFold(d.ParameterFormat, "NAMED") {
		return "NAMED"
	}
	return "POSITIONAL"
}

// HeaderVars and BodyVars list the distinct variables of the header and the body, in order.
func (d Draft) HeaderVars() []string {
	if d.HeaderFormat != HeaderText {
		return nil
	}
	return distinct(metarules.Variables(d.HeaderText))
}

// BodyVars lists the distinct variables of the body in order of appearance.
func (d Draft) BodyVars() []string { return distinct(metarules.Variables(d.Body)) }

func distinct(vs []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range vs {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// Def is the draft as Meta's rules see it.
func (d Draft) Def() metarules.TemplateDef {
	def := metarules.TemplateDef{Name: d.Name, Language: d.Language, Category: Category, ParameterFormat: d.format(), Footer: d.Footer}
	text := func(s string, vars []string) metarules.TextDef {
		td := metarules.TextDef{Text: s}
		if d.format() == "NAMED" {
			td.Named = map[string]string{}
			for _, v := range vars {
				td.Named[v] = d.Examples[v]
			}
			return td
		}
		for _, v := range vars {
			td.Examples = append(td.Examples, d.Examples[v])
		}
		return td
	}
	switch d.HeaderFormat {
	case HeaderText:
		def.Header = &metarules.HeaderDef{Format: HeaderText, TextDef: text(d.HeaderText, d.HeaderVars())}
	case HeaderImage, HeaderVideo, HeaderDocument:
		def.Header = &metarules.HeaderDef{Format: d.HeaderFormat, Sample: strings.TrimSpace(d.HeaderSample)}
	case "", HeaderNone:
	default:
		def.Header = &metarules.HeaderDef{Format: d.HeaderFormat}
	}
	def.Body = text(d.Body, d.BodyVars())
	for _, b := range d.Buttons {
		def.Buttons = append(def.Buttons, metarules.ButtonDef{Type: b.Type, Text: b.Text, URL: strings.TrimSpace(b.URL), Phone: b.Phone, Example: strings.TrimSpace(b.Example)})
	}
	return def
}

// Check applies every rule the form knows before anything is sent: Meta's authoring rules, the
// marketing TTL range and the enroll statuses. It never calls Meta.
func (d Draft) Check(ctx context.Context) *models.ValidationError {
	ve := &models.ValidationError{}
	for _, p := range metarules.CheckTemplate(ctx, d.Def()) {
		ve.Add(p.Field, p.Message)
	}
	if _, err := d.TTL(); err != nil {
		ve.Add("ttl", metarules.Words(ctx, err))
	}
	for k, v := range d.Optimizations {
		if !optimize.ValidKey(k) || !optimize.ValidValue(v) {
			ve.Add("optimizations", i18n.T(ctx, "authoring.err.optimizations"))
		}
	}
	return ve
}

// TTL reads the draft's TTL: nil when none was chosen (Meta's 30-day default applies).
func (d Draft) TTL() (*int, error) {
	sec, set, err := metarules.ParseTTL(strings.TrimSpace(d.TTLValue), strings.TrimSpace(d.TTLUnit))
	if err != nil {
		return nil, err
	}
	if !set {
		return nil, nil
	}
	if err := metarules.CheckMarketingTTL(sec); err != nil {
		return nil, err
	}
	return &sec, nil
}

// Components builds Meta's components list, with the examples in the shape each component
// takes (header_text / body_text, or their *_named_params; header_handle for media). These
// shapes follow Meta's template-components page, which mm-api-reference does not mirror, so
// for this project they are [I]; so is a sample URL in header_handle, where Meta documents
// only an upload handle from the Resumable Upload API (the form says so next to the input).
func (d Draft) Components() []graph.TemplateComponent {
	named := d.format() == "NAMED"
	examples := func(key string, vars []string) json.RawMessage {
		if len(vars) == 0 {
			return nil
		}
		var v any
		if named {
			ps := make([]map[string]string, 0, len(vars))
			for _, n := range vars {
				ps = append(ps, map[string]string{"param_name": n, "example": d.Examples[n]})
			}
			v = map[string]any{key + "_named_params": ps}
		} else {
			vals := make([]string, 0, len(vars))
			for _, n := range vars {
				vals = append(vals, d.Examples[n])
			}
			if key == "body_text" {
				v = map[string]any{key: [][]string{vals}}
			} else {
				v = map[string]any{key: vals}
			}
		}
		b, _ := json.Marshal(v)
		return b
	}
	var out []graph.TemplateComponent
	switch d.HeaderFormat {
	case HeaderText:
		out = append(out, graph.TemplateComponent{Type: "HEADER", Format: HeaderText, Text: d.HeaderText, Example: examples("header_text", d.HeaderVars())})
	case HeaderImage, HeaderVideo, HeaderDocument:
		b, _ := json.Marshal(map[string][]string{"header_handle": {strings.TrimSpace(d.HeaderSample)}})
		out = append(out, graph.TemplateComponent{Type: "HEADER", Format: d.HeaderFormat, Example: b})
	}
	out = append(out, graph.TemplateComponent{Type: "BODY", Text: d.Body, Example: examples("body_text", d.BodyVars())})
	if d.Footer != "" {
		out = append(out, graph.TemplateComponent{Type: "FOOTER", Text: d.Footer})
	}
	if len(d.Buttons) > 0 {
		bc := graph.TemplateComponent{Type: "BUTTONS"}
		for _, b := range d.Buttons {
			gb := graph.TemplateButton{Type: b.Type, Text: b.Text}
			switch b.Type {
			case "URL":
				gb.URL = strings.TrimSpace(b.URL)
				if len(metarules.Variables(gb.URL)) > 0 {
					gb.Example, _ = json.Marshal([]string{strings.TrimSpace(b.Example)})
				}
			case "PHONE_NUMBER":
				gb.PhoneNumber = strings.ReplaceAll(b.Phone, " ", "")
			case "COPY_CODE":
				// Meta's copy-code button has no label of its own: WhatsApp shows "Copy offer code".
				gb.Text = ""
				gb.Example, _ = json.Marshal(strings.TrimSpace(b.Example))
			}
			bc.Buttons = append(bc.Buttons, gb)
		}
		out = append(out, bc)
	}
	return out
}

// Request is the create request the draft sends (the audit log keeps it as sent).
func (d Draft) Request() graph.TemplateCreate {
	ttl, _ := d.TTL()
	req := graph.TemplateCreate{Name: d.Name, Language: d.Language, Category: Category, ParameterFormat: d.format(),
		Components: d.Components(), TTLSeconds: ttl}
	if len(d.Optimizations) > 0 {
		req.Optimizations = map[string]string{}
		for k, v := range d.Optimizations {
			req.Optimizations[strings.ToLower(k)] = v
		}
	}
	return req
}

// FromTemplate reads a stored template back into a draft (clone and edit): components,
// examples, TTL and the optimizations set on it.
func FromTemplate(t models.Template) Draft {
	d := Draft{ConnectionID: t.ConnectionID, Name: t.Name, Language: t.Language, ParameterFormat: t.ParameterFormat,
		HeaderFormat: HeaderNone, Examples: map[string]string{}, Optimizations: map[string]string{}}
	if d.ParameterFormat == "" {
		d.ParameterFormat = "POSITIONAL"
	}
	var comps []graph.TemplateComponent
	_ = json.Unmarshal([]byte(t.Components), &comps)
	for _, c := range comps {
		switch strings.ToUpper(c.Type) {
		case "HEADER":
			d.HeaderFormat = strings.ToUpper(c.Format)
			if d.HeaderFormat == "" {
				d.HeaderFormat = HeaderText
			}
			d.HeaderText = c.Text
			pos, named, handle := readExample(c.Example)
			d.HeaderSample = handle
			fillExamples(d.Examples, distinct(metarules.Variables(c.Text)), pos, named)
		case "BODY":
			d.Body = c.Text
			pos, named, _ := readExample(c.Example)
			fillExamples(d.Examples, distinct(metarules.Variables(c.Text)), pos, named)
		case "FOOTER":
			d.Footer = c.Text
		case "BUTTONS":
			for _, b := range c.Buttons {
				nb := Button{Type: strings.ToUpper(b.Type), Text: b.Text, URL: b.URL, Phone: b.PhoneNumber}
				var list []string
				if json.Unmarshal(b.Example, &list) == nil && len(list) > 0 {
					nb.Example = list[0]
				} else {
					_ = json.Unmarshal(b.Example, &nb.Example)
				}
				d.Buttons = append(d.Buttons, nb)
			}
		}
	}
	if t.TTLSeconds != nil && *t.TTLSeconds > 0 {
		d.TTLValue, d.TTLUnit = metarules.SplitTTL(*t.TTLSeconds)
	}
	var opts map[string]string
	if json.Unmarshal([]byte(t.Optimizations), &opts) == nil {
		for k, v := range opts {
			d.Optimizations[strings.ToLower(k)] = strings.ToUpper(v)
		}
	}
	return d
}

func readExample(raw json.RawMessage) (pos []string, named map[string]string, handle string) {
	var ex struct {
		HeaderText   []string   `json:"header_text"`
		BodyText     [][]string `json:"body_text"`
		HeaderHandle []string   `json:"header_handle"`
		HeaderNamed  []struct {
			Name    string `json:"param_name"`
			Example string `json:"example"`
		} `json:"header_text_named_params"`
		BodyNamed []struct {
			Name    string `json:"param_name"`
			Example string `json:"example"`
		} `json:"body_text_named_params"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &ex) != nil {
		return nil, nil, ""
	}
	pos = ex.HeaderText
	if len(ex.BodyText) > 0 {
		pos = ex.BodyText[0]
	}
	named = map[string]string{}
	for _, p := range ex.HeaderNamed {
		named[p.Name] = p.Example
	}
	for _, p := range ex.BodyNamed {
		named[p.Name] = p.Example
	}
	if len(ex.HeaderHandle) > 0 {
		handle = ex.HeaderHandle[0]
	}
	return pos, named, handle
}

func fillExamples(into map[string]string, vars, pos []string, named map[string]string) {
	for i, v := range vars {
		if ex, ok := named[v]; ok {
			into[v] = ex
		} else if i < len(pos) {
			into[v] = pos[i]
		}
	}
}

// CloneName proposes a new name for a clone: the name with _copy (or _copy2, _copy3…) that
// none of taken uses, within Meta's 512 characters.
func CloneName(name string, taken map[string]bool) string {
	base := name
	if len(base) > metarules.MaxTemplateName-8 {
		base = base[:metarules.MaxTemplateName-8]
	}
	for i := 1; ; i++ {
		n := base + "_copy"
		if i > 1 {
			n += strconv.Itoa(i)
		}
		if !taken[n] {
			return n
		}
	}
}

// SortedOptimizations lists the draft's explicit optimizations by key (for the audit log and
// summaries, so the same draft always reads the same).
func (d Draft) SortedOptimizations() []string {
	keys := make([]string, 0, len(d.Optimizations))
	for k := range d.Optimizations {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k+"="+d.Optimizations[k])
	}
	return out
}
