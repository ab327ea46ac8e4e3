package handlers

import (
	"context"
	"errors"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"mmconsole/internal/i18n"
	"mmconsole/internal/send"
	"mmconsole/models"
	"mmconsole/views/pages"
)

// SendService is what the test send pages need from internal/send.
type SendService interface {
	Compose(ctx context.Context, u models.User, in send.Input) (*send.Composer, error)
	Send(ctx context.Context, u models.User, in send.Input) (*send.Composer, error)
	Result(ctx context.Context, scope models.Scope, id uint) (*send.Result, error)
	History(ctx context.Context, scope models.Scope, f send.HistoryFilter) (*send.HistoryPage, error)
	Detail(ctx context.Context, scope models.Scope, id uint) (*send.Detail, error)
	SendToSaved(ctx context.Context, u models.User, in send.Input, ids []uint) ([]send.SavedResult, error)
	SavedRecipients(ctx context.Context, scope models.Scope, accountID uint, wabaID string) ([]send.SavedView, error)
	SaveRecipient(ctx context.Context, u models.User, in send.SavedInput) (*models.SavedRecipient, error)
	DeleteSavedRecipient(ctx context.Context, u models.User, id uint) error
}

// SendAccounts lists the accounts a staff member may save a recipient in.
type SendAccounts interface {
	Accounts(ctx context.Context) ([]models.Account, error)
}

// Send serves the test send composer (/send) and its history (/sends).
type Send struct {
	Shells   *Shells
	Service  SendService
	Accounts SendAccounts // for staff: the accounts to save a recipient in
}

// formValues returns the query (GET) or the posted form (POST) as url.Values.
func formValues(c *fiber.Ctx) url.Values {
	v := url.Values{}
	if c.Method() == fiber.MethodGet {
		c.Request().URI().QueryArgs().VisitAll(func(k, val []byte) { v.Add(string(k), string(val)) })
		return v
	}
	if mf, err := c.MultipartForm(); err == nil && mf != nil {
		for k, vals := range mf.Value {
			v[k] = append(v[k], vals...)
		}
		return v
	}
	c.Request().PostArgs().VisitAll(func(k, val []byte) { v.Add(string(k), string(val)) })
	return v
}

func signedIn(c *fiber.Ctx) (models.User, error) {
	u, ok := CurrentUser(c)
	if !ok {
		// The session middleware redirects anonymous users before this; without it, refuse.
		return u, models.ErrForbidden
	}
	return u, nil
}

// Page renders the composer; the template can be preselected with ?template=<row or Meta id>.
// An htmx request (a WABA or template change) gets only the composer region.
func (h *Send) Page(c *fiber.Ctx) error {
	u, err := signedIn(c)
	if err != nil {
		return err
	}
	comp, err := h.Service.Compose(c.UserContext(), u, send.InputFromValues(formValues(c)))
	if err != nil {
		return err
	}
	if IsHTMX(c) {
		return Render(c, fiber.StatusOK, pages.Composer(comp, CSRFToken(c)))
	}
	return Render(c, fiber.StatusOK, pages.SendPage(h.Shells.Shell(c, i18n.T(c.UserContext(), "send.title"), "send"), comp))
}

// Preview re-renders the live region (checks, preview bubble, request, button) for the form
// as typed. It never sends.
func (h *Send) Preview(c *fiber.Ctx) error {
	u, err := signedIn(c)
	if err != nil {
		return err
	}
	comp, err := h.Service.Compose(c.UserContext(), u, send.InputFromValues(formValues(c)))
	if err != nil {
		return err
	}
	return Render(c, fiber.StatusOK, pages.SendLive(comp))
}

// Post sends the test message. Blockers and Meta's refusals answer 422 with the form as typed
// and the reason (htmx swaps 422); an accepted send answers 200 with the live result panel.
func (h *Send) Post(c *fiber.Ctx) error {
	u, err := signedIn(c)
	if err != nil {
		return err
	}
	if !u.CanWrite() {
		return models.ErrForbidden
	}
	in := send.InputFromValues(formValues(c))
	if len(in.Saved) > 0 {
		return h.postToSaved(c, u, in)
	}
	comp, err := h.Service.Send(c.UserContext(), u, in)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if comp.Refused || (comp.Result != nil && comp.Result.Error != nil && !comp.Replayed) {
		status = fiber.StatusUnprocessableEntity
	}
	if IsHTMX(c) {
		return Render(c, status, pages.Composer(comp, CSRFToken(c)))
	}
	return Render(c, status, pages.SendPage(h.Shells.Shell(c, i18n.T(c.UserContext(), "send.title"), "send"), comp))
}

// Result is the polled result fragment of one test send.
func (h *Send) Result(c *fiber.Ctx) error {
	id, err := strconv.ParseUint(c.Params("id"), 10, 64)
	if err != nil {
		return models.ErrNotFound
	}
	r, err := h.Service.Result(c.UserContext(), CurrentScope(c), uint(id))
	if err != nil {
		return err
	}
	// A final result renders without its polling trigger, so swapping it in stops the polling.
	return Render(c, fiber.StatusOK, pages.SendResult(r))
}

