package send

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"mmconsole/internal/database"
	"mmconsole/internal/editbudget"
	"mmconsole/internal/graph"
	"mmconsole/internal/i18n"
	"mmconsole/internal/metarules"
	"mmconsole/models"
)

// Migrations creates the test_sends and saved_recipients tables.
func Migrations() []database.Migration {
	return []database.Migration{
		database.AutoMigrateStep("0007_test_sends", &models.TestSend{}),
		database.AutoMigrateStep("0190_saved_recipients", &models.SavedRecipient{}),
	}
}

// Deps are the service's collaborators. Sync, Notes, Recorder, Status and Audit may be nil
// (their part is then skipped); the others are required.
type Deps struct {
	DB       *gorm.DB
	Graph    Graph
	Tokens   TokenSource
	Catalog  Catalog // default NewDBCatalog(DB)
	Sync     SyncInfo
	Notes    TemplateNotes
	Recorder MessageRecorder
	Status   MessageStatus
	Audit    Auditor
	// Preferences warns about recipients who stopped marketing messages (131050).
	Preferences Preferences
	// APIBase is the Graph base with version, for the curl command
	// (e.g. "https://graph.facebook.com/v25.0").
	APIBase string
	Now     Clock
	Logger  *slog.Logger
	// Edits counts a template TTL edit (template TTL mode) against Meta's edit limit, in the
	// ledger every kind of template edit shares; by default one over DB.
	Edits *editbudget.Ledger
	// CallbackData says which sends carry biz_opaque_callback_data (CallbackAuto, CallbackOn,
	// CallbackOff; empty = CallbackAuto).
	CallbackData string
}

// Which sends carry biz_opaque_callback_data. Meta documents the field on Cloud API /messages and
// echoes it in status webhooks, but its /marketing_messages schema does not list it and refuses
// unknown properties (mm-api-reference §1.2), so by default only sends that do not go to Meta
// directly (Hibot's gateway, the sandbox) carry it [I]. An operator who sees Meta accept it turns
// it on for every connection.
const (
	CallbackAuto = "auto" // the gateway and the sandbox only
	CallbackOn   = "on"   // every send
	CallbackOff  = "off"  // no send
)

// Service is the test send composer.
type Service struct {
	db       *gorm.DB
	graph    Graph
	tokens   TokenSource
	catalog  Catalog
	sync     SyncInfo
	notes    TemplateNotes
	recorder MessageRecorder
	status   MessageStatus
	audit    Auditor
	prefs    Preferences
	apiBase  string
	// graphIsMeta: real connections reach Meta's own Graph API, which refuses time_to_live.
	graphIsMeta bool
	now         Clock
	log         *slog.Logger
	edits       *editbudget.Ledger
	callback    string
}

// New builds the service.
func New(d Deps) *Service {
	s := &Service{db: d.DB, graph: d.Graph, tokens: d.Tokens, catalog: d.Catalog, sync: d.Sync,
		notes: d.Notes, recorder: d.Recorder, status: d.Status, audit: d.Audit, prefs: d.Preferences, apiBase: d.APIBase, now: d.Now, log: d.Logger, edits: d.Edits,
		callback: d.CallbackData}
	if s.catalog == nil {
		s.catalog = NewDBCatalog(d.DB)
	}
	if s.sync == nil {
		s.sync = DefaultSync{}
	}
	if s.apiBase == "" {
		s.apiBase = "https://graph.facebook.com/v25.0"
	}
	s.graphIsMeta = graph.IsMetaHost(s.apiBase)
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.edits == nil {
		s.edits = editbudget.New(d.DB, editbudget.Options{Now: s.now})
	}
	return s
}

// ErrorView is a Graph error in plain words: Meta's code and message, what it means and what
// to do.
type ErrorView struct {
	Code      int
	Title     string // Meta's title
	Details   string
	Meaning   string
	Action    string
	FBTraceID string
}

func explainGraph(ctx context.Context, ge *graph.GraphError) *ErrorView {
	x := ge.Explain(ctx)
	v := &ErrorView{Code: ge.Code, Title: ge.Title(), Details: ge.Details, Meaning: x.Meaning, Action: x.Action, FBTraceID: ge.FBTraceID}
	if v.Title == "" {
		v.Title = x.Title
	}
	if ge.Code == 0 {
		v.Meaning = ge.Error()
		v.Action = i18n.T(ctx, "send.result.not_graph")
	}
	return v
}

