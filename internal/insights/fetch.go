package insights

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"mmconsole/internal/graph"
	"mmconsole/models"
)

// Fetch bounds (mm-api-reference §9): Meta takes 10 templates per call, looks back 90 days, and
// keeps changing read and click counts for 7 days after a send.
const (
	Batch = 10
	// Lookback is how far the first fetch of a WABA reaches (Meta's 90 days, today included).
	Lookback = 89 * 24 * time.Hour
	// Refetch is how far every later fetch reaches back: the days whose counts may still move.
	Refetch = 7 * 24 * time.Hour
)

// Background passes, each run once per interval across instances by the composition root
// (internal/jobs): the fetch pass looks every FetchPoll which WABAs are due (their interval
// passed, a rate-limit backoff ended); events are folded every FoldEvery; TTL expiries, which
// change only as TTLs end, are recounted every ExpiryEvery.
const (
	FetchPoll   = time.Minute
	FoldEvery   = 30 * time.Second
	ExpiryEvery = 10 * time.Minute
)

// FetchAll fetches the analytics of every connection that is due. Failures are stored in the
// connection's fetch state, not returned.
func (s *Service) FetchAll(ctx context.Context) {
	var conns []models.WABAConnection
	if err := s.db.WithContext(ctx).Order("id").Find(&conns).Error; err != nil {
		s.log.Error("insights: list connections", "error", err)
		return
	}
	for _, c := range conns {
		if ctx.Err() != nil {
			return
		}
		if _, err := s.FetchConnection(ctx, c, false); err != nil && !errors.Is(err, ErrNotDue) {
			s.log.Warn("insights: fetch failed", "waba", c.WABAID, "error", err)
		}
	}
}

// ErrNotDue says a fetch was skipped: fetched recently, backing off, refused recently, or held
// by another instance.
var ErrNotDue = errors.New("insights: not due")

// FetchResult sums one fetch.
type FetchResult struct {
	Calls, Failed, Points int
	Refusal               string
	RateLimited           bool
}

// due says whether conn's analytics should be fetched now (force: an admin just enabled them).
func (s *Service) due(st models.InsightFetch, now time.Time, force bool) bool {
	if st.BackoffUntil != nil && now.Before(*st.BackoffUntil) {
		return false
	}
	if force {
		return true
	}
	if st.Refusal != "" && st.FinishedAt != nil && now.Sub(*st.FinishedAt) < s.opts.RefusedRetry {
		return false
	}
	// Polled every FetchPoll: a WABA is due a little before its interval ends rather than a poll
	// after it. Interval 0 fetches at each start only (FetchAll is then called once).
	return st.StartedAt == nil || s.opts.Interval <= 0 || now.Sub(*st.StartedAt) >= s.opts.Interval*9/10
}

// claim takes the WABA's fetch lease, creating its state row on first use.
func (s *Service) claim(ctx context.Context, conn models.WABAConnection, force bool) (models.InsightFetch, bool, error) {
	db := s.db.WithContext(ctx)
	now := s.now()
	row := models.InsightFetch{ConnectionID: conn.ID, AccountID: conn.AccountID, WABAID: conn.WABAID}
	if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return row, false, err
	}
	var st models.InsightFetch
	if err := db.Where("connection_id = ?", conn.ID).Take(&st).Error; err != nil {
		return st, false, err
	}
	if !s.due(st, now, force) {
		return st, false, nil
	}
	lease := now.Add(s.opts.Lease)
	res := db.Model(&models.InsightFetch{}).
		Where("connection_id = ? AND (lease_until IS NULL OR lease_until < ?)", conn.ID, now).
		Updates(map[string]any{"lease_until": lease, "started_at": now, "account_id": conn.AccountID, "waba_id": conn.WABAID})
	if res.Error != nil {
		return st, false, res.Error
	}
	st.StartedAt = &now
	return st, res.RowsAffected == 1, nil
}

// FetchConnection fetches one WABA's analytics (force skips the interval and the refusal wait,
// not a rate-limit backoff) and records the outcome in its fetch state.
func (s *Service) FetchConnection(ctx context.Context, conn models.WABAConnection, force bool) (FetchResult, error) {
	if s.graph == nil || s.tokens == nil {
		return FetchResult{}, ErrNotDue
	}
	ids, err := s.templateIDs(ctx, conn)
	if err != nil {
		return FetchResult{}, fmt.Errorf("insights: templates of waba %s: %w", conn.WABAID, err)
	}
	if len(ids) == 0 {
		// Nothing to ask for yet (the catalog has not been read): leave the WABA due, so its
		// first fetch, with the 90-day look-back, happens once its templates are known.
		return FetchResult{}, ErrNotDue
	}
	st, ok, err := s.claim(ctx, conn, force)
	if err != nil {
		return FetchResult{}, fmt.Errorf("insights: claim waba %s: %w", conn.WABAID, err)
	}
	if !ok {
		return FetchResult{}, ErrNotDue
	}
	res, ferr := s.fetch(ctx, conn, ids, &st)
	if err := s.finish(context.WithoutCancel(ctx), conn, st, res, ferr); err != nil {
		return res, errors.Join(ferr, err)
	}
	if ferr != nil {
		return res, fmt.Errorf("insights: fetch waba %s: %w", conn.WABAID, ferr)
	}
	return res, nil
}

