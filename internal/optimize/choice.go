package optimize

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"mmconsole/models"
)

// ChooseConnection picks the WABA a WABA-scoped page shows u, among conns (the connections u
// may see, as Connections lists them): requested when it is one of them (and then remembered
// for u's next visit), else u's last choice, else the first onboarded WABA, else the first.
// An onboarded WABA before the alphabetical first: that is where MM API and its optimizations
// apply, so it is the page a person most likely came for. A requested connection u may not see
// answers models.ErrNotFound, as any other account's object does.
func (s *Service) ChooseConnection(ctx context.Context, u models.User, conns []models.WABAConnection, requested uint) (uint, error) {
	if len(conns) == 0 {
		return 0, models.ErrNotFound
	}
	visible := func(id uint) bool {
		for _, c := range conns {
			if c.ID == id {
				return true
			}
		}
		return false
	}
	if requested != 0 {
		if !visible(requested) {
			return 0, models.ErrNotFound
		}
		if err := s.rememberChoice(ctx, u.ID, requested); err != nil {
			return 0, err
		}
		return requested, nil
	}
	var last models.WABAChoice
	err := s.db.WithContext(ctx).Where("user_id = ?", u.ID).Take(&last).Error
	switch {
	case err == nil && visible(last.ConnectionID):
		return last.ConnectionID, nil
	case err != nil && !errors.Is(err, gorm.ErrRecordNotFound):
		return 0, fmt.Errorf("optimize: read the last WABA choice: %w", err)
	}
	for _, c := range conns {
		if c.Onboarded() {
			return c.ID, nil
		}
	}
	return conns[0].ID, nil
}

// rememberChoice stores u's choice; one row per user, replaced on every change.
func (s *Service) rememberChoice(ctx context.Context, userID, connID uint) error {
	row := models.WABAChoice{UserID: userID, ConnectionID: connID, UpdatedAt: time.Now().UTC()}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "user_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"connection_id", "updated_at"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("optimize: remember the WABA choice: %w", err)
	}
	return nil
}
