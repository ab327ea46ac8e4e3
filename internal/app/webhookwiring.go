package app

import (
	"context"
	"strings"
	"time"

	"mmconsole/internal/templates"
	"mmconsole/internal/webhook"
	"mmconsole/models"
)

// templateHistory adapts the webhook log to the template page's history.
type templateHistory struct{ hooks *webhook.Service }

func (h templateHistory) TemplateHistory(ctx context.Context, scope models.Scope, templateID string) ([]templates.HistoryItem, error) {
	evs, err := h.hooks.TemplateHistory(ctx, scope, templateID)
	if err != nil {
		return nil, err
	}
	out := make([]templates.HistoryItem, 0, len(evs))
	for _, e := range evs {
		at := e.ReceivedAt
		if e.OccurredAt != nil {
			at = *e.OccurredAt
		}
		it := templates.HistoryItem{At: at.In(time.UTC), To: e.Status, Detail: e.Detail}
		switch e.Kind {
		case models.KindTemplateStatus:
			it.Field = "status"
		case models.KindTemplateQuality, models.KindTemplateCategory:
			it.Field = "quality"
			if e.Kind == models.KindTemplateCategory {
				it.Field = "category"
			}
			// Detail reads "FROM → TO" (plus a note for an announced category change).
			if from, to, ok := strings.Cut(e.Detail, " → "); ok {
				it.From, it.To = from, strings.Fields(to)[0]
				it.Detail = ""
				if e.Status == "IMPENDING" {
					it.Detail = "announced: " + e.Detail
				}
			}
		}
		out = append(out, it)
	}
	return out, nil
}
