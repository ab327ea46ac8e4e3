package templates

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"mmconsole/internal/database"
	"mmconsole/internal/editbudget"
	"mmconsole/internal/graph"
	"mmconsole/internal/i18n"
	"mmconsole/internal/metarules"
	"mmconsole/models"
)

// Filter is what the catalog page asks for. Empty fields do not filter.
type Filter struct {
	Connection uint   // a connection's row id
	Status     string // APPROVED, PENDING, …
	Category   string
	Language   string
	Quality    string
	State      string // a Kind
	Name       string // part of the name, any case, across every WABA in scope
	Sort       string // name (default), status, updated
	Page       int    // 1-based
	PerPage    int    // default 50
}

// Row is one catalog line: the template (without its bulky JSON columns), its state and WABA.
type Row struct {
	T        models.Template
	State    State
	WABAName string
}

// CatalogPage is one page of the catalog with its counts.
type CatalogPage struct {
	Rows      []Row
	Total     int          // templates matching the filters other than State
	Counts    map[Kind]int // of Total, per state
	Matching  int          // after the State filter too
	Page      int
	Pages     int
	Languages []string // every language in scope, for the filter
}

// Sorts are the orders the catalog offers.
var Sorts = []string{"name", "status", "updated"}

// Statuses and Qualities are the filter choices Meta documents (mm-api-reference §3.1).
var (
	Statuses   = []string{"APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED", "IN_APPEAL", "ARCHIVED", "LIMIT_EXCEEDED", "PENDING_DELETION", "DELETED"}
	Categories = []string{"MARKETING", "UTILITY", "AUTHENTICATION"}
	Qualities  = []string{"GREEN", "YELLOW", "RED", "UNKNOWN"}
)

