package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"mmconsole/internal/metarules"
)

// sendComponent is a send-time component as the request carries it.
type sendComponent struct {
	Type       string `json:"type"`
	SubType    string `json:"sub_type"`
	Index      string `json:"index"`
	Parameters []struct {
		Type          string `json:"type"`
		ParameterName string `json:"parameter_name"`
		Text          string `json:"text"`
	} `json:"parameters"`
}

// templateText is the part of a template's components the parameter checks need.
type templateText struct {
	Type    string `json:"type"`
	Format  string `json:"format"`
	Text    string `json:"text"`
	Buttons []struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	} `json:"buttons"`
}

var sandboxVarRe = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_]+)\s*\}\}`)

// checkParams applies Meta's rules on text parameters (metarules, the composer's copy): as many
// body and text-header parameters as the text has variables (132000), no new lines, tabs or more than 4 consecutive spaces (132018), and the length limits of the filled-in
// header, body and URL (132005). It answers the first problem as Meta's error, or nil.
func checkParams(t *tmpl, raw json.RawMessage) *apiErr {
	var comps []sendComponent
	if len(raw) != 0 && !isNullRaw(raw) && json.Unmarshal(raw, &comps) != nil {
		return nil // an odd components list is not what these rules are about
	}
	var texts []templateText
	_ = json.Unmarshal(t.Components, &texts)
	if perr := checkParamCounts(texts, comps); perr != nil {
		return perr
	}
	for _, c := range comps {
		switch strings.ToLower(c.Type) {
		case "header", "body":
			section := metarules.SectionBody
			if strings.EqualFold(c.Type, "header") {
				section = metarules.SectionHeader
			}
			values := map[string]string{}
			for i, p := range c.Parameters {
				if p.Type != "text" {
					continue
				}
				if pr := metarules.CheckTextParam(context.Background(), section, p.Text); pr != nil {
					return paramErr(pr)
				}
				values[strconv.Itoa(i+1)] = p.Text
				if p.ParameterName != "" {
					values[p.ParameterName] = p.Text
				}
			}
			for _, tt := range texts {
				if !strings.EqualFold(tt.Type, c.Type) || (section == metarules.SectionHeader && tt.Format != "" && !strings.EqualFold(tt.Format, "TEXT")) {
					continue
				}
				filled := sandboxVarRe.ReplaceAllStringFunc(tt.Text, func(m string) string {
					return values[sandboxVarRe.FindStringSubmatch(m)[1]]
				})
				if pr := metarules.CheckHydrated(context.Background(), section, filled); pr != nil {
					return paramErr(pr)
				}
			}
		case "button":
			if !strings.EqualFold(c.SubType, "url") || len(c.Parameters) == 0 {
				continue
			}
			idx, _ := strconv.Atoi(c.Index)
			prefix := ""
			for _, tt := range texts {
				if strings.EqualFold(tt.Type, "BUTTONS") && idx < len(tt.Buttons) {
					prefix = sandboxVarRe.ReplaceAllString(tt.Buttons[idx].URL, "")
				}
			}
			if pr := metarules.CheckURLSuffix(context.Background(), prefix, c.Parameters[0].Text); pr != nil {
				return paramErr(pr)
			}
		}
	}
	return nil
}

func paramErr(p *metarules.ParamProblem) *apiErr {
	msg := "There was an issue with the parameters in your template."
	if p.Code == metarules.CodeHydratedTooLong {
		msg = "Hydrated text too long"
	}
	return &apiErr{code: p.Code, message: msg, details: "Param text " + p.Message}
}

// checkParamCounts answers 132000 when the body or the text header gets another number of
// parameters than its text has variables, as Meta does: an under-filled send is refused, never
// delivered with "{{1}}" in it. A component without variables needs none.
func checkParamCounts(texts []templateText, comps []sendComponent) *apiErr {
	for _, tt := range texts {
		typ := strings.ToLower(tt.Type)
		if typ != "body" && (typ != "header" || (tt.Format != "" && !strings.EqualFold(tt.Format, "TEXT"))) {
			continue
		}
		want := map[string]bool{}
		for _, m := range sandboxVarRe.FindAllStringSubmatch(tt.Text, -1) {
			want[m[1]] = true
		}
		got := 0
		for _, c := range comps {
			if strings.EqualFold(c.Type, typ) {
				got += len(c.Parameters)
			}
		}
		if got != len(want) {
			return &apiErr{code: 132000, message: "Number of parameters does not match the expected number of params",
				details: fmt.Sprintf("%s: number of localizable_params (%d) does not match the expected number of params (%d)", typ, got, len(want))}
		}
	}
	return nil
}