// fetch calls template_analytics for every marketing template of conn, 10 per call, for MM API
// and Cloud API, and stores the points. It stops at a refusal or a rate limit (what was stored
// stays); any other failed call is counted and the next batch goes on.
func (s *Service) fetch(ctx context.Context, conn models.WABAConnection, ids []string, st *models.InsightFetch) (FetchResult, error) {
	var res FetchResult
	token, err := s.tokens.Token(ctx, conn)
	if err != nil {
		return res, fmt.Errorf("access token: %w", err)
	}
	now := s.now()
	from := Day(now).Add(-Refetch)
	if st.CoveredFrom == nil {
		from = Day(now).Add(-Lookback)
	}
	mmRead := map[string]bool{} // templates whose MM API counts Meta answered this time
	latest := map[string]time.Time{}
	var errs []error
	for _, product := range []string{models.ProductMMAPI, models.ProductCloudAPI} {
		for lo := 0; lo < len(ids); lo += Batch {
			batch := ids[lo:min(lo+Batch, len(ids))]
			q := graph.AnalyticsQuery{TemplateIDs: batch, Start: from, End: now, MetricTypes: graph.BasicMetrics}
			if product == models.ProductMMAPI {
				q.MetricTypes = append(append([]string(nil), graph.BasicMetrics...), graph.ConversionMetrics...)
			} else {
				q.ProductType = graph.ProductTypeCloudAPI
			}
			pts, err := s.call(ctx, token, conn, st, product, q, &res)
			if err != nil {
				if r := graph.AnalyticsRefusal(err); r != graph.RefusalNone {
					res.Refusal = r
					return res, err
				}
				if graph.IsRateLimit(err) {
					res.RateLimited = true
					return res, err
				}
				if ctx.Err() != nil {
					return res, errors.Join(append(errs, err)...)
				}
				res.Failed++
				errs = append(errs, err)
				continue
			}
			n, err := s.store(ctx, conn, product, pts, now)
			if err != nil {
				return res, fmt.Errorf("store points: %w", err)
			}
			res.Points += n
			if product == models.ProductMMAPI {
				for _, id := range batch {
					mmRead[id] = true
				}
				for _, p := range pts {
					if p.Sent > 0 && p.Start.After(latest[p.TemplateID]) {
						latest[p.TemplateID] = p.Start
					}
				}
			}
		}
	}
	if conn.Onboarded() {
		if err := s.noteDormancy(ctx, conn, mmRead, latest, now); err != nil {
			errs = append(errs, err)
		}
	}
	return res, errors.Join(errs...)
}

// templateIDs lists Meta's ids of conn's marketing templates (the ones MM API sends).
func (s *Service) templateIDs(ctx context.Context, conn models.WABAConnection) ([]string, error) {
	var ids []string
	err := s.db.WithContext(ctx).Model(&models.Template{}).
		Where("connection_id = ? AND account_id = ? AND category = ? AND gone_at IS NULL", conn.ID, conn.AccountID, "MARKETING").
		Order("template_id").Pluck("template_id", &ids).Error
	return ids, err
}

// call asks for one batch. For MM API it uses the product_type spelling that worked for the
// connection before; not known yet, it tries the SDK's and, when Meta refuses the parameter,
// the analytics page's, and remembers the one Meta took. A remembered spelling that Meta
// refuses later is followed by the other, so a rename at Meta does not stop the fetches.
func (s *Service) call(ctx context.Context, token string, conn models.WABAConnection, st *models.InsightFetch, product string, q graph.AnalyticsQuery, res *FetchResult) ([]graph.AnalyticsPoint, error) {
	if product != models.ProductMMAPI {
		res.Calls++
		return s.graph.TemplateAnalytics(ctx, token, conn.WABAID, q)
	}
	tries := []string{graph.ProductTypeMMAPI, graph.ProductTypeMMAPIRenamed}
	if st.ProductType == tries[1] {
		tries[0], tries[1] = tries[1], tries[0]
	}
	var err error
	for _, pt := range tries {
		q.ProductType = pt
		res.Calls++
		var pts []graph.AnalyticsPoint
		pts, err = s.graph.TemplateAnalytics(ctx, token, conn.WABAID, q)
		if err == nil {
			if st.ProductType != pt {
				st.ProductType = pt
				if uerr := s.db.WithContext(ctx).Model(&models.InsightFetch{}).Where("connection_id = ?", conn.ID).
					Update("product_type", pt).Error; uerr != nil {
					return pts, uerr
				}
			}
			return pts, nil
		}
		if !graph.IsProductTypeRefusal(err) {
			return nil, err
		}
	}
	return nil, err
}

