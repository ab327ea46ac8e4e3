package handlers

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"mmconsole/internal/graph"
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
func Classify(err error) ErrorView {
	var fe *fiber.Error
	var ve *models.ValidationError
	var explained interface{ UserFacing() (int, string, string) }
	if ge, ok := graph.AsGraphError(err); ok {
		return graphErrorView(ge)
	}
	switch {
	case errors.Is(err, models.ErrNotFound):
		return ErrorView{http.StatusNotFound, "Not found", "There is nothing here, or you do not have access to it."}
	case errors.Is(err, models.ErrForbidden):
		return ErrorView{http.StatusForbidden, "Not allowed", "Your role does not allow this. Ask an admin of your account."}
	case errors.As(err, &ve):
		return ErrorView{http.StatusUnprocessableEntity, "Check the form", ve.Messages()}
	case errors.As(err, &explained):
		st, title, msg := explained.UserFacing()
		return ErrorView{st, title, msg}
	case errors.As(err, &fe):
		switch fe.Code {
		case http.StatusNotFound:
			return ErrorView{fe.Code, "Page not found", "There is no page at this address."}
		case http.StatusMethodNotAllowed:
			return ErrorView{fe.Code, "Method not allowed", "This address does not accept that kind of request."}
		case http.StatusRequestEntityTooLarge:
			return ErrorView{fe.Code, "Too large", "The request body is larger than allowed."}
		case http.StatusForbidden:
			return ErrorView{fe.Code, "Not allowed", fe.Message}
		}
		if fe.Code < 500 {
			return ErrorView{fe.Code, http.StatusText(fe.Code), fe.Message}
		}
	}
	return ErrorView{http.StatusInternalServerError, "Something went wrong on our side", "The error was logged. Try again; if it persists, give support the request ID below."}
}

// ErrorHandler is the one place errors become responses: a full page for normal requests, a
// toast fragment (retargeted to the toast area) for htmx requests, plain text for non-HTML
// clients such as Meta's webhook deliveries.
func ErrorHandler(shells *Shells) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		v := Classify(err)
		if v.Status >= 500 {
			Log(c).Error("request failed", "err", err, "status", v.Status)
		}
		if IsHTMX(c) {
			c.Set("HX-Retarget", "#toasts")
			c.Set("HX-Reswap", "beforeend")
			msg := v.Title + ": " + v.Message
			if v.Status >= 500 && RequestID(c) != "" {
				msg += " (request " + RequestID(c) + ")"
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
func graphErrorView(ge *graph.GraphError) ErrorView {
	x := ge.Explain()
	title := "Meta answered with an error"
	if ge.Code != 0 {
		title = fmt.Sprintf("Meta error %d: %s", ge.Code, x.Title)
	}
	msg := x.Meaning + " " + x.Action
	if ge.Code == 0 {
		msg = ge.Error()
	} else if ge.Details != "" {
		msg = "“" + ge.Details + "” " + msg
	}
	if ge.FBTraceID != "" {
		msg += " (fbtrace_id " + ge.FBTraceID + ")"
	}
	return ErrorView{http.StatusBadGateway, title, msg}
}
