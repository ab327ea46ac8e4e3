package webhook

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm/clause"

	"mmconsole/internal/i18n"
	"mmconsole/models"
)

// Bounds of saved filters: a name a list can show, a query a URL can carry, and a list a person
// can scan.
const (
	MaxFilterName   = 80
	MaxFilterQuery  = 2000
	MaxSavedFilters = 50
)

// SavedFilters lists the user's own saved filters, by name.
func (s *Service) SavedFilters(ctx context.Context, userID uint) ([]models.SavedFilter, error) {
	var out []models.SavedFilter
	err := s.db.WithContext(ctx).Where("user_id = ?", userID).Order("name").Limit(MaxSavedFilters).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("webhook: saved filters of user %d: %w", userID, err)
	}
	return out, nil
}

// SaveFilter stores query (a filter the log has validated) under name for u; saving a name the
// user already has replaces that filter's query.
func (s *Service) SaveFilter(ctx context.Context, u models.User, name, query string) (models.SavedFilter, error) {
	name = strings.TrimSpace(name)
	ve := &models.ValidationError{}
	switch {
	case name == "":
		ve.Add("name", i18n.T(ctx, "webhook.saved.name_missing"))
	case utf8.RuneCountInString(name) > MaxFilterName:
		ve.Add("name", i18n.T(ctx, "webhook.saved.name_long", "Max", i18n.Num(ctx, MaxFilterName)))
	}
	if query == "" {
		ve.Add("name", i18n.T(ctx, "webhook.saved.empty"))
	} else if len(query) > MaxFilterQuery {
		ve.Add("name", i18n.T(ctx, "webhook.saved.query_long", "Max", i18n.Num(ctx, MaxFilterQuery)))
	}
	if err := ve.OrNil(); err != nil {
		return models.SavedFilter{}, err
	}
	db := s.db.WithContext(ctx)
	var n int64
	if err := db.Model(&models.SavedFilter{}).Where("user_id = ? AND name <> ?", u.ID, name).Count(&n).Error; err != nil {
		return models.SavedFilter{}, fmt.Errorf("webhook: count saved filters: %w", err)
	}
	if n >= MaxSavedFilters {
		ve.Add("name", i18n.T(ctx, "webhook.saved.full", "Max", i18n.Num(ctx, MaxSavedFilters)))
		return models.SavedFilter{}, ve
	}
	f := models.SavedFilter{UserID: u.ID, AccountID: u.AccountID, Name: name, Query: query, CreatedAt: s.now().UTC()}
	err := db.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "user_id"}, {Name: "name"}},
		DoUpdates: clause.AssignmentColumns([]string{"query"}),
	}).Create(&f).Error
	if err != nil {
		return f, fmt.Errorf("webhook: save filter: %w", err)
	}
	return f, nil
}

// DeleteFilter deletes one of the user's own saved filters; another user's is ErrNotFound.
func (s *Service) DeleteFilter(ctx context.Context, userID, id uint) error {
	res := s.db.WithContext(ctx).Where("id = ? AND user_id = ?", id, userID).Delete(&models.SavedFilter{})
	if res.Error != nil {
		return fmt.Errorf("webhook: delete saved filter %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return models.ErrNotFound
	}
	return nil
}
