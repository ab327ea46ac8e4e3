package sandbox

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"

	"mmconsole/internal/i18n"
)

// The webhooks Meta sends on its own, not in answer to an API call: a recipient stopping or
// resuming marketing messages (user_preferences), a business signing the MM API terms
// (account_update MM_LITE_TERMS_SIGNED), a template's quality changing
// (message_template_quality_update) and its category changing (template_category_update).
// The dashboard's sandbox page triggers them; each changes the sandbox's state the way Meta's
// event would, and is delivered signed like every other sandbox webhook.

// ErrTrigger is wrapped by every refused trigger (unknown WABA, template or value).
var ErrTrigger = errors.New("sandbox: trigger refused")

// TriggerError is a refused trigger. Its reason is a catalog key with its arguments, so the
// sandbox page says it in the reader's language; Error is the English text, for logs.
type TriggerError struct {
	key  string
	args []any
}

func (e *TriggerError) Error() string {
	return ErrTrigger.Error() + ": " + i18n.T(context.Background(), e.key, e.args...)
}

// Unwrap makes every TriggerError an ErrTrigger.
func (e *TriggerError) Unwrap() error { return ErrTrigger }

// Message is the reason in the language of ctx.
func (e *TriggerError) Message(ctx context.Context) string { return i18n.T(ctx, e.key, e.args...) }

// triggerErr refuses a trigger with the catalog message key and its name/value arguments.
func triggerErr(key string, args ...any) error {
	return &TriggerError{key: key, args: args}
}

// Quality scores and categories a trigger accepts (mm-api-reference §6.4).
var (
	QualityScores = []string{"GREEN", "YELLOW", "RED", "UNKNOWN"}
	Categories    = []string{"MARKETING", "UTILITY", "AUTHENTICATION"}
)

func oneOf(v string, list []string) bool {
	for _, x := range list {
		if v == x {
			return true
		}
	}
	return false
}

// wabaLocked finds a WABA; s.mu must be held.
func (s *Sandbox) wabaLocked(wabaID string) (*waba, error) {
	w, ok := s.wabas[wabaID]
	if !ok {
		return nil, triggerErr(i18n.Key("sandbox.err.no_waba"), "WABA", wabaID)
	}
	return w, nil
}

// templateLocked finds a template of a WABA; s.mu must be held.
func (s *Sandbox) templateLocked(wabaID, templateID string) (*tmpl, error) {
	t, ok := s.templates[templateID]
	if !ok || t.WABAID != wabaID {
		return nil, triggerErr(i18n.Key("sandbox.err.no_template"), "Template", templateID, "WABA", wabaID)
	}
	return t, nil
}

