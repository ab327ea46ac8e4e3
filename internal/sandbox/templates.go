package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"mmconsole/internal/metarules"
)

const (
	syncWindow   = 10 * time.Minute   // MM API template sync (reference §7)
	dormantAfter = 7 * 24 * time.Hour // unused longer than this needs a new sync
)

// ---- rendering ----

// templateJSON renders a template as Graph does. degrees_of_freedom_spec is
// in the template GET shape: an array of {key: UPPER, value:{enroll_status}}.
func (s *Sandbox) templateJSON(t *tmpl) map[string]any {
	now := s.clock.Now()
	m := map[string]any{
		"id":               t.ID,
		"name":             t.Name,
		"language":         t.Language,
		"status":           t.Status,
		"category":         t.Category,
		"parameter_format": t.ParamFormat,
		"components":       t.Components,
		"quality_score":    map[string]any{"score": t.Quality, "date": t.QualityDate.Unix()},
	}
	if t.SubCategory != "" {
		m["sub_category"] = t.SubCategory
	}
	if t.PreviousCategory != "" {
		m["previous_category"] = t.PreviousCategory
	}
	if t.Status == "REJECTED" && t.RejectedReason != "" {
		m["rejected_reason"] = t.RejectedReason
	}
	if t.TTL != nil {
		m["message_send_ttl_seconds"] = *t.TTL
	}
	if len(t.DFS) > 0 {
		keys := sortedKeys(t.DFS)
		arr := make([]map[string]any, 0, len(keys))
		for _, k := range keys {
			arr = append(arr, map[string]any{"key": strings.ToUpper(k), "value": map[string]any{"enroll_status": t.DFS[k]}})
		}
		m["degrees_of_freedom_spec"] = map[string]any{"creative_features_spec": arr}
	}
	// ad_* appear only for onboarded WABAs, once the sync has produced the ad.
	if w := s.wabas[t.WABAID]; w.Onboarding == "ONBOARDED" && t.Category == "MARKETING" &&
		t.Status == "APPROVED" && !now.Before(t.SyncUntil) {
		m["ad_id"] = "120" + t.ID
		m["ad_adset_id"] = "121" + t.ID
		m["ad_campaign_id"] = "122" + t.ID
		m["ad_account_id"] = "act_99" + w.ID
	}
	return m
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// selectFields keeps the requested fields (and id, which Graph always
// returns). Unknown field names are ignored rather than rejected.
func selectFields(m map[string]any, fields string) map[string]any {
	if strings.TrimSpace(fields) == "" {
		return m
	}
	out := map[string]any{"id": m["id"]}
	for _, f := range splitFields(fields) {
		if v, ok := m[f]; ok {
			out[f] = v
		}
	}
	return out
}

// splitFields splits "a,b{c,d},e" at top level and drops sub-selections.
func splitFields(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || (s[i] == ',' && depth == 0) {
			f := strings.TrimSpace(s[start:i])
			if j := strings.IndexAny(f, "{."); j >= 0 {
				f = f[:j]
			}
			if f != "" {
				out = append(out, f)
			}
			start = i + 1
			continue
		}
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
		}
	}
	return out
}

func (s *Sandbox) wabaJSON(w *waba, version int) map[string]any {
	m := map[string]any{
		"id":                                   w.ID,
		"name":                                 w.Name,
		"marketing_messages_onboarding_status": w.Onboarding,
		"disable_marketing_messages_on_cloud_api": w.DisableCloudMarketing,
		"is_enabled_for_insights":                 w.Insights,
		"currency":                                "USD",
		"timezone_id":                             "1",
		"message_template_namespace":              w.Namespace,
	}
	if version < 24 { // deprecated from v24.0
		m["marketing_messages_lite_api_status"] = w.Onboarding
	}
	if len(w.DFS) > 0 {
		// WABA GET shape: data[0].creative_features_spec[0] is a flat map.
		flat := map[string]string{}
		for k, v := range w.DFS {
			flat[k] = v
		}
		m["degrees_of_freedom_spec"] = map[string]any{
			"data": []any{map[string]any{"creative_features_spec": []any{flat}}},
		}
	}
	return m
}

