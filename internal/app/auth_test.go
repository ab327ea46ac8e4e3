package app

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"mmconsole/internal/accounts"
	"mmconsole/internal/auth"
	"mmconsole/internal/config"
	"mmconsole/internal/secrets"
	"mmconsole/models"
)

const testPW = "a long test password"

// fixture is an app with two customer accounts, a user of every role and a connection each.
type fixture struct {
	t      *testing.T
	a      *App
	logs   *bytes.Buffer
	now    *time.Time
	accA   models.Account
	accB   models.Account
	target models.User // an extra user of A, the object of role/disable routes
	connA  models.WABAConnection
	// objects of account A that the area routes address; another account's users get 404.
	tmplA    models.Template
	eventA   models.WebhookEvent
	sendA    models.TestSend
	sessions map[string]*http.Cookie // role -> session cookie
	csrf     map[string]string
	counter  int
}

var roles = []string{"anonymous", "viewer", "marketer", "admin", "staff-viewer", "staff-admin", "other-admin"}

// stubTemplateID is the Meta id of account A's template in the Graph stub.
const stubTemplateID = "555000111"

// stubWAMID is a message of account A.
const stubWAMID = "wamid.STUBA1"

func graphStub(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPost:
			fmt.Fprint(w, `{"success":true}`)
			return
		case strings.HasSuffix(r.URL.Path, "/message_templates"):
			fmt.Fprint(w, `{"data":[{"id":"`+stubTemplateID+`","name":"acme_sale","language":"en_US","status":"APPROVED","category":"MARKETING","components":[{"type":"BODY","text":"Hi"}]}]}`)
			return
		case strings.HasSuffix(r.URL.Path, "/"+stubTemplateID):
			fmt.Fprint(w, `{"id":"`+stubTemplateID+`","name":"acme_sale","language":"en_US","status":"APPROVED","category":"MARKETING","components":[{"type":"BODY","text":"Hi"}]}`)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/phone_numbers") {
			fmt.Fprint(w, `{"data":[{"id":"1099","display_phone_number":"+1 555 0100","verified_name":"Acme","quality_rating":"GREEN"}]}`)
			return
		}
		fmt.Fprint(w, `{"id":"123456","name":"Acme WABA","marketing_messages_onboarding_status":"ONBOARDED"}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// newFixture builds the fixture; opts change the configuration first (e.g. the Graph API).
func newFixture(t *testing.T, opts ...func(*config.Config)) *fixture {
	t.Helper()
	cfg := testConfig(t)
	cfg.GraphBaseURL = graphStub(t).URL
	// The operator keeps the key file (MMC_SECRET_KEY_FILE), so admins may add real connections.
	cfg.SecretKeyFile = cfg.StateFile(".key")
	if err := os.WriteFile(cfg.SecretKeyFile, []byte(strings.Repeat("5e", 32)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		o(&cfg)
	}
	now := time.Now().UTC()
	f := &fixture{t: t, now: &now, logs: &bytes.Buffer{}, sessions: map[string]*http.Cookie{}, csrf: map[string]string{}}
	a, err := build(context.Background(), cfg, NewLogger(cfg, f.logs), func() time.Time { return *f.now })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	f.a = a
	ctx := context.Background()
	acc := accounts.New(a.DB(), accounts.WithSecrets(f.box()))
	if f.accA, err = acc.CreateAccount(ctx, "Acme"); err != nil {
		t.Fatal(err)
	}
	if f.accB, err = acc.CreateAccount(ctx, "Other"); err != nil {
		t.Fatal(err)
	}
	users := auth.New(a.DB(), auth.Options{})
	mk := func(email string, account *uint, role string, staff bool) models.User {
		var accID *uint
		if !staff {
			accID = account
		}
		u, tok, err := users.Invite(ctx, accID, auth.InviteInput{Email: email, Role: role})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := users.AcceptInvite(ctx, tok, testPW, testPW); err != nil {
			t.Fatal(err)
		}
		return u
	}
	a1, b1 := f.accA.ID, f.accB.ID
	mk("viewer@acme.example", &a1, "viewer", false)
	mk("marketer@acme.example", &a1, "marketer", false)
	mk("admin@acme.example", &a1, "admin", false)
	mk("staff-viewer@hibot.example", nil, "viewer", true)
	mk("staff-admin@hibot.example", nil, "admin", true)
	mk("other-admin@other.example", &b1, "admin", false)
	f.target = mk("target@acme.example", &a1, "viewer", false)
	if f.connA, err = acc.CreateConnection(ctx, f.accA.ID, accounts.ConnectionInput{WABAID: "123456", Name: "Acme", AccessToken: "EAAGacmeTOKENvalue000001", API: "meta"}); err != nil {
		t.Fatal(err)
	}
	f.areaObjects()
	for _, r := range roles[1:] {
		f.signIn(r)
	}
	return f
}

// areaObjects creates one object of each area in account A: a template, a webhook event and its
// message, and a test send.
func (f *fixture) areaObjects() {
	db := f.a.DB()
	acct := f.accA.ID
	now := time.Now().UTC()
	f.tmplA = models.Template{AccountID: acct, ConnectionID: f.connA.ID, WABAID: f.connA.WABAID, TemplateID: stubTemplateID,
		Name: "acme_sale", Language: "en_US", Status: "APPROVED", Category: "MARKETING", Components: `[{"type":"BODY","text":"Hi"}]`,
		FirstSeenAt: now, RefreshedAt: now}
	d := models.WebhookDelivery{ReceivedAt: now, BodySize: 2, Body: "{}", EventCount: 1}
	f.eventA = models.WebhookEvent{ReceivedAt: now, AccountID: &acct, WABAID: f.connA.WABAID, Field: "messages",
		Kind: models.KindStatus, Status: "sent", WAMID: stubWAMID, DedupeHash: []byte("stub-a"), Raw: "{}"}
	msg := models.Message{WAMID: stubWAMID, AccountID: &acct, WABAID: f.connA.WABAID, Status: "sent", StatusRank: 2, Route: models.RouteMMAPI}
	f.sendA = models.TestSend{AccountID: acct, ConnectionID: f.connA.ID, WABAID: f.connA.WABAID, TemplateName: "acme_sale",
		WAMID: stubWAMID, MessageStatus: "accepted", IdempotencyKey: "stub-key-a"}
	for _, err := range []error{
		db.Create(&f.tmplA).Error, db.Create(&d).Error,
		func() error { f.eventA.DeliveryID = d.ID; return db.Create(&f.eventA).Error }(),
		db.Create(&msg).Error, db.Create(&f.sendA).Error,
	} {
		if err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fixture) box() *secrets.Box {
	raw, err := os.ReadFile(f.a.cfg.StateFile(".key"))
	if err != nil {
		f.t.Fatal(err)
	}
	key, err := config.DecodeKey(string(raw))
	if err != nil {
		f.t.Fatal(err)
	}
	b, _ := secrets.NewBox(key)
	return b
}

func emailOf(role string) string {
	switch {
	case role == "other-admin":
		return "other-admin@other.example"
	case strings.HasPrefix(role, "staff-"):
		return role + "@hibot.example"
	}
	return role + "@acme.example"
}

// preSession gets the pre-session CSRF cookie a public form needs.
func (f *fixture) preSession() *http.Cookie {
	resp, _ := do(f.t, f.a, httptest.NewRequest("GET", "/login", nil))
	for _, c := range resp.Cookies() {
		if c.Name == "mmc_csrf" {
			return c
		}
	}
	f.t.Fatal("no pre-session CSRF cookie on /login")
	return nil
}

func (f *fixture) signIn(role string) {
	f.t.Helper()
	delete(f.sessions, role)
	pre := f.preSession()
	resp, body := f.post("", "/login", url.Values{"email": {emailOf(role)}, "password": {testPW}, "_csrf": {pre.Value}}, pre)
	for _, c := range resp.Cookies() {
		if c.Name == "mmc_session" && c.Value != "" {
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
				f.t.Errorf("session cookie flags: %+v", c)
			}
			f.sessions[role] = c
		}
	}
	if f.sessions[role] == nil {
		var th []models.SignInThrottle
		var fails []models.AuditEntry
		f.a.DB().Find(&th)
		f.a.DB().Where("action = ?", "auth.sign_in_failed").Find(&fails)
		f.t.Logf("throttles %+v failures %+v", th, fails)
		f.t.Fatalf("sign in as %s: %d %.300s", role, resp.StatusCode, body)
	}
	var s models.Session
	f.a.DB().Order("sessions.id DESC").Joins("JOIN users ON users.id = sessions.user_id").Where("users.email = ?", emailOf(role)).First(&s)
	f.csrf[role] = s.CSRFToken
}

func (f *fixture) get(role, path string) (*http.Response, string) {
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Accept", "text/html")
	if c := f.sessions[role]; c != nil {
		req.AddCookie(c)
	}
	return do(f.t, f.a, req)
}

func (f *fixture) post(role, path string, form url.Values, extra ...*http.Cookie) (*http.Response, string) {
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	if c := f.sessions[role]; c != nil {
		req.AddCookie(c)
	}
	for _, c := range extra {
		req.AddCookie(c)
	}
	return do(f.t, f.a, req)
}

func (f *fixture) unique() string { f.counter++; return fmt.Sprint(f.counter) }

// Who may call a route.
type access int

const (
	public   access = iota // anyone; outcome depends on the route's own rules
	signedIn               // every signed-in user
	auditor                // admins and staff
	admin                  // admins of the account (and staff admins); other accounts get 404
	staffAdm               // staff admins only
	anyAdmin               // the admins of every account and staff admins; no object of account A
	writer                 // marketers and admins (staff: admins); viewers get 403
)

type routeRule struct {
	access access
	// path and form build the request; they may create fresh objects so that destructive routes
	// can run once per role.
	path func(f *fixture) string
	form func(f *fixture) url.Values
	// resign: the route ends the session (sign-out), so sign in again after it.
	resign bool
	// object: the path names an object of account A, so another account's user gets 404.
	object bool
}

func fixed(p string) func(*fixture) string { return func(*fixture) string { return p } }

// expectations lists EVERY route of the app. A new route fails TestRouteMatrix until it is
// added here with who may call it.
func expectations() map[string]routeRule {
	onA := func(p string) func(*fixture) string {
		return func(f *fixture) string { return fmt.Sprintf(p, f.accA.ID) }
	}
	conn := func(suffix string) func(*fixture) string {
		return func(f *fixture) string { return fmt.Sprintf("/settings/connections/%d%s", f.connA.ID, suffix) }
	}
	freshConn := func(f *fixture) string {
		var c models.WABAConnection
		sealed, err := f.box().Seal("EAAGfreshTOKEN0001")
		if err != nil {
			f.t.Fatal(err)
		}
		c = models.WABAConnection{AccountID: f.accA.ID, WABAID: "9" + f.unique(), TokenSealed: sealed, API: "meta"}
		f.a.DB().Create(&c)
		return fmt.Sprintf("/settings/connections/%d/delete", c.ID)
	}
	tmpl := func(suffix string) func(*fixture) string {
		return func(f *fixture) string { return fmt.Sprintf("/templates/%d%s", f.tmplA.ID, suffix) }
	}
	optTmpl := func(suffix string) func(*fixture) string {
		return func(f *fixture) string { return fmt.Sprintf("/optimizations/template/%d%s", f.tmplA.ID, suffix) }
	}
	optWABA := func(suffix string) func(*fixture) string {
		return func(f *fixture) string { return fmt.Sprintf("/optimizations/waba/%d%s", f.connA.ID, suffix) }
	}
	values := func(kv ...string) func(*fixture) url.Values {
		return func(*fixture) url.Values {
			v := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				v.Set(kv[i], kv[i+1])
			}
			return v
		}
	}
	connForm := func(f *fixture) url.Values { return url.Values{"conn": {fmt.Sprint(f.connA.ID)}} }
	user := func(suffix string) func(*fixture) string {
		return func(f *fixture) string { return fmt.Sprintf("/settings/users/%d%s", f.target.ID, suffix) }
	}
	// A saved filter is its owner's alone: the matrix asks for each role in the order of roles,
	// so each call makes a filter of the role it is for (anonymous: of nobody).
	calls := 0
	ownFilter := func(f *fixture) string {
		role := roles[calls%len(roles)]
		calls++
		var u models.User
		f.a.DB().Where("email = ?", emailOf(role)).Limit(1).Find(&u)
		sf := models.SavedFilter{UserID: u.ID, Name: "Mine " + f.unique(), Query: "status=failed"}
		f.a.DB().Create(&sf)
		return fmt.Sprintf("/log/filters/%d/delete", sf.ID)
	}
	return map[string]routeRule{
		"GET /healthz": {access: public, path: fixed("/healthz")},
		"GET /metrics": {access: public, path: fixed("/metrics")},
		"GET /login":   {access: public, path: fixed("/login")},
		// A correct sign-in: failed ones here would lock the test's single client address.
		"POST /login":         {access: public, path: fixed("/login"), form: func(*fixture) url.Values { return url.Values{"email": {"viewer@acme.example"}, "password": {testPW}} }},
		"POST /logout":        {access: public, path: fixed("/logout"), resign: true},
		"GET /setup":          {access: public, path: fixed("/setup")},
		"POST /setup":         {access: public, path: fixed("/setup")},
		"GET /invite/:token":  {access: public, path: fixed("/invite/nonsense")},
		"POST /invite/:token": {access: public, path: fixed("/invite/nonsense")},

		"GET /":                   {access: signedIn, path: fixed("/")},
		"GET /account":            {access: signedIn, path: fixed("/account")},
		"POST /account/language":  {access: signedIn, path: fixed("/account/language"), form: func(*fixture) url.Values { return url.Values{"language": {"xx"}} }},
		"GET /account/password":   {access: signedIn, path: fixed("/account/password")},
		"POST /account/password":  {access: signedIn, path: fixed("/account/password"), form: func(*fixture) url.Values { return url.Values{"current": {"wrong"}} }},
		"GET /audit":              {access: auditor, path: fixed("/audit")},
		"GET /glossary":           {access: signedIn, path: fixed("/glossary")},
		"GET /insights/daily.csv": {access: signedIn, path: fixed("/insights/daily.csv")},
		"POST /insights/connections/:id/enable": {access: admin, object: true, path: func(f *fixture) string {
			return fmt.Sprintf("/insights/connections/%d/enable", f.connA.ID)
		}, form: values("confirm", "irreversible")},

		"GET /settings":           {access: admin, path: onA("/settings?account=%d")},
		"POST /settings/accounts": {access: staffAdm, path: fixed("/settings/accounts"), form: func(f *fixture) url.Values { return url.Values{"name": {"Customer " + f.unique()}} }},
		"POST /settings/users": {access: admin, path: onA("/settings/users?account=%d"), form: func(f *fixture) url.Values {
			return url.Values{"email": {"new" + f.unique() + "@acme.example"}, "role": {"viewer"}}
		}},
		"POST /settings/users/:id/role":     {access: admin, path: user("/role"), form: func(*fixture) url.Values { return url.Values{"role": {"marketer"}} }},
		"POST /settings/users/:id/disabled": {access: admin, path: user("/disabled"), form: func(*fixture) url.Values { return url.Values{"disabled": {"false"}} }},
		"POST /settings/connections": {access: admin, path: onA("/settings/connections?account=%d"), form: func(f *fixture) url.Values {
			return url.Values{"waba_id": {"77" + f.unique() + "000"}, "access_token": {"EAAGnewTOKENvalue00000001"}, "api": {"meta"}}
		}},
		"GET /settings/connections/:id": {access: admin, path: conn("")},
		"POST /settings/connections/:id": {access: admin, path: conn(""), form: func(*fixture) url.Values {
			return url.Values{"waba_id": {"123456"}, "name": {"Acme main"}, "api": {"meta"}}
		}},
		"POST /settings/connections/:id/delete": {access: admin, path: freshConn},
		"POST /settings/connections/:id/test":   {access: admin, path: conn("/test")},

		// Meta's callback: signature-authenticated, refused without one whoever asks.
		"GET /webhooks/whatsapp":  {access: public, path: fixed("/webhooks/whatsapp?hub.mode=subscribe")},
		"POST /webhooks/whatsapp": {access: public, path: fixed("/webhooks/whatsapp")},

		"GET /templates":                  {access: signedIn, path: fixed("/templates")},
		"POST /templates/sync":            {access: signedIn, path: fixed("/templates/sync")},
		"GET /templates/:id":              {access: signedIn, path: tmpl(""), object: true},
		"GET /templates/:id/insights.csv": {access: signedIn, path: tmpl("/insights.csv"), object: true},
		"POST /templates/:id/ttl":         {access: writer, path: tmpl("/ttl"), object: true, form: values("ttl", "1", "unit", "hours")},
		// Authoring: empty forms are refused with 422 before Meta is called; a delete without
		// its confirmation shows the confirmation again.
		"GET /templates/new":         {access: writer, path: fixed("/templates/new")},
		"POST /templates/new":        {access: writer, path: fixed("/templates/new")},
		"POST /templates/check":      {access: writer, path: fixed("/templates/check")},
		"GET /templates/:id/clone":   {access: writer, path: tmpl("/clone"), object: true},
		"GET /templates/:id/edit":    {access: writer, path: tmpl("/edit"), object: true},
		"POST /templates/:id/edit":   {access: writer, path: tmpl("/edit"), object: true},
		"GET /templates/:id/delete":  {access: writer, path: tmpl("/delete"), object: true},
		"POST /templates/:id/delete": {access: writer, path: tmpl("/delete"), object: true},

		"GET /optimizations":                              {access: signedIn, path: fixed("/optimizations")},
		"GET /optimizations/matrix":                       {access: signedIn, path: fixed("/optimizations/matrix")},
		"GET /optimizations/template/:id":                 {access: signedIn, path: optTmpl(""), object: true},
		"POST /optimizations/template/:id/reread":         {access: signedIn, path: optTmpl("/reread"), object: true},
		"POST /optimizations/template/:id/accept":         {access: writer, path: optTmpl("/accept"), object: true},
		"POST /optimizations/template/:id/apply":          {access: writer, path: optTmpl("/apply"), object: true, form: values("f_text_formatting_optimization", "OPT_OUT")},
		"POST /optimizations/waba/:conn/all":              {access: writer, path: optWABA("/all"), object: true, form: values("value", "OPT_IN")},
		"POST /optimizations/waba/:conn/reread":           {access: signedIn, path: optWABA("/reread"), object: true},
		"POST /optimizations/waba/:conn/accept":           {access: writer, path: optWABA("/accept"), object: true},
		"POST /optimizations/waba/:conn/:feature/recheck": {access: signedIn, path: optWABA("/image_touchups/recheck"), object: true},
		"POST /optimizations/waba/:conn/:feature":         {access: writer, path: optWABA("/image_touchups"), object: true, form: values("value", "OPT_IN")},
		"POST /optimizations/bulk/preview":                {access: writer, path: fixed("/optimizations/bulk/preview"), object: true, form: connForm},
		"POST /optimizations/bulk/apply":                  {access: writer, path: fixed("/optimizations/bulk/apply"), object: true, form: connForm},

		"GET /log":                      {access: signedIn, path: fixed("/log")},
		"GET /log/tail":                 {access: signedIn, path: fixed("/log/tail")},
		"GET /log/export.csv":           {access: signedIn, path: fixed("/log/export.csv?status=failed")},
		"POST /log/filters":             {access: signedIn, path: fixed("/log/filters"), form: values("name", "Failed", "query", "status=failed")},
		"POST /log/filters/:id/delete":  {access: signedIn, path: ownFilter},
		"GET /search":                   {access: signedIn, path: fixed("/search?q=" + stubWAMID)},
		"GET /log/events/:id":           {access: signedIn, path: func(f *fixture) string { return fmt.Sprintf("/log/events/%d", f.eventA.ID) }, object: true},
		"GET /messages/:wamid":          {access: signedIn, path: fixed("/messages/" + stubWAMID), object: true},
		"GET /messages/:wamid/timeline": {access: signedIn, path: fixed("/messages/" + stubWAMID + "/timeline"), object: true},

		// Every admin may open the sandbox page; a trigger names a sandbox WABA of the admin's
		// account (this form names none: 422, a refusal that changes nothing).
		"GET /sandbox":          {access: anyAdmin, path: fixed("/sandbox")},
		"POST /sandbox/trigger": {access: anyAdmin, path: fixed("/sandbox/trigger"), form: values("kind", "nonsense")},

		"GET /send":             {access: signedIn, path: fixed("/send")},
		"POST /send/preview":    {access: signedIn, path: fixed("/send/preview")},
		"POST /send":            {access: writer, path: fixed("/send"), form: values("recipient", "not a number")},
		"GET /sends":            {access: signedIn, path: fixed("/sends")},
		"GET /sends/:id/result": {access: signedIn, path: func(f *fixture) string { return fmt.Sprintf("/sends/%d/result", f.sendA.ID) }, object: true},
		"GET /sends/:id":        {access: signedIn, path: func(f *fixture) string { return fmt.Sprintf("/sends/%d", f.sendA.ID) }, object: true},
		"GET /send/recipients":  {access: signedIn, path: fixed("/send/recipients")},
		// A nameless recipient is refused (422) and changes nothing.
		"POST /send/recipients": {access: writer, path: fixed("/send/recipients"), form: values("name", "", "number", "+52 55 1234 5678")},
		"POST /send/recipients/:id/delete": {access: writer, object: true, path: func(f *fixture) string {
			r := models.SavedRecipient{AccountID: f.accA.ID, Name: "Matrix " + f.unique(), Recipient: "52551234" + fmt.Sprintf("%04d", f.counter)}
			if err := f.a.DB().Create(&r).Error; err != nil {
				f.t.Fatal(err)
			}
			return fmt.Sprintf("/send/recipients/%d/delete", r.ID)
		}},
	}
}

type outcome string

const (
	allowed   outcome = "allowed"
	forbidden outcome = "403"
	notFound  outcome = "404"
	toSignIn  outcome = "redirect to sign-in"
	anything  outcome = "any"
)

func expected(rule routeRule, role string) outcome {
	if rule.access == public {
		return anything
	}
	if role == "anonymous" {
		return toSignIn
	}
	if rule.object && role == "other-admin" {
		return notFound
	}
	switch rule.access {
	case writer:
		if role == "viewer" || role == "staff-viewer" {
			return forbidden
		}
	case auditor:
		if role == "viewer" || role == "marketer" {
			return forbidden
		}
	case admin:
		switch role {
		case "viewer", "marketer", "staff-viewer":
			return forbidden
		case "other-admin":
			return notFound
		}
	case staffAdm:
		if role != "staff-admin" {
			return forbidden
		}
	case anyAdmin:
		if role == "viewer" || role == "marketer" || role == "staff-viewer" {
			return forbidden
		}
	}
	return allowed
}

func classify(resp *http.Response) outcome {
	loc := resp.Header.Get("Location")
	switch {
	case resp.StatusCode == 303 && strings.HasPrefix(loc, "/login"):
		return toSignIn
	case resp.StatusCode == 403:
		return forbidden
	case resp.StatusCode == 404:
		return notFound
	case resp.StatusCode < 400 || resp.StatusCode == 422:
		return allowed
	}
	return outcome(fmt.Sprint(resp.StatusCode))
}

func TestRouteMatrix(t *testing.T) {
	f := newFixture(t)
	table := expectations()
	seen := map[string]bool{}
	for _, r := range f.a.Fiber().GetRoutes(true) {
		if r.Method == "HEAD" { // Fiber adds HEAD for every GET; the GET row covers it
			continue
		}
		key := r.Method + " " + r.Path
		seen[key] = true
		if _, ok := table[key]; !ok {
			t.Errorf("route %s is not in the route matrix: add it to expectations() with who may call it", key)
		}
	}
	for key := range table {
		if !seen[key] {
			t.Errorf("route matrix lists %s, which the app does not register", key)
		}
	}
	for key, rule := range table {
		method := strings.SplitN(key, " ", 2)[0]
		for _, role := range roles {
			path := rule.path(f)
			var resp *http.Response
			var body string
			if method == "GET" {
				resp, body = f.get(role, path)
			} else {
				form := url.Values{}
				if rule.form != nil {
					form = rule.form(f)
				}
				var extra []*http.Cookie
				if role == "anonymous" {
					pre := f.preSession()
					extra = append(extra, pre)
					form.Set("_csrf", pre.Value)
				} else {
					form.Set("_csrf", f.csrf[role])
				}
				resp, body = f.post(role, path, form, extra...)
			}
			got, want := classify(resp), expected(rule, role)
			if resp.StatusCode >= 500 || (want != anything && got != want) {
				t.Errorf("%s %s as %s: got %s (%d %.200s), want %s", method, path, role, got, resp.StatusCode, body, want)
				if resp.StatusCode >= 500 {
					t.Logf("server log: %s", lastError(f.logs.String()))
				}
			}
			if rule.resign && role != "anonymous" {
				f.signIn(role)
			}
		}
	}
}

func TestUnsafeRequestsNeedTheCSRFToken(t *testing.T) {
	f := newFixture(t)
	form := url.Values{"email": {"csrf@acme.example"}, "role": {"viewer"}}
	path := fmt.Sprintf("/settings/users?account=%d", f.accA.ID)
	for name, token := range map[string]string{"missing": "", "wrong": "0123456789abcdef0123456789abcdef01234567890"} {
		form.Set("_csrf", token)
		resp, body := f.post("admin", path, form)
		if resp.StatusCode != 403 || !strings.Contains(body, "security token") {
			t.Errorf("%s token: %d %.200s", name, resp.StatusCode, body)
		}
	}
	// Another user's token is as wrong as any other.
	form.Set("_csrf", f.csrf["staff-admin"])
	if resp, _ := f.post("admin", path, form); resp.StatusCode != 403 {
		t.Errorf("another session's token accepted: %d", resp.StatusCode)
	}
	var n int64
	f.a.DB().Model(&models.User{}).Where("email = ?", "csrf@acme.example").Count(&n)
	if n != 0 {
		t.Error("a refused request still invited the user")
	}
	// The header works as well as the field.
	req := httptest.NewRequest("POST", path, strings.NewReader("email=hdr@acme.example&role=viewer"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", f.csrf["admin"])
	req.Header.Set("HX-Request", "true")
	req.AddCookie(f.sessions["admin"])
	if resp, body := do(t, f.a, req); resp.StatusCode != 200 || !strings.Contains(body, "/invite/") {
		t.Errorf("header token refused: %d %.200s", resp.StatusCode, body)
	}
	// Sign-in without the pre-session cookie is refused too.
	resp, _ := f.post("", "/login", url.Values{"email": {"admin@acme.example"}, "password": {testPW}, "_csrf": {"x"}})
	if resp.StatusCode != 403 {
		t.Errorf("login without CSRF cookie: %d", resp.StatusCode)
	}
}

func TestSignInLocksTheEmailFromOneAddressOnly(t *testing.T) {
	f := newFixture(t)
	// Guesses on many emails from one address lock none of them.
	for i := range 6 {
		pre := f.preSession()
		resp, body := f.post("", "/login", url.Values{"email": {fmt.Sprintf("guess%d@acme.example", i)}, "password": {"wrong"}, "_csrf": {pre.Value}}, pre)
		if resp.StatusCode != 401 || !strings.Contains(body, "Email or password is wrong") {
			t.Fatalf("guess %d: %d %.200s", i, resp.StatusCode, body)
		}
	}
	for i := range 5 {
		pre := f.preSession()
		resp, body := f.post("", "/login", url.Values{"email": {"viewer@acme.example"}, "password": {"wrong"}, "_csrf": {pre.Value}}, pre)
		if i < 4 && resp.StatusCode != 401 || i == 4 && (resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "") {
			t.Fatalf("failure %d: %d %.200s", i, resp.StatusCode, body)
		}
	}
	pre := f.preSession()
	resp, body := f.post("", "/login", url.Values{"email": {"viewer@acme.example"}, "password": {testPW}, "_csrf": {pre.Value}}, pre)
	if resp.StatusCode != 429 || !strings.Contains(body, "locked") || resp.Header.Get("Retry-After") != "60" {
		t.Fatalf("after 5 failures for one email from one address: %d %q %.300s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	f.signIn("admin") // another email from the same address
	var n int64
	f.a.DB().Model(&models.AuditEntry{}).Where("action = ?", "auth.sign_in_failed").Count(&n)
	if n < 12 {
		t.Errorf("failed sign-ins audited: %d", n)
	}
	*f.now = f.now.Add(2 * time.Minute)
	f.signIn("viewer")
}

// TestParallelSignInsCannotRaceTheThrottle sends 40 wrong passwords for one email at once: the
// attempts are reserved before the check, so at most 5 are checked and the rest are refused as
// locked (never a 500 from a busy database), and the right password afterwards is refused too.
func TestParallelSignInsCannotRaceTheThrottle(t *testing.T) {
	f := newFixture(t)
	pre := f.preSession()
	codes := make(chan int, 40)
	for range 40 {
		go func() {
			req := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{
				"email": {"marketer@acme.example"}, "password": {"wrong guess"}, "_csrf": {pre.Value}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(pre)
			resp, err := f.a.Fiber().Test(req, -1)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	count := map[int]int{}
	for range 40 {
		count[<-codes]++
	}
	if count[401] > 5 || count[401]+count[429] != 40 {
		t.Fatalf("answers %v: want at most 5 checked (401), the rest 429 (the hash pool may refuse some too)", count)
	}
	resp, body := f.post("", "/login", url.Values{"email": {"marketer@acme.example"}, "password": {testPW}, "_csrf": {pre.Value}}, pre)
	if resp.StatusCode != 429 {
		t.Fatalf("right password after the burst: %d %.200s", resp.StatusCode, body)
	}
}

func TestFullHashingPoolAnswers429WithRetryAfter(t *testing.T) {
	f := newFixture(t)
	var releases []func()
	for range f.a.hashing.Size() {
		release, err := f.a.hashing.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, release)
	}
	pre := f.preSession()
	resp, body := f.post("", "/login", url.Values{"email": {"viewer@acme.example"}, "password": {testPW}, "_csrf": {pre.Value}}, pre)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "try again") {
		t.Fatalf("sign-in with the pool full: %d %q %.300s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	resp, _ = f.post("viewer", "/account/password", url.Values{"current": {testPW}, "new": {"another long password"}, "confirm": {"another long password"}, "_csrf": {f.csrf["viewer"]}})
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("password change with the pool full: %d", resp.StatusCode)
	}
	for _, r := range releases {
		r()
	}
	f.signIn("viewer") // the refused attempt was not counted
}

func TestSignInRefusedWhileTheDatabaseFails(t *testing.T) {
	f := newFixture(t)
	db := f.a.DB()
	if err := db.Exec("ALTER TABLE sign_in_throttles RENAME TO throttles_away").Error; err != nil {
		t.Fatal(err)
	}
	pre := f.preSession()
	resp, body := f.post("", "/login", url.Values{"email": {"viewer@acme.example"}, "password": {testPW}, "_csrf": {pre.Value}}, pre)
	if resp.StatusCode != 503 || !strings.Contains(body, "try again in a few seconds") || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("sign-in without the throttle table: %d %.300s", resp.StatusCode, body)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "mmc_session" && c.Value != "" {
			t.Fatal("a session was opened")
		}
	}
	if err := db.Exec("ALTER TABLE throttles_away RENAME TO sign_in_throttles").Error; err != nil {
		t.Fatal(err)
	}
	f.signIn("viewer")
}

func TestSessionEndsWhenIdleOrTooOldOrUserDisabled(t *testing.T) {
	f := newFixture(t)
	if resp, _ := f.get("viewer", "/"); resp.StatusCode != 200 {
		t.Fatalf("fresh session: %d", resp.StatusCode)
	}
	*f.now = f.now.Add(2*time.Hour + time.Minute) // MMC_SESSION_IDLE default 2h
	if got := classify(first(f.get("viewer", "/"))); got != toSignIn {
		t.Errorf("idle session: %s", got)
	}
	f.signIn("viewer")
	for range 24 { // used every hour: never idle, but 24 h (MMC_SESSION_ABSOLUTE) pass
		*f.now = f.now.Add(time.Hour)
		f.get("viewer", "/")
	}
	if got := classify(first(f.get("viewer", "/"))); got != toSignIn {
		t.Errorf("session older than the absolute limit: %s", got)
	}
	// Disabled by an admin: the session stops at once.
	f.signIn("admin")
	f.signIn("target")
	resp, _ := f.post("admin", fmt.Sprintf("/settings/users/%d/disabled", f.target.ID), url.Values{"disabled": {"true"}, "_csrf": {f.csrf["admin"]}})
	if resp.StatusCode != 303 {
		t.Fatalf("disable: %d", resp.StatusCode)
	}
	if got := classify(first(f.get("target", "/"))); got != toSignIn {
		t.Errorf("disabled user's session: %s", got)
	}
}

func first(r *http.Response, _ string) *http.Response { return r }

func TestTokensNeverRenderedOrLogged(t *testing.T) {
	f := newFixture(t)
	const token = "EAAGsecretTOKEN1234567890zz"
	const appSecret = "appsecretvalue9876543210"
	// Only Hibot staff admins may set an app secret.
	resp, body := f.post("staff-admin", fmt.Sprintf("/settings/connections?account=%d", f.accA.ID), url.Values{
		"waba_id": {"5550001"}, "access_token": {token}, "app_secret": {appSecret}, "api": {"meta"}, "_csrf": {f.csrf["staff-admin"]}})
	if resp.StatusCode != 303 {
		t.Fatalf("add connection: %d %.300s", resp.StatusCode, body)
	}
	// A bad form with a token re-renders without it.
	_, bad := f.post("admin", fmt.Sprintf("/settings/connections?account=%d", f.accA.ID), url.Values{
		"waba_id": {"x"}, "access_token": {token}, "api": {"meta"}, "_csrf": {f.csrf["admin"]}})
	var c models.WABAConnection
	f.a.DB().Where("waba_id = ?", "5550001").First(&c)
	if bytes.Contains(c.TokenSealed, []byte(token)) {
		t.Error("token stored in plaintext")
	}
	f.post("admin", fmt.Sprintf("/settings/connections/%d/test", c.ID), url.Values{"_csrf": {f.csrf["admin"]}})
	pages := []string{bad}
	for _, p := range []string{fmt.Sprintf("/settings?account=%d", f.accA.ID), fmt.Sprintf("/settings/connections/%d", c.ID), "/audit", "/"} {
		for _, role := range []string{"admin", "staff-admin"} {
			resp, body := f.get(role, p)
			if resp.StatusCode != 200 {
				t.Errorf("%s as %s: %d", p, role, resp.StatusCode)
			}
			pages = append(pages, body)
		}
	}
	if !strings.Contains(pages[1], "••••••••90zz") {
		t.Error("settings does not show the masked token")
	}
	for i, body := range pages {
		for _, secret := range []string{token, appSecret, "EAAGacmeTOKENvalue000001"} {
			if strings.Contains(body, secret) {
				t.Errorf("page %d shows a secret", i)
			}
		}
	}
	for _, secret := range []string{token, appSecret, testPW} {
		if strings.Contains(f.logs.String(), secret) {
			t.Errorf("log contains a secret: %s", secret[:6])
		}
	}
	var audited []models.AuditEntry
	f.a.DB().Find(&audited)
	for _, e := range audited {
		if strings.Contains(e.Before+e.After, token) || strings.Contains(e.Before+e.After, appSecret) {
			t.Errorf("audit entry %s holds a secret", e.Action)
		}
	}
}

func TestTestConnectionStoresStatusAndPhones(t *testing.T) {
	f := newFixture(t)
	resp, _ := f.post("admin", fmt.Sprintf("/settings/connections/%d/test", f.connA.ID), url.Values{"_csrf": {f.csrf["admin"]}})
	if resp.StatusCode != 303 {
		t.Fatalf("test: %d", resp.StatusCode)
	}
	var c models.WABAConnection
	f.a.DB().First(&c, f.connA.ID)
	if c.OnboardingStatus != "ONBOARDED" || c.LastCheckedAt == nil || c.LastCheckError != "" {
		t.Errorf("stored %+v", c)
	}
	var phones []models.PhoneNumber
	f.a.DB().Where("connection_id = ?", c.ID).Find(&phones)
	if len(phones) != 1 || phones[0].DisplayPhoneNumber != "+1 555 0100" || phones[0].AccountID != f.accA.ID {
		t.Errorf("phones %+v", phones)
	}
}

func TestTestConnectionLeavesAPhoneHeldByAnotherConnection(t *testing.T) {
	f := newFixture(t)
	// The stub's phone number 1099 already belongs to another connection of account B.
	sealed, _ := f.box().Seal("EAAGotherTOKEN0001")
	other := models.WABAConnection{AccountID: f.accB.ID, WABAID: "424242", TokenSealed: sealed, API: "meta"}
	f.a.DB().Create(&other)
	f.a.DB().Create(&models.PhoneNumber{ConnectionID: other.ID, AccountID: f.accB.ID, PhoneNumberID: "1099"})
	resp, body := f.post("admin", fmt.Sprintf("/settings/connections/%d/test", f.connA.ID), url.Values{"_csrf": {f.csrf["admin"]}})
	if resp.StatusCode >= 500 {
		t.Fatalf("test connection: %d %.300s", resp.StatusCode, body)
	}
	var c models.WABAConnection
	f.a.DB().First(&c, f.connA.ID)
	if !strings.Contains(c.LastCheckError, "1099") {
		t.Errorf("the check should say phone 1099 belongs elsewhere: %q", c.LastCheckError)
	}
	var p models.PhoneNumber
	f.a.DB().Where("phone_number_id = ?", "1099").Take(&p)
	if p.ConnectionID != other.ID || p.AccountID != f.accB.ID {
		t.Errorf("the phone moved to another account: %+v", p)
	}
}

var inviteLink = regexp.MustCompile(`/invite/([A-Za-z0-9_-]{40,})`)

func TestInviteLinkWorksOnce(t *testing.T) {
	f := newFixture(t)
	_, body := f.post("admin", fmt.Sprintf("/settings/users?account=%d", f.accA.ID), url.Values{
		"email": {"newbie@acme.example"}, "role": {"marketer"}, "_csrf": {f.csrf["admin"]}})
	m := inviteLink.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no invite link shown: %.500s", body)
	}
	link := "/invite/" + m[1]
	if _, again := f.get("admin", fmt.Sprintf("/settings?account=%d", f.accA.ID)); strings.Contains(again, m[1]) {
		t.Error("invite link shown a second time")
	}
	if resp, _ := f.get("", link); resp.StatusCode != 200 {
		t.Fatalf("invite page: %d", resp.StatusCode)
	}
	pre := f.preSession()
	resp, _ := f.post("", link, url.Values{"password": {testPW}, "confirm": {testPW}, "_csrf": {pre.Value}}, pre)
	if resp.StatusCode != 303 {
		t.Fatalf("accept: %d", resp.StatusCode)
	}
	if resp, _ := f.get("", link); resp.StatusCode != 404 {
		t.Errorf("used invite: %d", resp.StatusCode)
	}
	f.signIn("newbie") // emailOf("newbie") = newbie@acme.example
}

func TestSetupPageCreatesTheFirstAdminThenDisappears(t *testing.T) {
	cfg := testConfig(t)
	cfg.Sandbox = config.SandboxOff
	cfg.SecretKey = strings.Repeat("ab", 32)
	a, err := New(context.Background(), cfg, NewLogger(cfg, &bytes.Buffer{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	f := &fixture{t: t, a: a, sessions: map[string]*http.Cookie{}}
	if resp, _ := f.get("", "/"); resp.StatusCode != 303 || resp.Header.Get("Location") != "/setup" {
		t.Fatalf("/ with no user: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ := f.get("", "/setup")
	var pre *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "mmc_csrf" {
			pre = c
		}
	}
	if resp.StatusCode != 200 || pre == nil {
		t.Fatalf("setup page: %d", resp.StatusCode)
	}
	resp, body := f.post("", "/setup", url.Values{"email": {"first@hibot.example"}, "password": {"short"}, "confirm": {"short"}, "_csrf": {pre.Value}}, pre)
	if resp.StatusCode != 422 || !strings.Contains(body, "at least 12") {
		t.Fatalf("short password: %d", resp.StatusCode)
	}
	resp, _ = f.post("", "/setup", url.Values{"email": {"first@hibot.example"}, "password": {testPW}, "confirm": {testPW}, "_csrf": {pre.Value}}, pre)
	if resp.StatusCode != 303 {
		t.Fatalf("setup: %d", resp.StatusCode)
	}
	if resp, _ := f.get("", "/setup"); resp.StatusCode != 404 {
		t.Errorf("setup after the first admin: %d", resp.StatusCode)
	}
	var u models.User
	a.DB().First(&u)
	if !u.Staff || u.Role != models.RoleAdmin {
		t.Errorf("first admin = %+v", u)
	}
}

func TestAdminFromEnvironmentAndSecretKeyRequiredWithoutSandbox(t *testing.T) {
	cfg := testConfig(t)
	cfg.Sandbox = config.SandboxOff
	if _, err := New(context.Background(), cfg, NewLogger(cfg, &bytes.Buffer{})); err == nil || !strings.Contains(err.Error(), "MMC_SECRET_KEY") {
		t.Fatalf("no key with the sandbox off: %v", err)
	}
	cfg.SecretKey = strings.Repeat("cd", 32)
	cfg.AdminEmail, cfg.AdminPassword = "boss@hibot.example", testPW
	a, err := New(context.Background(), cfg, NewLogger(cfg, &bytes.Buffer{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	f := &fixture{t: t, a: a, sessions: map[string]*http.Cookie{}, csrf: map[string]string{}}
	pre := f.preSession()
	resp, _ := f.post("", "/login", url.Values{"email": {"boss@hibot.example"}, "password": {testPW}, "_csrf": {pre.Value}}, pre)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/" {
		t.Fatalf("bootstrap admin sign-in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, err := os.Stat(demoFile(cfg)); err == nil {
		t.Error("demo users created with the sandbox off")
	}
}

func TestSandboxDemoUsersPrintedOnceAndSaved(t *testing.T) {
	cfg := testConfig(t)
	var logs bytes.Buffer
	a, err := New(context.Background(), cfg, NewLogger(cfg, &logs))
	if err != nil {
		t.Fatal(err)
	}
	notice := a.DemoNotice()
	a.Close()
	// A framed block, so the password stands out among the log lines: every line of it is
	// inside the frame and as wide as the others.
	lines := strings.Split(strings.TrimSuffix(notice, "\n"), "\n")
	if len(lines) < 5 || !strings.HasPrefix(lines[0], "+---") || lines[0] != lines[len(lines)-1] {
		t.Fatalf("notice is not framed:\n%s", notice)
	}
	for _, l := range lines[1 : len(lines)-1] {
		if !strings.HasPrefix(l, "|  ") || !strings.HasSuffix(l, "  |") || len(l) != len(lines[0]) {
			t.Errorf("line outside the frame: %q", l)
		}
	}
	m := regexp.MustCompile(`Password \(the same for all three\):\s+(\S+)`).FindStringSubmatch(notice)
	if m == nil || !strings.Contains(notice, "demo-admin@example.com") || !strings.Contains(notice, demoFile(cfg)) {
		t.Fatalf("notice = %q", notice)
	}
	st, err := os.Stat(demoFile(cfg))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v", st, err)
	}
	raw, _ := os.ReadFile(demoFile(cfg))
	if !strings.Contains(string(raw), m[1]) || strings.Contains(logs.String(), m[1]) {
		t.Error("password missing from the file, or present in the log")
	}
	a2, err := New(context.Background(), cfg, NewLogger(cfg, &logs))
	if err != nil {
		t.Fatal(err)
	}
	defer a2.Close()
	// A restart prints no password, but one line saying where it is kept.
	want := "Sandbox demo sign-in: the demo users' password is in " + demoFile(cfg) + " (printed at the first start only)\n"
	if got := a2.DemoNotice(); got != want {
		t.Errorf("restart notice = %q, want %q", got, want)
	}
	f := &fixture{t: t, a: a2, sessions: map[string]*http.Cookie{}}
	pre := f.preSession()
	resp, _ := f.post("", "/login", url.Values{"email": {"demo-viewer@example.com"}, "password": {m[1]}, "_csrf": {pre.Value}}, pre)
	if resp.StatusCode != 303 {
		t.Fatalf("demo sign-in: %d", resp.StatusCode)
	}
}

func TestSandboxOnlyFirstStartSaysWhatToDoAboutTheKeyWithoutAWarning(t *testing.T) {
	cfg := testConfig(t)
	var logs bytes.Buffer
	a, err := New(context.Background(), cfg, NewLogger(cfg, &logs))
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	var keyLine string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "MMC_SECRET_KEY") {
			keyLine = l
		}
	}
	if !strings.Contains(keyLine, "level=INFO") || !strings.Contains(keyLine, "Before connecting a real WABA") ||
		!strings.Contains(keyLine, "MMC_SECRET_KEY_FILE") || !strings.Contains(keyLine, cfg.StateFile(".key")) {
		t.Errorf("sandbox-only key line = %q, want an INFO saying what to do before connecting a real WABA", keyLine)
	}
	if strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("a sandbox-only first start logged a warning:\n%s", logs.String())
	}
	// With real connections possible (the sandbox beside them), a missing key is an error.
	cfg2 := testConfig(t)
	cfg2.Sandbox = config.SandboxOn
	if _, err := New(context.Background(), cfg2, NewLogger(cfg2, &bytes.Buffer{})); err == nil || !strings.Contains(err.Error(), "MMC_SECRET_KEY") {
		t.Errorf("sandbox on without a key: %v, want the MMC_SECRET_KEY error", err)
	}
}

// lastError is the last "request failed" line of the server log, to explain a 500.
func lastError(logs string) string {
	lines := strings.Split(logs, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], "request failed") {
			return lines[i]
		}
	}
	return "(no request failed line)"
}
