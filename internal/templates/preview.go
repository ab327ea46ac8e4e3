package templates

import (
	"encoding/json"
	"regexp"
	"strings"
	"time"

	"mmconsole/internal/graph"
)

// Segment is a piece of template text: literal text, or a variable ({{1}}, {{first_name}}).
type Segment struct {
	Text string
	Var  bool
}

// Preview is a template's components laid out as WhatsApp shows them.
type Preview struct {
	HeaderFormat string    // TEXT, IMAGE, VIDEO, DOCUMENT, LOCATION; "" = no header
	Header       []Segment // TEXT headers
	Body         []Segment
	Footer       string
	Buttons      []PreviewButton
	Invalid      bool // the stored components could not be read
}

// PreviewButton is one button; URL buttons may carry a variable.
type PreviewButton struct {
	Type  string // URL, QUICK_REPLY, PHONE_NUMBER, COPY_CODE, …
	Text  string // empty on COPY_CODE buttons: WhatsApp's own label is shown in the reader's language
	URL   []Segment
	Phone string
}

var varRe = regexp.MustCompile(`\{\{\s*[A-Za-z0-9_]+\s*\}\}`)

// Segments splits text into literal pieces and variables.
func Segments(text string) []Segment {
	var out []Segment
	last := 0
	for _, m := range varRe.FindAllStringIndex(text, -1) {
		if m[0] > last {
			out = append(out, Segment{Text: text[last:m[0]]})
		}
		out = append(out, Segment{Text: text[m[0]:m[1]], Var: true})
		last = m[1]
	}
	if last < len(text) {
		out = append(out, Segment{Text: text[last:]})
	}
	return out
}

// BuildPreview reads the stored components JSON (as Meta returns it).
func BuildPreview(componentsJSON string) Preview {
	var comps []graph.TemplateComponent
	if err := json.Unmarshal([]byte(componentsJSON), &comps); err != nil {
		return Preview{Invalid: true}
	}
	var p Preview
	for _, c := range comps {
		switch strings.ToUpper(c.Type) {
		case "HEADER":
			p.HeaderFormat = strings.ToUpper(c.Format)
			if p.HeaderFormat == "" {
				p.HeaderFormat = "TEXT"
			}
			if p.HeaderFormat == "TEXT" {
				p.Header = Segments(c.Text)
			}
		case "BODY":
			p.Body = Segments(c.Text)
		case "FOOTER":
			p.Footer = c.Text
		case "BUTTONS":
			for _, b := range c.Buttons {
				pb := PreviewButton{Type: strings.ToUpper(b.Type), Text: b.Text, Phone: b.PhoneNumber}
				if b.URL != "" {
					pb.URL = Segments(b.URL)
				}
				p.Buttons = append(p.Buttons, pb)
			}
		}
	}
	return p
}

// HistoryItem is one status, quality or category change of a template, from the webhook log.
type HistoryItem struct {
	At     time.Time
	Field  string // "status", "quality", "category"
	From   string
	To     string
	Detail string // Meta's reason, e.g. a rejection reason or a pause title
}