// List returns the catalog visible in scope. The sync state depends on the time, not on a column,
// so the state counts and the state filter are computed here over the SQL-filtered rows; a WABA
// holds at most 6000 templates, and the bulky JSON columns are not read.
func (s *Service) List(ctx context.Context, scope models.Scope, f Filter) (CatalogPage, error) {
	if f.PerPage <= 0 {
		f.PerPage = 50
	}
	f.Page = max(f.Page, 1)
	db := s.db.WithContext(ctx)
	q := database.Scoped(db.Model(&models.Template{}), scope, "account_id").Omit("components", "optimizations", "raw")
	if f.Connection != 0 {
		q = q.Where("connection_id = ?", f.Connection)
	}
	for col, v := range map[string]string{"status": f.Status, "category": f.Category, "language": f.Language, "quality": f.Quality} {
		if v != "" {
			q = q.Where(col+" = ?", v)
		}
	}
	if name := strings.TrimSpace(f.Name); name != "" {
		q = q.Where("LOWER(name) LIKE ? ESCAPE '\\'", "%"+escapeLike(strings.ToLower(name))+"%")
	}
	switch f.Sort {
	case "status":
		q = q.Order("status, name, language")
	case "updated":
		q = q.Order("updated_at DESC, id DESC")
	default:
		q = q.Order("name, language, id")
	}
	var ts []models.Template
	if err := q.Find(&ts).Error; err != nil {
		return CatalogPage{}, fmt.Errorf("templates: list: %w", err)
	}
	conns, err := s.Connections(ctx, scope)
	if err != nil {
		return CatalogPage{}, err
	}
	names := map[uint]string{}
	onboarding := map[uint]string{}
	for _, c := range conns {
		onboarding[c.ID] = c.OnboardingStatus
		names[c.ID] = c.Name
		if c.Name == "" {
			names[c.ID] = c.WABAID
		}
	}
	now := s.now()
	p := CatalogPage{Total: len(ts), Counts: map[Kind]int{}, Page: f.Page}
	var all []Row
	for _, t := range ts {
		st := SyncState(t, onboarding[t.ConnectionID], now)
		p.Counts[st.Kind]++
		if f.State != "" && string(st.Kind) != f.State {
			continue
		}
		all = append(all, Row{T: t, State: st, WABAName: names[t.ConnectionID]})
	}
	p.Matching = len(all)
	p.Pages = max((len(all)+f.PerPage-1)/f.PerPage, 1)
	p.Page = min(p.Page, p.Pages)
	lo := (p.Page - 1) * f.PerPage
	p.Rows = all[lo:min(lo+f.PerPage, len(all))]
	err = database.Scoped(db.Model(&models.Template{}), scope, "account_id").Distinct("language").Order("language").Pluck("language", &p.Languages).Error
	if err != nil {
		return CatalogPage{}, fmt.Errorf("templates: languages: %w", err)
	}
	return p, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// TTL bounds for marketing templates (mm-api-reference §1.5): 12 hours to 30 days, the one rule
// set of metarules.
const (
	MinMarketingTTL = metarules.MinMarketingTTL
	MaxMarketingTTL = metarules.MaxMarketingTTL
)

// TTLEditResult is what SetTTL did, for the audit log.
type TTLEditResult struct {
	Template models.Template // as before the edit
	Before   *int
	After    int
}

// SetTTL changes a marketing template's message_send_ttl_seconds at Meta and, once Meta agrees,
// in the catalog. Out-of-range values and non-marketing templates are refused with a
// *models.ValidationError (field "ttl") before anything is sent.
func (s *Service) SetTTL(ctx context.Context, scope models.Scope, id string, seconds int) (TTLEditResult, error) {
	t, err := s.Get(ctx, scope, id)
	if err != nil {
		return TTLEditResult{}, err
	}
	res := TTLEditResult{Template: t, Before: t.TTLSeconds, After: seconds}
	if verr := ValidateTTL(ctx, t, seconds); verr != nil {
		return res, verr
	}
	// The form starts at the current TTL, so saving it untouched would spend one of Meta's 10
	// edits per 30 days on no change.
	if t.TTLSeconds != nil && *t.TTLSeconds == seconds {
		ve := &models.ValidationError{}
		ve.Add("ttl", i18n.T(ctx, "ttl.err.unchanged", "TTL", HumanTTL(ctx, &seconds, t.Category)))
		return res, ve
	}
	// A TTL edit is one of Meta's edits of an approved template, like an optimization change.
	budget, err := s.opts.Edits.Of(ctx, t)
	if err != nil {
		return res, err
	}
	if budget.AtLimit() {
		ve := &models.ValidationError{}
		ve.Add("ttl", budget.Words(ctx))
		return res, ve
	}
	var conn models.WABAConnection
	if err := s.db.WithContext(ctx).Where("id = ?", t.ConnectionID).Take(&conn).Error; err != nil {
		return res, fmt.Errorf("templates: connection of template %s: %w", t.TemplateID, err)
	}
	token, err := s.tokens.Token(ctx, conn)
	if err != nil {
		return res, fmt.Errorf("templates: access token of waba %s: %w", conn.WABAID, err)
	}
	if err := s.graph.EditTemplate(ctx, token, t.TemplateID, graph.TemplateEdit{TTLSeconds: &seconds}); err != nil {
		return res, fmt.Errorf("templates: set ttl of %s: %w", t.TemplateID, err)
	}
	// The ledger stores its detail as text, so it is written in English (no reader's language).
	en := context.Background()
	if err := s.opts.Edits.Record(ctx, editbudget.Edit{Template: t, Kind: models.EditKindTTL, Via: "template_page",
		Detail: HumanTTL(en, t.TTLSeconds, t.Category) + " → " + HumanTTL(en, &seconds, t.Category)}); err != nil {
		s.log.Error("templates: record ttl edit", "template", t.TemplateID, "err", err)
	}
	err = s.db.WithContext(ctx).Model(&models.Template{}).Where("id = ?", t.ID).Updates(map[string]any{"ttl_seconds": seconds}).Error
	if err != nil {
		return res, fmt.Errorf("templates: store ttl of %s: %w", t.TemplateID, err)
	}
	return res, nil
}

// EditBudget is what is left of Meta's edit limit for t (TTL and optimization edits alike).
func (s *Service) EditBudget(ctx context.Context, t models.Template) (editbudget.Budget, error) {
	return s.opts.Edits.Of(ctx, t)
}

// ValidateTTL checks a TTL for a template: only marketing templates' TTLs are edited here, within
// Meta's range for them. Its messages are in the language of ctx.
func ValidateTTL(ctx context.Context, t models.Template, seconds int) error {
	ve := &models.ValidationError{}
	switch {
	case !strings.EqualFold(t.Category, "MARKETING"):
		ve.Add("ttl", i18n.T(ctx, "ttl.err.not_marketing"))
	case metarules.CheckMarketingTTL(seconds) != nil:
		ve.Add("ttl", i18n.T(ctx, "ttl.err.range", "Min", i18n.Num(ctx, metarules.MinMarketingTTL),
			"Max", i18n.Num(ctx, metarules.MaxMarketingTTL), "TTL", HumanTTL(ctx, &seconds, t.Category)))
	}
	return ve.OrNil()
}

// TTLInputError is what is wrong with a TTL input (an error of metarules.ParseTTL), in the
// language of ctx, for the form that sent value and unit.
func TTLInputError(ctx context.Context, err error, value, unit string) string {
	switch {
	case errors.Is(err, metarules.ErrTTLUnit):
		return i18n.T(ctx, "ttl.err.unit")
	case errors.Is(err, metarules.ErrTTLWhole):
		return i18n.T(ctx, "ttl.err.whole", "Value", value, "Unit", UnitName(ctx, unit))
	case errors.Is(err, metarules.ErrTTLNumber):
		if _, ferr := strconv.ParseFloat(value, 64); ferr == nil {
			// A well-formed number that overflows: the range says what fits.
			return i18n.T(ctx, "ttl.err.too_long")
		}
		return i18n.T(ctx, "ttl.err.number", "Unit", UnitName(ctx, unit))
	}
	return err.Error()
}

// HumanTTL writes a TTL for people in the language of ctx: "12 h", "7 days", or the category's
// default when unset.
func HumanTTL(ctx context.Context, seconds *int, category string) string {
	if seconds == nil || *seconds == -1 {
		d := metarules.DefaultMarketingTTL
		if strings.EqualFold(category, "AUTHENTICATION") {
			d = 600 // Meta's default for authentication templates: 10 minutes
		}
		return i18n.T(ctx, "ttl.human.default", "TTL", HumanTTL(ctx, &d, category))
	}
	n := *seconds
	switch {
	case n <= 0:
		return i18n.T(ctx, "ttl.human.seconds", "N", i18n.Num(ctx, int64(n)))
	case n%86400 == 0:
		return i18n.N(ctx, "ttl.human.days", n/86400)
	case n%3600 == 0:
		return i18n.T(ctx, "ttl.human.hours", "N", i18n.Num(ctx, int64(n/3600)))
	case n%60 == 0:
		return i18n.T(ctx, "ttl.human.minutes", "N", i18n.Num(ctx, int64(n/60)))
	}
	return i18n.T(ctx, "ttl.human.seconds", "N", i18n.Num(ctx, int64(n)))
}
