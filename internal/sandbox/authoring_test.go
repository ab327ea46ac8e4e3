package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"mmconsole/internal/graph"
	"mmconsole/internal/metarules"
	"mmconsole/internal/sandbox"
)

func body(text string, ex ...string) graph.TemplateComponent {
	c := graph.TemplateComponent{Type: "BODY", Text: text}
	if len(ex) > 0 {
		b, _ := json.Marshal(map[string]any{"body_text": [][]string{ex}})
		c.Example = b
	}
	return c
}

// TestCreateRefusedLikeMeta: the sandbox refuses a create request that breaks one of Meta's
// authoring rules with code 100, the rule's subcode and the field in the details, and creates
// nothing.
func TestCreateRefusedLikeMeta(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	ok := body("Our sale ends {{1}}, see you.", "Sunday")
	cases := []struct {
		name    string
		req     graph.TemplateCreate
		subcode int
		field   string
	}{
		{"invalid name", graph.TemplateCreate{Name: "Summer Sale", Language: "en_US", Category: "MARKETING", Components: []graph.TemplateComponent{ok}}, 0, ""},
		{"unknown language", graph.TemplateCreate{Name: "a1", Language: "en_XX", Category: "MARKETING", Components: []graph.TemplateComponent{ok}}, 0, ""},
		{"variable without example", graph.TemplateCreate{Name: "a2", Language: "en_US", Category: "MARKETING", Components: []graph.TemplateComponent{body("Sale ends {{1}} today")}}, metarules.SubcodeMissingExample, metarules.FieldBodyExamples},
		{"variables out of order", graph.TemplateCreate{Name: "a3", Language: "en_US", Category: "MARKETING", Components: []graph.TemplateComponent{body("A {{2}} b {{1}} c", "x", "y")}}, metarules.SubcodeBodyFormat, metarules.FieldBody},
		{"body ends with a variable", graph.TemplateCreate{Name: "a4", Language: "en_US", Category: "MARKETING", Components: []graph.TemplateComponent{body("Sale {{1}}", "x")}}, metarules.SubcodeBodyFormat, metarules.FieldBody},
		{"body too long", graph.TemplateCreate{Name: "a5", Language: "en_US", Category: "MARKETING", Components: []graph.TemplateComponent{body(strings.Repeat("b", 1025))}}, metarules.SubcodeTooLong, metarules.FieldBody},
		{"image header without sample", graph.TemplateCreate{Name: "a6", Language: "en_US", Category: "MARKETING", Components: []graph.TemplateComponent{{Type: "HEADER", Format: "IMAGE"}, ok}}, metarules.SubcodeMissingExample, metarules.FieldHeaderSample},
		{"three URL buttons", graph.TemplateCreate{Name: "a7", Language: "en_US", Category: "MARKETING", Components: []graph.TemplateComponent{ok, {Type: "BUTTONS", Buttons: []graph.TemplateButton{
			{Type: "URL", Text: "a", URL: "https://x.example"}, {Type: "URL", Text: "b", URL: "https://x.example"}, {Type: "URL", Text: "c", URL: "https://x.example"}}}}}, metarules.SubcodeButtons, metarules.FieldButtons},
		{"no body", graph.TemplateCreate{Name: "a8", Language: "en_US", Category: "MARKETING", Components: []graph.TemplateComponent{{Type: "FOOTER", Text: "bye"}}}, 0, ""},
	}
	for _, c := range cases {
		_, err := e.c.CreateTemplate(ctx, e.store.Token, e.store.ID, c.req)
		ge, _ := graph.AsGraphError(err)
		if ge == nil || ge.Code != 100 || ge.Subcode != c.subcode || !strings.HasPrefix(ge.Details, c.field) {
			t.Errorf("%s: %v (subcode %v), want 100/%d on %q", c.name, err, ge, c.subcode, c.field)
		}
	}
	list, _ := e.c.ListAllTemplates(ctx, e.store.Token, e.store.ID, graph.TemplateQuery{Name: "a"})
	for _, tp := range list {
		if len(tp.Name) == 2 {
			t.Errorf("refused template %s was created", tp.Name)
		}
	}
}

// TestReviewRejectsByPrefixWithReason: a name starting with reject_ is rejected at review, with
// the reason the name gives, in the status webhook and on the template.
func TestReviewRejectsByPrefixWithReason(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	created, err := e.c.CreateTemplate(ctx, e.store.Token, e.store.ID, graph.TemplateCreate{
		Name: "reject_promotional_flash", Language: "en_US", Category: "MARKETING", Components: []graph.TemplateComponent{body("Hello there")}})
	if err != nil {
		t.Fatal(err)
	}
	ev := e.waitFor(t, func(ev []map[string]any) bool { return len(ev) >= 2 })
	if ev[1]["status"] != "template:REJECTED" || ev[1]["reason"] != "PROMOTIONAL" {
		t.Fatalf("review webhook %v, want REJECTED PROMOTIONAL", ev[1])
	}
	if ri, _ := ev[1]["rejection_info"].(map[string]any); ri["reason"] != "PROMOTIONAL" {
		t.Errorf("rejection_info %v", ev[1]["rejection_info"])
	}
	tp, err := e.c.GetTemplate(ctx, e.store.Token, created.ID)
	if err != nil || tp.Status != "REJECTED" || tp.RejectedReason != "PROMOTIONAL" {
		t.Fatalf("template after review %+v %v", tp, err)
	}
}

