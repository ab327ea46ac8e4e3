package app

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"mmconsole/internal/accounts"
	"mmconsole/internal/auth"
	"mmconsole/internal/config"
	"mmconsole/models"
)

// serveLoopback serves a on 127.0.0.1 (a real TCP peer address, unlike app.Test) until the
// test ends, and returns its base URL.
func serveLoopback(t *testing.T, a *App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = a.fiber.Listener(ln) }()
	t.Cleanup(func() { _ = a.fiber.Shutdown() })
	return "http://" + ln.Addr().String()
}

// loginFrom posts a sign-in through the real listener with the given X-Forwarded-For.
func loginFrom(t *testing.T, base, xff, email, password string) *http.Response {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var pre *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "mmc_csrf" {
			pre = c
		}
	}
	if pre == nil {
		t.Fatal("no pre-session cookie")
	}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"email": {email}, "password": {password}, "_csrf": {pre.Value}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", xff)
	req.AddCookie(pre)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestTrustedProxiesDecideTheClientAddress(t *testing.T) {
	tests := []struct {
		name, trusted, xff, want string
	}{
		{"no trusted proxy: the header is ignored", "", "203.0.113.5", "127.0.0.1"},
		{"the peer is not a trusted proxy", "10.0.0.0/8", "203.0.113.5", "127.0.0.1"},
		{"trusted proxy: its client", "127.0.0.1", "203.0.113.5", "203.0.113.5"},
		{"forged hops left of the real client are ignored", "127.0.0.0/8, 10.0.0.0/8", "198.51.100.1, 203.0.113.5, 10.1.1.1", "203.0.113.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Sandbox, cfg.SecretKey = config.SandboxOff, strings.Repeat("ab", 32)
			cfg.AdminEmail, cfg.AdminPassword = "boss@hibot.example", testPW
			cfg.TrustedProxies = tt.trusted
			a, err := New(context.Background(), cfg, NewLogger(cfg, &bytes.Buffer{}))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { a.Close() })
			base := serveLoopback(t, a)
			if resp := loginFrom(t, base, tt.xff, "boss@hibot.example", "wrong password"); resp.StatusCode != 401 {
				t.Fatalf("wrong password: %d", resp.StatusCode)
			}
			var e models.AuditEntry
			if err := a.DB().Where("action = ?", "auth.sign_in_failed").Last(&e).Error; err != nil {
				t.Fatal(err)
			}
			if e.IP != tt.want {
				t.Fatalf("client address %q, want %q", e.IP, tt.want)
			}
			if tt.want == "127.0.0.1" {
				return
			}
			// Behind the proxy, one client's failures lock only that client out of the email.
			for range 4 {
				loginFrom(t, base, tt.xff, "boss@hibot.example", "wrong password")
			}
			if resp := loginFrom(t, base, tt.xff, "boss@hibot.example", testPW); resp.StatusCode != 429 {
				t.Fatalf("the guessing client with the right password: %d, want 429", resp.StatusCode)
			}
			if resp := loginFrom(t, base, "192.0.2.44", "boss@hibot.example", testPW); resp.StatusCode != 303 {
				t.Fatalf("another client behind the same proxy: %d, want 303", resp.StatusCode)
			}
		})
	}
}

func TestPersonalPagesAreNeverStored(t *testing.T) {
	f := newFixture(t)
	users := auth.New(f.a.DB(), auth.Options{})
	acc := f.accA.ID
	_, tok, err := users.Invite(context.Background(), &acc, auth.InviteInput{Email: "nostore@acme.example", Role: "viewer"})
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, resp *http.Response) {
		t.Helper()
		if got := resp.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control %q (status %d), want no-store", name, got, resp.StatusCode)
		}
	}
	for _, p := range []string{"/", "/templates", "/log", "/sends", "/send", "/account/password", fmt.Sprintf("/settings?account=%d", acc), "/audit", "/no-such-page"} {
		resp, _ := f.get("admin", p)
		check("admin "+p, resp)
	}
	frag := httptest.NewRequest("GET", "/log/tail", nil)
	frag.Header.Set("HX-Request", "true")
	frag.AddCookie(f.sessions["admin"])
	resp, _ := do(t, f.a, frag)
	check("fragment /log/tail", resp)
	resp, _ = f.post("admin", fmt.Sprintf("/settings/users?account=%d", acc), url.Values{"email": {"shown@acme.example"}, "role": {"viewer"}, "_csrf": {f.csrf["admin"]}})
	check("invite link answer", resp)
	for _, p := range []string{"/login", "/invite/" + tok} {
		resp, _ := f.get("", p)
		check("anonymous "+p, resp)
	}
}