func explainCode(ctx context.Context, code int, title string) *ErrorView {
	x := graph.Explain(ctx, code)
	if title == "" {
		title = x.Title
	}
	return &ErrorView{Code: code, Title: title, Meaning: x.Meaning, Action: x.Action}
}

// Send checks the form and, when nothing blocks it, sends it once per idempotency key. The
// returned composer carries the result; Refused is set when blockers stopped it (no request
// was made), and Result.Error when Meta refused it.
func (s *Service) Send(ctx context.Context, u models.User, in Input) (*Composer, error) {
	if !u.CanWrite() {
		return nil, models.ErrForbidden
	}
	scope := u.Scope()
	if validKey(in.Key) {
		if prev, err := s.byKey(ctx, scope, in.Key); err == nil {
			return s.replay(ctx, u, in, prev)
		} else if !errors.Is(err, models.ErrNotFound) {
			return nil, err
		}
	}
	c, err := s.Compose(ctx, u, in)
	if err != nil {
		return nil, err
	}
	if !validKey(in.Key) {
		c.add(LevelBlocker, "", i18n.T(ctx, "send.check.expired"))
	}
	if c.Blocked() {
		c.Refused, c.ShowErrors = true, true
		return c, nil
	}
	now := s.now().UTC()
	reqJSON, _ := c.Request.Body()
	row := models.TestSend{
		AccountID: c.Connection.AccountID, ConnectionID: c.Connection.ID, WABAID: c.Connection.WABAID,
		PhoneNumberID: c.Phone.PhoneNumberID, TemplateRowID: c.Template.ID, TemplateID: c.Template.TemplateID,
		TemplateName: c.Template.Name, Language: c.Template.Language, Recipient: c.Recipient,
		TTLSeconds: c.TTL.Applied, TTLMode: c.TTL.Mode, ProductPolicy: c.Policy, RequestJSON: string(reqJSON),
		MessageStatus: models.SendSending, UserID: u.ID, UserEmail: u.Email, IdempotencyKey: in.Key,
		CreatedAt: now, UpdatedAt: now,
	}
	// The unique key makes a double submit race-free: only one insert claims it.
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "idempotency_key"}}, DoNothing: true}).Create(&row)
	if res.Error != nil {
		return nil, fmt.Errorf("send: record test send: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		prev, err := s.byKey(ctx, scope, in.Key)
		if err != nil {
			return nil, err
		}
		return s.replay(ctx, u, in, prev)
	}

	// The send carries its row's id, which Meta echoes in the status webhooks: if the answer is
	// lost, those webhooks still tell the wamid (see the webhook log's test send link).
	if c.Request.BizOpaqueCallbackData == "" && s.carriesCallback(*c.Connection) {
		c.Request.BizOpaqueCallbackData = models.TestSendOpaque(row.ID)
		if b, err := c.Request.Body(); err == nil {
			row.RequestJSON = string(b)
			s.save(ctx, &row, "request_json")
		}
	}

	token, err := s.tokens.Token(ctx, *c.Connection)
	if err != nil {
		s.fail(ctx, &row, 0, "the connection's access token could not be opened")
		return nil, fmt.Errorf("send: token of connection %d: %w", c.Connection.ID, err)
	}

	var sendErr error
	if c.TTL.Mode == models.TTLTemplate && c.TTL.Changes {
		ttl := c.TTL.Seconds
		if err := s.graph.EditTemplate(ctx, token, c.Template.TemplateID, graph.TemplateEdit{TTLSeconds: &ttl}); err != nil {
			sendErr = err
		} else {
			// The person confirmed this edit (Compose refuses it otherwise): one of Meta's edits.
			if err := s.edits.Record(ctx, editbudget.Edit{Template: *c.Template, Kind: models.EditKindTTL, Via: "composer",
				Detail: metarules.HumanTTL(c.TTL.Current) + " → " + metarules.HumanTTL(ttl), Actor: u}); err != nil {
				s.log.Error("send: record template edit", "template", c.Template.TemplateID, "err", err)
			}
			if err := s.catalog.SetTemplateTTL(ctx, c.Template.ID, ttl); err != nil {
				s.log.Warn("send: store template ttl", "template", c.Template.TemplateID, "err", err)
			}
		}
	}
	var result graph.SendResult
	sent := false
	if sendErr == nil {
		sent = true
		result, sendErr = s.graph.SendMarketingMessage(ctx, token, c.Phone.PhoneNumberID, c.Request)
	}
	answered := s.now().UTC()
	if sendErr != nil {
		if ue, ok := graph.AsUnreachable(sendErr); ok {
			return s.noAnswer(ctx, u, c, &row, ue, sent && graph.OutcomeUnknown(sendErr))
		}
		ge, ok := graph.AsGraphError(sendErr)
		if !ok {
			s.fail(ctx, &row, 0, sendErr.Error())
			s.record(ctx, u, row, nil)
			return nil, fmt.Errorf("send: %w", sendErr)
		}
		row.ResponseJSON = string(ge.Raw)
		row.MessageStatus, row.ErrorCode, row.ErrorMessage = "error", ge.Code, ge.Error()
		s.save(ctx, &row, "response_json", "message_status", "error_code", "error_message")
		if ge.Code == 134101 && s.notes != nil {
			if err := s.notes.NoteSyncing(ctx, c.Template.TemplateID, answered); err != nil {
				s.log.Warn("send: note syncing", "template", c.Template.TemplateID, "err", err)
			}
		}
		s.record(ctx, u, row, ge)
		c.Result = s.resultOf(ctx, scope, row)
		c.Key = NewKey() // a corrected form is a new send
		return c, nil
	}

	row.WAMID = result.WAMID()
	row.ResponseJSON = string(result.Raw)
	row.MessageStatus = "accepted"
	if len(result.Messages) > 0 && result.Messages[0].MessageStatus != "" {
		row.MessageStatus = result.Messages[0].MessageStatus
	}
	s.save(ctx, &row, "wamid", "response_json", "message_status")
	if s.notes != nil {
		if err := s.notes.NoteSend(ctx, c.Template.TemplateID, answered); err != nil {
			s.log.Warn("send: note send", "template", c.Template.TemplateID, "err", err)
		}
	}
	if s.recorder != nil && row.WAMID != "" {
		err := s.recorder.RecordAccepted(ctx, AcceptedMessage{
			WAMID: row.WAMID, AccountID: row.AccountID, ConnectionID: row.ConnectionID, WABAID: row.WABAID,
			PhoneNumberID: row.PhoneNumberID, Recipient: row.Recipient, TemplateID: row.TemplateID,
			TemplateName: row.TemplateName, Language: row.Language, TTLSeconds: row.TTLSeconds,
			ProductPolicy: row.ProductPolicy, AcceptedAt: answered, RequestJSON: row.RequestJSON,
		})
		if err != nil {
			s.log.Warn("send: record accepted message", "wamid", row.WAMID, "err", err)
		}
	}
	s.record(ctx, u, row, nil)
	c.Result = s.resultOf(ctx, scope, row)
	c.Key = NewKey()
	return c, nil
}

