package webhook

import (
	"testing"

	"mmconsole/models"
)

// A send whose answer was lost learns its wamid from the first status webhook that carries its
// biz_opaque_callback_data, but only a webhook of its own account and WABA may say so.
func TestStatusWebhookLinksATestSendWhoseAnswerWasLost(t *testing.T) {
	db := testDB(t)
	if err := db.AutoMigrate(&models.TestSend{}); err != nil {
		t.Fatal(err)
	}
	a := connect(t, db, "A", "100")
	b := connect(t, db, "B", "101")
	s := newService(t, db)
	mk := func(acct uint, waba, key, status, wamid string) models.TestSend {
		r := models.TestSend{AccountID: acct, ConnectionID: 1, WABAID: waba, TemplateName: "spring_sale", Language: "en_US",
			RequestJSON: `{"template":{"name":"spring_sale"}}`, MessageStatus: status, WAMID: wamid, IdempotencyKey: key,
			ErrorMessage: "Meta did not answer"}
		if err := db.Create(&r).Error; err != nil {
			t.Fatal(err)
		}
		return r
	}
	lost := mk(a, "100", "k1", models.SendUnknown, "")
	crashed := mk(a, "100", "k2", models.SendSending, "")
	otherAccount := mk(b, "101", "k3", models.SendUnknown, "")
	answered := mk(a, "100", "k4", "accepted", "wamid.first")
	opaque := func(r models.TestSend) string {
		return `,"biz_opaque_callback_data":"` + models.TestSendOpaque(r.ID) + `"`
	}
	ingest(t, s, statusBody("100", "200", "wamid.lost", "sent", "1", "marketing_lite", "", opaque(lost)))
	ingest(t, s, statusBody("100", "200", "wamid.crashed", "delivered", "1", "marketing_lite", "", opaque(crashed)))
	ingest(t, s, statusBody("100", "200", "wamid.spoof", "sent", "1", "marketing_lite", "", opaque(otherAccount)))
	ingest(t, s, statusBody("100", "200", "wamid.again", "sent", "1", "marketing_lite", "", opaque(answered)))
	s.Close()

	for _, c := range []struct {
		name       string
		row        models.TestSend
		wamid, st  string
		errMessage string
	}{
		{"lost answer", lost, "wamid.lost", "accepted", ""},
		{"left sending by a crash", crashed, "wamid.crashed", "accepted", ""},
		{"another account's send", otherAccount, "", models.SendUnknown, "Meta did not answer"},
		{"already answered", answered, "wamid.first", "accepted", "Meta did not answer"},
	} {
		var got models.TestSend
		if err := db.First(&got, c.row.ID).Error; err != nil {
			t.Fatal(err)
		}
		if got.WAMID != c.wamid || got.MessageStatus != c.st || got.ErrorMessage != c.errMessage {
			t.Errorf("%s: wamid %q status %q error %q; want %q %q %q", c.name, got.WAMID, got.MessageStatus, got.ErrorMessage, c.wamid, c.st, c.errMessage)
		}
	}
	m := message(t, db, "wamid.lost")
	if m.TemplateName == nil || *m.TemplateName != "spring_sale" || m.SendRequest == nil || *m.SendRequest == "" {
		t.Errorf("the message did not get the sender's side: %+v", m)
	}
}
