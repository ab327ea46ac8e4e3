package send_test

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"mmconsole/internal/send"
	"mmconsole/models"
)

// saveRecipient saves one through the page's form and returns its row.
func (e *env) saveRecipient(name, number string) models.SavedRecipient {
	e.t.Helper()
	code, body := e.do(writer, "POST", "/send/recipients", url.Values{"name": {name}, "number": {number}}, false)
	if code != 303 {
		e.t.Fatalf("save %s = %d\n%.500s", name, code, body)
	}
	var r models.SavedRecipient
	must(e.t, e.db.Where("name = ?", name).Take(&r).Error)
	return r
}

// Saving a recipient checks it with the composer's rules; a refused form says why and saves
// nothing; only writers save or delete, within their account, and each change is audited.
func TestSavedRecipientsAreCheckedAndKeptPerAccount(t *testing.T) {
	e := newEnv(t, false)
	ana := e.saveRecipient("Ana's phone", "+52 55 1234 5678")
	if ana.Recipient != "525512345678" || ana.AccountID != *e.users[writer].AccountID || ana.CreatedBy != writer {
		t.Fatalf("saved %+v", ana)
	}
	for _, tc := range []struct {
		name, number, field, says string
	}{
		{"", "+52 55 1234 0001", "name", "Give the recipient a name"},
		{strings.Repeat("n", send.MaxSavedNameLen+1), "+52 55 1234 0002", "name", "at most 80 characters"},
		{"Letters", "+52 55 CALL ME", "number", "is not a phone number"},
		{"Short", "+52 123", "number", "8 to 15 digits"},
		{"Again", "525512345678", "number", "+525512345678 is already saved"},
	} {
		code, body := e.do(writer, "POST", "/send/recipients", url.Values{"name": {tc.name}, "number": {tc.number}}, false)
		if code != 422 || !strings.Contains(body, tc.says) || !strings.Contains(body, `id="err-saved-`+tc.field+`"`) {
			t.Errorf("%q %q: %d, want 422 saying %q on %s", tc.name, tc.number, code, tc.says, tc.field)
		}
	}
	var n int64
	e.db.Model(&models.SavedRecipient{}).Count(&n)
	if n != 1 {
		t.Errorf("%d saved after refused forms, want 1", n)
	}
	if code, _ := e.do("viewer@demo.test", "POST", "/send/recipients", url.Values{"name": {"V"}, "number": {"+52 55 1234 0003"}}, false); code != 403 {
		t.Errorf("viewer saves: %d, want 403", code)
	}
	if code, body := e.do("viewer@demo.test", "GET", "/send/recipients", nil, false); code != 200 || !strings.Contains(body, "Ana&#39;s phone") || strings.Contains(body, "Save recipient") {
		t.Errorf("viewer's list: %d (lists it, without the form)", code)
	}
	if code, body := e.do("marketer@other.test", "GET", "/send/recipients", nil, false); code != 200 || strings.Contains(body, "Ana") {
		t.Errorf("another account lists %d: sees Ana", code)
	}
	del := "/send/recipients/" + strconv.Itoa(int(ana.ID)) + "/delete"
	if code, _ := e.do("marketer@other.test", "POST", del, url.Values{}, false); code != 404 {
		t.Errorf("another account deletes: %d, want 404", code)
	}
	if code, _ := e.do(writer, "POST", del, url.Values{}, false); code != 303 {
		t.Errorf("delete: %d, want 303", code)
	}
	e.db.Model(&models.SavedRecipient{}).Count(&n)
	if n != 0 {
		t.Errorf("%d saved after delete", n)
	}
	var actions []string
	for _, a := range e.audit.entries {
		actions = append(actions, a.Action+" "+a.Target)
	}
	want := "send.recipient_saved saved recipient Ana's phone (+525512345678)|send.recipient_deleted saved recipient Ana's phone (+525512345678)"
	if got := strings.Join(actions, "|"); got != want {
		t.Errorf("audit = %q, want %q", got, want)
	}
}