// TestDeleteByNameOrID: DELETE by name removes every language, with hsm_id only that one; each
// removal is announced as DELETED; an unknown name is refused.
func TestDeleteByNameOrID(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	es := e.tmplID(t, e.store, "summer_sale", "es_MX")
	if err := e.c.DeleteTemplate(ctx, e.store.Token, e.store.ID, "summer_sale", es); err != nil {
		t.Fatal(err)
	}
	left, _ := e.c.ListAllTemplates(ctx, e.store.Token, e.store.ID, graph.TemplateQuery{Name: "summer_sale"})
	if len(left) != 1 || left[0].Language != "en_US" {
		t.Fatalf("after deleting es_MX by id: %+v", left)
	}
	if err := e.c.DeleteTemplate(ctx, e.store.Token, e.store.ID, "summer_sale", ""); err != nil {
		t.Fatal(err)
	}
	if left, _ := e.c.ListAllTemplates(ctx, e.store.Token, e.store.ID, graph.TemplateQuery{Name: "summer_sale"}); len(left) != 0 {
		t.Fatalf("after deleting the name: %+v", left)
	}
	ev := e.waitFor(t, func(ev []map[string]any) bool { return len(ev) >= 2 })
	for _, x := range ev[:2] {
		if x["status"] != "template:DELETED" {
			t.Errorf("delete webhook %v", x)
		}
	}
	if err := e.c.DeleteTemplate(ctx, e.store.Token, e.store.ID, "summer_sale", ""); codeOf(err) != 100 {
		t.Errorf("deleting a name that no longer exists: %v", err)
	}
	// Another WABA's token cannot delete this WABA's templates.
	if err := e.c.DeleteTemplate(ctx, e.pharm.Token, e.store.ID, "winter_clearance", ""); codeOf(err) != 100 {
		t.Errorf("delete with another WABA's token: %v", err)
	}
}

func TestOffsetClockMovesForward(t *testing.T) {
	var c sandbox.OffsetClock
	before := c.Now()
	c.Advance(10 * 60 * 1e9)
	if d := c.Now().Sub(before); d < 10*60*1e9 {
		t.Errorf("advanced clock moved %s", d)
	}
}

// TestRejectPendingTemplateWithAChosenReason: the trigger ends a pending review with the reason
// chosen, in the status webhook and on the template; the scheduled approval then does nothing;
// a template not in review, an unknown reason or another WABA's template is refused.
func TestRejectPendingTemplateWithAChosenReason(t *testing.T) {
	e := newEnv(t, func(o *sandbox.Options) { o.ApproveAfter = 300 * time.Millisecond })
	ctx := context.Background()
	created, err := e.c.CreateTemplate(ctx, e.store.Token, e.store.ID, graph.TemplateCreate{
		Name: "flash_sale", Language: "en_US", Category: "MARKETING", Components: []graph.TemplateComponent{body("Hello there")}})
	if err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"unknown reason":   e.sb.RejectTemplate(e.store.ID, created.ID, "TOO_LOUD"),
		"other WABA":       e.sb.RejectTemplate(e.pharm.ID, created.ID, "SCAM"),
		"approved already": e.sb.RejectTemplate(e.store.ID, e.tmplID(t, e.store, "summer_sale", "en_US"), "SCAM"),
	} {
		if !errors.Is(err, sandbox.ErrTrigger) {
			t.Errorf("%s: %v, want ErrTrigger", name, err)
		}
	}
	if err := e.sb.RejectTemplate(e.store.ID, created.ID, "tag_content_mismatch"); err != nil {
		t.Fatal(err)
	}
	ev := e.waitFor(t, func(ev []map[string]any) bool { return len(ev) >= 2 })
	if ev[1]["status"] != "template:REJECTED" || ev[1]["reason"] != "TAG_CONTENT_MISMATCH" {
		t.Fatalf("review webhook %v, want REJECTED TAG_CONTENT_MISMATCH", ev[1])
	}
	if ri, _ := ev[1]["rejection_info"].(map[string]any); ri["reason"] != "TAG_CONTENT_MISMATCH" {
		t.Errorf("rejection_info %v", ev[1]["rejection_info"])
	}
	// Past the approval delay the template is still rejected and no APPROVED webhook came.
	time.Sleep(600 * time.Millisecond)
	tp, err := e.c.GetTemplate(ctx, e.store.Token, created.ID)
	if err != nil || tp.Status != "REJECTED" || tp.RejectedReason != "TAG_CONTENT_MISMATCH" {
		t.Fatalf("template after the rejection %+v %v", tp, err)
	}
	for _, x := range e.hook.events() {
		if x["status"] == "template:APPROVED" {
			t.Errorf("approved after it was rejected: %v", x)
		}
	}
	if err := e.sb.RejectTemplate(e.store.ID, created.ID, "SCAM"); !errors.Is(err, sandbox.ErrTrigger) {
		t.Errorf("rejecting twice: %v, want ErrTrigger", err)
	}
}
