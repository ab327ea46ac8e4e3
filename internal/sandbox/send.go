package sandbox

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"mmconsole/internal/metarules"
)

type sendTemplate struct {
	Name     string `json:"name"`
	Language struct {
		Code   string `json:"code"`
		Policy string `json:"policy"`
	} `json:"language"`
	Components json.RawMessage `json:"components"`
}

var bsuidRe = regexp.MustCompile(`^[A-Za-z0-9._-]{3,128}$`)

// send implements POST /{phone}/marketing_messages, applying the documented
// rules in order; each failure answers with Meta's envelope and code.
func (s *Sandbox) send(w http.ResponseWriter, tokenWABA, phoneID string, body map[string]json.RawMessage) {
	ph, ok := s.phones[phoneID]
	if !ok || ph.WABAID != tokenWABA {
		s.writeErr(w, unsupported(http.MethodPost, phoneID))
		return
	}
	wb := s.wabas[ph.WABAID]
	str := func(k string) (string, bool) {
		raw, ok := body[k]
		if !ok {
			return "", false
		}
		var v string
		return v, json.Unmarshal(raw, &v) == nil
	}
	if mp, _ := str("messaging_product"); mp != "whatsapp" {
		s.writeErr(w, invalidParam("The parameter messaging_product is required and must be \"whatsapp\""))
		return
	}
	typ, _ := str("type")
	var tp sendTemplate
	if typ != "template" || json.Unmarshal(body["template"], &tp) != nil || isNullRaw(body["template"]) {
		s.writeErr(w, invalidParam("Message must be a template message."))
		return
	}
	if tp.Name == "" || tp.Language.Code == "" {
		s.writeErr(w, invalidParam("Parameters template.name and template.language.code are required"))
		return
	}
	var t *tmpl
	for _, id := range wb.TemplateIDs {
		if c := s.templates[id]; c.Name == tp.Name && c.Language == tp.Language.Code {
			t = c
			break
		}
	}
	switch {
	case t != nil && t.Status == "PAUSED":
		s.writeErr(w, apiErr{code: 132015, message: "Template is Paused",
			details: fmt.Sprintf("Template %s (%s) is paused because of low quality", t.Name, t.Language)})
		return
	case t != nil && t.Status == "DISABLED":
		s.writeErr(w, apiErr{code: 132016, message: "Template is Disabled",
			details: fmt.Sprintf("Template %s (%s) was paused too many times and is disabled", t.Name, t.Language)})
		return
	case t == nil || t.Status != "APPROVED":
		s.writeErr(w, apiErr{status: http.StatusNotFound, code: 132001, message: "Template name does not exist in the translation",
			details: fmt.Sprintf("template name (%s) does not exist in %s or is not approved", tp.Name, tp.Language.Code)})
		return
	}
	if t.Category != "MARKETING" {
		s.writeErr(w, apiErr{code: 134100, message: "Only marketing messages supported",
			details: fmt.Sprintf("Template %s is %s; send utility and authentication templates through /messages", t.Name, t.Category)})
		return
	}
	if perr := checkParams(t, tp.Components); perr != nil {
		s.writeErr(w, *perr)
		return
	}
	policy, _ := str("product_policy")
	switch policy {
	case "", "CLOUD_API_FALLBACK", "STRICT":
	default:
		s.writeErr(w, invalidParam("product_policy must be CLOUD_API_FALLBACK or STRICT"))
		return
	}
	onboarded := wb.Onboarding == "ONBOARDED"
	if policy == "STRICT" && !onboarded {
		code := s.opts.StrictErrorCode
		status := http.StatusBadRequest
		if code == 134102 {
			status = http.StatusInternalServerError
		}
		s.writeErr(w, apiErr{status: status, code: code, message: "Template unavailable for use",
			details: "The WhatsApp Business Account is not onboarded to Marketing Messages API and product_policy is STRICT, so the message cannot fall back to Cloud API"})
		return
	}
	if !onboarded && wb.DisableCloudMarketing {
		s.writeErr(w, apiErr{code: 131063, message: "Marketing templates disabled for Cloud API",
			details: "This WABA disabled marketing messages on Cloud API and is not onboarded to MM API, so the fallback is not possible"})
		return
	}
	if raw, ok := body["time_to_live"]; ok && !isNullRaw(raw) {
		n, err := strconv.Atoi(strings.TrimSpace(string(raw)))
		if err != nil || n < 43200 || n > 2592000 {
			s.writeErr(w, invalidParam("time_to_live must be an integer between 43200 (12 hours) and 2592000 (30 days) seconds"))
			return
		}
	}
	if raw, ok := body["message_activity_sharing"]; ok {
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			s.writeErr(w, invalidParam("message_activity_sharing must be a boolean"))
			return
		}
	}
	to, _ := str("to")
	bsuid, _ := str("recipient")
	waID := digitsOnly(to)
	var recipientKey string
	switch {
	case to != "":
		if strings.Trim(to, "+0123456789 -()") != "" || len(waID) < 8 || len(waID) > 15 {
			s.writeErr(w, invalidParam(fmt.Sprintf("Invalid 'to' parameter: %q is not a valid WhatsApp phone number (use country code and number, digits only)", to)))
			return
		}
		recipientKey = waID
	case bsuid != "":
		if !bsuidRe.MatchString(bsuid) {
			s.writeErr(w, invalidParam("Invalid 'recipient' parameter: not a business-scoped user ID"))
			return
		}
		recipientKey = "bsuid:" + bsuid
	default:
		s.writeErr(w, invalidParam("Parameter 'to' (or 'recipient') is required"))
		return
	}

	now := s.clock.Now()
	pairKey := phoneID + "|" + recipientKey
	pair := s.pairBuckets[pairKey]
	if pair == nil {
		pair = &bucket{}
		s.pairBuckets[pairKey] = pair
	}
	if !pair.allows(now, s.opts.PairLimit, pairInterval) {
		s.writeErr(w, apiErr{code: 131056, message: "(Business Account, Consumer Account) pair rate limit hit",
			details: "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time"})
		return
	}
	mps := prune(s.mpsSends[phoneID], now, time.Second)
	s.mpsSends[phoneID] = mps
	if len(mps) >= s.opts.PhoneMPS {
		s.writeErr(w, apiErr{code: 130429, message: "Rate limit hit",
			details: fmt.Sprintf("Cloud API message throughput has been reached (%d messages per second)", s.opts.PhoneMPS)})
		return
	}
	// The sync with the ad account exists only for onboarded WABAs: a not-onboarded WABA's send
	// simply goes through Cloud API (mm-api-reference §7), so it never answers 134101 and never
	// starts a window.
	if onboarded && now.Before(t.SyncUntil) {
		s.writeErr(w, apiErr{code: 134101, message: "Your template is still syncing",
			details: fmt.Sprintf("Template %s (%s) is syncing with Marketing Messages API; try again in %s",
				t.Name, t.Language, t.SyncUntil.Sub(now).Round(time.Second))})
		return
	}
	lastUse := t.LastSentAt
	if t.ApprovedAt.After(lastUse) {
		lastUse = t.ApprovedAt
	}
	if onboarded && now.Sub(lastUse) > dormantAfter {
		// The first send after 7 days unused is accepted and starts a new sync.
		t.SyncUntil = now.Add(syncWindow)
	}
	t.LastSentAt = now
	pair.take()
	s.countSent(t, now, onboarded, 1)
	s.mpsSends[phoneID] = append(mps, now)

	wamid := "wamid." + base64.StdEncoding.EncodeToString(randBytes(36))
	contact := map[string]any{"input": to}
	if to != "" {
		contact["wa_id"] = waID
	} else {
		contact["input"] = bsuid
		contact["user_id"] = bsuid
	}
	opaque, _ := str("biz_opaque_callback_data")
	s.scheduleStatuses(sendInfo{
		wamid: wamid, phone: ph, wabaID: wb.ID, waID: waID, bsuid: bsuid, opaque: opaque,
		category: map[bool]string{true: "marketing_lite", false: "marketing"}[onboarded],
		failCode: s.failureFor(wb.ID, waID),
		// Click tracking is an MM API feature: a fallback send (Cloud API) reports no clicks.
		clickable: onboarded && hasURLButton(t.Components),
	})
	writeJSON(w, 200, map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []any{contact},
		"messages":          []any{map[string]any{"id": wamid, "message_status": "accepted"}},
	})
}