func TestCSRFTokenInTheQueryStringIsRefused(t *testing.T) {
	f := newFixture(t)
	path := fmt.Sprintf("/settings/users?account=%d&_csrf=%s", f.accA.ID, url.QueryEscape(f.csrf["admin"]))
	resp, body := f.post("admin", path, url.Values{"email": {"query@acme.example"}, "role": {"viewer"}})
	if resp.StatusCode != 403 || !strings.Contains(body, "security token") {
		t.Fatalf("token in the query string: %d %.200s", resp.StatusCode, body)
	}
	var n int64
	f.a.DB().Model(&models.User{}).Where("email = ?", "query@acme.example").Count(&n)
	if n != 0 {
		t.Fatal("the refused request invited the user")
	}
	// A multipart body carries it as well as a urlencoded one.
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "--b\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n%s\r\n--b\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nmulti@acme.example\r\n--b\r\nContent-Disposition: form-data; name=\"role\"\r\n\r\nviewer\r\n--b--\r\n", f.csrf["admin"])
	req := httptest.NewRequest("POST", fmt.Sprintf("/settings/users?account=%d", f.accA.ID), &buf)
	req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
	req.AddCookie(f.sessions["admin"])
	if resp, body := do(t, f.a, req); resp.StatusCode == 403 {
		t.Fatalf("token in a multipart body refused: %.200s", body)
	}
}

func TestInviteTokensNeverInLogsOrMetrics(t *testing.T) {
	f := newFixture(t)
	resp, body := f.post("admin", fmt.Sprintf("/settings/users?account=%d", f.accA.ID), url.Values{"email": {"logged@acme.example"}, "role": {"viewer"}, "_csrf": {f.csrf["admin"]}})
	if resp.StatusCode != 303 && resp.StatusCode != 200 {
		t.Fatalf("invite: %d", resp.StatusCode)
	}
	var inv models.Invite
	f.a.DB().Order("id DESC").First(&inv)
	_, page := f.get("admin", fmt.Sprintf("/settings?account=%d", f.accA.ID))
	link := firstMatch(body+page, "/invite/")
	if link == "" {
		t.Fatal("no invite link shown")
	}
	token := strings.TrimPrefix(link, "/invite/")
	f.get("", link)
	pre := f.preSession()
	f.post("", link, url.Values{"password": {"short"}, "confirm": {"short"}, "_csrf": {pre.Value}}, pre)
	f.get("", "/invite/not-a-real-token-0123456789")
	_, metrics := f.get("", "/metrics")
	for name, text := range map[string]string{"log": f.logs.String(), "metrics": metrics} {
		if strings.Contains(text, token) || strings.Contains(text, "not-a-real-token") {
			t.Errorf("the %s holds an invite token", name)
		}
		if !strings.Contains(text, "/invite/:token") {
			t.Errorf("the %s does not name the route pattern /invite/:token", name)
		}
	}
}

// firstMatch returns the first "/invite/<token>" in s.
func firstMatch(s, prefix string) string {
	i := strings.Index(s, prefix)
	if i < 0 {
		return ""
	}
	j := i + len(prefix)
	for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9' || s[j] == '-' || s[j] == '_') {
		j++
	}
	return s[i:j]
}

func TestDatabaseAndKeyFilesAreOwnerOnly(t *testing.T) {
	cfg := testConfig(t) // sandbox mode without MMC_SECRET_KEY: a key file beside the database
	a, err := New(context.Background(), cfg, NewLogger(cfg, &bytes.Buffer{}))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	files := []string{cfg.StateFile(".key"), demoFile(cfg)}
	if !cfg.DatabaseIsPostgres() { // PostgreSQL's files are the server's
		files = append(files, cfg.Database, cfg.Database+"-wal", cfg.Database+"-shm")
	}
	for _, p := range files {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", p, st.Mode().Perm())
		}
	}
}

