package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"mmconsole/internal/metarules"
)

// Template creation and deletion as Meta reviews them: the create request's components are
// checked with Meta's authoring rules (metarules, the console form's copy), a template whose
// name starts with RejectPrefix is rejected at review with a reason, and DELETE removes a name
// (every language) or one template, announcing each with a status webhook.

// RejectPrefix makes the sandbox's review reject a new template: "reject_" followed by one of
// Meta's rejection reasons in lowercase (e.g. reject_promotional_summer) gives that reason,
// otherwise INVALID_FORMAT.
const RejectPrefix = "reject_"

// RejectionReasons are the reasons of a message_template_status_update REJECTED event
// (mm-api-reference §6.4), longest first so a prefix match picks the most specific.
var RejectionReasons = []string{"TAG_CONTENT_MISMATCH", "INCORRECT_CATEGORY", "ABUSIVE_CONTENT", "INVALID_FORMAT", "PROMOTIONAL", "SCAM"}

// reviewRejection is the reason the review gives a template name, "" when it approves it.
func reviewRejection(name string) string {
	rest, ok := strings.CutPrefix(name, RejectPrefix)
	if !ok {
		return ""
	}
	for _, r := range RejectionReasons {
		if strings.HasPrefix(rest, strings.ToLower(r)) {
			return r
		}
	}
	return "INVALID_FORMAT"
}

