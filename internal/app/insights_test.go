package app

import (
	"encoding/csv"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"mmconsole/internal/insights"
	"mmconsole/models"
)

// storePoints gives account A's template daily points: 30 days, 1000 sent a day, 40 clicked.
func (f *fixture) storePoints(acct uint, conn models.WABAConnection, tmpl string, sent int64) {
	f.t.Helper()
	today := insights.Day(*f.now)
	for i := range 30 {
		p := models.InsightPoint{AccountID: acct, ConnectionID: conn.ID, WABAID: conn.WABAID, TemplateID: tmpl,
			Day: today.Add(-time.Duration(i) * 24 * time.Hour), Product: models.ProductMMAPI,
			Sent: sent, Delivered: sent * 9 / 10, Read: sent / 2, Clicked: sent / 25, Cost: 5, HasCost: true, FetchedAt: *f.now}
		if err := f.a.DB().Create(&p).Error; err != nil {
			f.t.Fatal(err)
		}
	}
}

// The overview shows the stored numbers of the viewer's own WABAs only; its CSV is the daily
// chart's numbers, row for row; a bad period is a clear 400.
func TestOverviewScopedWithCSVMatchingTheChart(t *testing.T) {
	f := newFixture(t)
	connB := models.WABAConnection{AccountID: f.accB.ID, WABAID: "654321", Name: "Other", TokenSealed: []byte("x"), API: models.APIMeta}
	if err := f.a.DB().Create(&connB).Error; err != nil {
		t.Fatal(err)
	}
	f.storePoints(f.accA.ID, f.connA, stubTemplateID, 1000)
	f.storePoints(f.accB.ID, connB, "777000111", 3333)

	_, body := f.get("viewer", "/?period=7")
	if !strings.Contains(body, "7,000") || strings.Contains(body, "23,331") || strings.Contains(body, "654321") {
		t.Errorf("viewer's overview: want 7,000 sent of A only")
	}
	if !strings.Contains(body, "acme_sale") || !strings.Contains(body, "4.4%") {
		i := strings.Index(body, "rank-h")
		t.Errorf("overview does not rank acme_sale with its 4.4%% click rate: %s", body[i:min(len(body), i+1500)])
	}
	if !strings.Contains(body, "/static/charts.js?v=") {
		t.Error("overview does not load the chart library")
	}
	_, staff := f.get("staff-viewer", "/?period=7")
	if !strings.Contains(staff, "30,331") {
		t.Error("staff's overview does not sum every account (7,000 + 23,331)")
	}

	// The chart's JSON, its table and the CSV carry the same numbers.
	resp, csvBody := f.get("viewer", "/insights/daily.csv?period=7")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV answered %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(csvBody)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 8 || strings.Join(rows[0], ",") != "Day,Sent,Delivered,Read,Clicked" {
		t.Fatalf("CSV rows = %v", rows)
	}
	start := strings.Index(body, `id="overview-daily-data">`)
	if start < 0 {
		t.Fatal("no chart data in the page")
	}
	raw := body[start+len(`id="overview-daily-data">`):]
	raw = raw[:strings.Index(raw, "</script>")]
	var chart struct {
		X      []int64 `json:"x"`
		Series []struct {
			Label  string  `json:"label"`
			Values []int64 `json:"values"`
		} `json:"series"`
	}
	if err := json.Unmarshal([]byte(raw), &chart); err != nil {
		t.Fatalf("chart data %q: %v", raw, err)
	}
	for i, r := range rows[1:] {
		if time.Unix(chart.X[i], 0).UTC().Format(time.DateOnly) != r[0] {
			t.Errorf("row %d: CSV day %s, chart %d", i, r[0], chart.X[i])
		}
		for j, s := range chart.Series {
			if strconv.FormatInt(s.Values[i], 10) != r[j+1] || s.Label != rows[0][j+1] {
				t.Errorf("row %d %s: CSV %s, chart %d", i, s.Label, r[j+1], s.Values[i])
			}
			if !strings.Contains(body, "<td>"+r[j+1]+"</td>") {
				t.Errorf("the accessible table lacks %s", r[j+1])
			}
		}
	}
	if resp, _ := f.get("viewer", "/?period=12"); resp.StatusCode != 400 {
		t.Errorf("period=12 answered %d, want 400", resp.StatusCode)
	}
	if resp, _ := f.get("viewer", "/?period=custom&from=2020-01-01&to=2020-01-05"); resp.StatusCode != 400 {
		t.Errorf("a custom period beyond 90 days answered %d, want 400", resp.StatusCode)
	}

	// The template page has its insights section and export.
	_, tp := f.get("viewer", "/templates/"+stubTemplateID+"?period=7")
	if !strings.Contains(tp, `id="ins-h"`) || !strings.Contains(tp, "template-daily-data") {
		t.Error("template page has no insights section")
	}
	if resp, c := f.get("viewer", "/templates/"+stubTemplateID+"/insights.csv?period=7"); resp.StatusCode != 200 || !strings.Contains(c, ",1000,900,500,40") {
		t.Errorf("template CSV %d: %q", resp.StatusCode, c)
	}
	if resp, _ := f.get("other-admin", "/templates/"+stubTemplateID+"/insights.csv"); resp.StatusCode != 404 {
		t.Errorf("another account's template CSV answered %d, want 404", resp.StatusCode)
	}
	connA := strconv.FormatUint(uint64(f.connA.ID), 10)
	for _, path := range []string{"/?conn=" + connA, "/insights/daily.csv?conn=" + connA, "/?conn=999999"} {
		if resp, _ := f.get("other-admin", path); resp.StatusCode != 404 {
			t.Errorf("another account's %s answered %d, want 404", path, resp.StatusCode)
		}
	}
	if resp, _ := f.get("viewer", "/?conn="+connA); resp.StatusCode != 200 {
		t.Errorf("the account's own connection answered %d, want 200", resp.StatusCode)
	}
}