func phoneJSON(p *phone) map[string]any {
	return map[string]any{
		"id":                   p.ID,
		"display_phone_number": p.Display,
		"verified_name":        p.VerifiedName,
		"quality_rating":       p.Quality,
		"throughput":           map[string]any{"level": p.Throughput},
	}
}

// ---- node GET/POST ----

func (s *Sandbox) getNode(w http.ResponseWriter, r *http.Request, tokenWABA, id string, version int) {
	fields := r.URL.Query().Get("fields")
	if t, ok := s.templates[id]; ok && t.WABAID == tokenWABA {
		writeJSON(w, 200, selectFields(s.templateJSON(t), fields))
		return
	}
	if wb, ok := s.wabas[id]; ok && wb.ID == tokenWABA {
		writeJSON(w, 200, selectFields(s.wabaJSON(wb, version), fields))
		return
	}
	if p, ok := s.phones[id]; ok && p.WABAID == tokenWABA {
		writeJSON(w, 200, selectFields(phoneJSON(p), fields))
		return
	}
	s.writeErr(w, unsupported(http.MethodGet, id))
}

func (s *Sandbox) postNode(w http.ResponseWriter, tokenWABA, id string, body map[string]json.RawMessage) {
	if t, ok := s.templates[id]; ok && t.WABAID == tokenWABA {
		s.editTemplate(w, t, body)
		return
	}
	if wb, ok := s.wabas[id]; ok && wb.ID == tokenWABA {
		s.updateWABA(w, wb, body)
		return
	}
	s.writeErr(w, unsupported(http.MethodPost, id))
}

func (s *Sandbox) updateWABA(w http.ResponseWriter, wb *waba, body map[string]json.RawMessage) {
	var feats map[string]string
	if raw, ok := body["degrees_of_freedom_spec"]; ok {
		f, aerr := parseDFSRequest(raw)
		if aerr != nil {
			s.writeErr(w, *aerr)
			return
		}
		feats = f
	}
	var disable *bool
	if raw, ok := body["disable_marketing_messages_on_cloud_api"]; ok {
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			s.writeErr(w, invalidParam("disable_marketing_messages_on_cloud_api must be a boolean"))
			return
		}
		disable = &b
	}
	var insights *bool
	if raw, ok := body["is_enabled_for_insights"]; ok {
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			s.writeErr(w, invalidParam("is_enabled_for_insights must be a boolean"))
			return
		}
		if !b && wb.Insights {
			// Meta documents enabling as irreversible.
			s.writeErr(w, invalidParam("is_enabled_for_insights cannot be turned off once enabled"))
			return
		}
		insights = &b
	}
	if feats == nil && disable == nil && insights == nil {
		s.writeErr(w, invalidParam("No supported field to update. Use degrees_of_freedom_spec, disable_marketing_messages_on_cloud_api or is_enabled_for_insights."))
		return
	}
	if insights != nil {
		wb.Insights = *insights
	}
	for k, v := range feats {
		wb.DFS[k] = v
	}
	if disable != nil {
		wb.DisableCloudMarketing = *disable
	}
	writeJSON(w, 200, map[string]any{"success": true})
}

var featureKeyRe = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// parseDFSRequest validates the request shape of degrees_of_freedom_spec: an
// object keyed by lowercase feature name with {enroll_status}. The GET
// shapes are rejected, as a client sending them back is a bug worth seeing.
// Unknown keys are accepted, since Meta keeps adding features.
func parseDFSRequest(raw json.RawMessage) (map[string]string, *apiErr) {
	fail := func(d string) (map[string]string, *apiErr) { e := invalidParam(d); return nil, &e }
	var top map[string]json.RawMessage
	if json.Unmarshal(raw, &top) != nil {
		return fail("degrees_of_freedom_spec must be an object")
	}
	spec, ok := top["creative_features_spec"]
	if !ok || !bytes.HasPrefix(bytes.TrimSpace(spec), []byte("{")) {
		return fail("degrees_of_freedom_spec.creative_features_spec must be an object keyed by feature name, e.g. {\"image_touchups\":{\"enroll_status\":\"OPT_IN\"}}")
	}
	var feats map[string]struct {
		EnrollStatus string `json:"enroll_status"`
	}
	if json.Unmarshal(spec, &feats) != nil {
		return fail("each creative_features_spec entry must be {\"enroll_status\": \"OPT_IN\"|\"OPT_OUT\"}")
	}
	out := map[string]string{}
	for k, v := range feats {
		if !featureKeyRe.MatchString(k) {
			return fail(fmt.Sprintf("creative feature key %q must be lowercase (e.g. image_touchups)", k))
		}
		st := strings.ToUpper(v.EnrollStatus)
		if st != "OPT_IN" && st != "OPT_OUT" {
			return fail(fmt.Sprintf("enroll_status of %s must be OPT_IN or OPT_OUT", k))
		}
		out[k] = st
	}
	return out, nil
}

