package handlers

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"mmconsole/internal/audit"
	"mmconsole/internal/i18n"
	"mmconsole/models"
	"mmconsole/views/pages"
)

// AuditReader reads the audit log.
type AuditReader interface {
	List(ctx context.Context, scope models.Scope, f audit.Filter) (audit.Page, error)
	Actions(ctx context.Context, scope models.Scope) ([]string, error)
	Targets(ctx context.Context, scope models.Scope, entries []models.AuditEntry) ([]audit.Target, error)
}

// AccountNamer lists accounts, to name them in the staff view.
type AccountNamer interface {
	Accounts(ctx context.Context) ([]models.Account, error)
}

// AuditLog serves /audit: admins see their account's entries, Hibot staff every entry.
type AuditLog struct {
	Shells   *Shells
	Log      AuditReader
	Accounts AccountNamer
}

// Get renders a page of the log, newest first, with the filters from the URL.
func (h *AuditLog) Get(c *fiber.Ctx) error {
	scope := CurrentScope(c)
	ctx := c.UserContext()
	p := pages.AuditPage{Actor: c.Query("actor"), Action: c.Query("action"), Target: c.Query("target"),
		From: c.Query("from"), To: c.Query("to"), ShowAccount: scope.AllAccounts}
	f := audit.Filter{Actor: p.Actor, Action: p.Action, Target: p.Target}
	if d, err := time.Parse(time.DateOnly, p.From); err == nil {
		f.From = d
	}
	if d, err := time.Parse(time.DateOnly, p.To); err == nil {
		f.To = d
	}
	if b, err := strconv.ParseUint(c.Query("before"), 10, 64); err == nil {
		f.Before = uint(b)
	}
	page, err := h.Log.List(ctx, scope, f)
	if err != nil {
		return err
	}
	p.Entries = page.Entries
	targets, err := h.Log.Targets(ctx, scope, page.Entries)
	if err != nil {
		return err
	}
	for _, t := range targets {
		p.Targets = append(p.Targets, pages.AuditTarget{Label: t.Label, Href: t.Href, Title: t.Title})
	}
	if p.Actions, err = h.Log.Actions(ctx, scope); err != nil {
		return err
	}
	if scope.AllAccounts {
		accs, err := h.Accounts.Accounts(ctx)
		if err != nil {
			return err
		}
		p.AccountName = map[uint]string{}
		for _, a := range accs {
			p.AccountName[a.ID] = a.Name
		}
	}
	q := url.Values{}
	for k, v := range map[string]string{"actor": p.Actor, "action": p.Action, "target": p.Target, "from": p.From, "to": p.To} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Before > 0 {
		p.FirstURL = "/audit?" + q.Encode()
	}
	if page.Next > 0 {
		q.Set("before", strconv.FormatUint(uint64(page.Next), 10))
		p.NextURL = "/audit?" + q.Encode()
	}
	return Render(c, fiber.StatusOK, pages.Audit(h.Shells.Shell(c, i18n.T(ctx, "audit.title"), "audit"), p))
}