// Enabling insights is an admin action that needs the "irreversible" confirmation; a viewer is
// refused, and another account's connection is not found.
func TestEnableInsightsNeedsAdminAndConfirmation(t *testing.T) {
	f := newFixture(t)
	path := "/insights/connections/" + strconv.FormatUint(uint64(f.connA.ID), 10) + "/enable"
	if resp, _ := f.post("viewer", path, url.Values{"_csrf": {f.csrf["viewer"]}, "confirm": {"irreversible"}}); resp.StatusCode != 403 {
		t.Errorf("viewer answered %d, want 403", resp.StatusCode)
	}
	if resp, _ := f.post("other-admin", path, url.Values{"_csrf": {f.csrf["other-admin"]}, "confirm": {"irreversible"}}); resp.StatusCode != 404 {
		t.Errorf("another account's admin answered %d, want 404", resp.StatusCode)
	}
	if resp, _ := f.post("admin", path, url.Values{"confirm": {"irreversible"}}); resp.StatusCode != 403 {
		t.Errorf("without CSRF answered %d, want 403", resp.StatusCode)
	}
	var n int64
	f.post("admin", path, url.Values{"_csrf": {f.csrf["admin"]}})
	f.a.DB().Model(&models.AuditEntry{}).Where("action = ?", "connection.insights_enabled").Count(&n)
	if n != 0 {
		t.Error("an unconfirmed enable was audited as done")
	}
	resp, _ := f.post("admin", path, url.Values{"_csrf": {f.csrf["admin"]}, "confirm": {"irreversible"}})
	if resp.StatusCode != 303 {
		t.Errorf("confirmed enable answered %d, want 303", resp.StatusCode)
	}
	f.a.DB().Model(&models.AuditEntry{}).Where("action = ?", "connection.insights_enabled").Count(&n)
	if n != 1 {
		t.Errorf("%d audit entries for the enable, want 1", n)
	}
}

// The overview and a template's insights speak Spanish and Portuguese: headings, table headers,
// the chart's legend labels, numbers and rates in the language's own form, and a refused period;
// the CSV export keeps its English column names.
func TestInsightsPagesInSpanishAndPortuguese(t *testing.T) {
	f := newFixture(t)
	f.storePoints(f.accA.ID, f.connA, stubTemplateID, 1000)
	get := func(lang, path string) (int, string) {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Accept", "text/html")
		req.Header.Set("Accept-Language", lang)
		req.AddCookie(f.sessions["viewer"])
		resp, body := do(t, f.a, req)
		return resp.StatusCode, body
	}
	english := []string{"How fresh the numbers are", "Click rate by template", "Download these numbers", "Totals (Meta", `"label":"Sent"`,
		"Rates: delivered per sent", "Funnel", "Optimization impact", "vs previous period"}
	for _, tc := range []struct {
		lang                  string
		overview, tmpl, error []string
	}{
		{"es", []string{`lang="es"`, "<title>Resumen · MM Console</title>", "Qué tan recientes son las cifras", "Tasa de clics por plantilla",
			"Descargar estas cifras (CSV)", `"label":"Enviados"`, `"xLabel":"Día"`, "<th scope=\"col\">Entregados</th>", "4,4\u00a0%", "7.000"},
			[]string{"Embudo", "Impacto de las optimizaciones", "Enviados, entregados, leídos y con clic por día de acme_sale"},
			[]string{"Periodo no válido", "elige 7, 30, 90"}},
		{"pt-BR", []string{`lang="pt-BR"`, "<title>Visão geral · MM Console</title>", "Quão recentes são os números", "Taxa de cliques por modelo",
			"Baixar estes números (CSV)", `"label":"Enviados"`, `"xLabel":"Dia"`, "<th scope=\"col\">Entregues</th>", "4,4%", "7.000"},
			[]string{"Funil", "Impacto das otimizações", "Enviados, entregues, lidos e clicados por dia de acme_sale"},
			[]string{"Período não reconhecido", "escolha 7, 30, 90"}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			st, body := get(tc.lang, "/?period=7")
			_, tp := get(tc.lang, "/templates/"+stubTemplateID+"?period=7")
			for _, c := range []struct {
				page, body string
				want       []string
			}{{"overview", body, tc.overview}, {"template", tp, tc.tmpl}} {
				for _, w := range c.want {
					if !strings.Contains(c.body, w) {
						i := strings.Index(c.body, "<main")
						t.Errorf("%s (%d) lacks %q: %.2500s", c.page, st, w, c.body[max(0, i):])
					}
				}
				for _, e := range english {
					if strings.Contains(c.body, e) {
						t.Errorf("%s still says %q in English", c.page, e)
					}
				}
			}
			st, bad := get(tc.lang, "/?period=12")
			for _, w := range tc.error {
				if st != 400 || !strings.Contains(bad, w) {
					t.Errorf("period=12: %d, want 400 with %q", st, w)
				}
			}
			_, csvBody := get(tc.lang, "/insights/daily.csv?period=7")
			if !strings.HasPrefix(csvBody, "Day,Sent,Delivered,Read,Clicked\n") {
				t.Errorf("the CSV header is not the English column names: %.80q", csvBody)
			}
		})
	}
}
