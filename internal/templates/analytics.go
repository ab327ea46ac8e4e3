package templates

import (
	"context"
	"errors"
	"fmt"
	"time"

	"mmconsole/internal/graph"
	"mmconsole/models"
)

// AnalyticsAPI is the part of *graph.Client that reads template analytics. It is optional: a
// Graph client without it leaves dormancy to the dashboard's own sends.
type AnalyticsAPI interface {
	TemplateAnalytics(ctx context.Context, token, wabaID string, q graph.AnalyticsQuery) ([]graph.AnalyticsPoint, error)
}

// Analytics bounds: Meta takes 10 templates per call; a refresh spends at most
// analyticsCallsPerRefresh calls per WABA (the least recently read templates first), so a big
// catalog is covered over several refreshes without eating the WABA's Graph budget.
const (
	analyticsBatch           = 10
	analyticsCallsPerRefresh = 10
	// AnalyticsLookback is how far back the SENT counts are read: more than the 7 days that
	// make a template dormant, so a whole day boundary is always covered.
	AnalyticsLookback = 8 * 24 * time.Hour
	// AnalyticsFresh is how long a read counts: an older one says nothing about the last days.
	AnalyticsFresh = 48 * time.Hour
)

// refreshAnalytics reads Meta's daily SENT counts (MM API product type) of the onboarded WABA's
// approved marketing templates and stores, per template, the latest day with sends and when it
// was read. Run by the background refresh only; pages read the stored columns. A WABA whose
// insights are off answers an error: it is logged and the templates keep the dashboard's rule.
func (s *Service) refreshAnalytics(ctx context.Context, conn models.WABAConnection, token string) {
	api, ok := s.graph.(AnalyticsAPI)
	if !ok || !conn.Onboarded() {
		return
	}
	var ts []models.Template
	err := s.db.WithContext(ctx).Select("id", "template_id").
		Where("connection_id = ? AND account_id = ? AND status = ? AND category = ?", conn.ID, conn.AccountID, "APPROVED", "MARKETING").
		Order("meta_sent_read_at IS NOT NULL, meta_sent_read_at, id").Limit(analyticsBatch * analyticsCallsPerRefresh).Find(&ts).Error
	if err != nil {
		s.log.Warn("templates: analytics candidates", "waba", conn.WABAID, "error", err)
		return
	}
	now := s.now()
	for lo := 0; lo < len(ts); lo += analyticsBatch {
		batch := ts[lo:min(lo+analyticsBatch, len(ts))]
		ids := make([]string, len(batch))
		for i, t := range batch {
			ids[i] = t.TemplateID
		}
		pts, err := api.TemplateAnalytics(ctx, token, conn.WABAID, graph.AnalyticsQuery{
			TemplateIDs: ids, Start: now.Add(-AnalyticsLookback), End: now, ProductType: graph.ProductTypeMMAPI})
		if err != nil {
			s.log.Warn("templates: template analytics unavailable; dormancy uses the dashboard's own sends", "waba", conn.WABAID, "error", err)
			return
		}
		if err := s.storeAnalytics(ctx, conn, batch, pts, now); err != nil {
			s.log.Warn("templates: store template analytics", "waba", conn.WABAID, "error", err)
			return
		}
	}
}

// storeAnalytics records, for each template of the batch, the latest day with sends (kept when
// this window has none: it is older but still true) and the time of the read.
func (s *Service) storeAnalytics(ctx context.Context, conn models.WABAConnection, batch []models.Template, pts []graph.AnalyticsPoint, now time.Time) error {
	latest := map[string]time.Time{}
	for _, p := range pts {
		if p.Sent > 0 && p.Start.After(latest[p.TemplateID]) {
			latest[p.TemplateID] = p.Start
		}
	}
	var errs []error
	for _, t := range batch {
		upd := map[string]any{"meta_sent_read_at": now}
		if d, ok := latest[t.TemplateID]; ok {
			upd["meta_last_sent_at"] = d
		}
		err := s.db.WithContext(ctx).Model(&models.Template{}).
			Where("id = ? AND connection_id = ? AND account_id = ?", t.ID, conn.ID, conn.AccountID).Updates(upd).Error
		if err != nil {
			errs = append(errs, fmt.Errorf("template %s: %w", t.TemplateID, err))
		}
	}
	return errors.Join(errs...)
}