// noAnswer records a send that got no answer. When the request left (unknown is true) Meta may
// have accepted it: the row is "outcome unknown", not an error, and the form keeps its
// idempotency key, so pressing Send again shows this result instead of sending a duplicate.
// Otherwise nothing reached Meta and the row is an error the user may simply retry.
func (s *Service) noAnswer(ctx context.Context, u models.User, c *Composer, row *models.TestSend, ue *graph.UnreachableError, unknown bool) (*Composer, error) {
	// Stored on the row and read later by anyone who opens it: written in English.
	_, title, msg := ue.UserFacing(context.Background())
	if unknown {
		row.MessageStatus, row.ErrorMessage = models.SendUnknown, title+": "+ue.Error()
		s.save(ctx, row, "message_status", "error_message")
	} else {
		s.fail(ctx, row, 0, title+". "+msg)
		c.Key = NewKey()
	}
	s.record(ctx, u, *row, nil)
	c.Result = s.resultOf(ctx, u.Scope(), *row)
	return c, nil
}

// RecoverInterrupted marks sends left "Sending…" by a crash or a killed process as "outcome
// unknown": their request may have reached Meta. Only rows untouched since before cutoff are
// changed, so that another instance's send in flight is left alone.
func RecoverInterrupted(ctx context.Context, db *gorm.DB, cutoff, now time.Time) (int64, error) {
	// Times are stored as UTC text and compared as text: a cutoff in another zone would be
	// hours off (never matching west of UTC).
	cutoff, now = cutoff.UTC(), now.UTC()
	res := db.WithContext(ctx).Model(&models.TestSend{}).
		Where("message_status = ? AND updated_at < ?", models.SendSending, cutoff).
		Updates(map[string]any{
			"message_status": models.SendUnknown,
			"error_message":  "The dashboard stopped while this send was in flight; Meta may have accepted it.",
			"updated_at":     now,
		})
	if res.Error != nil {
		return 0, fmt.Errorf("send: recover interrupted sends: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// RunRecovery applies RecoverInterrupted every interval until ctx ends, to sends untouched for
// longer than inFlight (the longest a live send can take). The sweep at start cannot do it alone:
// a process restarted seconds after a crash finds the interrupted sends still younger than
// inFlight, and nothing else would ever move them from "Sending…".
func RunRecovery(ctx context.Context, db *gorm.DB, every, inFlight time.Duration, now func() time.Time, log *slog.Logger) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		at := now()
		n, err := RecoverInterrupted(ctx, db, at.Add(-inFlight), at)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("send: recover interrupted sends", "err", err)
		case n > 0:
			log.Warn("test sends interrupted by a stop are now marked outcome unknown", "count", n)
		}
	}
}

