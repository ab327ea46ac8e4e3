package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"mmconsole/internal/database"
	"mmconsole/internal/i18n"
	"mmconsole/models"
)

type clientIPKey struct{}

// WithClientIP carries the client address of a request down to the services, so that entries
// recorded below the HTTP layer (a test send, an optimization change) name it too.
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

func clientIP(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}

// Target is an entry's target as a person reads it: a name, and the page of the object when it
// has one the reader may open.
type Target struct {
	Label string
	Href  string
	Title string // the raw target, ids included
}

// Targets the areas write (see the Record calls): "template:<meta id> (<name>/<lang>)", "WABA
// <id>", "waba:<id>", "template <name>/<lang> to <number>" (a test send), "<scope>:<id>:<feature>"
// (an optimization change) and an email for users.
var (
	reTemplate     = regexp.MustCompile(`^template:(\d+) \((.*)\)$`)
	reWABA         = regexp.MustCompile(`^(?:WABA |waba:)(\d+)$`)
	reOptimization = regexp.MustCompile(`^(waba|template):(\d+):(\w+)$`)
)

// Targets names the targets of entries, in scope: a WABA by its connection's name, a template by
// its name and language, a test send by its template and number, a user by their name.
func (l *Log) Targets(ctx context.Context, scope models.Scope, entries []models.AuditEntry) ([]Target, error) {
	var wabaIDs, templateIDs, emails []string
	for _, e := range entries {
		if m := reWABA.FindStringSubmatch(e.Target); m != nil {
			wabaIDs = append(wabaIDs, m[1])
		} else if m := reOptimization.FindStringSubmatch(e.Target); m != nil {
			if m[1] == "waba" {
				wabaIDs = append(wabaIDs, m[2])
			} else {
				templateIDs = append(templateIDs, m[2])
			}
		} else if m := reTemplate.FindStringSubmatch(e.Target); m != nil {
			templateIDs = append(templateIDs, m[1])
		} else if strings.Contains(e.Target, "@") {
			emails = append(emails, e.Target)
		}
	}
	db := l.db.WithContext(ctx)
	conns := map[string]models.WABAConnection{}
	if len(wabaIDs) > 0 {
		var rows []models.WABAConnection
		if err := database.Scoped(db.Model(&models.WABAConnection{}), scope, "account_id").Select("id", "waba_id", "name").
			Where("waba_id IN ?", wabaIDs).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("audit: name wabas: %w", err)
		}
		for _, c := range rows {
			conns[c.WABAID] = c
		}
	}
	tpls := map[string]models.Template{}
	if len(templateIDs) > 0 {
		var rows []models.Template
		if err := database.Scoped(db.Model(&models.Template{}), scope, "account_id").Select("id", "template_id", "name", "language").
			Where("template_id IN ?", templateIDs).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("audit: name templates: %w", err)
		}
		for _, t := range rows {
			tpls[t.TemplateID] = t
		}
	}
	users := map[string]string{}
	if len(emails) > 0 {
		var rows []models.User
		q := db.Model(&models.User{}).Select("email", "name").Where("email IN ?", emails)
		if !scope.AllAccounts {
			q = q.Where("account_id = ?", scope.AccountID)
		}
		if err := q.Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("audit: name users: %w", err)
		}
		for _, u := range rows {
			users[u.Email] = u.Name
		}
	}
	out := make([]Target, len(entries))
	for i, e := range entries {
		out[i] = target(ctx, e, conns, tpls, users)
	}
	return out, nil
}

func target(ctx context.Context, e models.AuditEntry, conns map[string]models.WABAConnection, tpls map[string]models.Template, users map[string]string) Target {
	t := Target{Label: e.Target, Title: e.Target}
	wabaTarget := func(id string) {
		if c, ok := conns[id]; ok {
			t.Href = "/settings/connections/" + strconv.FormatUint(uint64(c.ID), 10)
			if c.Name != "" {
				t.Label = i18n.T(ctx, "audit.target.waba", "Name", c.Name)
			}
		}
	}
	templateTarget := func(id, fallback string) {
		t.Label = fallback
		if tp, ok := tpls[id]; ok {
			t.Label = tp.Name + " · " + tp.Language
			t.Href = "/templates/" + id
		}
	}
	switch {
	case reWABA.MatchString(e.Target):
		wabaTarget(reWABA.FindStringSubmatch(e.Target)[1])
	case reOptimization.MatchString(e.Target):
		m := reOptimization.FindStringSubmatch(e.Target)
		if m[1] == "waba" {
			wabaTarget(m[2])
		} else {
			templateTarget(m[2], i18n.T(ctx, "audit.target.template", "ID", m[2]))
		}
		t.Label += ": " + m[3]
	case reTemplate.MatchString(e.Target):
		m := reTemplate.FindStringSubmatch(e.Target)
		templateTarget(m[1], strings.ReplaceAll(m[2], "/", " · "))
	case e.Action == "send.test":
		// The entry's after-state names the send: its message once Meta accepted it.
		var after struct {
			WAMID     string `json:"wamid"`
			Template  string `json:"template"`
			Language  string `json:"language"`
			Recipient string `json:"recipient"`
		}
		if json.Unmarshal([]byte(e.After), &after) == nil && after.Template != "" {
			t.Label = i18n.T(ctx, "audit.target.test_send", "Template", after.Template, "Language", after.Language, "Recipient", after.Recipient)
		}
		if after.WAMID != "" {
			t.Href = "/messages/" + url.PathEscape(after.WAMID)
		} else {
			t.Href = "/sends"
		}
	case strings.Contains(e.Target, "@"):
		if n := users[e.Target]; n != "" {
			t.Label = n + " <" + e.Target + ">"
		}
		if _, ok := users[e.Target]; ok {
			t.Href = "/settings#users"
		}
	}
	return t
}