// ---- list ----

func parseList(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	var out []string
	if strings.HasPrefix(v, "[") && json.Unmarshal([]byte(v), &out) == nil {
		return out
	}
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func inFold(list []string, v string) bool {
	if len(list) == 0 {
		return true
	}
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

func encCursor(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(n)))
}
func decCursor(c string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !bytes.HasPrefix(b, []byte("o:")) {
		return 0, false
	}
	n, err := strconv.Atoi(string(b[2:]))
	return n, err == nil && n >= 0
}

func (s *Sandbox) listTemplates(w http.ResponseWriter, r *http.Request, tokenWABA, wabaID string) {
	wb, ok := s.wabas[wabaID]
	if !ok || wb.ID != tokenWABA {
		s.writeErr(w, unsupported(http.MethodGet, wabaID))
		return
	}
	q := r.URL.Query()
	cats, stats, langs, quals := parseList(q.Get("category")), parseList(q.Get("status")), parseList(q.Get("language")), parseList(q.Get("quality_score"))
	name := strings.ToLower(q.Get("name"))
	content := strings.ToLower(q.Get("content"))
	nameOrContent := strings.ToLower(q.Get("name_or_content"))
	var matched []*tmpl
	// Newest first, as Graph lists templates.
	for i := len(wb.TemplateIDs) - 1; i >= 0; i-- {
		t := s.templates[wb.TemplateIDs[i]]
		text := strings.ToLower(string(t.Components))
		if !inFold(cats, t.Category) || !inFold(stats, t.Status) || !inFold(langs, t.Language) || !inFold(quals, t.Quality) {
			continue
		}
		if name != "" && !strings.Contains(t.Name, name) {
			continue
		}
		if content != "" && !strings.Contains(text, content) {
			continue
		}
		if nameOrContent != "" && !strings.Contains(t.Name, nameOrContent) && !strings.Contains(text, nameOrContent) {
			continue
		}
		matched = append(matched, t)
	}
	limit := 25
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n <= 0 {
			s.writeErr(w, invalidParam("limit must be a positive integer"))
			return
		}
		limit = min(n, 1000)
	}
	start := 0
	if a := q.Get("after"); a != "" {
		n, ok := decCursor(a)
		if !ok {
			s.writeErr(w, invalidParam("Invalid after cursor"))
			return
		}
		start = n
	} else if b := q.Get("before"); b != "" {
		n, ok := decCursor(b)
		if !ok {
			s.writeErr(w, invalidParam("Invalid before cursor"))
			return
		}
		start = max(0, n-limit)
	}
	start = min(start, len(matched))
	end := min(start+limit, len(matched))
	data := make([]any, 0, end-start)
	for _, t := range matched[start:end] {
		data = append(data, selectFields(s.templateJSON(t), q.Get("fields")))
	}
	resp := map[string]any{"data": data}
	if len(data) > 0 {
		paging := map[string]any{"cursors": map[string]any{"before": encCursor(start), "after": encCursor(end)}}
		// The next/previous URLs leave out access_token: Graph would embed it
		// when it was passed as a query parameter, and logs should not see it.
		if end < len(matched) {
			paging["next"] = pageURL(r, "after", encCursor(end))
		}
		if start > 0 {
			paging["previous"] = pageURL(r, "before", encCursor(start))
		}
		resp["paging"] = paging
	}
	writeJSON(w, 200, resp)
}

