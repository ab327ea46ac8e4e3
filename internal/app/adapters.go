package app

import (
	"context"

	"mmconsole/internal/audit"
	"mmconsole/internal/optimize"
	"mmconsole/internal/send"
	"mmconsole/internal/webhook"
	"mmconsole/models"
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

// sendMessages joins the composer to the webhook log: accepted sends are recorded as messages,
// and the live result panel reads their state as webhooks arrive.
type sendMessages struct{ hooks *webhook.Service }

func (m sendMessages) RecordAccepted(ctx context.Context, a send.AcceptedMessage) error {
	return m.hooks.RecordAccepted(ctx, webhook.Accepted{
		WAMID: a.WAMID, AccountID: a.AccountID, WABAID: a.WABAID, PhoneNumberID: a.PhoneNumberID,
		Recipient: a.Recipient, TemplateName: a.TemplateName, TemplateLanguage: a.Language,
		TTLSeconds: a.TTLSeconds, AcceptedAt: a.AcceptedAt, SendRequest: a.RequestJSON,
	})
}

func (m sendMessages) Status(ctx context.Context, scope models.Scope, wamid string) (send.StatusView, error) {
	msg, err := m.hooks.MessageState(ctx, scope, wamid)
	if err != nil {
		return send.StatusView{}, err
	}
	v := send.StatusView{
		Route: msg.Route, ErrorTitle: msg.ErrorTitle, SentAt: msg.SentAt, DeliveredAt: msg.DeliveredAt,
		ReadAt: msg.ReadAt, ClickedAt: msg.ClickedAt, FailedAt: msg.FailedAt,
	}
	if msg.Status != models.MessageAccepted {
		v.Status = msg.Status
	}
	if msg.Route == models.RouteUnknown && msg.PricingCategory == "" {
		v.Route = ""
	}
	if msg.ErrorCode != nil {
		v.ErrorCode = *msg.ErrorCode
	}
	return v, nil
}

// sendAudit records test sends in the audit log with the sender as actor.
type sendAudit struct{ log *audit.Log }

func (a sendAudit) Record(ctx context.Context, actor models.User, action, target string, before, after any) error {
	id := actor.ID
	e := audit.Entry{ActorID: &id, ActorEmail: actor.Email, Action: action, Target: target, Before: before, After: after}
	if actor.AccountID != nil {
		acct := *actor.AccountID
		e.AccountID = &acct
	}
	return a.log.Record(ctx, e)
}