// History lists the test sends of the account (every account for staff).
func (h *Send) History(c *fiber.Ctx) error {
	u, err := signedIn(c)
	if err != nil {
		return err
	}
	before, _ := strconv.ParseUint(c.Query("before"), 10, 64)
	p, err := h.Service.History(c.UserContext(), u.Scope(), send.HistoryFilter{
		Template: c.Query("template"), Recipient: c.Query("recipient"), User: c.Query("user"), Before: uint(before),
	})
	if err != nil {
		return err
	}
	return Render(c, fiber.StatusOK, pages.SendsPage(h.Shells.Shell(c, i18n.T(c.UserContext(), "send.history.title"), "sends"), p, u.CanWrite()))
}

// Show is one test send's own page: what was asked, Meta's answer (for a refused send, its
// error and what it means) and a way to send it again with the same settings.
func (h *Send) Show(c *fiber.Ctx) error {
	u, id, err := signedInWithID(c)
	if err != nil {
		return err
	}
	d, err := h.Service.Detail(c.UserContext(), u.Scope(), id)
	if err != nil {
		return err
	}
	return Render(c, fiber.StatusOK, pages.SendDetailPage(h.Shells.Shell(c, i18n.T(c.UserContext(), "send.title"), "sends"), d, prettyJSON(d.Send.RequestJSON), prettyJSON(d.Send.ResponseJSON), u.CanWrite()))
}

// postToSaved sends the composed test to the chosen saved recipients, each as its own send, and
// shows one result per recipient. When the form itself cannot be sent (blockers other than a
// recipient's own), nothing is sent and the form comes back with the reasons (422).
func (h *Send) postToSaved(c *fiber.Ctx, u models.User, in send.Input) error {
	comp, err := h.Service.Compose(c.UserContext(), u, in)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if comp.Blocked() {
		comp.Refused, comp.ShowErrors = true, true
		status = fiber.StatusUnprocessableEntity
	} else {
		results, err := h.Service.SendToSaved(c.UserContext(), u, in, in.Saved)
		var ve *models.ValidationError
		if errors.As(err, &ve) {
			comp.Refused, comp.ShowErrors = true, true
			comp.Errors = ve.Fields
			status = fiber.StatusUnprocessableEntity
		} else if err != nil {
			return err
		}
		comp.SavedResults = results
		if !send.AnySent(results) {
			status = fiber.StatusUnprocessableEntity
		}
	}
	if IsHTMX(c) {
		return Render(c, status, pages.Composer(comp, CSRFToken(c)))
	}
	return Render(c, status, pages.SendPage(h.Shells.Shell(c, i18n.T(c.UserContext(), "send.title"), "send"), comp))
}

// Recipients lists the saved test recipients, with the form that adds one for writers.
func (h *Send) Recipients(c *fiber.Ctx) error {
	return h.recipientsPage(c, fiber.StatusOK, pages.SavedForm{})
}

func (h *Send) recipientsPage(c *fiber.Ctx, status int, form pages.SavedForm) error {
	u, err := signedIn(c)
	if err != nil {
		return err
	}
	list, err := h.Service.SavedRecipients(c.UserContext(), u.Scope(), 0, "")
	if err != nil {
		return err
	}
	p := pages.SavedRecipientsPage{List: list, CanWrite: u.CanWrite(), Staff: u.Staff, Form: form, Max: send.MaxSavedPerAccount, MaxName: send.MaxSavedNameLen}
	if u.Staff && u.CanWrite() && h.Accounts != nil {
		if p.Accounts, err = h.Accounts.Accounts(c.UserContext()); err != nil {
			return err
		}
	}
	return Render(c, status, pages.SavedRecipients(h.Shells.Shell(c, i18n.T(c.UserContext(), "send.recipients.title"), "send"), p))
}

// SaveRecipient adds a saved recipient; a refused form comes back with its messages (422).
func (h *Send) SaveRecipient(c *fiber.Ctx) error {
	u, err := signedIn(c)
	if err != nil {
		return err
	}
	acc, _ := strconv.ParseUint(c.FormValue("account"), 10, 64)
	in := send.SavedInput{AccountID: uint(acc), Name: c.FormValue("name"), Number: c.FormValue("number")}
	r, err := h.Service.SaveRecipient(c.UserContext(), u, in)
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		return h.recipientsPage(c, fiber.StatusUnprocessableEntity, pages.SavedForm{Account: in.AccountID, Name: in.Name, Number: in.Number, Errors: ve.Fields})
	}
	if err != nil {
		return err
	}
	Flash(c, "success", i18n.T(c.UserContext(), "send.recipients.saved", "Name", r.Name, "Number", "+"+r.Recipient))
	return Redirect(c, "/send/recipients")
}

// DeleteRecipient removes a saved recipient.
func (h *Send) DeleteRecipient(c *fiber.Ctx) error {
	u, id, err := signedInWithID(c)
	if err != nil {
		return err
	}
	if err := h.Service.DeleteSavedRecipient(c.UserContext(), u, id); err != nil {
		return err
	}
	Flash(c, "success", i18n.T(c.UserContext(), "send.recipients.deleted"))
	return Redirect(c, "/send/recipients")
}

// signedInWithID is the signed-in user and the :id of the path (not found when it is no id).
func signedInWithID(c *fiber.Ctx) (models.User, uint, error) {
	u, err := signedIn(c)
	if err != nil {
		return u, 0, err
	}
	id, err := strconv.ParseUint(c.Params("id"), 10, 64)
	if err != nil {
		return u, 0, models.ErrNotFound
	}
	return u, uint(id), nil
}