func pageURL(r *http.Request, key, cursor string) string {
	q := r.URL.Query()
	q.Del("access_token")
	q.Del("after")
	q.Del("before")
	q.Set(key, cursor)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
	return u.String()
}

func (s *Sandbox) listPhones(w http.ResponseWriter, tokenWABA, wabaID string) {
	wb, ok := s.wabas[wabaID]
	if !ok || wb.ID != tokenWABA {
		s.writeErr(w, unsupported(http.MethodGet, wabaID))
		return
	}
	data := []any{}
	for _, id := range wb.PhoneIDs {
		data = append(data, phoneJSON(s.phones[id]))
	}
	writeJSON(w, 200, map[string]any{"data": data,
		"paging": map[string]any{"cursors": map[string]any{"before": encCursor(0), "after": encCursor(len(data))}}})
}

// ---- TTL ----

// checkTTL applies the per-category ranges of reference §1.5. -1 (30 days)
// is documented only for utility and authentication.
func checkTTL(category string, v int) *apiErr {
	var lo, hi int
	minusOne := true
	switch category {
	case "MARKETING":
		lo, hi, minusOne = 43200, 2592000, false
	case "UTILITY":
		lo, hi = 30, 43200
	case "AUTHENTICATION":
		lo, hi = 30, 900
	default:
		return nil
	}
	if (v == -1 && minusOne) || (v >= lo && v <= hi) {
		return nil
	}
	extra := ""
	if minusOne {
		extra = " or -1"
	}
	e := invalidParam(fmt.Sprintf("message_send_ttl_seconds for %s templates must be between %d and %d seconds%s; got %d",
		category, lo, hi, extra, v))
	return &e
}

func parseTTL(raw json.RawMessage) (int, *apiErr) {
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		e := invalidParam("message_send_ttl_seconds must be an integer")
		return 0, &e
	}
	v, err := strconv.Atoi(n.String())
	if err != nil {
		e := invalidParam("message_send_ttl_seconds must be an integer")
		return 0, &e
	}
	return v, nil
}

// ---- edit ----