// failureFor decides the asynchronous failure of an accepted send: all
// marketing to US numbers is blocked (131049; US by NANP area code, so Canada
// and the Caribbean are not), and opted-out users get 131050.
func (s *Sandbox) failureFor(wabaID, waID string) int {
	// A stop or resume sent with the user_preferences trigger overrides the seeded opt-outs.
	pref, prefSet := s.prefs[wabaID+"|"+waID]
	switch {
	case waID == "":
		return 0
	case metarules.IsUSNumber(waID):
		return 131049
	case prefSet && pref == "stop", !prefSet && s.optedOut[waID]:
		return 131050
	}
	return 0
}

// pairInterval is Meta's pair rate: 1 message per 6 s to the same user.
const pairInterval = 6 * time.Second

// bucket is the pair rate as Meta documents it: 1 message per 6 s to the same user, with bursts
// of up to 45 "borrowed from future quota". A token bucket: it holds up to burst sends, refills
// one per interval, and a burst spends what the next minutes would have allowed. So 45 quick
// sends pass, then only one per 6 s until the bucket refills; not 45 per sliding 6 s forever.
type bucket struct {
	tokens float64
	last   time.Time
	used   bool // tokens is meaningful (a new pair starts full)
}

// allows refills the bucket up to now and reports whether one send may go.
func (b *bucket) allows(now time.Time, burst int, interval time.Duration) bool {
	if !b.used {
		b.tokens, b.last, b.used = float64(burst), now, true
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(float64(burst), b.tokens+float64(el)/float64(interval))
		b.last = now
	}
	return b.tokens >= 1
}

// take spends one send.
func (b *bucket) take() { b.tokens-- }

func prune(ts []time.Time, now time.Time, window time.Duration) []time.Time {
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= window {
		i++
	}
	return append([]time.Time(nil), ts[i:]...)
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// randToken is an fbtrace_id-like random string.
func randToken(n int) string {
	s := base64.RawURLEncoding.EncodeToString(randBytes(n))
	s = strings.NewReplacer("-", "A", "_", "z").Replace(s)
	return s[:n]
}

func randHex(n int) string { return hex.EncodeToString(randBytes(n)) }