// OffsetClock is the wall clock moved forward by an offset: the sandbox inside the running
// dashboard uses it so a test (or a demo) can skip a wait such as the 10-minute sync window
// without stopping time. Goroutine-safe.
type OffsetClock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now is the wall clock plus the offset.
func (c *OffsetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d.
func (c *OffsetClock) Advance(d time.Duration) { c.mu.Lock(); c.offset += d; c.mu.Unlock() }

// Clock is the clock the sandbox's rules use.
func (s *Sandbox) Clock() Clock { return s.clock }

// createComponent is one component of a create or edit request.
type createComponent struct {
	Type    string          `json:"type"`
	Format  string          `json:"format"`
	Text    string          `json:"text"`
	Example json.RawMessage `json:"example"`
	Buttons []struct {
		Type        string          `json:"type"`
		Text        string          `json:"text"`
		URL         string          `json:"url"`
		PhoneNumber string          `json:"phone_number"`
		Example     json.RawMessage `json:"example"`
	} `json:"buttons"`
}

type namedParam struct {
	ParamName string `json:"param_name"`
	Example   string `json:"example"`
}

// exampleOf reads a component's example: positional values (header_text, body_text[0]), named
// ones (*_named_params) or a media handle.
func exampleOf(raw json.RawMessage) (pos []string, named map[string]string, handle string) {
	var ex struct {
		HeaderText   []string     `json:"header_text"`
		HeaderNamed  []namedParam `json:"header_text_named_params"`
		BodyText     [][]string   `json:"body_text"`
		BodyNamed    []namedParam `json:"body_text_named_params"`
		HeaderHandle []string     `json:"header_handle"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &ex) != nil {
		return nil, nil, ""
	}
	pos = ex.HeaderText
	if len(ex.BodyText) > 0 {
		pos = ex.BodyText[0]
	}
	for _, p := range append(ex.HeaderNamed, ex.BodyNamed...) {
		if named == nil {
			named = map[string]string{}
		}
		named[p.ParamName] = p.Example
	}
	if len(ex.HeaderHandle) > 0 {
		handle = ex.HeaderHandle[0]
	}
	return pos, named, handle
}

// buttonExample reads a button's example: a list of one link (URL) or a code (COPY_CODE).
func buttonExample(raw json.RawMessage) string {
	var list []string
	if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
		return list[0]
	}
	var one string
	_ = json.Unmarshal(raw, &one)
	return one
}

// templateDef reads a create (or edit) request into the definition Meta's rules check.
func templateDef(name, lang, cat, format string, raw json.RawMessage) (metarules.TemplateDef, *apiErr) {
	d := metarules.TemplateDef{Name: name, Language: lang, Category: cat, ParameterFormat: format}
	var comps []createComponent
	if json.Unmarshal(raw, &comps) != nil || len(comps) == 0 {
		e := invalidParam("components must be a non-empty array of template components")
		return d, &e
	}
	seen := map[string]bool{}
	for _, c := range comps {
		t := strings.ToUpper(c.Type)
		if seen[t] {
			e := invalidParam("components holds " + t + " twice; a template has at most one of each component")
			return d, &e
		}
		seen[t] = true
		pos, named, handle := exampleOf(c.Example)
		switch t {
		case "HEADER":
			d.Header = &metarules.HeaderDef{Format: strings.ToUpper(c.Format), TextDef: metarules.TextDef{Text: c.Text, Examples: pos, Named: named}, Sample: handle}
		case "BODY":
			d.Body = metarules.TextDef{Text: c.Text, Examples: pos, Named: named}
		case "FOOTER":
			d.Footer = c.Text
		case "BUTTONS":
			for _, b := range c.Buttons {
				d.Buttons = append(d.Buttons, metarules.ButtonDef{Type: strings.ToUpper(b.Type), Text: b.Text, URL: b.URL, Phone: b.PhoneNumber, Example: buttonExample(b.Example)})
			}
		default:
			e := invalidParam(fmt.Sprintf("component type %q is not HEADER, BODY, FOOTER or BUTTONS", c.Type))
			return d, &e
		}
	}
	if !seen["BODY"] {
		e := invalidParam("components must include a BODY component")
		return d, &e
	}
	return d, nil
}

// checkDef answers the first broken authoring rule as Meta's error: code 100 with the
// subcode of the rule and the field in the details.
func checkDef(d metarules.TemplateDef) *apiErr {
	ps := metarules.CheckTemplate(context.Background(), d) // Meta answers in English: no reader's language
	if len(ps) == 0 {
		return nil
	}
	p := ps[0]
	e := apiErr{code: 100, subcode: p.Subcode, message: "Invalid parameter", details: p.Field + ": " + p.Message}
	if p.Field == metarules.FieldName {
		e.userTitle, e.userMsg = "Invalid template name", "Use only lowercase letters, numbers and underscores."
	}
	return &e
}

// deleteTemplates implements DELETE /{waba}/message_templates?name=…[&hsm_id=…]: every language
// of the name, or the one template hsm_id names (which must carry that name).
func (s *Sandbox) deleteTemplates(w http.ResponseWriter, r *http.Request, tokenWABA, wabaID string) {
	wb, ok := s.wabas[wabaID]
	if !ok || wb.ID != tokenWABA {
		s.writeErr(w, unsupported(http.MethodDelete, wabaID))
		return
	}
	name, hsm := r.URL.Query().Get("name"), r.URL.Query().Get("hsm_id")
	if name == "" {
		s.writeErr(w, invalidParam("Parameter name is required"))
		return
	}
	var keep []string
	var gone []*tmpl
	for _, id := range wb.TemplateIDs {
		t := s.templates[id]
		if t.Name == name && (hsm == "" || t.ID == hsm) {
			gone = append(gone, t)
			continue
		}
		keep = append(keep, id)
	}
	if len(gone) == 0 {
		what := "named " + name
		if hsm != "" {
			what = "with id " + hsm + " and name " + name
		}
		s.writeErr(w, invalidParam("No message template "+what+" exists in this WhatsApp Business Account"))
		return
	}
	wb.TemplateIDs = keep
	for _, t := range gone {
		delete(s.templates, t.ID)
		t.Status = "DELETED"
		s.enqueueLocked(0, t.WABAID, func() *change { return templateStatusChange(t, "DELETED") })
	}
	writeJSON(w, 200, map[string]any{"success": true})
}

// rejectChange builds the REJECTED status webhook with Meta's reason and its rejection_info;
// recommendation says why the sandbox's review rejected it.
func rejectChange(t *tmpl, recommendation string) *change {
	c := templateStatusChange(t, "REJECTED")
	v := c.Value.(map[string]any)
	v["reason"] = t.RejectedReason
	v["rejection_info"] = map[string]any{"reason": t.RejectedReason, "recommendation": recommendation}
	return c
}

// prefixRecommendation is the rejection_info of a template rejected for its name's prefix.
const prefixRecommendation = "Sandbox review: the name starts with " + RejectPrefix + "; create it under another name to have it approved."