// TestRealConnectionNeedsAKeptKey: in sandbox mode without MMC_SECRET_KEY, the key is a file
// nobody said they keep, so Settings explains how to keep it and refuses a real connection. A
// real connection that exists anyway never stops the next start, and MMC_SECRET_KEY_FILE keeps
// the same key and allows adding more.
func TestRealConnectionNeedsAKeptKey(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	a, err := New(ctx, cfg, NewLogger(cfg, &bytes.Buffer{}))
	if err != nil {
		t.Fatal(err)
	}
	var demoAcc models.Account
	if err := a.DB().Where("name = ?", "Hibot Demo").First(&demoAcc).Error; err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, a: a, sessions: map[string]*http.Cookie{}, csrf: map[string]string{}}
	signInDemo := func(password string) {
		pre := f.preSession()
		resp, body := f.post("", "/login", url.Values{"email": {"demo-admin@example.com"}, "password": {password}, "_csrf": {pre.Value}}, pre)
		f.sessions["admin"] = nil
		for _, c := range resp.Cookies() {
			if c.Name == "mmc_session" && c.Value != "" {
				f.sessions["admin"] = c
			}
		}
		if f.sessions["admin"] == nil {
			t.Fatalf("demo admin sign-in: %d %.200s", resp.StatusCode, body)
		}
		var s models.Session
		f.a.DB().Order("id DESC").First(&s)
		f.csrf["admin"] = s.CSRFToken
	}
	password := a.DemoPassword()
	signInDemo(password)
	keyFile := cfg.StateFile(".key")
	_, page := f.get("admin", "/settings")
	if !strings.Contains(page, "MMC_SECRET_KEY_FILE="+keyFile) || !strings.Contains(page, "cannot be added yet") {
		t.Fatalf("settings does not explain how to keep the key: %.300s", page)
	}
	add := url.Values{"waba_id": {"7770001"}, "access_token": {"EAAGrealTOKEN000000000001"}, "api": {"meta"}}
	add.Set("_csrf", f.csrf["admin"])
	resp, body := f.post("admin", "/settings/connections", add)
	if resp.StatusCode != 422 || !strings.Contains(body, "MMC_SECRET_KEY") {
		t.Fatalf("real connection with an unkept key: %d %.300s", resp.StatusCode, body)
	}
	var n int64
	a.DB().Model(&models.WABAConnection{}).Where("sandbox = ?", false).Count(&n)
	if n != 0 {
		t.Fatal("the refused connection was stored")
	}
	// One exists anyway (as older versions allowed), sealed with the key file.
	box, _, err := loadSecretsBox(cfg, true, NewLogger(cfg, &bytes.Buffer{}))
	if err != nil {
		t.Fatal(err)
	}
	legacy := accounts.New(a.DB(), accounts.WithSecrets(box))
	if _, err := legacy.CreateConnection(ctx, demoAcc.ID, accounts.ConnectionInput{WABAID: "7770002", AccessToken: "EAAGlegacyTOKEN00000000002", API: "meta"}); err != nil {
		t.Fatal(err)
	}
	a.Close()

	a2, err := New(ctx, cfg, NewLogger(cfg, &bytes.Buffer{}))
	if err != nil {
		t.Fatalf("start with a real connection and the key file: %v", err)
	}
	var conn models.WABAConnection
	a2.DB().Where("waba_id = ?", "7770002").First(&conn)
	if tok, err := (accounts.Tokens{Box: box}).Token(ctx, conn); err != nil || tok != "EAAGlegacyTOKEN00000000002" {
		t.Fatalf("the legacy token does not open: %v", err)
	}
	a2.Close()

	cfg.SecretKeyFile = keyFile
	a3, err := New(ctx, cfg, NewLogger(cfg, &bytes.Buffer{}))
	if err != nil {
		t.Fatal(err)
	}
	defer a3.Close()
	f.a = a3
	signInDemo(password)
	if _, page := f.get("admin", "/settings"); strings.Contains(page, "cannot be added yet") {
		t.Error("settings still refuses with the key kept")
	}
	add.Set("_csrf", f.csrf["admin"])
	if resp, body := f.post("admin", "/settings/connections", add); resp.StatusCode != 303 {
		t.Fatalf("real connection with MMC_SECRET_KEY_FILE: %d %.300s", resp.StatusCode, body)
	}
}