// replay answers a repeated submit with the first submit's result, and sends nothing.
func (s *Service) replay(ctx context.Context, u models.User, in Input, prev models.TestSend) (*Composer, error) {
	in.Key = ""
	c, err := s.Compose(ctx, u, in)
	if err != nil {
		return nil, err
	}
	c.Result = s.resultOf(ctx, u.Scope(), prev)
	c.Replayed = true
	return c, nil
}

func (s *Service) byKey(ctx context.Context, scope models.Scope, key string) (models.TestSend, error) {
	var row models.TestSend
	err := s.db.WithContext(ctx).Where("idempotency_key = ?", key).First(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return row, models.ErrNotFound
	}
	if err != nil {
		return row, fmt.Errorf("send: find test send by key: %w", err)
	}
	if !scope.Allows(&row.AccountID) {
		return row, models.ErrNotFound
	}
	return row, nil
}

func (s *Service) fail(ctx context.Context, row *models.TestSend, code int, msg string) {
	row.MessageStatus, row.ErrorCode, row.ErrorMessage = "error", code, msg
	s.save(ctx, row, "message_status", "error_code", "error_message")
}

// save updates the named columns of row (never zero-value surprises).
func (s *Service) save(ctx context.Context, row *models.TestSend, cols ...string) {
	row.UpdatedAt = s.now().UTC()
	cols = append(cols, "updated_at")
	if err := s.db.WithContext(ctx).Model(row).Select(cols).Updates(row).Error; err != nil {
		s.log.Error("send: update test send", "id", row.ID, "err", err)
	}
}

// record writes the audit entry of a test send.
func (s *Service) record(ctx context.Context, u models.User, row models.TestSend, ge *graph.GraphError) {
	if s.audit == nil {
		return
	}
	after := map[string]any{
		"test_send_id": row.ID, "waba_id": row.WABAID, "phone_number_id": row.PhoneNumberID,
		"template": row.TemplateName, "language": row.Language, "recipient": row.Recipient,
		"ttl_seconds": row.TTLSeconds, "ttl_mode": row.TTLMode, "product_policy": row.ProductPolicy,
		"message_status": row.MessageStatus, "wamid": row.WAMID,
	}
	if ge != nil {
		after["error_code"] = ge.Code
	}
	target := fmt.Sprintf("template %s/%s to %s", row.TemplateName, row.Language, row.Recipient)
	if err := s.audit.Record(ctx, u, "send.test", target, nil, after); err != nil {
		s.log.Warn("send: audit", "err", err)
	}
}

// Result is a test send and what became of it.
type Result struct {
	Send       models.TestSend
	Error      *ErrorView // Meta refused the request
	Live       StatusView // from the webhook log
	HasLive    bool
	Failure    *ErrorView // an asynchronous failure (status webhook "failed")
	RouteLabel string
	Final      bool // nothing more is expected: stop polling
}

// Accepted reports whether Meta accepted the request.
func (r Result) Accepted() bool { return r.Send.WAMID != "" }

// RouteLabel names a route for people, in the language of ctx.
func RouteLabel(ctx context.Context, route string) string {
	switch route {
	case RouteMMAPI:
		return "MM API"
	case RouteFallback:
		return i18n.T(ctx, "send.route.fallback")
	}
	return ""
}

// pollFor bounds live polling: a message with no final state after this long is left alone
// (the /messages timeline keeps following it).
const pollFor = 15 * time.Minute

