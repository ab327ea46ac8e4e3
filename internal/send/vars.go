package send

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"mmconsole/internal/graph"
	"mmconsole/internal/i18n"
)

// Field kinds: what an input of the composer fills in.
const (
	KindHeaderText  = "header_text"
	KindHeaderMedia = "header_media"
	KindBody        = "body"
	KindURLSuffix   = "url_suffix"
	KindCoupon      = "coupon"
)

// Field is one input generated from the template's components.
type Field struct {
	Name        string // form field name, e.g. "var.body.1"
	Kind        string
	Param       string // variable name ("1", "first_name"); empty for media, button and coupon fields
	Label       string
	Help        string
	Placeholder string // the template's example
	Value       string
	Index       int    // button index for url_suffix and coupon
	Format      string // IMAGE, VIDEO or DOCUMENT for header_media
	URLPrefix   string // the URL button's fixed part, shown before the suffix
}

// Spec is what a template needs at send time, read from its components JSON.
type Spec struct {
	Named       bool
	Fields      []Field
	HeaderText  string // the header's text with its {{…}}
	HeaderMedia string // IMAGE, VIDEO, DOCUMENT, LOCATION or ""
	Body        string
	Footer      string
	Buttons     []ButtonView
	// Unsupported lists what the composer cannot fill in (e.g. a LOCATION header), so the user
	// knows why Meta may refuse the send.
	Unsupported []string
	// Refused lists components whose parameters the composer does not build (CAROUSEL cards,
	// a LIMITED_TIME_OFFER's expiration): a send would go out under-filled, so it is refused.
	Refused []string
}

// ButtonView is a button as the preview draws it.
type ButtonView struct {
	Type string
	Text string
}

