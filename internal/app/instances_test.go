package app

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mmconsole/internal/accounts"
	"mmconsole/internal/config"
	"mmconsole/internal/secrets"
	"mmconsole/internal/webhook"
	"mmconsole/models"
)

// Several instances: two dashboards built on one database with the settings a load balancer's
// instances share (the database, MMC_SECRET_KEY, MMC_APP_SECRET), as two processes would be.

const (
	pairKey       = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e"
	pairAppSecret = "shared-app-secret"
	pairAdmin     = "boss@hibot.example"
)

// testClock is a clock the test moves while the instances' goroutines read it.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type pair struct {
	t     *testing.T
	cfg   config.Config
	clock *testClock
	apps  [2]*App
}

// newPair builds two instances on one database; opts change the shared settings first.
func newPair(t *testing.T, opts ...func(*config.Config)) *pair {
	t.Helper()
	cfg := testConfig(t)
	cfg.Sandbox, cfg.SecretKey, cfg.AppSecret = config.SandboxOff, pairKey, pairAppSecret
	cfg.AdminEmail, cfg.AdminPassword = pairAdmin, testPW
	for _, o := range opts {
		o(&cfg)
	}
	p := &pair{t: t, cfg: cfg, clock: &testClock{t: time.Now().UTC()}}
	for i := range p.apps {
		a, err := build(context.Background(), cfg, NewLogger(cfg, io.Discard), p.clock.now)
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
		t.Cleanup(func() { a.Close() })
		p.apps[i] = a
	}
	return p
}

func (p *pair) box() *secrets.Box {
	key, err := config.DecodeKey(pairKey)
	if err != nil {
		p.t.Fatal(err)
	}
	b, err := secrets.NewBox(key)
	if err != nil {
		p.t.Fatal(err)
	}
	return b
}

// request sends a form (nil: a GET) to instance i with the given cookies.
func (p *pair) request(i int, method, path string, form url.Values, cookies ...*http.Cookie) (*http.Response, string) {
	p.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	req.Header.Set("Accept", "text/html")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range cookies {
		if c != nil {
			req.AddCookie(c)
		}
	}
	return do(p.t, p.apps[i], req)
}

func cookieOf(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name && c.Value != "" {
			return c
		}
	}
	return nil
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)"`)

// TestTwoInstancesShareSignIn: behind a load balancer without sticky sessions, a person signs
// in through one instance and goes on through the other: the session, its CSRF token and the
// flash message after a redirect are valid on both, and signing out on one ends it on both.
func TestTwoInstancesShareSignIn(t *testing.T) {
	p := newPair(t)

	resp, _ := p.request(0, "GET", "/login", nil)
	pre := cookieOf(resp, "mmc_csrf")
	if pre == nil {
		t.Fatal("no pre-session cookie from instance 0")
	}
	resp, body := p.request(1, "POST", "/login", url.Values{"email": {pairAdmin}, "password": {testPW}, "_csrf": {pre.Value}}, pre)
	session := cookieOf(resp, "mmc_session")
	if resp.StatusCode != http.StatusSeeOther || session == nil {
		t.Fatalf("sign-in on instance 1 with instance 0's form = %d %.300s", resp.StatusCode, body)
	}

	resp, body = p.request(0, "GET", "/settings", nil, session)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, pairAdmin) {
		t.Fatalf("instance 0 with instance 1's session: GET /settings = %d (want 200 naming %s)", resp.StatusCode, pairAdmin)
	}
	m := csrfMeta.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no CSRF token on instance 0's page")
	}
	csrf := m[1]

	// A form rendered by instance 0, posted to instance 1; the flash it sets shows on instance 0.
	resp, body = p.request(1, "POST", "/settings/accounts", url.Values{"name": {"Spread Ltd"}, "_csrf": {csrf}}, session)
	flash := cookieOf(resp, "mmc_flash")
	if resp.StatusCode != http.StatusSeeOther || flash == nil {
		t.Fatalf("instance 1: create account with instance 0's CSRF token = %d, flash %v: %.300s", resp.StatusCode, flash, body)
	}
	resp, body = p.request(0, "GET", resp.Header.Get("Location"), nil, session, flash)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Account Spread Ltd created") {
		t.Fatalf("instance 0 after instance 1's redirect: %d, flash shown: %v", resp.StatusCode, strings.Contains(body, "Spread Ltd created"))
	}

	// A wrong token is refused by either instance and changes nothing.
	resp, _ = p.request(0, "POST", "/settings/accounts", url.Values{"name": {"Forged"}, "_csrf": {"not-the-token"}}, session)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("wrong CSRF token: %d, want 403", resp.StatusCode)
	}
	var n int64
	p.apps[1].DB().Model(&models.Account{}).Where("name = ?", "Forged").Count(&n)
	if n != 0 {
		t.Fatal("a refused form created an account")
	}

	// Sign out on instance 1: instance 0 no longer knows the session.
	resp, _ = p.request(1, "POST", "/logout", url.Values{"_csrf": {csrf}}, session)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out on instance 1 = %d", resp.StatusCode)
	}
	resp, _ = p.request(0, "GET", "/settings", nil, session)
	if resp.StatusCode == http.StatusOK {
		t.Fatal("instance 0 still accepts a session signed out on instance 1")
	}
}

