package app

import (
	"context"

	"mmconsole/internal/audit"
	"mmconsole/internal/optimize"
)

// optimizeAudit hands the optimize area's audit entries to the audit log. The area declares its
// own entry type so that it does not depend on the audit package.
type optimizeAudit struct{ log *audit.Log }

func (a optimizeAudit) Record(ctx context.Context, e optimize.AuditEntry) error {
	return a.log.Record(ctx, audit.Entry{
		AccountID: e.AccountID, ActorID: e.ActorID, ActorEmail: e.ActorEmail,
		Action: e.Action, Target: e.Target, Before: e.Before, After: e.After, IP: e.IP,
	})
}
