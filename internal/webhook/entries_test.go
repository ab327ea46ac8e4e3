package webhook

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// entryWABAs must read the entry ids encoding/json reads, for the shapes Meta sends and for
// nasty ones, and never panic.
func TestEntryWABAs(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000)
	cases := []struct {
		name, body string
		want       []string
	}{
		{"one entry", `{"object":"whatsapp_business_account","entry":[{"id":"100","changes":[{"field":"messages","value":{"statuses":[{"id":"wamid.x"}]}}]}]}`, []string{"100"}},
		{"id after changes", `{"entry":[{"changes":[{"value":{"id":"nested"}}],"id":"100"}],"object":"x"}`, []string{"100"}},
		{"numeric id", `{"entry":[{"id":100,"time":1}]}`, []string{"100"}},
		{"several, repeated", `{"entry":[{"id":"1"},{"id":"2"},{"id":"1"},{"id":"3"}]}`, []string{"1", "2", "3"}},
		{"whitespace", " {\n \"entry\" : [ { \"id\" : \"7\" } ] }\n", []string{"7"}},
		{"escaped quotes in strings", `{"x":"a\"]}","entry":[{"note":"\\\"","id":"9"}]}`, []string{"9"}},
		{"entry not an array", `{"entry":"x"}`, nil},
		{"element not an object", `{"entry":[1,"a",null,{"id":"5"}]}`, []string{"5"}},
		{"null id", `{"entry":[{"id":null},{"id":"6"}]}`, []string{"6"}},
		{"no entry", `{"object":"x"}`, nil},
		{"truncated", `{"entry":[{"id":"1"},{"id":"2"`, nil},
		{"not JSON", `hello`, nil},
		{"empty", ``, nil},
		{"deep", deep, nil},
		{"deep inside an entry", `{"entry":[{"changes":` + strings.Repeat("[", 50000) + strings.Repeat("]", 50000) + `,"id":"8"}]}`, []string{"8"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := entryWABAs([]byte(c.body), 16)
			if !slices.Equal(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
			// Where encoding/json reads the body, both agree.
			var env struct {
				Entry []struct {
					ID flexString `json:"id"`
				} `json:"entry"`
			}
			if json.Unmarshal([]byte(c.body), &env) == nil {
				var ref []string
				for _, e := range env.Entry {
					if id := string(e.ID); id != "" && !slices.Contains(ref, id) {
						ref = append(ref, id)
					}
				}
				if !slices.Equal(got, ref) {
					t.Errorf("encoding/json reads %q, entryWABAs %q", ref, got)
				}
			}
		})
	}
	if got := entryWABAs([]byte(`{"entry":[{"id":"1"},{"id":"2"},{"id":"3"}]}`), 2); !slices.Equal(got, []string{"1", "2"}) {
		t.Errorf("max 2: %q", got)
	}
}