// editTemplate implements POST /{template_id}.
//
// Edit limits: Meta allows approved templates 10 edits per 30 days and 1 per
// 24 h. Taken literally, the 24 h rule would make every second optimization
// toggle fail, which is not what Meta's ACO pages describe (they invite
// edits of degrees_of_freedom_spec). The sandbox therefore applies the 1/24 h
// rule only to edits that change components or category (those go back to
// review), while TTL- and optimization-only edits count toward 10/30 days.
// Options.EnforceEditLimits=false turns both off.
func (s *Sandbox) editTemplate(w http.ResponseWriter, t *tmpl, body map[string]json.RawMessage) {
	now := s.clock.Now()
	_, hasTTL := body["message_send_ttl_seconds"]
	_, hasDFS := body["degrees_of_freedom_spec"]
	compsRaw, hasComps := body["components"]
	catRaw, hasCat := body["category"]
	if !hasTTL && !hasDFS && !hasComps && !hasCat {
		s.writeErr(w, invalidParam("Nothing to edit: send components, category, message_send_ttl_seconds or degrees_of_freedom_spec"))
		return
	}
	switch t.Status {
	case "APPROVED", "REJECTED", "PAUSED":
	default:
		s.writeErr(w, apiErr{code: 100, message: "Invalid parameter",
			details: fmt.Sprintf("Template status is %s; only APPROVED, REJECTED or PAUSED templates can be edited", t.Status)})
		return
	}
	category := t.Category
	if hasCat {
		var c string
		if json.Unmarshal(catRaw, &c) != nil || !validCategory(strings.ToUpper(c)) {
			s.writeErr(w, invalidParam("category must be MARKETING, UTILITY or AUTHENTICATION"))
			return
		}
		c = strings.ToUpper(c)
		if c != t.Category && t.Status == "APPROVED" {
			s.writeErr(w, invalidParam("The category of an approved template cannot be changed"))
			return
		}
		category = c
	}
	var ttlVal *int
	if hasTTL && !isNullRaw(body["message_send_ttl_seconds"]) {
		v, aerr := parseTTL(body["message_send_ttl_seconds"])
		if aerr != nil {
			s.writeErr(w, *aerr)
			return
		}
		if aerr := checkTTL(category, v); aerr != nil {
			s.writeErr(w, *aerr)
			return
		}
		ttlVal = &v
	}
	var feats map[string]string
	if hasDFS {
		f, aerr := parseDFSRequest(body["degrees_of_freedom_spec"])
		if aerr != nil {
			s.writeErr(w, *aerr)
			return
		}
		feats = f
	}
	if hasComps {
		// The same authoring rules as at creation: an edit replaces the components wholesale.
		def, aerr := templateDef(t.Name, t.Language, category, t.ParamFormat, compsRaw)
		if aerr == nil {
			aerr = checkDef(def)
		}
		if aerr != nil {
			s.writeErr(w, *aerr)
			return
		}
	}
	content := hasComps || (hasCat && category != t.Category)
	if s.enforceEdit && t.Status == "APPROVED" {
		var in30 int
		var lastContent time.Time
		for _, e := range t.Edits {
			if now.Sub(e.at) < 30*24*time.Hour {
				in30++
			}
			if e.content && e.at.After(lastContent) {
				lastContent = e.at
			}
		}
		if in30 >= 10 {
			s.writeErr(w, apiErr{code: 100, subcode: EditLimitSubcode, message: "Invalid parameter",
				details:   "Approved templates can be edited at most 10 times in 30 days; this template has reached the limit",
				userTitle: "Edit limit reached", userMsg: "This template was edited 10 times in the last 30 days. Try again later."})
			return
		}
		if content && !lastContent.IsZero() && now.Sub(lastContent) < 24*time.Hour {
			s.writeErr(w, apiErr{code: 100, subcode: EditLimitSubcode, message: "Invalid parameter",
				details:   "The content of an approved template can be edited once in 24 hours",
				userTitle: "Edit limit reached", userMsg: "This template's content was edited in the last 24 hours. Try again later."})
			return
		}
	}
	// Apply.
	if t.Status == "APPROVED" {
		t.Edits = append(t.Edits, editRec{at: now, content: content})
	}
	if hasTTL {
		t.TTL = ttlVal // null clears back to the category default
	}
	for k, v := range feats {
		// [I] Keys are merged: Meta does not say whether an edit replaces the
		// whole spec; merging lets the console toggle one feature at a time.
		t.DFS[k] = v
	}
	if hasCat {
		t.Category = category
	}
	if hasComps {
		t.Components = append(json.RawMessage(nil), compsRaw...)
	}
	if content {
		// Edited content goes through review again.
		t.Status = "PENDING"
		s.scheduleReview(t)
	}
	writeJSON(w, 200, map[string]any{"success": true})
}

func isNullRaw(b json.RawMessage) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || string(b) == "null"
}

func validCategory(c string) bool {
	return c == "MARKETING" || c == "UTILITY" || c == "AUTHENTICATION"
}

// ---- create ----

var (
	templateNameRe = regexp.MustCompile(`^[a-z0-9_]+$`)
)

