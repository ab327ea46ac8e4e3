package webhook

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"mmconsole/internal/database"
	"mmconsole/internal/i18n"
	"mmconsole/internal/metarules"
	"mmconsole/models"
)

// What a search hit is: the page it leads to depends on it.
const (
	HitMessage  = "message"  // Key is the wamid: the message's page
	HitNumber   = "number"   // Key is the number's digits: the log filtered by recipient
	HitTemplate = "template" // Key is Meta's template id: the template's page
)

// MaxSearchQuery bounds what the header's search box takes: a wamid is under 100 characters, a
// template name at most 512 (Meta's limit).
const MaxSearchQuery = 512

// searchHits bounds the results page: it is for telling a few candidates apart, not browsing.
const searchHits = 20

// SearchHit is one thing a search found.
type SearchHit struct {
	Kind   string
	Key    string
	Label  string // what a person reads: the wamid, the number, the template's name
	Detail string // language, status, WABA…
}

// Search finds, in scope, the message with wamid q, the messages to or from the number q (in any
// form the composer accepts) and the templates named q (exactly, then by prefix), in that order.
func (s *Service) Search(ctx context.Context, scope models.Scope, q string) ([]SearchHit, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, nil
	}
	if utf8.RuneCountInString(q) > MaxSearchQuery {
		ve := &models.ValidationError{}
		ve.Add("q", i18n.T(ctx, "webhook.search.too_long", "Max", i18n.Num(ctx, MaxSearchQuery)))
		return nil, ve
	}
	// Typed into a URL, q may hold what PostgreSQL refuses as text; stored text was cleaned alike.
	q = cleanText(q)
	db := s.db.WithContext(ctx)
	var hits []SearchHit

	var msgs []models.Message
	if err := database.Scoped(db.Model(&models.Message{}), scope, "account_id").Omit("send_request").
		Where("wamid = ?", q).Limit(1).Find(&msgs).Error; err != nil {
		return nil, fmt.Errorf("webhook: search wamid: %w", err)
	}
	for _, m := range msgs {
		detail := m.Status
		if m.TemplateName != nil {
			detail = *m.TemplateName + " · " + detail
		}
		hits = append(hits, SearchHit{Kind: HitMessage, Key: m.WAMID, Label: m.WAMID, Detail: detail})
	}

	if digits, err := metarules.NormalizePhone(q); err == nil {
		var n int64
		if err := database.Scoped(db.Model(&models.Message{}), scope, "account_id").
			Where("recipient = ?", digits).Limit(1).Count(&n).Error; err != nil {
			return nil, fmt.Errorf("webhook: search number: %w", err)
		}
		if n == 0 {
			// A number may only have sent a preference change or a click: the events know it.
			if err := database.Scoped(db.Model(&models.WebhookEvent{}), scope, "account_id").
				Where("recipient = ?", digits).Limit(1).Count(&n).Error; err != nil {
				return nil, fmt.Errorf("webhook: search number: %w", err)
			}
		}
		if n > 0 {
			hits = append(hits, SearchHit{Kind: HitNumber, Key: digits, Label: "+" + digits, Detail: i18n.T(ctx, "webhook.search.number")})
		}
	}

	lower := strings.ToLower(q)
	// Exact names first, then names starting with q. LOWER on both sides, since PostgreSQL's
	// LIKE is case-sensitive and SQLite's is not; a % or _ typed by the user matches itself.
	prefix := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(lower) + "%"
	for _, where := range []struct {
		cond string
		args []any
	}{
		{"LOWER(name) = ?", []any{lower}},
		{`LOWER(name) LIKE ? ESCAPE '\' AND LOWER(name) <> ?`, []any{prefix, lower}},
	} {
		if len(hits) >= searchHits {
			break
		}
		var tpls []models.Template
		if err := database.Scoped(db.Model(&models.Template{}), scope, "account_id").
			Where(where.cond, where.args...).Order("name, language, id").Limit(searchHits - len(hits)).
			Find(&tpls).Error; err != nil {
			return nil, fmt.Errorf("webhook: search templates: %w", err)
		}
		for _, t := range tpls {
			hits = append(hits, SearchHit{Kind: HitTemplate, Key: t.TemplateID, Label: t.Name,
				Detail: strings.TrimSpace(t.Language + " · " + t.Status + " · WABA " + t.WABAID)})
		}
	}
	return hits, nil
}
