package sandbox

import (
	"encoding/json"
	"sort"
	"strings"
	"time"
)

// Seed describes the demo data so the dashboard can create its sandbox
// connections and tests can address known objects. IDs and tokens are fixed.
type Seed struct {
	WABAs           []SeedWABA
	OptedOutNumbers []string // accepted, then failed 131050
	USNumberExample string   // accepted, then failed 131049
}

// SeedWABA is one seeded WhatsApp Business Account.
type SeedWABA struct {
	ID, Name, Token, OnboardingStatus string
	PhoneNumbers                      []SeedPhone
	Templates                         []SeedTemplate
}

// SeedPhone is a seeded business phone number.
type SeedPhone struct {
	ID, DisplayPhoneNumber, VerifiedName string
}

// SeedTemplate is a seeded template and the state it demonstrates.
type SeedTemplate struct {
	ID, Name, Language, Category, Status string
	Shows                                string
}

// Seed IDs and tokens, fixed so demo connections survive restarts.
const (
	StoreWABAID   = "102290129340398"
	StoreToken    = "sandbox-token-hibot-demo-store"
	StorePhoneID  = "106540352242922"
	PharmaWABAID  = "203390239450511"
	PharmaToken   = "sandbox-token-hibot-demo-pharma"
	PharmaPhoneID = "207651463353033"
)

// Seed returns the seed description (a copy).
func (s *Sandbox) Seed() Seed {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.seed
	out.WABAs = append([]SeedWABA(nil), s.seed.WABAs...)
	out.OptedOutNumbers = append([]string(nil), s.seed.OptedOutNumbers...)
	return out
}

// component builders for seed templates
func jsonOf(v any) json.RawMessage { b, _ := json.Marshal(v); return b }