func (s *Sandbox) createTemplate(w http.ResponseWriter, tokenWABA, wabaID string, body map[string]json.RawMessage) {
	wb, ok := s.wabas[wabaID]
	if !ok || wb.ID != tokenWABA {
		s.writeErr(w, unsupported(http.MethodPost, wabaID))
		return
	}
	str := func(k string) string {
		var v string
		_ = json.Unmarshal(body[k], &v)
		return v
	}
	name, lang, cat := str("name"), str("language"), strings.ToUpper(str("category"))
	switch {
	case name == "":
		s.writeErr(w, invalidParam("Parameter name is required"))
		return
	case len(name) > 512 || !templateNameRe.MatchString(name):
		s.writeErr(w, apiErr{code: 100, message: "Invalid parameter",
			details:   "Template name can only contain lowercase letters, numbers and underscores (max 512 characters)",
			userTitle: "Invalid template name", userMsg: "Use only lowercase letters, numbers and underscores."})
		return
	case !metarules.KnownLanguage(lang):
		s.writeErr(w, invalidParam("Parameter language must be one of the template languages Meta supports, such as en_US"))
		return
	case !validCategory(cat):
		s.writeErr(w, invalidParam("Parameter category must be MARKETING, UTILITY or AUTHENTICATION"))
		return
	}
	pf := strings.ToUpper(str("parameter_format"))
	if pf == "" {
		pf = "POSITIONAL"
	} else if pf != "NAMED" && pf != "POSITIONAL" {
		s.writeErr(w, invalidParam("parameter_format must be NAMED or POSITIONAL"))
		return
	}
	// Meta's authoring rules: lengths, counts, variables and their examples.
	def, aerr := templateDef(name, lang, cat, pf, body["components"])
	if aerr == nil {
		aerr = checkDef(def)
	}
	if aerr != nil {
		s.writeErr(w, *aerr)
		return
	}
	var ttlVal *int
	if raw, ok := body["message_send_ttl_seconds"]; ok && !isNullRaw(raw) {
		v, aerr := parseTTL(raw)
		if aerr == nil {
			aerr = checkTTL(cat, v)
		}
		if aerr != nil {
			s.writeErr(w, *aerr)
			return
		}
		ttlVal = &v
	}
	feats := map[string]string{}
	if raw, ok := body["degrees_of_freedom_spec"]; ok {
		f, aerr := parseDFSRequest(raw)
		if aerr != nil {
			s.writeErr(w, *aerr)
			return
		}
		feats = f
	}
	for _, id := range wb.TemplateIDs {
		if t := s.templates[id]; t.Name == name && t.Language == lang {
			s.writeErr(w, apiErr{code: 100, subcode: 2388024, message: "Invalid parameter",
				details:   fmt.Sprintf("A template named %s already exists in %s", name, lang),
				userTitle: "Content in this language already exists",
				userMsg:   fmt.Sprintf("There's already %s content for this template. You can create a new template and try again.", lang)})
			return
		}
	}
	s.nextID++
	now := s.clock.Now()
	t := &tmpl{ID: strconv.FormatInt(s.nextID, 10), WABAID: wb.ID, Name: name, Language: lang, Status: "PENDING",
		Category: cat, SubCategory: strings.ToUpper(str("sub_category")), ParamFormat: pf, Quality: "UNKNOWN", QualityDate: now,
		Components: append(json.RawMessage(nil), body["components"]...), TTL: ttlVal, DFS: feats, CreatedAt: now,
		SyncUntil: now.Add(syncWindow)}
	s.templates[t.ID] = t
	wb.TemplateIDs = append(wb.TemplateIDs, t.ID)
	s.scheduleReview(t)
	writeJSON(w, 200, map[string]any{"id": t.ID, "status": "PENDING", "category": cat})
}

// scheduleReview announces PENDING now and approves after ApproveAfter,
// starting the sync window at approval (by Clock). Called with s.mu held.
func (s *Sandbox) scheduleReview(t *tmpl) {
	id := t.ID
	s.enqueueLocked(0, t.WABAID, func() *change { return templateStatusChange(t, "PENDING") })
	s.enqueueLocked(s.opts.ApproveAfter, t.WABAID, func() *change {
		s.mu.Lock()
		defer s.mu.Unlock()
		cur, ok := s.templates[id]
		if !ok || cur.Status != "PENDING" {
			return nil
		}
		if reason := reviewRejection(cur.Name); reason != "" {
			cur.Status, cur.RejectedReason = "REJECTED", reason
			return rejectChange(cur, prefixRecommendation)
		}
		now := s.clock.Now()
		cur.Status = "APPROVED"
		cur.ApprovedAt = now
		cur.SyncUntil = now.Add(syncWindow)
		return templateStatusChange(cur, "APPROVED")
	})
}

// templateStatusChange builds a message_template_status_update value.
// message_template_id is an integer, as Meta documents.
func templateStatusChange(t *tmpl, event string) *change {
	id, _ := strconv.ParseInt(t.ID, 10, 64)
	return &change{Field: "message_template_status_update", Value: map[string]any{
		"event":                     event,
		"message_template_id":       id,
		"message_template_name":     t.Name,
		"message_template_language": t.Language,
		"message_template_category": t.Category,
		"reason":                    "NONE",
	}}
}