// resultOf builds the result of row, reading the webhook log and caching what it says.
func (s *Service) resultOf(ctx context.Context, scope models.Scope, row models.TestSend) *Result {
	r := &Result{Send: row}
	if row.MessageStatus == "error" {
		if row.ErrorCode != 0 || row.ResponseJSON != "" {
			r.Error = explainCode(ctx, row.ErrorCode, "")
			if ge, ok := decodeStored(row); ok {
				r.Error = explainGraph(ctx, ge)
			}
		} else {
			r.Error = &ErrorView{Title: i18n.T(ctx, "send.result.not_reached"), Meaning: row.ErrorMessage, Action: i18n.T(ctx, "send.result.not_reached_todo")}
		}
		r.Final = true
		return r
	}
	if row.WAMID == "" {
		// An unknown outcome keeps polling: a status webhook carrying this send's
		// biz_opaque_callback_data links the wamid to it.
		pending := row.MessageStatus == models.SendSending || row.MessageStatus == models.SendUnknown
		r.Final = !pending || s.now().Sub(row.CreatedAt) > pollFor
		return r
	}
	if s.status != nil {
		v, err := s.status.Status(ctx, scope, row.WAMID)
		switch {
		case err == nil:
			r.Live, r.HasLive = v, v.Status != ""
		case errors.Is(err, models.ErrNotFound):
		default:
			s.log.Warn("send: read message status", "wamid", row.WAMID, "err", err)
		}
	}
	r.RouteLabel = RouteLabel(ctx, r.Live.Route)
	if r.Live.Status == "failed" {
		r.Failure = explainCode(ctx, r.Live.ErrorCode, r.Live.ErrorTitle)
	}
	now := s.now()
	switch {
	case r.Live.Status == "failed", r.Live.ClickedAt != nil:
		r.Final = true
	case r.Live.ReadAt != nil && r.Live.Route != RouteMMAPI:
		// Click tracking is an MM API feature: after a fallback (Cloud API) send is read,
		// nothing more will come.
		r.Final = true
	case r.Live.ReadAt != nil && now.Sub(*r.Live.ReadAt) > time.Minute:
		// Clicks usually follow the read quickly in a test; later ones show on /messages.
		r.Final = true
	case now.Sub(row.CreatedAt) > pollFor:
		r.Final = true
	}
	if r.HasLive && (r.Live.Status != row.Status || r.Live.Route != row.Route || r.Live.ErrorCode != row.ErrorCode) {
		row.Status, row.Route = r.Live.Status, r.Live.Route
		cols := []string{"status", "route"}
		if r.Live.ErrorCode != 0 {
			row.ErrorCode = r.Live.ErrorCode
			cols = append(cols, "error_code")
		}
		s.save(ctx, &row, cols...)
		r.Send = row
	}
	return r
}

// decodeStored rebuilds the Graph error from the stored response, so a result shown later
// explains it exactly as at send time.
func decodeStored(row models.TestSend) (*graph.GraphError, bool) {
	if row.ResponseJSON == "" {
		return nil, false
	}
	ge := &graph.GraphError{Code: row.ErrorCode, Message: row.ErrorMessage}
	var env struct {
		Error struct {
			Message   string `json:"message"`
			Code      int    `json:"code"`
			FBTraceID string `json:"fbtrace_id"`
			ErrorData struct {
				Details string `json:"details"`
			} `json:"error_data"`
		} `json:"error"`
	}
	if json.Unmarshal([]byte(row.ResponseJSON), &env) == nil && env.Error.Code != 0 {
		ge.Code, ge.Message, ge.FBTraceID, ge.Details = env.Error.Code, env.Error.Message, env.Error.FBTraceID, env.Error.ErrorData.Details
	}
	return ge, true
}

// Result reads one test send in scope (another account's is models.ErrNotFound).
func (s *Service) Result(ctx context.Context, scope models.Scope, id uint) (*Result, error) {
	var row models.TestSend
	err := database.Scoped(s.db.WithContext(ctx), scope, "account_id").Where("id = ?", id).First(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("send: test send %d: %w", id, err)
	}
	return s.resultOf(ctx, scope, row), nil
}

// HistoryFilter is the /sends filter form.
type HistoryFilter struct {
	Template  string // name prefix
	Recipient string // digits prefix
	User      string // email prefix
	Before    uint   // keyset cursor: rows with a smaller id
	Limit     int
}

