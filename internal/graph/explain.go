package graph

// Explanation is a Graph error code in plain words: what happened and what
// the user should do. The webhook log and the composer show it next to the
// raw code, so the table covers every code in mm-api-reference.md §2.3.
type Explanation struct {
	Title     string
	Meaning   string
	Action    string
	Transient bool // retrying later can succeed without changing anything
}

// explanations is read-only after package initialisation; it is a lookup
// table, not mutable state.
var explanations = map[int]Explanation{
	0:       {"Authentication failed", "The access token could not be used (missing, malformed or the request was not authenticated).", "Check the WABA connection's access token.", false},
	1:       {"Unknown API error", "Meta reported an unknown, usually temporary, error.", "Retry later; reads are retried automatically.", true},
	2:       {"Service temporarily unavailable", "Meta's API was temporarily down or overloaded.", "Retry later; reads are retried automatically.", true},
	4:       {"App rate limit reached", "Too many API calls from this app.", "Wait and retry with backoff; reduce call volume.", true},
	10:      {"Permission denied", "The token lacks a permission needed for this call.", "Grant the missing permission (e.g. whatsapp_business_messaging) to the system user and issue a new token.", false},
	100:     {"Invalid parameter", "A request field is missing or invalid. On /marketing_messages it also means the message was not a template message. Subcode 2388024 means a template with this name and language already exists.", "Read the details, fix the request and send again.", false},
	190:     {"Access token invalid or expired", "The access token is wrong, expired or was revoked.", "Generate a new token and update the WABA connection.", false},
	200:     {"Permission denied", "The token cannot reach this object (wrong WABA, or a permission is missing).", "Use the token of the WABA that owns the object, or grant the permission.", false},
	368:     {"Temporarily blocked for policy violations", "The account is blocked for a while for policy violations.", "Review the policy notice in WhatsApp Manager; wait for the block to end.", false},
	80007:   {"WABA rate limit reached", "Too many management calls for this WhatsApp Business Account.", "Wait and retry later (200 calls/hour, 5000 for active WABAs).", true},
	130429:  {"Throughput limit reached", "The phone number sent more messages per second than its throughput allows (80 mps by default).", "Slow down and retry with backoff.", true},
	130472:  {"User is in a marketing experiment", "The recipient is part of a Meta marketing experiment and did not get the message.", "Nothing to fix; do not retry this message.", false},
	130497:  {"Country not allowed", "The business cannot message users in that country.", "Remove these recipients from the campaign.", false},
	131009:  {"Parameter value is not valid", "A parameter is invalid, or the template's ad sync is not complete yet.", "Check the parameters; if the template is new, wait about 10 minutes.", false},
	131026:  {"Message undeliverable", "The recipient is not on WhatsApp, uses an old app, or has not accepted the terms.", "Check the number; do not retry immediately.", false},
	131031:  {"Account locked", "The business account is locked.", "Contact Meta support via WhatsApp Manager.", false},
	131042:  {"Payment problem", "There is a problem with the WABA's payment method.", "Fix the payment method in Business Settings.", false},
	131047:  {"24-hour window closed", "A non-template message was sent outside the customer service window. Not relevant to templates.", "Send a template instead.", false},
	131048:  {"Spam rate limit", "Messages were restricted because of quality (too many blocks or reports).", "Improve message quality and lower volume; retry later.", false},
	131049:  {"Per-user marketing limit", "Per-user marketing limit (also: all marketing to US numbers is blocked).", "Do not retry for 24 h. Never send marketing to US (+1) numbers.", false},
	131050:  {"User stopped marketing messages", "The recipient chose to stop marketing messages from this business.", "Do not retry; remove the user until a user_preferences 'resume' webhook arrives.", false},
	131055:  {"Only marketing templates supported", "A utility or authentication template, or a non-template message, was sent to /marketing_messages.", "Send utility and authentication templates through Cloud API /messages.", false},
	131056:  {"Pair rate limit", "Too many messages to the same recipient in a short time (about 1 per 6 s, bursts up to 45).", "Wait a few seconds before messaging this recipient again.", true},
	131057:  {"Account in maintenance mode", "The account is in maintenance, e.g. during a throughput upgrade (about a minute).", "Retry in a minute or two.", true},
	131061:  {"Max-price template on Cloud API", "A template with bid_spec/optimization_spec was sent to Cloud API /messages.", "Send it through /marketing_messages.", false},
	131062:  {"BSUID recipient not supported", "This message (a max-price or authentication template) cannot be sent to a business-scoped user ID.", "Address the recipient by phone number.", false},
	131063:  {"Marketing templates disabled for Cloud API", "The WABA has disable_marketing_messages_on_cloud_api=true, or a not-onboarded WABA tried to fall back to Cloud API.", "Finish MM API onboarding, or turn the setting off.", false},
	132000:  {"Parameter count mismatch", "The number of variables sent does not match the template.", "Send exactly the variables the template defines.", false},
	132001:  {"Template does not exist or is not approved", "No APPROVED template with that name exists in that language.", "Check the template name, language code and status.", false},
	132005:  {"Hydrated text too long", "The text after filling in the variables is too long.", "Shorten the variable values.", false},
	132007:  {"Format character policy violated", "The variable values break the template's formatting rules (e.g. newlines, tabs, too many spaces).", "Clean up the variable values.", false},
	132012:  {"Parameter format mismatch", "A variable has the wrong type or format for the template (e.g. named vs positional, media header).", "Send variables in the format the template defines.", false},
	132015:  {"Template paused", "The template was paused for low quality.", "Edit the template or wait until it is unpaused; use another template meanwhile.", false},
	132016:  {"Template disabled", "The template was paused too many times and is permanently disabled.", "Create a new template.", false},
	132018:  {"Template parameter problem", "A template component parameter is invalid at send time.", "Check the components and parameters against the template.", false},
	133016:  {"Register/deregister rate limit", "Too many register or deregister attempts for this number.", "Wait before trying again.", true},
	134100:  {"Only marketing templates supported", "Utility and authentication templates cannot be sent through MM API.", "Send them through Cloud API /messages.", false},
	134101:  {"Template still syncing", "Template still syncing with MM API; wait up to 10 minutes. This happens after creation and on the first send after 7 days unused.", "Wait up to 10 minutes, then send again.", false},
	134102:  {"Template unavailable for use", "Ad sync failed, or the WABA is not eligible or not onboarded to MM API. With product_policy STRICT on a WABA that is not onboarded, this is the (undocumented, inferred) error.", "Check marketing_messages_onboarding_status; finish onboarding, or send with CLOUD_API_FALLBACK.", false},
	134103:  {"MM API error 134103", "Added by Meta in May 2025; no public description exists.", "Check the details; contact the provider if it persists.", false},
	135000:  {"Generic user error", "A generic error, also used when portfolio pacing drops a held message.", "Check the details; retry later if it was pacing.", false},
	1752041: {"Duplicate onboarding request", "A partner already sent this business an MM API onboarding request.", "Wait for the business to accept the existing request.", false},
	2388024: {"Template already exists", "A template with this name already exists for that language.", "Choose another name or language.", false},
	// The 2388xxx family: Meta's refusals of a template at creation or edit. Only 2388024 is in
	// the reference; the meanings below follow Meta's public error pages [I].
	2388040: {"Text too long", "A field of the template (header, body, footer, a button or a link) has more characters than Meta allows.", "Shorten the field shown next to this message.", false},
	2388043: {"Sample missing", "A variable, a media header or a button lacks the example Meta's review needs.", "Give an example for every variable, a sample for the media header, and an example link or code for the buttons.", false},
	2388047: {"Header not well formed", "The header breaks Meta's rules: too many variables, formatting characters, or a media header without a sample.", "Fix the header as the message next to it says.", false},
	2388071: {"Buttons break Meta's rules", "Too many buttons (10 in all, 2 URL, 1 phone, 1 copy code), quick replies mixed among call-to-action buttons, or a button not well formed.", "Fix the buttons as the message next to them says.", false},
	2388072: {"Body not well formed", "The body breaks Meta's variable rules: variables out of order or with gaps, named and numbered mixed, or a variable at the very start or end.", "Fix the body's variables as the message next to it says.", false},
	2388073: {"Footer not well formed", "The footer holds a variable or is too long.", "Use plain text of at most 60 characters.", false},
	2388023: {"Name is being deleted", "A template of this name and language was deleted recently; Meta keeps the name until the deletion completes.", "Choose another name, or wait until the deletion completes.", false},
}

// Explain returns the plain-words explanation of a Graph error code. Codes we
// do not know get a generic explanation that still names the code.
func Explain(code int) Explanation {
	if x, ok := explanations[code]; ok {
		return x
	}
	return Explanation{
		Title:   "Unrecognised error",
		Meaning: "Meta returned an error code this console does not describe.",
		Action:  "Read the details and Meta's error-code reference.",
	}
}

// retryableCodes are the codes that a read may retry: Meta marks them as
// temporary (unknown, service down, rate and throughput limits, maintenance).
func retryableCode(code int) bool {
	switch code {
	case 1, 2, 4, 80007, 130429, 131057:
		return true
	}
	return false
}
