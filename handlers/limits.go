package handlers

import (
	"context"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"mmconsole/internal/i18n"
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
	if err := CheckFieldLengths(c.UserContext(), c.Path(), formValues(c)); err != nil {
		return err
	}
	return c.Next()
}

// CheckFieldLengths is the check itself: a ValidationError naming every field over its limit,
// with the limit and the length received, or nil. Lengths are counted in characters (runes),
// never more than a browser's maxlength counts (UTF-16 units), so nothing a page let through is
// refused. The messages are in the language of ctx.
func CheckFieldLengths(ctx context.Context, path string, values map[string][]string) error {
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
				ve.Add(k, i18n.T(ctx, "limits.too_long", "Field", FieldLabel(ctx, k),
					"Limit", i18n.Num(ctx, int64(limit)), "Length", i18n.Num(ctx, int64(n))))
			}
		}
	}
	return ve.OrNil()
}

// fieldLabelKey is the catalog key naming a field a person may meet in a too-long message, or ""
// for a field named as the form names it. A switch, not a map: the table stays immutable.
func fieldLabelKey(field string) string {
	switch field {
	case "waba_id":
		return i18n.Key("limits.field.waba_id")
	case "ttl_value":
		return i18n.Key("limits.field.ttl_value")
	case "_csrf":
		return i18n.Key("limits.field.csrf")
	case "q":
		return i18n.Key("limits.field.search")
	case "email":
		return i18n.Key("limits.field.email")
	case "name":
		return i18n.Key("limits.field.name")
	case "password":
		return i18n.Key("limits.field.password")
	case "access_token":
		return i18n.Key("limits.field.access_token")
	case "app_secret":
		return i18n.Key("limits.field.app_secret")
	case "number", "recipient":
		return i18n.Key("limits.field.number")
	case "body":
		return i18n.Key("limits.field.body")
	case "footer":
		return i18n.Key("limits.field.footer")
	}
	return ""
}

// FieldLabel is a field's name as a person reads it in an error message, in the language of ctx.
func FieldLabel(ctx context.Context, field string) string {
	if key := fieldLabelKey(field); key != "" {
		return i18n.T(ctx, key)
	}
	if rest, ok := strings.CutPrefix(field, "var."); ok {
		return i18n.T(ctx, "limits.field.variable", "Name", rest)
	}
	return i18n.T(ctx, "limits.field.generic", "Name", field)
}