// statusDelivery is a signed-able delivery of one status event of wamid.
func statusDelivery(wamid string) []byte {
	return []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"2"},"statuses":[{"id":"` +
		wamid + `","status":"sent","timestamp":"1750030073","pricing":{"category":"marketing_lite"}}]}}]}]}`)
}

func (p *pair) deliver(i int, body []byte) int {
	req := httptest.NewRequest("POST", "/webhooks/whatsapp", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", webhook.Sign(body, []byte(pairAppSecret)))
	resp, err := p.apps[i].Fiber().Test(req, -1)
	if err != nil {
		p.t.Error(err)
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// metricOf reads one counter from instance i's /metrics.
func (p *pair) metricOf(i int, name string) float64 {
	p.t.Helper()
	resp, body := p.request(i, "GET", "/metrics", nil)
	if resp.StatusCode != http.StatusOK {
		p.t.Fatalf("/metrics = %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				p.t.Fatal(err)
			}
			return f
		}
	}
	return 0
}

// TestTwoInstancesStoreEachDeliveryOnce: deliveries spread over two instances, each with its
// own group-commit writer, are all stored, once; a delivery Meta sends to both (a retry the
// load balancer routed elsewhere) is stored once and counted once as a duplicate.
func TestTwoInstancesStoreEachDeliveryOnce(t *testing.T) {
	p := newPair(t)
	const n = 60
	var wg sync.WaitGroup
	var refused atomic.Int64
	for g := range 4 {
		wg.Go(func() {
			for k := g; k < n; k += 4 {
				if code := p.deliver(k%2, statusDelivery(fmt.Sprintf("wamid.spread.%d", k))); code != http.StatusOK {
					refused.Add(1)
				}
			}
		})
	}
	// The same delivery to both instances at once.
	twice := statusDelivery("wamid.spread.twice")
	for i := range 2 {
		wg.Go(func() {
			if code := p.deliver(i, twice); code != http.StatusOK {
				refused.Add(1)
			}
		})
	}
	wg.Wait()
	if refused.Load() > 0 {
		t.Fatalf("%d deliveries were not answered 200", refused.Load())
	}
	var events int64
	if err := p.apps[0].DB().Model(&models.WebhookEvent{}).Count(&events).Error; err != nil {
		t.Fatal(err)
	}
	if events != n+1 {
		t.Errorf("events stored = %d, want %d (every delivery once)", events, n+1)
	}
	var distinct int64
	p.apps[1].DB().Model(&models.WebhookEvent{}).Distinct("wamid").Count(&distinct)
	if distinct != n+1 {
		t.Errorf("distinct messages = %d, want %d", distinct, n+1)
	}
	const dup = "mmconsole_webhook_duplicate_events_total"
	if got := p.metricOf(0, dup) + p.metricOf(1, dup); got != 1 {
		t.Errorf("duplicates counted by both instances = %v, want 1", got)
	}
}

// TestTwoInstancesRunBackgroundWorkOncePerInterval: both instances check every job every
// (moved) minute for 90 minutes, taking turns at asking first; each job runs once per its
// interval in all, and the Graph API sees one template listing per refresh interval.
func TestTwoInstancesRunBackgroundWorkOncePerInterval(t *testing.T) {
	var listings atomic.Int64
	stub := graphStub(t)
	counting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/message_templates") {
			listings.Add(1)
		}
		proxy, _ := http.NewRequest(r.Method, stub.URL+r.URL.RequestURI(), r.Body)
		resp, err := http.DefaultClient.Do(proxy)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(counting.Close)
	p := newPair(t, func(c *config.Config) {
		c.GraphBaseURL = counting.URL
		c.TemplateRefresh = 30 * time.Minute
	})
	ctx := context.Background()
	acc := accounts.New(p.apps[0].DB(), accounts.WithSecrets(p.box()))
	a, err := acc.CreateAccount(ctx, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acc.CreateConnection(ctx, a.ID, accounts.ConnectionInput{WABAID: "123456", Name: "Acme", AccessToken: "EAAGacmeTOKENvalue000001", API: "meta"}); err != nil {
		t.Fatal(err)
	}

	ran := map[string]int{}
	for minute := range 90 {
		order := []*App{p.apps[0], p.apps[1]}
		if minute%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		for _, a := range order {
			for _, j := range a.jobs {
				ok, err := a.sched.Tick(ctx, j)
				if err != nil {
					t.Fatalf("minute %d, %s: %v", minute, j.Name, err)
				}
				if ok {
					ran[j.Name]++
				}
			}
		}
		p.clock.add(time.Minute)
	}
	want := map[string]int{"templates.refresh": 3, "accounts.onboarding": 3, "auth.signin-counters": 9, "webhook.retention": 90,
		"insights.fetch": 90, "insights.fold": 90, "insights.ttl-expiries": 9}
	for name, w := range want {
		if ran[name] != w {
			t.Errorf("%s ran %d times in 90 minutes on two instances, want %d", name, ran[name], w)
		}
		st, err := p.apps[1].sched.Status(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if int(st.Runs) != w {
			t.Errorf("%s: jobs table counts %d runs, want %d", name, st.Runs, w)
		}
	}
	if len(ran) != len(want) {
		t.Errorf("jobs that ran: %v, want exactly %v", ran, want)
	}
	if got := listings.Load(); got != 3 {
		t.Errorf("template listings read from the Graph API = %d, want 3 (one per refresh interval)", got)
	}
	var refreshes int64
	p.apps[0].DB().Model(&models.TemplateRefresh{}).Count(&refreshes)
	if refreshes != 3 {
		t.Errorf("refreshes recorded = %d, want 3", refreshes)
	}
}

// TestTwoInstancesStartTogetherWithTheSandbox: two instances with the sandbox on start at the
// same moment against a fresh database; both start, and the demo account, its users and its
// connections exist once. Each instance then runs its own sandbox (see README).
func TestTwoInstancesStartTogetherWithTheSandbox(t *testing.T) {
	cfg := testConfig(t)
	cfg.Sandbox, cfg.SecretKey, cfg.AppSecret = config.SandboxOn, pairKey, pairAppSecret
	var wg sync.WaitGroup
	apps := make([]*App, 2)
	errs := make([]error, 2)
	for i := range apps {
		wg.Go(func() { apps[i], errs[i] = New(context.Background(), cfg, NewLogger(cfg, io.Discard)) })
	}
	wg.Wait()
	for i, a := range apps {
		if a != nil {
			t.Cleanup(func() { a.Close() })
		}
		if errs[i] != nil {
			t.Fatalf("instance %d did not start: %v", i, errs[i])
		}
	}
	db := apps[0].DB()
	count := func(model any, where string, args ...any) int64 {
		var n int64
		if err := db.Model(model).Where(where, args...).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(&models.Account{}, "name = ?", accounts.SandboxAccountName); n != 1 {
		t.Errorf("sandbox accounts = %d, want 1", n)
	}
	if n := count(&models.User{}, "email LIKE ?", "demo-%"); n != 3 {
		t.Errorf("demo users = %d, want 3", n)
	}
	if n := count(&models.WABAConnection{}, "sandbox = ?", true); n != 2 {
		t.Errorf("sandbox connections = %d, want 2", n)
	}
	if apps[0].DemoPassword() != "" && apps[1].DemoPassword() != "" {
		t.Error("both instances say they created the demo users")
	}
}