// store upserts one answer's points (and conversions). All-zero points are not stored: counts
// only grow, and most templates are idle most days.
func (s *Service) store(ctx context.Context, conn models.WABAConnection, product string, pts []graph.AnalyticsPoint, now time.Time) (int, error) {
	var rows []models.InsightPoint
	var convs []models.InsightConversion
	for _, p := range pts {
		if p.TemplateID == "" || p.Start.IsZero() {
			continue
		}
		day := Day(p.Start)
		for m, v := range p.Conversions {
			convs = append(convs, models.InsightConversion{AccountID: conn.AccountID, ConnectionID: conn.ID,
				TemplateID: p.TemplateID, Day: day, Product: product, Metric: m, Value: v})
		}
		if p.Sent == 0 && p.Delivered == 0 && p.Read == 0 && p.Clicked == 0 && p.Cost == 0 && len(p.Conversions) == 0 {
			continue
		}
		rows = append(rows, models.InsightPoint{AccountID: conn.AccountID, ConnectionID: conn.ID, WABAID: conn.WABAID,
			TemplateID: p.TemplateID, Day: day, Product: product, Sent: int64(p.Sent), Delivered: int64(p.Delivered),
			Read: int64(p.Read), Clicked: int64(p.Clicked), Cost: p.Cost, HasCost: p.HasCost, FetchedAt: now})
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if len(rows) > 0 {
			err := tx.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "connection_id"}, {Name: "template_id"}, {Name: "day"}, {Name: "product"}},
				DoUpdates: clause.AssignmentColumns([]string{"sent", "delivered", "read", "clicked", "cost", "has_cost", "fetched_at", "account_id", "waba_id"}),
			}).CreateInBatches(rows, 200).Error
			if err != nil {
				return err
			}
		}
		if len(convs) > 0 {
			return tx.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "connection_id"}, {Name: "template_id"}, {Name: "day"}, {Name: "product"}, {Name: "metric"}},
				DoUpdates: clause.AssignmentColumns([]string{"value", "account_id"}),
			}).CreateInBatches(convs, 200).Error
		}
		return nil
	})
	return len(rows), err
}

// noteDormancy gives the template catalog what dormancy needs from the stored analytics: when
// Meta last answered for each template and the latest day it counted MM API sends (an older
// day already stored stays when this window has none).
func (s *Service) noteDormancy(ctx context.Context, conn models.WABAConnection, read map[string]bool, latest map[string]time.Time, now time.Time) error {
	var errs []error
	for id := range read {
		upd := map[string]any{"meta_sent_read_at": now}
		q := s.db.WithContext(ctx).Model(&models.Template{}).
			Where("template_id = ? AND connection_id = ? AND account_id = ?", id, conn.ID, conn.AccountID)
		if d, ok := latest[id]; ok {
			if err := q.Session(&gorm.Session{}).Where("meta_last_sent_at IS NULL OR meta_last_sent_at < ?", d).
				Update("meta_last_sent_at", d).Error; err != nil {
				errs = append(errs, err)
			}
		}
		if err := q.Updates(upd).Error; err != nil {
			errs = append(errs, fmt.Errorf("template %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// finish records the outcome and releases the lease.
func (s *Service) finish(ctx context.Context, conn models.WABAConnection, st models.InsightFetch, res FetchResult, ferr error) error {
	now := s.now()
	upd := map[string]any{"finished_at": now, "lease_until": nil, "batches": res.Calls, "failed_batches": res.Failed,
		"refusal": res.Refusal, "refusal_text": "", "last_error": ""}
	if ferr != nil {
		upd["last_error"] = truncate(ferr.Error(), 500)
	}
	switch {
	case res.Refusal != "":
		upd["refusal_text"] = truncate(ferr.Error(), 500)
	case res.RateLimited:
		n := st.Backoffs + 1
		d := s.opts.BackoffBase << min(n-1, 10)
		if d <= 0 || d > s.opts.BackoffMax {
			d = s.opts.BackoffMax
		}
		upd["backoffs"], upd["backoff_until"] = n, now.Add(d)
	default:
		upd["backoffs"], upd["backoff_until"] = 0, nil
	}
	if ferr == nil || (!res.RateLimited && res.Refusal == "" && res.Failed < res.Calls) {
		// Something was read: the look-back is done (a failed batch is re-read next time within
		// the 7 days; its older days come back when the WABA is fetched from scratch).
		if st.CoveredFrom == nil {
			from := Day(now).Add(-Lookback)
			upd["covered_from"] = from
		}
	}
	if ferr == nil {
		upd["ok_at"] = now
	}
	return s.db.WithContext(ctx).Model(&models.InsightFetch{}).Where("connection_id = ?", conn.ID).Updates(upd).Error
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