func imageHeader(url string) map[string]any {
	return map[string]any{"type": "HEADER", "format": "IMAGE", "example": map[string]any{"header_handle": []string{url}}}
}
func textHeader(t string) map[string]any {
	return map[string]any{"type": "HEADER", "format": "TEXT", "text": t}
}
func posBody(text string, ex ...string) map[string]any {
	c := map[string]any{"type": "BODY", "text": text}
	if len(ex) > 0 {
		c["example"] = map[string]any{"body_text": [][]string{ex}}
	}
	return c
}
func namedBody(text string, ex map[string]string) map[string]any {
	keys := make([]string, 0, len(ex))
	for k := range ex {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var params []map[string]string
	for _, k := range keys {
		params = append(params, map[string]string{"param_name": k, "example": ex[k]})
	}
	return map[string]any{"type": "BODY", "text": text, "example": map[string]any{"body_text_named_params": params}}
}
func footer(t string) map[string]any { return map[string]any{"type": "FOOTER", "text": t} }
func buttons(b ...map[string]any) map[string]any {
	return map[string]any{"type": "BUTTONS", "buttons": b}
}
func urlButton(text, url, example string) map[string]any {
	b := map[string]any{"type": "URL", "text": text, "url": url}
	if example != "" {
		b["example"] = []string{example}
	}
	return b
}
func quickReply(text string) map[string]any {
	return map[string]any{"type": "QUICK_REPLY", "text": text}
}
func copyCode(example string) map[string]any {
	return map[string]any{"type": "COPY_CODE", "example": example}
}
func comps(c ...map[string]any) json.RawMessage { return jsonOf(c) }
func ttl(n int) *int                            { return &n }

// loadSeed fills the two demo WABAs. Times are relative to now so that the
// states (syncing, dormant, ready) hold whenever the sandbox starts.
func (s *Sandbox) loadSeed(now time.Time) {
	day := 24 * time.Hour
	// The store has template analytics on (is_enabled_for_insights); the pharma WABA has not.
	store := &waba{ID: StoreWABAID, Name: "Hibot Demo Store", Token: StoreToken, Onboarding: "ONBOARDED", Insights: true,
		Namespace: "c3d2a1b0_store_ns",
		DFS: map[string]string{
			"image_touchups":               "OPT_IN",
			"text_formatting_optimization": "OPT_IN",
			"product_extensions":           "OPT_OUT",
			"image_end_card":               "OPT_OUT", // a key newer than this console
		}}
	pharma := &waba{ID: PharmaWABAID, Name: "Hibot Demo Pharma", Token: PharmaToken, Onboarding: "ELIGIBLE",
		Namespace: "f9e8d7c6_pharma_ns", DFS: map[string]string{}}
	for _, w := range []*waba{store, pharma} {
		s.wabas[w.ID] = w
		s.tokens[w.Token] = w.ID
	}
	s.addPhone(&phone{ID: StorePhoneID, WABAID: StoreWABAID, Display: "+52 55 1000 0001", VerifiedName: "Hibot Demo Store", Quality: "GREEN", Throughput: "STANDARD"})
	s.addPhone(&phone{ID: PharmaPhoneID, WABAID: PharmaWABAID, Display: "+52 55 2000 0002", VerifiedName: "Hibot Demo Pharma", Quality: "GREEN", Throughput: "STANDARD"})

	type spec struct {
		t     tmpl
		shows string
	}
	ready := func(created time.Duration, lastSent time.Duration) (time.Time, time.Time, time.Time) {
		c := now.Add(-created)
		return c, c.Add(time.Hour), now.Add(-lastSent)
	}
	c1, a1, l1 := ready(60*day, day)
	c2, a2, l2 := ready(45*day, 2*time.Hour)
	c3, a3, l3 := ready(30*day, 3*day)
	c4, a4, l4 := ready(90*day, 9*day)
	c5, a5, l5 := ready(20*day, 5*time.Hour)
	c6, a6, l6 := ready(40*day, 2*day)
	c7, a7, l7 := ready(25*day, 6*time.Hour)
	syncCreated := now.Add(-3 * time.Minute)
	specs := []spec{
		{tmpl{ID: "572279198452401", WABAID: StoreWABAID, Name: "summer_sale", Language: "en_US", Status: "APPROVED", Category: "MARKETING",
			ParamFormat: "POSITIONAL", Quality: "GREEN", TTL: ttl(86400), CreatedAt: c1, ApprovedAt: a1, LastSentAt: l1,
			DFS: map[string]string{"image_brightness_and_contrast": "OPT_OUT", "text_extraction_for_headline": "OPT_IN", "image_end_card": "OPT_IN"},
			Components: comps(imageHeader("https://scontent.whatsapp.net/sandbox/summer.jpg"),
				posBody("Hi {{1}}, our summer sale ends {{2}}. Up to 40% off everything!", "Ana", "Sunday"),
				footer("Reply STOP to opt out"),
				buttons(urlButton("Shop now", "https://shop.example.com/sale/{{1}}", "https://shop.example.com/sale/summer"), quickReply("Stop promotions")))},
			"approved MARKETING, ready; IMAGE header, positional vars, URL button with variable, GREEN, TTL 24h, template-level optimizations incl. unknown key image_end_card"},
		{tmpl{ID: "572279198452402", WABAID: StoreWABAID, Name: "summer_sale", Language: "es_MX", Status: "APPROVED", Category: "MARKETING",
			ParamFormat: "POSITIONAL", Quality: "YELLOW", CreatedAt: c2, ApprovedAt: a2, LastSentAt: l2,
			Components: comps(imageHeader("https://scontent.whatsapp.net/sandbox/verano.jpg"),
				posBody("Hola {{1}}, nuestra venta de verano termina el {{2}}.", "Ana", "domingo"),
				buttons(urlButton("Comprar", "https://shop.example.com/venta/{{1}}", "https://shop.example.com/venta/verano")))},
			"approved MARKETING, ready; same name in es_MX, YELLOW, no TTL"},
		{tmpl{ID: "572279198452403", WABAID: StoreWABAID, Name: "flash_coupon", Language: "pt_BR", Status: "APPROVED", Category: "MARKETING",
			ParamFormat: "NAMED", Quality: "GREEN", TTL: ttl(43200), CreatedAt: c3, ApprovedAt: a3, LastSentAt: l3,
			Components: comps(textHeader("Cupom relâmpago"),
				namedBody("Olá {{first_name}}, use o cupom {{coupon}} hoje!", map[string]string{"first_name": "Ana", "coupon": "SAVE20"}),
				buttons(copyCode("SAVE20")))},
			"approved MARKETING, ready; NAMED vars, coupon (copy_code) button, TTL 12h"},
		{tmpl{ID: "572279198452404", WABAID: StoreWABAID, Name: "new_arrivals", Language: "en_US", Status: "APPROVED", Category: "MARKETING",
			ParamFormat: "POSITIONAL", Quality: "UNKNOWN", CreatedAt: syncCreated, ApprovedAt: syncCreated, LastSentAt: time.Time{},
			SyncUntil:  syncCreated.Add(syncWindow),
			Components: comps(posBody("Hi {{1}}, new arrivals just landed!", "Ana"))},
			"approved MARKETING created 3 min ago: still syncing (134101 for ~7 more minutes), UNKNOWN quality"},
		{tmpl{ID: "572279198452405", WABAID: StoreWABAID, Name: "winter_clearance", Language: "en_US", Status: "APPROVED", Category: "MARKETING",
			ParamFormat: "POSITIONAL", Quality: "GREEN", TTL: ttl(604800), CreatedAt: c4, ApprovedAt: a4, LastSentAt: l4,
			Components: comps(posBody("Hi {{1}}, last chance for winter deals.", "Ana"),
				buttons(urlButton("See deals", "https://shop.example.com/winter", "")))},
			"approved MARKETING last used 9 days ago: dormant (first send accepted and starts a new 10-min sync)"},
		{tmpl{ID: "572279198452406", WABAID: StoreWABAID, Name: "spring_preview", Language: "en_US", Status: "PENDING", Category: "MARKETING",
			ParamFormat: "POSITIONAL", Quality: "UNKNOWN", CreatedAt: now.Add(-time.Hour),
			Components: comps(posBody("Spring is coming, {{1}}!", "Ana"))},
			"PENDING review"},
		{tmpl{ID: "572279198452407", WABAID: StoreWABAID, Name: "black_friday_teaser", Language: "en_US", Status: "REJECTED", Category: "MARKETING",
			ParamFormat: "POSITIONAL", Quality: "UNKNOWN", RejectedReason: "INVALID_FORMAT", CreatedAt: now.Add(-10 * day),
			Components: comps(posBody("{{1}}", "Ana"))},
			"REJECTED (INVALID_FORMAT); editable"},
		{tmpl{ID: "572279198452408", WABAID: StoreWABAID, Name: "loyalty_reminder", Language: "es_MX", Status: "PAUSED", Category: "MARKETING",
			ParamFormat: "POSITIONAL", Quality: "RED", CreatedAt: c5, ApprovedAt: a5, LastSentAt: l5,
			Components: comps(posBody("{{1}}, tienes puntos por vencer.", "Ana"))},
			"PAUSED, quality RED (send -> 132015)"},
		{tmpl{ID: "572279198452409", WABAID: StoreWABAID, Name: "old_promo", Language: "en_US", Status: "DISABLED", Category: "MARKETING",
			ParamFormat: "POSITIONAL", Quality: "RED", CreatedAt: now.Add(-200 * day), ApprovedAt: now.Add(-199 * day),
			Components: comps(posBody("Old promo for {{1}}", "Ana"))},
			"DISABLED (send -> 132016)"},
		{tmpl{ID: "572279198452410", WABAID: StoreWABAID, Name: "order_update", Language: "en_US", Status: "APPROVED", Category: "UTILITY",
			SubCategory: "ORDER_STATUS", ParamFormat: "POSITIONAL", Quality: "GREEN", TTL: ttl(3600), CreatedAt: c6, ApprovedAt: a6, LastSentAt: l6,
			Components: comps(posBody("Your order {{1}} has shipped.", "A-1001"))},
			"approved UTILITY (send -> 134100)"},
		{tmpl{ID: "572279198452411", WABAID: StoreWABAID, Name: "login_code", Language: "en_US", Status: "APPROVED", Category: "AUTHENTICATION",
			ParamFormat: "POSITIONAL", Quality: "GREEN", CreatedAt: c6, ApprovedAt: a6,
			Components: comps(map[string]any{"type": "BODY", "add_security_recommendation": true},
				map[string]any{"type": "FOOTER", "code_expiration_minutes": 10},
				buttons(map[string]any{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}))},
			"approved AUTHENTICATION (send -> 134100)"},
		// Pharma: ELIGIBLE only, so sends fall back (pricing "marketing") or fail with STRICT.
		{tmpl{ID: "672279198452501", WABAID: PharmaWABAID, Name: "wellness_tips", Language: "en_US", Status: "APPROVED", Category: "MARKETING",
			ParamFormat: "NAMED", Quality: "GREEN", CreatedAt: c7, ApprovedAt: a7, LastSentAt: l7,
			DFS: map[string]string{"text_formatting_optimization": "OPT_OUT", "product_extensions": "OPT_IN"},
			Components: comps(namedBody("Hi {{first_name}}, this week's wellness tip is here.", map[string]string{"first_name": "Ana"}),
				buttons(urlButton("Read more", "https://pharma.example.com/tips/{{1}}", "https://pharma.example.com/tips/week1")))},
			"approved MARKETING, ready; NAMED vars, URL button, template-level optimizations"},
		{tmpl{ID: "672279198452502", WABAID: PharmaWABAID, Name: "vitamin_offer", Language: "es_MX", Status: "APPROVED", Category: "MARKETING",
			ParamFormat: "POSITIONAL", Quality: "YELLOW", TTL: ttl(604800), CreatedAt: c1, ApprovedAt: a1, LastSentAt: l2,
			Components: comps(imageHeader("https://scontent.whatsapp.net/sandbox/vitaminas.jpg"),
				posBody("{{1}}, 2x1 en vitaminas hasta el {{2}}.", "Ana", "viernes"))},
			"approved MARKETING, ready; IMAGE header, YELLOW, TTL 7d"},
		{tmpl{ID: "672279198452503", WABAID: PharmaWABAID, Name: "refill_promo", Language: "pt_BR", Status: "APPROVED", Category: "MARKETING",
			ParamFormat: "POSITIONAL", Quality: "UNKNOWN", CreatedAt: c3, ApprovedAt: a3, LastSentAt: l3,
			Components: comps(posBody("{{1}}, ganhe 10% na sua próxima recarga.", "Ana"), buttons(copyCode("REFILL10")))},
			"approved MARKETING, ready; coupon button, UNKNOWN quality"},
		{tmpl{ID: "672279198452504", WABAID: PharmaWABAID, Name: "prescription_ready", Language: "en_US", Status: "APPROVED", Category: "UTILITY",
			ParamFormat: "POSITIONAL", Quality: "GREEN", CreatedAt: c6, ApprovedAt: a6,
			Components: comps(posBody("Your prescription {{1}} is ready for pickup.", "RX-77"))},
			"approved UTILITY"},
	}
	shows := map[string][]SeedTemplate{}
	for i := range specs {
		t := specs[i].t
		t.QualityDate = now.Add(-12 * time.Hour)
		if t.DFS == nil {
			t.DFS = map[string]string{}
		}
		tp := &t
		s.templates[t.ID] = tp
		s.seedCampaign(tp)
		w := s.wabas[t.WABAID]
		w.TemplateIDs = append(w.TemplateIDs, t.ID)
		shows[t.WABAID] = append(shows[t.WABAID], SeedTemplate{ID: t.ID, Name: t.Name, Language: t.Language,
			Category: t.Category, Status: t.Status, Shows: specs[i].shows})
	}
	for _, w := range []*waba{store, pharma} {
		sw := SeedWABA{ID: w.ID, Name: w.Name, Token: w.Token, OnboardingStatus: w.Onboarding, Templates: shows[w.ID]}
		for _, pid := range w.PhoneIDs {
			p := s.phones[pid]
			sw.PhoneNumbers = append(sw.PhoneNumbers, SeedPhone{ID: p.ID, DisplayPhoneNumber: p.Display, VerifiedName: p.VerifiedName})
		}
		s.seed.WABAs = append(s.seed.WABAs, sw)
	}
	for n := range s.optedOut {
		s.seed.OptedOutNumbers = append(s.seed.OptedOutNumbers, n)
	}
	sort.Strings(s.seed.OptedOutNumbers)
	s.seed.USNumberExample = "16505551234"
}

func (s *Sandbox) addPhone(p *phone) {
	s.phones[p.ID] = p
	w := s.wabas[p.WABAID]
	w.PhoneIDs = append(w.PhoneIDs, p.ID)
}

// hasURLButton reports whether components include a URL button, which is
// what MM API click tracking reports on.
func hasURLButton(c json.RawMessage) bool {
	var list []struct {
		Type    string `json:"type"`
		Buttons []struct {
			Type string `json:"type"`
		} `json:"buttons"`
	}
	if json.Unmarshal(c, &list) != nil {
		return false
	}
	for _, comp := range list {
		for _, b := range comp.Buttons {
			if strings.EqualFold(b.Type, "URL") {
				return true
			}
		}
	}
	return false
}
