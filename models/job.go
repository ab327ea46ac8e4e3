package models

import "time"

// BackgroundJob is one kind of background work (template refresh, retention, …) shared by every
// instance on the database: the row says when any instance last started it, which decides
// whether it is due again. internal/jobs owns it.
type BackgroundJob struct {
	Name      string    `gorm:"primaryKey;size:100"`
	LastRunAt time.Time `gorm:"not null"`            // UTC, when the latest run was claimed
	Holder    string    `gorm:"not null;default:''"` // the instance that claimed it
	Runs      int64     `gorm:"not null;default:0"`  // claims so far, across instances
}
