package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"mmconsole/internal/graph"
	"mmconsole/internal/i18n"
	"mmconsole/models"
	"mmconsole/views/layout"
	"mmconsole/views/pages"
)

// ErrorView turns an error into what a person sees: a status, a title and a message.
type ErrorView struct {
	Status  int
	Title   string
	Message string
}

// Classify maps the typed errors every layer returns to a status and words. Unknown errors are
// 500s whose detail goes to the log, not the page.
func Classify(ctx context.Context, err error) ErrorView {
	var fe *fiber.Error
	var ve *models.ValidationError
	var explained interface {
		UserFacing(ctx context.Context) (int, string, string)
	}
	if ge, ok := graph.AsGraphError(err); ok {
		return graphErrorView(ctx, ge)
	}
	switch {
	case errors.Is(err, models.ErrNotFound):
		return ErrorView{http.StatusNotFound, i18n.T(ctx, "errors.not_found.title"), i18n.T(ctx, "errors.not_found.message")}
	case errors.Is(err, models.ErrForbidden):
		return ErrorView{http.StatusForbidden, i18n.T(ctx, "errors.forbidden.title"), i18n.T(ctx, "errors.forbidden.message")}
	case errors.As(err, &ve):
		return ErrorView{http.StatusUnprocessableEntity, i18n.T(ctx, "errors.invalid.title"), ve.Messages()}
	case errors.As(err, &explained):
		st, title, msg := explained.UserFacing(ctx)
		return ErrorView{st, title, msg}
	case errors.As(err, &fe):
		switch fe.Code {
		case http.StatusNotFound:
			return ErrorView{fe.Code, i18n.T(ctx, "errors.no_page.title"), i18n.T(ctx, "errors.no_page.message")}
		case http.StatusMethodNotAllowed:
			return ErrorView{fe.Code, i18n.T(ctx, "errors.method.title"), i18n.T(ctx, "errors.method.message")}
		case http.StatusRequestEntityTooLarge:
			return ErrorView{fe.Code, i18n.T(ctx, "errors.too_large.title"), i18n.T(ctx, "errors.too_large.message")}
		case http.StatusForbidden:
			return ErrorView{fe.Code, i18n.T(ctx, "errors.forbidden.title"), fe.Message}
		}
		if fe.Code < 500 {
			return ErrorView{fe.Code, http.StatusText(fe.Code), fe.Message}
		}
	}
	return ErrorView{http.StatusInternalServerError, i18n.T(ctx, "errors.internal.title"), i18n.T(ctx, "errors.internal.message")}
}

// ErrorHandler is the one place errors become responses: a full page for normal requests, a
// toast fragment (retargeted to the toast area) for htmx requests, plain text for non-HTML
// clients such as Meta's webhook deliveries.
func ErrorHandler(shells *Shells) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		v := Classify(c.UserContext(), err)
		if v.Status >= 500 {
			Log(c).Error("request failed", "err", err, "status", v.Status)
		}
		if IsHTMX(c) {
			c.Set("HX-Retarget", "#toasts")
			c.Set("HX-Reswap", "beforeend")
			msg := v.Title + ": " + v.Message
			if v.Status >= 500 && RequestID(c) != "" {
				msg += " " + i18n.T(c.UserContext(), "errors.request_suffix", "ID", RequestID(c))
			}
			return Render(c, v.Status, layout.Toast(layout.Flash{Kind: "error", Message: msg}))
		}
		if !acceptsHTML(c) {
			return c.Status(v.Status).SendString(v.Title + ": " + v.Message)
		}
		title := v.Title
		return Render(c, v.Status, pages.Error(shells.Shell(c, title, ""), pages.ErrorPage{
			Status: v.Status, Title: v.Title, Message: v.Message, RequestID: RequestID(c),
		}))
	}
}

func acceptsHTML(c *fiber.Ctx) bool {
	a := c.Get(fiber.HeaderAccept)
	return a == "" || c.Accepts("text/html") != "" && c.Accepts("text/html", "application/json") == "text/html"
}

// graphErrorView shows a Graph API error as Meta's code with its meaning and what to do, never
// as a bare "something went wrong". It answers 502: the dashboard is fine, Meta said no.
func graphErrorView(ctx context.Context, ge *graph.GraphError) ErrorView {
	x := ge.Explain(ctx)
	title := i18n.T(ctx, "errors.meta.title")
	if ge.Code != 0 {
		title = i18n.T(ctx, "errors.meta.code_title", "Code", ge.Code, "Title", x.Title)
	}
	msg := x.Meaning + " " + x.Action
	if ge.Code == 0 {
		msg = ge.Error()
	} else if ge.Details != "" {
		msg = "“" + ge.Details + "” " + msg
	}
	if ge.FBTraceID != "" {
		msg += " (fbtrace_id " + ge.FBTraceID + ")" // Meta's token, as support quotes it
	}
	return ErrorView{http.StatusBadGateway, title, msg}
}