// One test to several saved recipients is one send each, with its own row and result; a
// recipient whose send fails (a US number: 131049) fails alone. Too many, or a typed recipient
// as well, sends nothing; the same form again sends nothing again; another account's saved
// recipient is not reachable.
func TestOneTestToSavedRecipients(t *testing.T) {
	e := newEnv(t, false)
	ana := e.saveRecipient("Ana", "+52 55 1234 5678")
	bo := e.saveRecipient("Bo", "+52 55 9876 5432")
	us := e.saveRecipient("US phone", "+1 650 555 1234")
	vars := map[string]string{"var.header_media": "https://example.com/a.jpg", "var.body.1": "Ana", "var.body.2": "Sunday", "var.button.0": "summer", "recipient": ""}
	ids := func(rs ...models.SavedRecipient) []string {
		var out []string
		for _, r := range rs {
			out = append(out, strconv.Itoa(int(r.ID)))
		}
		return out
	}

	f := e.form("summer_sale/en_US", vars)
	f["saved"] = ids(ana, bo, us)
	_, pre := e.do(writer, "POST", "/send/preview", f, true)
	if !strings.Contains(pre, "Sending to 3 saved recipients") {
		t.Error("the preview does not say the test goes to the 3 saved recipients")
	}
	code, body := e.do(writer, "POST", "/send", f, true)
	if code != 200 || !strings.Contains(body, "3 test sends, one per saved recipient") {
		t.Fatalf("POST /send to saved = %d\n%.2000s", code, body)
	}
	if e.sendCount() != 3 {
		t.Fatalf("%d sends reached Meta, want 3", e.sendCount())
	}
	var rows []models.TestSend
	must(t, e.db.Order("recipient").Find(&rows).Error)
	if len(rows) != 3 || rows[0].Recipient != "16505551234" || rows[1].Recipient != "525512345678" || rows[2].Recipient != "525598765432" {
		t.Fatalf("rows = %+v", rows)
	}
	keys := map[string]bool{}
	for _, r := range rows {
		keys[r.IdempotencyKey] = true
		if r.WAMID == "" || !strings.Contains(body, r.WAMID) {
			t.Errorf("%s: no wamid shown (%q)", r.Recipient, r.WAMID)
		}
	}
	if len(keys) != 3 {
		t.Error("the sends share an idempotency key")
	}
	// The US number fails on its own; the others do not.
	e.hooks.waitFor(t, rows[0].WAMID, func(s []hookStatus) bool { return len(s) > 0 && s[len(s)-1].Status == "failed" })
	e.hooks.waitFor(t, rows[1].WAMID, func(s []hookStatus) bool { return len(s) > 0 && s[len(s)-1].Status == "read" })
	_, frag := e.do(writer, "GET", fmt.Sprintf("/sends/%d/result", rows[0].ID), nil, true)
	if !strings.Contains(frag, "131049") || !strings.Contains(frag, "✕ Failed") {
		t.Errorf("the US recipient's result does not show its failure:\n%.1500s", frag)
	}

	// The same form again: the first results, nothing sent again.
	if code, body := e.do(writer, "POST", "/send", f, true); code != 200 || !strings.Contains(body, "Already sent with this form") || e.sendCount() != 3 {
		t.Errorf("resubmit: %d, %d sends", code, e.sendCount())
	}
	for _, tc := range []struct {
		name  string
		saved []string
		typed string
		says  string
	}{
		{"six", append(ids(ana, bo, us), "9001", "9002", "9003"), "", "Choose at most 5 saved recipients"},
		{"typed as well", ids(ana), "+52 55 1111 2222", "Clear the recipient, or the saved recipients"},
		{"another account's", []string{"424242"}, "", "not saved for this WABA"},
	} {
		g := e.form("summer_sale/en_US", vars)
		g["saved"] = tc.saved
		g.Set("recipient", tc.typed)
		code, body := e.do(writer, "POST", "/send", g, true)
		if code != 422 || !strings.Contains(body, tc.says) {
			t.Errorf("%s: %d, want 422 saying %q", tc.name, code, tc.says)
		}
	}
	if e.sendCount() != 3 {
		t.Errorf("refused forms sent: %d sends", e.sendCount())
	}
	if code, _ := e.do("viewer@demo.test", "POST", "/send", f, true); code != 403 {
		t.Errorf("viewer sends to saved: %d", code)
	}
}
