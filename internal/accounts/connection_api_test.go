package accounts

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"gorm.io/gorm"

	"mmconsole/internal/database"
	"mmconsole/internal/secrets"
	"mmconsole/models"
)

// releasedConnection is waba_connections as 0001 created it before connections had an API: the
// TTL mode was the setting, per_send by default.
type releasedConnection struct {
	ID          uint `gorm:"primaryKey"`
	AccountID   uint
	WABAID      string `gorm:"column:waba_id"`
	TokenSealed []byte
	TTLMode     string `gorm:"not null;default:'per_send'"`
	Sandbox     bool
}

func (releasedConnection) TableName() string { return "waba_connections" }

// Existing connections get the API their sends actually reached: template TTL and sandbox
// connections talk to Meta; a real per-send connection goes through the gateway only when the
// Graph base URL is not Meta's.
func TestMigrationGivesExistingConnectionsTheirAPI(t *testing.T) {
	for _, tc := range []struct {
		graphIsMeta bool
		want        map[string]string
	}{
		{true, map[string]string{"1": models.APIMeta, "2": models.APIMeta, "3": models.APIMeta}},
		{false, map[string]string{"1": models.APIHibotGateway, "2": models.APIMeta, "3": models.APIMeta}},
	} {
		path := database.TestDSN(t)
		old := []database.Migration{{ID: "0001_accounts", Up: func(tx *gorm.DB) error { return tx.AutoMigrate(&releasedConnection{}) }}}
		db, err := database.Open(context.Background(), path, old, database.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []releasedConnection{
			{AccountID: 1, WABAID: "1", TokenSealed: []byte("x"), TTLMode: models.TTLPerSend},
			{AccountID: 1, WABAID: "2", TokenSealed: []byte("x"), TTLMode: models.TTLTemplate},
			{AccountID: 1, WABAID: "3", TokenSealed: []byte("x"), TTLMode: models.TTLPerSend, Sandbox: true},
		} {
			if err := db.Create(&c).Error; err != nil {
				t.Fatal(err)
			}
		}
		_ = database.Close(db)

		db, err = database.Open(context.Background(), path, MigrationsFor(tc.graphIsMeta), database.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var rows []struct {
			WABAID string `gorm:"column:waba_id"`
			API    string
		}
		if err := db.Raw("SELECT waba_id, api FROM waba_connections").Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.API != tc.want[r.WABAID] {
				t.Errorf("graphIsMeta=%v: WABA %s api = %q, want %q", tc.graphIsMeta, r.WABAID, r.API, tc.want[r.WABAID])
			}
		}
		_ = database.Close(db)
	}
}

func TestConnectionAPIChoice(t *testing.T) {
	box, err := secrets.NewBox(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	in := func(waba, api string) ConnectionInput {
		return ConnectionInput{WABAID: waba, AccessToken: "EAAGtokenvalue0000000001", API: api}
	}
	cases := []struct {
		name     string
		metaHost bool
		api      string
		field    string // the refused field, "" when accepted
	}{
		{"meta on Meta's base URL", true, models.APIMeta, ""},
		{"gateway on Meta's base URL is refused", true, models.APIHibotGateway, "api"},
		{"gateway on a gateway base URL", false, models.APIHibotGateway, ""},
		{"crafted API refused", false, "proxy", "api"},
		{"missing API refused", false, "", "api"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := database.OpenTest(t, Migrations())
			acct := models.Account{Name: "Acme"}
			if err := db.Create(&acct).Error; err != nil {
				t.Fatal(err)
			}
			s := New(db, WithSecrets(box), WithMetaGraph(tc.metaHost))
			c, err := s.CreateConnection(context.Background(), acct.ID, in("7700"+strconv.Itoa(i), tc.api))
			var ve *models.ValidationError
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.field == "" && c.API != tc.api:
				t.Errorf("stored api = %q, want %q", c.API, tc.api)
			case tc.field != "" && (!errors.As(err, &ve) || ve.Fields[tc.field] == ""):
				t.Fatalf("err = %v, want a message on %q", err, tc.field)
			}
		})
	}
	t.Run("the sandbox plays either API", func(t *testing.T) {
		db := database.OpenTest(t, Migrations())
		s := New(db, WithSecrets(box), WithMetaGraph(true))
		acct := models.Account{Name: "Demo"}
		if err := db.Create(&acct).Error; err != nil {
			t.Fatal(err)
		}
		sb := models.WABAConnection{AccountID: acct.ID, WABAID: "55500", TokenSealed: []byte("x"), API: models.APIMeta, Sandbox: true}
		if err := db.Create(&sb).Error; err != nil {
			t.Fatal(err)
		}
		_, after, err := s.UpdateConnection(context.Background(), models.Scope{AllAccounts: true}, sb.ID, ConnectionInput{WABAID: "55500", API: models.APIHibotGateway})
		if err != nil || after.API != models.APIHibotGateway {
			t.Fatalf("sandbox switch to the gateway: %v, api %q", err, after.API)
		}
	})
}