// HistoryPage is one page of test sends, newest first.
type HistoryPage struct {
	Rows    []Result
	NextID  uint // cursor of the next page; 0 on the last
	Filter  HistoryFilter
	AllAccs bool
	// WABANames names the connections of the rows shown (by connection id).
	WABANames map[uint]string
}

// WABAName is a row's WABA as people know it: the connection's name, else the WABA id.
func (p *HistoryPage) WABAName(r models.TestSend) string {
	if n := p.WABANames[r.ConnectionID]; n != "" {
		return n
	}
	return r.WABAID
}

// History lists the test sends in scope, filtered, newest first, by keyset pages.
func (s *Service) History(ctx context.Context, scope models.Scope, f HistoryFilter) (*HistoryPage, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 25
	}
	q := database.Scoped(s.db.WithContext(ctx), scope, "account_id")
	if v := strings.TrimSpace(f.Template); v != "" {
		// LOWER on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's does not.
		q = q.Where("LOWER(template_name) LIKE ? ESCAPE '\\'", likePrefix(strings.ToLower(v)))
	}
	if v := strings.TrimSpace(f.Recipient); v != "" {
		if d := digits(v); d != "" {
			q = q.Where("recipient LIKE ? ESCAPE '\\'", likePrefix(d))
		}
	}
	if v := strings.TrimSpace(f.User); v != "" {
		q = q.Where("user_email LIKE ? ESCAPE '\\'", likePrefix(strings.ToLower(v)))
	}
	if f.Before != 0 {
		q = q.Where("id < ?", f.Before)
	}
	var rows []models.TestSend
	if err := q.Order("id DESC").Limit(f.Limit + 1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("send: history: %w", err)
	}
	p := &HistoryPage{Filter: f, AllAccs: scope.AllAccounts}
	if len(rows) > f.Limit {
		rows = rows[:f.Limit]
		p.NextID = rows[len(rows)-1].ID
	}
	for _, r := range rows {
		res := &Result{Send: r}
		// Refresh only what may still change, so a page costs few webhook-log reads.
		if r.WAMID != "" && r.Status != "failed" && r.Status != "read" {
			res = s.resultOf(ctx, scope, r)
		} else if r.MessageStatus == "error" {
			res.Error = explainCode(ctx, r.ErrorCode, "")
		}
		res.RouteLabel = RouteLabel(ctx, res.Send.Route)
		p.Rows = append(p.Rows, *res)
	}
	names, err := s.wabaNames(ctx, scope, rows)
	if err != nil {
		return nil, err
	}
	p.WABANames = names
	return p, nil
}

// wabaNames reads the names of the rows' connections in one query, within the scope.
func (s *Service) wabaNames(ctx context.Context, scope models.Scope, rows []models.TestSend) (map[uint]string, error) {
	var ids []uint
	for _, r := range rows {
		ids = append(ids, r.ConnectionID)
	}
	out := map[uint]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var conns []models.WABAConnection
	if err := database.Scoped(s.db.WithContext(ctx), scope, "account_id").Select("id", "name").
		Where("id IN ?", ids).Find(&conns).Error; err != nil {
		return nil, fmt.Errorf("send: history: WABA names: %w", err)
	}
	for _, c := range conns {
		out[c.ID] = c.Name
	}
	return out, nil
}

// Detail is one test send with what its page shows besides the result: its WABA's name.
type Detail struct {
	Result
	WABAName string
}

// Detail reads one test send in scope for its own page.
func (s *Service) Detail(ctx context.Context, scope models.Scope, id uint) (*Detail, error) {
	r, err := s.Result(ctx, scope, id)
	if err != nil {
		return nil, err
	}
	names, err := s.wabaNames(ctx, scope, []models.TestSend{r.Send})
	if err != nil {
		return nil, err
	}
	d := &Detail{Result: *r, WABAName: names[r.Send.ConnectionID]}
	if d.WABAName == "" {
		d.WABAName = r.Send.WABAID
	}
	return d, nil
}

func likePrefix(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s) + "%"
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// carriesCallback reports whether a send through conn carries biz_opaque_callback_data.
func (s *Service) carriesCallback(conn models.WABAConnection) bool {
	switch s.callback {
	case CallbackOn:
		return true
	case CallbackOff:
		return false
	}
	return conn.Sandbox || conn.API == models.APIHibotGateway
}