var varRe = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_]+)\s*\}\}`)

// variables returns the distinct variable names of text in the order they are sent: by number
// for positional templates, by first appearance for named ones.
func variables(text string, named bool) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range varRe.FindAllStringSubmatch(text, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	if !named {
		sort.SliceStable(out, func(i, j int) bool {
			a, _ := strconv.Atoi(out[i])
			b, _ := strconv.Atoi(out[j])
			return a < b
		})
	}
	return out
}

// ParseSpec is ParseSpecIn with English labels.
func ParseSpec(componentsJSON, parameterFormat string) (Spec, error) {
	return ParseSpecIn(context.Background(), componentsJSON, parameterFormat)
}

// ParseSpecIn reads a template's components (as Meta returns them) into the fields the composer
// shows, labelled in the language of ctx. parameterFormat is the template's parameter_format
// (NAMED or POSITIONAL).
func ParseSpecIn(ctx context.Context, componentsJSON, parameterFormat string) (Spec, error) {
	var comps []graph.TemplateComponent
	if strings.TrimSpace(componentsJSON) != "" {
		if err := json.Unmarshal([]byte(componentsJSON), &comps); err != nil {
			return Spec{}, err
		}
	}
	sp := Spec{Named: strings.EqualFold(parameterFormat, "NAMED")}
	for _, c := range comps {
		switch strings.ToUpper(c.Type) {
		case "HEADER":
			format := strings.ToUpper(c.Format)
			switch format {
			case "", "TEXT":
				sp.HeaderText = c.Text
				ex := headerTextExamples(c.Example)
				for i, v := range variables(c.Text, sp.Named) {
					sp.Fields = append(sp.Fields, Field{
						Name: "var.header." + v, Kind: KindHeaderText, Param: v,
						Label:       i18n.T(ctx, "send.vars.header", "Var", "{{"+v+"}}"),
						Placeholder: exampleFor(ex, v, i),
					})
				}
			case "IMAGE", "VIDEO", "DOCUMENT":
				sp.HeaderMedia = format
				ph := ""
				var ex struct {
					HeaderHandle []string `json:"header_handle"`
				}
				if json.Unmarshal(c.Example, &ex) == nil && len(ex.HeaderHandle) > 0 {
					ph = ex.HeaderHandle[0]
				}
				sp.Fields = append(sp.Fields, Field{
					Name: "var.header_media", Kind: KindHeaderMedia, Format: format,
					Label:       i18n.T(ctx, "send.vars.media", "Format", MediaName(ctx, format)),
					Help:        i18n.T(ctx, "send.vars.media_help"),
					Placeholder: ph,
				})
			default:
				sp.HeaderMedia = format
				sp.Unsupported = append(sp.Unsupported, i18n.T(ctx, "send.vars.header_unsupported", "Format", format))
			}
		case "BODY":
			sp.Body = c.Text
			ex := bodyExamples(c.Example)
			for i, v := range variables(c.Text, sp.Named) {
				sp.Fields = append(sp.Fields, Field{
					Name: "var.body." + v, Kind: KindBody, Param: v,
					Label:       i18n.T(ctx, "send.vars.body", "Var", "{{"+v+"}}"),
					Placeholder: exampleFor(ex, v, i),
				})
			}
		case "FOOTER":
			sp.Footer = c.Text
		case "CAROUSEL":
			sp.Refused = append(sp.Refused, i18n.T(ctx, "send.vars.carousel"))
		case "LIMITED_TIME_OFFER":
			sp.Refused = append(sp.Refused, i18n.T(ctx, "send.vars.lto"))
		case "BUTTONS":
			for i, b := range c.Buttons {
				typ := strings.ToUpper(b.Type)
				text := b.Text
				switch typ {
				case "URL":
					if loc := varRe.FindStringIndex(b.URL); loc != nil {
						prefix := b.URL[:loc[0]]
						sp.Fields = append(sp.Fields, Field{
							Name: "var.button." + strconv.Itoa(i), Kind: KindURLSuffix, Index: i,
							Label:       i18n.T(ctx, "send.vars.url_suffix", "Button", b.Text),
							Help:        i18n.T(ctx, "send.vars.url_help", "Prefix", prefix),
							Placeholder: urlExampleSuffix(b.Example, prefix),
							URLPrefix:   prefix,
						})
					}
				case "COPY_CODE":
					if text == "" {
						text = i18n.T(ctx, "send.vars.copy_code")
					}
					var ex string
					if json.Unmarshal(b.Example, &ex) != nil {
						var list []string
						if json.Unmarshal(b.Example, &list) == nil && len(list) > 0 {
							ex = list[0]
						}
					}
					sp.Fields = append(sp.Fields, Field{
						Name: "var.coupon." + strconv.Itoa(i), Kind: KindCoupon, Index: i,
						Label: i18n.T(ctx, "send.vars.coupon"), Help: i18n.T(ctx, "send.vars.coupon_help", "Button", text),
						Placeholder: ex,
					})
				}
				sp.Buttons = append(sp.Buttons, ButtonView{Type: typ, Text: text})
			}
		default:
			sp.Unsupported = append(sp.Unsupported, i18n.T(ctx, "send.vars.unknown_component", "Type", strings.ToUpper(c.Type)))
		}
	}
	return sp, nil
}

// examples maps a variable (by name, or "#<position>") to its example value.
type examples map[string]string

func exampleFor(ex examples, name string, pos int) string {
	if v, ok := ex[name]; ok {
		return v
	}
	return ex["#"+strconv.Itoa(pos)]
}

func bodyExamples(raw json.RawMessage) examples {
	out := examples{}
	var ex struct {
		BodyText   [][]string `json:"body_text"`
		BodyNamed  []namedEx  `json:"body_text_named_params"`
		HeaderText []string   `json:"header_text"`
	}
	if json.Unmarshal(raw, &ex) != nil {
		return out
	}
	if len(ex.BodyText) > 0 {
		for i, v := range ex.BodyText[0] {
			out["#"+strconv.Itoa(i)] = v
			out[strconv.Itoa(i+1)] = v
		}
	}
	for _, n := range ex.BodyNamed {
		out[n.ParamName] = n.Example
	}
	return out
}

func headerTextExamples(raw json.RawMessage) examples {
	out := examples{}
	var ex struct {
		HeaderText  []string  `json:"header_text"`
		HeaderNamed []namedEx `json:"header_text_named_params"`
	}
	if json.Unmarshal(raw, &ex) != nil {
		return out
	}
	for i, v := range ex.HeaderText {
		out["#"+strconv.Itoa(i)] = v
		out[strconv.Itoa(i+1)] = v
	}
	for _, n := range ex.HeaderNamed {
		out[n.ParamName] = n.Example
	}
	return out
}

type namedEx struct {
	ParamName string `json:"param_name"`
	Example   string `json:"example"`
}

// urlExampleSuffix turns a URL button's example (a whole URL) into the suffix the user types.
func urlExampleSuffix(raw json.RawMessage, prefix string) string {
	var list []string
	if json.Unmarshal(raw, &list) != nil || len(list) == 0 {
		return ""
	}
	return strings.TrimPrefix(list[0], prefix)
}

// fill sets each field's value from the submitted form.
func (sp *Spec) fill(v url.Values) {
	for i := range sp.Fields {
		sp.Fields[i].Value = strings.TrimSpace(v.Get(sp.Fields[i].Name))
	}
}

// value is the submitted value of a field by kind and variable, for the preview.
func (sp Spec) value(kind, param string) string {
	for _, f := range sp.Fields {
		if f.Kind == kind && f.Param == param {
			return f.Value
		}
	}
	return ""
}

// components builds the send-time components from the filled fields, in Meta's order
// (header, body, buttons by index). Empty values are sent as empty so that the body shown
// matches what a mistaken send would carry; blockers stop such a send before it leaves.
func (sp Spec) components() []graph.Component {
	var header, body []graph.Parameter
	var buttons []graph.Component
	param := func(f Field) graph.Parameter {
		if sp.Named {
			return graph.NamedText(f.Param, f.Value)
		}
		return graph.Text(f.Value)
	}
	for _, f := range sp.Fields {
		switch f.Kind {
		case KindHeaderText:
			header = append(header, param(f))
		case KindHeaderMedia:
			m := &graph.Media{Link: f.Value}
			p := graph.Parameter{Type: strings.ToLower(f.Format)}
			switch f.Format {
			case "IMAGE":
				p.Image = m
			case "VIDEO":
				p.Video = m
			case "DOCUMENT":
				p.Document = m
			}
			header = append(header, p)
		case KindBody:
			body = append(body, param(f))
		case KindURLSuffix:
			buttons = append(buttons, graph.Component{Type: "button", SubType: "url", Index: strconv.Itoa(f.Index),
				Parameters: []graph.Parameter{graph.Text(f.Value)}})
		case KindCoupon:
			buttons = append(buttons, graph.Component{Type: "button", SubType: "copy_code", Index: strconv.Itoa(f.Index),
				Parameters: []graph.Parameter{{Type: "coupon_code", CouponCode: f.Value}}})
		}
	}
	var out []graph.Component
	if len(header) > 0 {
		out = append(out, graph.Component{Type: "header", Parameters: header})
	}
	if len(body) > 0 {
		out = append(out, graph.Component{Type: "body", Parameters: body})
	}
	sort.SliceStable(buttons, func(i, j int) bool {
		a, _ := strconv.Atoi(buttons[i].Index)
		b, _ := strconv.Atoi(buttons[j].Index)
		return a < b
	})
	return append(out, buttons...)
}

// Segment is a piece of preview text: literal text, or a variable with its value (Missing when
// the user has not filled it in yet, so the preview shows the placeholder marked).
type Segment struct {
	Text    string
	IsVar   bool
	Missing bool
}

// render splits text into segments with the variables of kind filled in.
func (sp Spec) render(text, kind string) []Segment {
	var out []Segment
	last := 0
	for _, loc := range varRe.FindAllStringSubmatchIndex(text, -1) {
		if loc[0] > last {
			out = append(out, Segment{Text: text[last:loc[0]]})
		}
		name := text[loc[2]:loc[3]]
		v := sp.value(kind, name)
		if v == "" {
			out = append(out, Segment{Text: "{{" + name + "}}", IsVar: true, Missing: true})
		} else {
			out = append(out, Segment{Text: v, IsVar: true})
		}
		last = loc[1]
	}
	if last < len(text) {
		out = append(out, Segment{Text: text[last:]})
	}
	return out
}
