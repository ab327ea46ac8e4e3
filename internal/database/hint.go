package database

import "gorm.io/gorm"

// Unindexed returns col written so that SQLite's planner will not pick an index on it (a unary
// +), for a query that should walk another index (its ORDER BY's) and filter as it goes: SQLite
// otherwise prefers any equality index and then sorts every match. PostgreSQL plans by its
// statistics and takes the column as it is.
func Unindexed(db *gorm.DB, col string) string {
	if IsPostgres(db) {
		return col
	}
	return "+" + col
}