// SetMarketingPreference records that a recipient stopped (stop=true) or resumed marketing
// messages from a WABA's business, and sends the user_preferences webhook. Later sends to a
// stopped recipient are accepted, then fail with 131050, as Meta's do.
func (s *Sandbox) SetMarketingPreference(wabaID, number string, stop bool) error {
	waID := digitsOnly(number)
	if len(waID) < 8 || len(waID) > 15 || strings.Trim(number, "+0123456789 -()") != "" {
		return triggerErr(i18n.Key("sandbox.err.number"), "Number", number)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w, err := s.wabaLocked(wabaID)
	if err != nil {
		return err
	}
	value, detail := "resume", "User requested to resume marketing messages"
	if stop {
		value, detail = "stop", "User requested to stop marketing messages"
	}
	s.prefs[wabaID+"|"+waID] = value
	metadata := map[string]any{}
	if len(w.PhoneIDs) > 0 {
		p := s.phones[w.PhoneIDs[0]]
		metadata = map[string]any{"display_phone_number": digitsOnly(p.Display), "phone_number_id": p.ID}
	}
	s.enqueueLocked(0, wabaID, func() *change {
		return &change{Field: "user_preferences", Value: map[string]any{
			"messaging_product": "whatsapp",
			"metadata":          metadata,
			"contacts":          []any{map[string]any{"wa_id": waID, "profile": map[string]any{"name": "Sandbox recipient"}}},
			"user_preferences": []any{map[string]any{
				"wa_id": waID, "detail": detail, "category": "marketing_messages", "value": value,
				"timestamp": s.clock.Now().Unix(),
			}},
		}}
	})
	return nil
}

// SignTerms onboards a WABA to MM API, as the business signing the terms in Meta's flow does,
// and sends account_update MM_LITE_TERMS_SIGNED. Its approved marketing templates then start
// their 10-minute sync with the new ad account.
func (s *Sandbox) SignTerms(wabaID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, err := s.wabaLocked(wabaID)
	if err != nil {
		return err
	}
	if w.Onboarding == "ONBOARDED" {
		return triggerErr(i18n.Key("sandbox.err.onboarded"), "WABA", wabaID)
	}
	now := s.clock.Now()
	w.Onboarding = "ONBOARDED"
	for _, id := range w.TemplateIDs {
		if t := s.templates[id]; t.Status == "APPROVED" && t.Category == "MARKETING" {
			t.SyncUntil = now.Add(syncWindow)
		}
	}
	s.enqueueLocked(0, wabaID, func() *change {
		return &change{Field: "account_update", Value: map[string]any{
			"event":     "MM_LITE_TERMS_SIGNED",
			"waba_info": map[string]any{"waba_id": wabaID, "owner_business_id": sandboxBusinessID},
		}}
	})
	return nil
}

// sandboxBusinessID is the business that owns the sandbox WABAs.
const sandboxBusinessID = "301122334455667"

// SetTemplateQuality changes a template's quality score and sends
// message_template_quality_update with the previous and new score.
func (s *Sandbox) SetTemplateQuality(wabaID, templateID, score string) error {
	score = strings.ToUpper(strings.TrimSpace(score))
	if !oneOf(score, QualityScores) {
		return triggerErr(i18n.Key("sandbox.err.quality"), "Value", score, "Choices", strings.Join(QualityScores, ", "))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.templateLocked(wabaID, templateID)
	if err != nil {
		return err
	}
	if t.Quality == score {
		return triggerErr(i18n.Key("sandbox.err.same_quality"), "Template", t.Name, "Value", score)
	}
	prev := t.Quality
	t.Quality, t.QualityDate = score, s.clock.Now()
	id, _ := strconv.ParseInt(t.ID, 10, 64)
	s.enqueueLocked(0, wabaID, func() *change {
		return &change{Field: "message_template_quality_update", Value: map[string]any{
			"previous_quality_score":    prev,
			"new_quality_score":         score,
			"message_template_id":       id,
			"message_template_name":     t.Name,
			"message_template_language": t.Language,
		}}
	})
	return nil
}

// ChangeTemplateCategory recategorises a template, as Meta's category review does, and sends
// the completed template_category_update (previous_category, new_category). A template that
// stops being MARKETING is then refused by /marketing_messages (134100).
func (s *Sandbox) ChangeTemplateCategory(wabaID, templateID, category string) error {
	category = strings.ToUpper(strings.TrimSpace(category))
	if !oneOf(category, Categories) {
		return triggerErr(i18n.Key("sandbox.err.category"), "Value", category, "Choices", strings.Join(Categories, ", "))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.templateLocked(wabaID, templateID)
	if err != nil {
		return err
	}
	if t.Category == category {
		return triggerErr(i18n.Key("sandbox.err.same_category"), "Template", t.Name, "Value", category)
	}
	prev := t.Category
	t.PreviousCategory, t.Category = prev, category
	// An automatic category update resets the template's TTL (mm-api-reference §1.5).
	t.TTL = nil
	id, _ := strconv.ParseInt(t.ID, 10, 64)
	s.enqueueLocked(0, wabaID, func() *change {
		return &change{Field: "template_category_update", Value: map[string]any{
			"message_template_id":       id,
			"message_template_name":     t.Name,
			"message_template_language": t.Language,
			"previous_category":         prev,
			"new_category":              category,
		}}
	})
	return nil
}

// RejectTemplate ends a PENDING template's review now with Meta's rejection reason (one of
// RejectionReasons) and sends the REJECTED message_template_status_update, as Meta's review
// does; the approval scheduled at creation then finds it no longer pending and does nothing.
func (s *Sandbox) RejectTemplate(wabaID, templateID, reason string) error {
	reason = strings.ToUpper(strings.TrimSpace(reason))
	if !oneOf(reason, RejectionReasons) {
		return triggerErr(i18n.Key("sandbox.err.reason"), "Value", reason, "Choices", strings.Join(RejectionReasons, ", "))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.templateLocked(wabaID, templateID)
	if err != nil {
		return err
	}
	if t.Status != "PENDING" {
		return triggerErr(i18n.Key("sandbox.err.not_pending"), "Template", t.Name, "Status", t.Status)
	}
	t.Status, t.RejectedReason = "REJECTED", reason
	// Built now, under the lock, so the webhook says what this trigger did.
	c := rejectChange(t, "Sandbox review: rejected from the sandbox page with reason "+reason+".")
	s.enqueueLocked(0, wabaID, func() *change { return c })
	return nil
}

// TriggerTemplate is a template the trigger page offers.
type TriggerTemplate struct {
	ID, Name, Language, Category, Quality, Status string
}

// TriggerWABA is a sandbox WABA with what the trigger page offers for it.
type TriggerWABA struct {
	ID, Name, Onboarding string
	Templates            []TriggerTemplate
	// Stopped are the numbers that stopped marketing messages from this WABA's business.
	Stopped []string
}

// Triggers lists the sandbox WABAs with their current onboarding, templates and stopped
// numbers, for the trigger page.
func (s *Sandbox) Triggers() []TriggerWABA {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []TriggerWABA
	for _, sw := range s.seed.WABAs {
		w := s.wabas[sw.ID]
		tw := TriggerWABA{ID: w.ID, Name: w.Name, Onboarding: w.Onboarding}
		for _, id := range w.TemplateIDs {
			t := s.templates[id]
			tw.Templates = append(tw.Templates, TriggerTemplate{ID: t.ID, Name: t.Name, Language: t.Language, Category: t.Category, Quality: t.Quality, Status: t.Status})
		}
		for n := range s.optedOut {
			if s.prefs[w.ID+"|"+n] != "resume" {
				tw.Stopped = append(tw.Stopped, n)
			}
		}
		for k, v := range s.prefs {
			if n, ok := strings.CutPrefix(k, w.ID+"|"); ok && v == "stop" && !s.optedOut[n] {
				tw.Stopped = append(tw.Stopped, n)
			}
		}
		sort.Strings(tw.Stopped)
		out = append(out, tw)
	}
	return out
}
