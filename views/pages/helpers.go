package pages

import "strconv"

func itoa(n int) string { return strconv.Itoa(n) }

func kindLabel(k string) string {
	switch k {
	case "status":
		return "Status"
	case "message":
		return "Inbound message"
	case "click":
		return "Link click"
	case "template_status":
		return "Template status"
	case "template_category":
		return "Template category"
	case "template_quality":
		return "Template quality"
	case "user_preference":
		return "User preference"
	case "account_update":
		return "Account update"
	case "error":
		return "System error"
	}
	return "Other (kept raw)"
}

func statusTone(s string) string {
	switch s {
	case "delivered", "read", "APPROVED", "GREEN", "resume", "MM_LITE_TERMS_SIGNED", "clicked":
		return "ok"
	case "failed", "REJECTED", "DISABLED", "RED", "stop", "PAUSED":
		return "bad"
	case "YELLOW", "PENDING", "FLAGGED", "IMPENDING", "accepted":
		return "warn"
	}
	return ""
}

// shortID keeps long ids readable in tables; the full id is in the link and the raw JSON.
func shortID(s string) string {
	if len(s) <= 28 {
		return s
	}
	return s[:24] + "…"
}

func withParam(query, key, value string) string {
	if query == "" {
		return key + "=" + value
	}
	return query + "&" + key + "=" + value
}
