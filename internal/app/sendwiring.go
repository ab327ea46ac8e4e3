package app

import (
	"context"
	"time"

	"mmconsole/internal/send"
	"mmconsole/internal/templates"
	"mmconsole/models"
)

// sendSync gives the composer the templates catalog's sync rule, so the composer and the
// template pages never disagree about whether a template is syncing or dormant.
type sendSync struct{}

func (sendSync) State(ctx context.Context, t models.Template, onboarding string, now time.Time) (kind, label string, readyAt *time.Time) {
	st := templates.SyncState(t, onboarding, now)
	label = st.Kind.Label(ctx)
	if why := st.Why(ctx); why != "" {
		label += ": " + why
	}
	switch st.Kind {
	case templates.KindSyncing:
		at := st.ReadyAt
		return send.SyncSyncing, label, &at
	case templates.KindDormant:
		return send.SyncDormant, label, nil
	case templates.KindNotForMMAPI:
		return send.SyncNotForMMAPI, label, nil
	case templates.KindNotSendable:
		return send.SyncNotSendable, label, nil
	case templates.KindFallback:
		return send.SyncFallback, st.Text(ctx, now), nil
	}
	return send.SyncReady, label, nil
}
