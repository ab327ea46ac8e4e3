package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"mmconsole/internal/graph"
	"mmconsole/models"
)

func TestClassify(t *testing.T) {
	ve := &models.ValidationError{}
	ve.Add("ttl", "between 12 hours and 30 days")
	cases := []struct {
		name   string
		err    error
		status int
		words  string
	}{
		{"not found", fmt.Errorf("templates: %w", models.ErrNotFound), 404, "Not found"},
		{"forbidden", models.ErrForbidden, 403, "Not allowed"},
		{"validation", ve, 422, "between 12 hours and 30 days"},
		{"fiber 404", fiber.ErrNotFound, 404, "Page not found"},
		{"graph error", fmt.Errorf("send: %w", &graph.GraphError{Code: 134101, Message: "(#134101) Your template is still syncing", FBTraceID: "Ab1"}), 502, "10 minutes"},
		{"unknown", errors.New("disk on fire"), 500, "Something went wrong"},
	}
	for _, tc := range cases {
		v := Classify(context.Background(), tc.err)
		if v.Status != tc.status || !strings.Contains(v.Title+" "+v.Message, tc.words) {
			t.Errorf("%s: got %d %q %q", tc.name, v.Status, v.Title, v.Message)
		}
	}
	if v := Classify(context.Background(), errors.New("secret detail")); strings.Contains(v.Message, "secret detail") {
		t.Error("an unknown error's detail must not reach the page")
	}
	if v := Classify(context.Background(), &graph.GraphError{Code: 134101, FBTraceID: "Ab1"}); !strings.Contains(v.Title, "134101") || !strings.Contains(v.Message, "Ab1") || v.Status != http.StatusBadGateway {
		t.Errorf("graph errors show their code and trace id: %+v", v)
	}
}
