package database

import (
	"gorm.io/gorm"

	"mmconsole/models"
)

// Scoped restricts a query to the rows a viewer may see: every row for Hibot staff, otherwise
// rows whose account column is the viewer's account. Every tenant-owned table carries an
// account_id column so that this one rule is the whole of tenant isolation.
func Scoped(tx *gorm.DB, s models.Scope, column string) *gorm.DB {
	if s.AllAccounts {
		return tx
	}
	return tx.Where(column+" = ?", s.AccountID)
}
