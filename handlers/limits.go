package handlers

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"mmconsole/models"
)

// FieldLimits refuses a form whose fields are longer than models.FieldMax allows, before any
// handler runs, so an over-long value changes nothing anywhere: a 100,000-character name once
// made the settings page a million pixels wide. It is global middleware rather than a check in
// each handler so that no form, including one added later, can forget it; the inputs render the
// same limit as their maxlength, so only a request crafted outside the page ever sees the 422.
//
// It reads the body ReadBody has already read (urlencoded or multipart); webhooks and the other
// paths without a session (noSession) are left to their own limits.
func FieldLimits(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions, fiber.MethodTrace:
		return c.Next()
	}
	if noSession(c.Path()) {
		return c.Next()
	}
	if err := CheckFieldLengths(c.Path(), formValues(c)); err != nil {
		return err
	}
	return c.Next()
}

// CheckFieldLengths is the check itself: a ValidationError naming every field over its limit,
// with the limit and the length received, or nil. Lengths are counted in characters (runes),
// never more than a browser's maxlength counts (UTF-16 units), so nothing a page let through is
// refused.
func CheckFieldLengths(path string, values map[string][]string) error {
	ve := &models.ValidationError{}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		limit := models.FormFieldMax(path, k)
		for _, v := range values[k] {
			if n := utf8.RuneCountInString(v); n > limit {
				ve.Add(k, fmt.Sprintf("%s is too long: at most %d characters, this one has %d.", FieldLabel(k), limit, n))
			}
		}
	}
	return ve.OrNil()
}

// FieldLabel is a field's name as a person reads it in an error message.
func FieldLabel(field string) string {
	switch field {
	case "waba_id":
		return "WABA ID"
	case "ttl_value":
		return "TTL"
	case "_csrf":
		return "The security token"
	case "q":
		return "The search"
	}
	if rest, ok := strings.CutPrefix(field, "var."); ok {
		return "Variable " + rest
	}
	s := strings.ReplaceAll(field, "_", " ")
	if s == "" {
		return "A field"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
