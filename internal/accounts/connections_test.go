package accounts_test

import (
	"context"
	"errors"
	"testing"

	"mmconsole/internal/accounts"
	"mmconsole/internal/database"
	"mmconsole/internal/secrets"
	"mmconsole/models"
)

// The service enforces who may set an app secret on its own, whatever handler calls it.
func TestAppSecretIsForStaffAdminsOnly(t *testing.T) {
	db := database.OpenTest(t, accounts.Migrations())
	box, err := secrets.NewBox(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	s := accounts.New(db, accounts.WithSecrets(box))
	ctx := context.Background()
	acct, err := s.CreateAccount(ctx, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	aid := acct.ID
	customerAdmin := models.User{AccountID: &aid, Role: models.RoleAdmin}
	staffViewer := models.User{Staff: true, Role: models.RoleViewer}
	staffAdmin := models.User{Staff: true, Role: models.RoleAdmin}
	const secret = "0123456789abcdef0123456789abcdef"
	in := func(waba string, actor models.User) accounts.ConnectionInput {
		return accounts.ConnectionInput{WABAID: waba, AccessToken: "EAAGtokenVALUE00000001", AppSecret: secret, API: models.APIMeta, Actor: actor}
	}
	for _, actor := range []models.User{customerAdmin, staffViewer} {
		_, err := s.CreateConnection(ctx, acct.ID, in("1110001", actor))
		var ve *models.ValidationError
		if !errors.As(err, &ve) || ve.Fields["app_secret"] == "" {
			t.Errorf("staff=%v role=%s: %v, want an app_secret validation error", actor.Staff, actor.Role, err)
		}
	}
	var n int64
	db.Model(&models.WABAConnection{}).Count(&n)
	if n != 0 {
		t.Fatalf("%d connections stored by refused forms", n)
	}
	// Without a secret a customer admin connects as before.
	plain := in("1110001", customerAdmin)
	plain.AppSecret = ""
	c, err := s.CreateConnection(ctx, acct.ID, plain)
	if err != nil {
		t.Fatal(err)
	}
	scope := customerAdmin.Scope()
	edit := plain
	edit.AccessToken, edit.ClearAppSecret = "", true
	if _, _, err := s.UpdateConnection(ctx, scope, c.ID, edit); err == nil {
		t.Error("a customer admin cleared an app secret")
	}
	// A staff admin sets it, then clears it.
	edit = in("1110001", staffAdmin)
	edit.AccessToken = ""
	if _, after, err := s.UpdateConnection(ctx, staffAdmin.Scope(), c.ID, edit); err != nil || len(after.AppSecretSealed) == 0 {
		t.Fatalf("staff admin set: %v", err)
	}
	edit.AppSecret, edit.ClearAppSecret = "", true
	if _, after, err := s.UpdateConnection(ctx, staffAdmin.Scope(), c.ID, edit); err != nil || after.AppSecretSealed != nil {
		t.Fatalf("staff admin clear: %v", err)
	}
	var stored models.WABAConnection
	db.Take(&stored, c.ID)
	if len(stored.AppSecretSealed) != 0 {
		t.Error("cleared secret still stored")
	}
}

// An app secret speaks for the WABAs of its connection's account, and staff set it for the
// WABA they checked it against: a customer admin moving that connection to another WABA would
// make the secret speak for a WABA staff never looked at, so the move is refused with nothing
// changed (deleting the connection, which takes the secret with it, stays open). Staff may move
// it, and a connection without a secret moves freely.
func TestMovingAConnectionWithAnAppSecretIsForStaffAdmins(t *testing.T) {
	db := database.OpenTest(t, accounts.Migrations())
	box, err := secrets.NewBox(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	s := accounts.New(db, accounts.WithSecrets(box))
	ctx := context.Background()
	acct, err := s.CreateAccount(ctx, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	aid := acct.ID
	customerAdmin := models.User{AccountID: &aid, Role: models.RoleAdmin}
	staffAdmin := models.User{Staff: true, Role: models.RoleAdmin}
	withSecret, err := s.CreateConnection(ctx, acct.ID, accounts.ConnectionInput{WABAID: "1110001", AccessToken: "EAAGtokenVALUE00000001",
		AppSecret: "0123456789abcdef0123456789abcdef", API: models.APIMeta, Actor: staffAdmin})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := s.CreateConnection(ctx, acct.ID, accounts.ConnectionInput{WABAID: "1110002", AccessToken: "EAAGtokenVALUE00000002",
		API: models.APIMeta, Actor: customerAdmin})
	if err != nil {
		t.Fatal(err)
	}
	move := func(c models.WABAConnection, waba string, actor models.User) error {
		_, _, err := s.UpdateConnection(ctx, actor.Scope(), c.ID, accounts.ConnectionInput{WABAID: waba, Name: "moved", API: models.APIMeta, Actor: actor})
		return err
	}
	var ve *models.ValidationError
	if err := move(withSecret, "1110009", customerAdmin); !errors.As(err, &ve) || ve.Fields["waba_id"] == "" {
		t.Errorf("customer admin moved a connection with an app secret: %v, want a waba_id validation error", err)
	}
	var stored models.WABAConnection
	db.Take(&stored, withSecret.ID)
	if stored.WABAID != "1110001" || stored.Name == "moved" || len(stored.AppSecretSealed) == 0 {
		t.Errorf("refused move changed the connection: %+v", stored)
	}
	// Renaming it in place is still the customer's.
	if _, _, err := s.UpdateConnection(ctx, customerAdmin.Scope(), withSecret.ID, accounts.ConnectionInput{WABAID: "1110001", Name: "renamed", API: models.APIMeta, Actor: customerAdmin}); err != nil {
		t.Errorf("customer admin renaming in place: %v", err)
	}
	if err := move(plain, "1110008", customerAdmin); err != nil {
		t.Errorf("customer admin moving a connection without a secret: %v", err)
	}
	if err := move(withSecret, "1110009", staffAdmin); err != nil {
		t.Errorf("staff admin moving a connection with a secret: %v", err)
	}
}
