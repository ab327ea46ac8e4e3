package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Enroll statuses of a creative feature.
const (
	OptIn  = "OPT_IN"
	OptOut = "OPT_OUT"
)

// DegreesOfFreedom is degrees_of_freedom_spec, the automatic creative
// optimization switches. Meta uses three JSON shapes for it (reference §4):
//
//  1. request (create/edit/WABA POST): {"creative_features_spec":{"image_touchups":{"enroll_status":"OPT_IN"}}}
//  2. template GET: {"creative_features_spec":[{"key":"IMAGE_TOUCHUPS","value":{"enroll_status":"OPT_IN"}}]}
//  3. WABA GET: {"data":[{"creative_features_spec":[{"image_touchups":"OPT_IN"}]}]}
//
// All three decode into Features with lowercase keys and upper-case values.
// Keys this code does not know (Meta adds features often) are kept.
// MarshalJSON always produces shape 1, the only one Meta accepts in requests.
//
// A spec in any other shape (an empty value object, an array where a status
// belongs, a number…) does not fail the decode of the object around it: one
// odd template must not break a whole template list. It decodes as Unknown,
// with the raw JSON kept in Raw and the reason in Problem, so that the console
// can show it and refuse to edit a spec it cannot read.
type DegreesOfFreedom struct {
	Features map[string]string
	// Unknown is set when the spec was present but unreadable; Features is then nil.
	Unknown bool
	Problem string
	Raw     json.RawMessage
}

// maxRawSpec bounds the raw JSON an unreadable spec keeps: enough to show,
// never a whole oversized answer.
const maxRawSpec = 4096

// Len is the number of features with an explicit enroll status.
func (d DegreesOfFreedom) Len() int { return len(d.Features) }

// Get returns the enroll status of a feature ("" when not set).
func (d DegreesOfFreedom) Get(key string) string {
	return d.Features[strings.ToLower(key)]
}

// Set records an enroll status, normalising key and value.
func (d *DegreesOfFreedom) Set(key, status string) {
	if d.Features == nil {
		d.Features = map[string]string{}
	}
	d.Features[normKey(key)] = normStatus(status)
}

func normKey(k string) string    { return strings.ToLower(strings.TrimSpace(k)) }
func normStatus(v string) string { return strings.ToUpper(strings.TrimSpace(v)) }
func isNull(b []byte) bool       { b = bytes.TrimSpace(b); return len(b) == 0 || string(b) == "null" }
func firstByte(b []byte) byte {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// MarshalJSON writes the request shape (object keyed by lowercase name).
func (d DegreesOfFreedom) MarshalJSON() ([]byte, error) {
	type status struct {
		EnrollStatus string `json:"enroll_status"`
	}
	spec := make(map[string]status, len(d.Features))
	for k, v := range d.Features {
		spec[normKey(k)] = status{normStatus(v)}
	}
	return json.Marshal(struct {
		CreativeFeaturesSpec map[string]status `json:"creative_features_spec"`
	}{spec})
}

// UnmarshalJSON accepts all three shapes, and null or {} as "nothing set".
// Any other shape decodes as Unknown and never returns an error (see the type).
func (d *DegreesOfFreedom) UnmarshalJSON(b []byte) error {
	*d = DegreesOfFreedom{}
	if err := d.decode(b); err != nil {
		raw := bytes.TrimSpace(b)
		if len(raw) > maxRawSpec {
			raw = raw[:maxRawSpec]
		}
		*d = DegreesOfFreedom{Unknown: true, Problem: err.Error(), Raw: append(json.RawMessage(nil), raw...)}
	}
	return nil
}

// Decode reads a spec strictly: an unreadable shape is an error. Used where
// the caller must not guess, e.g. tests and request validation.
func (d *DegreesOfFreedom) Decode(b []byte) error {
	*d = DegreesOfFreedom{}
	return d.decode(b)
}

func (d *DegreesOfFreedom) decode(b []byte) error {
	if isNull(b) {
		return nil
	}
	if firstByte(b) != '{' {
		return fmt.Errorf("degrees_of_freedom_spec: want an object, got %s", snippet(b))
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return fmt.Errorf("degrees_of_freedom_spec: %w", err)
	}
	feats := map[string]string{}
	if data, ok := top["data"]; ok && !isNull(data) {
		// Shape 3: {"data":[{"creative_features_spec":[...]}]}
		var items []map[string]json.RawMessage
		if err := json.Unmarshal(data, &items); err != nil {
			return fmt.Errorf("degrees_of_freedom_spec.data: %w", err)
		}
		for _, it := range items {
			if err := decodeSpec(it["creative_features_spec"], feats); err != nil {
				return err
			}
		}
	}
	if err := decodeSpec(top["creative_features_spec"], feats); err != nil {
		return err
	}
	if len(feats) > 0 {
		d.Features = feats
	}
	return nil
}

// decodeSpec reads a creative_features_spec value in any of its forms into
// feats: an object of {enroll_status} or of plain strings, an array of
// {key, value} pairs, or an array of flat maps.
func decodeSpec(raw json.RawMessage, feats map[string]string) error {
	if isNull(raw) {
		return nil
	}
	switch firstByte(raw) {
	case '{':
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return fmt.Errorf("creative_features_spec: %w", err)
		}
		return decodeFlat(obj, feats)
	case '[':
		var arr []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &arr); err != nil {
			return fmt.Errorf("creative_features_spec: %w", err)
		}
		for _, el := range arr {
			keyRaw, hasKey := el["key"]
			if hasKey && firstByte(keyRaw) == '"' {
				// Shape 2: {"key":"UPPER","value":{"enroll_status":"OPT_IN"}}
				var key string
				if err := json.Unmarshal(keyRaw, &key); err != nil {
					return fmt.Errorf("creative_features_spec key: %w", err)
				}
				st, err := statusOf(el["value"])
				if err != nil {
					return fmt.Errorf("creative_features_spec %s: %w", key, err)
				}
				feats[normKey(key)] = st
				continue
			}
			// Shape 3 inner map: {"image_touchups":"OPT_IN", ...}
			if err := decodeFlat(el, feats); err != nil {
				return err
			}
		}
		return nil
	default:
		return fmt.Errorf("creative_features_spec: want an object or array, got %s", snippet(raw))
	}
}

func decodeFlat(obj map[string]json.RawMessage, feats map[string]string) error {
	for k, v := range obj {
		st, err := statusOf(v)
		if err != nil {
			return fmt.Errorf("creative_features_spec %s: %w", k, err)
		}
		feats[normKey(k)] = st
	}
	return nil
}

// statusOf reads "OPT_IN" or {"enroll_status":"OPT_IN"}.
func statusOf(raw json.RawMessage) (string, error) {
	switch firstByte(raw) {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return normStatus(s), nil
	case '{':
		var v struct {
			EnrollStatus *string `json:"enroll_status"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", err
		}
		if v.EnrollStatus == nil {
			return "", fmt.Errorf("missing enroll_status in %s", snippet(raw))
		}
		return normStatus(*v.EnrollStatus), nil
	default:
		return "", fmt.Errorf("want a status string or {enroll_status}, got %s", snippet(raw))
	}
}
