package models

import "strings"

// FieldMax is the most characters the dashboard accepts in a form field of that name, on every
// form: the server refuses a longer value (handlers.FieldLimits) and every input renders it as
// its maxlength, so the browser stops a person at the same place the server would.
//
// One table keyed by field name, rather than a limit per form, because the same name means the
// same thing on every form (an email is an email on sign-in, setup and invitations), and a form
// added later is bounded by DefaultFieldMax before anyone remembers to list it. A switch rather
// than a map keeps the table immutable.
func FieldMax(field string) int {
	switch field {
	case "email", "actor", "user":
		return 254 // the longest address SMTP carries (RFC 5321 path limit)
	case "password", "confirm", "current", "new":
		// Long enough for any passphrase; short enough that hashing one costs what hashing
		// any other does.
		return 128
	case "name":
		return 120 // account, connection and person names alike
	case "waba_id", "waba", "conn", "connection", "phone", "id":
		return 64 // Meta ids are 15–17 digits; room for a pasted label around them
	case "access_token":
		return 1024 // system user tokens are a few hundred characters
	case "app_secret":
		return 128
	case "ttl_value":
		return 16 // "2592000" or "12.5": a number, never prose
	case "recipient", "number":
		return 40 // 15 digits of E.164 with spaces, dashes, brackets and a plus
	case "next", "back":
		return 2048 // a path and query of this site
	case "key", "_csrf":
		return 128
	case "q", "template", "status", "error_code", "wamid", "target", "action", "language":
		return 512 // search boxes and references: a name (Meta allows 512), an id or a wamid
	case "query":
		return 4096 // a saved log filter: the query string of several of the fields above
	case "var.header_media", "header_sample":
		return 2048 // a media URL or upload handle (Meta's media reference limit)
	// Template authoring: Meta's own limits (internal/metarules), which the form checks with
	// its own messages; this only bounds what a request outside the page could send.
	case "body":
		return 1024
	case "header_text", "footer":
		return 60
	case "vars_key":
		return 1024
	}
	switch {
	case strings.HasPrefix(field, "button_text_"):
		return 25
	case strings.HasPrefix(field, "button_url_"), strings.HasPrefix(field, "button_example_"):
		return 2000
	case strings.HasPrefix(field, "button_phone_"):
		return 20
	case strings.HasPrefix(field, "ex_"):
		return 1024 // a body example: at most the whole body
	case strings.HasPrefix(field, "var.button."):
		return 2000 // the dynamic end of a URL button
	case strings.HasPrefix(field, "var."):
		return 1024 // a body or header variable: at most the whole body Meta allows
	}
	return DefaultFieldMax
}

// FormFieldMax is FieldMax for a form posted to path: the one name that means two things is
// "name", a person's or an account's name everywhere but a template's under /templates/, where
// Meta allows 512 characters.
func FormFieldMax(path, field string) int {
	if field == "name" && strings.HasPrefix(path, "/templates/") {
		return 512
	}
	return FieldMax(field)
}

// DefaultFieldMax bounds every field the table does not name: choices (role, api, unit, policy,
// OPT_IN) and ids, none of which is prose.
const DefaultFieldMax = 256
