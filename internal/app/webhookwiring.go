package app

import (
	"context"
	"strings"
	"sync"
	"time"

	"mmconsole/internal/accounts"
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

// webhookSecrets hands the accounts area's secret index to the webhook receiver in the
// receiver's terms, converting it only when the accounts area rebuilt it.
type webhookSecrets struct {
	src *accounts.WebhookSecrets

	mu   sync.Mutex
	last *accounts.SecretIndex
	idx  webhook.SecretIndex
}

func (w *webhookSecrets) Index() webhook.SecretIndex {
	cur := w.src.Index()
	w.mu.Lock()
	defer w.mu.Unlock()
	if cur != w.last {
		idx := webhook.SecretIndex{App: cur.App, ByWABA: make(map[string][]webhook.Secret, len(cur.ByWABA)), Others: convertSecrets(cur.All)}
		for waba, list := range cur.ByWABA {
			idx.ByWABA[waba] = convertSecrets(list)
		}
		w.last, w.idx = cur, idx
	}
	return w.idx
}

func convertSecrets(list []accounts.ConnectionSecret) []webhook.Secret {
	out := make([]webhook.Secret, len(list))
	for i, cs := range list {
		out[i] = webhook.Secret{Key: cs.Key, Signer: webhook.Signer{ConnectionID: cs.ConnectionID, AccountID: cs.AccountID, Shared: cs.Shared}}
	}
	return out
}
