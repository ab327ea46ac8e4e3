package webhook

import (
	"context"
	"strings"
	"time"

	"mmconsole/internal/i18n"
	"mmconsole/models"
)

// An event's detail is stored as the receiver writes it: a few fixed phrases of its own around
// what Meta sent (a button's text, a message, Meta's error details, category names). Stored
// rows keep that one form; DetailWords puts the receiver's phrases in the reader's language
// when the log shows them and leaves Meta's parts as Meta sent them.

// The receiver's own phrases in a stored detail, written by parse.go and effects.go from these
// constants so that DetailWords always recognises them.
const (
	phraseAttributed         = " · attributed: the only MM API message from this number in the window"
	phraseNotAttributedMany  = " · not attributed: several MM API messages were sent from this number in the last 7 days"
	phraseNotAttributedNone  = " · not attributed: no MM API message from this number in the last 7 days"
	phraseUnreadable         = "could not read: "
	phraseButton             = "button: "
	phraseButtonReply        = "button reply: "
	phraseListReply          = "list reply: "
	phraseReplyTo            = " (reply to "
	phraseClick              = "click on "
	phraseProduct            = " (product "
	phraseAnnounced          = " (announced)"
	phraseAnnouncedOn        = " on "
	phraseTemplateStatusNote = "reason "
)

// attributionKeys name each attribution phrase in the catalogs.
var attributionKeys = []struct{ phrase, key string }{
	{phraseAttributed, i18n.Key("webhook.detail.attributed")},
	{phraseNotAttributedMany, i18n.Key("webhook.detail.not_attributed_many")},
	{phraseNotAttributedNone, i18n.Key("webhook.detail.not_attributed_none")},
}

// DetailWords is an event's stored detail in the reader's language.
func DetailWords(ctx context.Context, kind, detail string) string {
	if detail == "" || i18n.LangCode(ctx) == "en" {
		return detail // stored in English already
	}
	tail := ""
	for _, a := range attributionKeys {
		if rest, ok := strings.CutSuffix(detail, a.phrase); ok {
			detail, tail = rest, " · "+i18n.T(ctx, a.key)
			break
		}
	}
	if rest, ok := strings.CutPrefix(detail, phraseUnreadable); ok {
		return i18n.T(ctx, "webhook.detail.unreadable", "Error", rest) + tail
	}
	switch kind {
	case models.KindMessage:
		reply := ""
		if i := strings.LastIndex(detail, phraseReplyTo); i >= 0 && strings.HasSuffix(detail, ")") {
			reply = " " + i18n.T(ctx, "webhook.detail.reply_to", "WAMID", detail[i+len(phraseReplyTo):len(detail)-1])
			detail = detail[:i]
		}
		switch {
		case strings.HasPrefix(detail, phraseButtonReply):
			detail = i18n.T(ctx, "webhook.detail.button_reply", "Text", strings.TrimPrefix(detail, phraseButtonReply))
		case strings.HasPrefix(detail, phraseListReply):
			detail = i18n.T(ctx, "webhook.detail.list_reply", "Text", strings.TrimPrefix(detail, phraseListReply))
		case strings.HasPrefix(detail, phraseButton):
			detail = i18n.T(ctx, "webhook.detail.button", "Text", strings.TrimPrefix(detail, phraseButton))
		}
		return strings.TrimSpace(detail+reply) + tail
	case models.KindClick:
		if rest, ok := strings.CutPrefix(detail, phraseClick); ok {
			if i := strings.Index(rest, phraseProduct); i >= 0 && strings.HasSuffix(rest, ")") {
				detail = i18n.T(ctx, "webhook.detail.click_product", "Component", rest[:i], "Product", rest[i+len(phraseProduct):len(rest)-1])
			} else {
				detail = i18n.T(ctx, "webhook.detail.click", "Component", rest)
			}
		}
		return detail + tail
	case models.KindTemplateCategory:
		change, when, _ := strings.Cut(detail, phraseAnnounced)
		if change == detail {
			return detail + tail
		}
		detail = i18n.T(ctx, "webhook.detail.announced", "Change", change)
		if at, ok := strings.CutPrefix(when, phraseAnnouncedOn); ok {
			if t, err := time.Parse(time.RFC3339, at); err == nil {
				detail += " " + i18n.T(ctx, "webhook.detail.announced_on", "When", i18n.DateTime(ctx, t))
			}
		}
		return detail + tail
	case models.KindTemplateStatus:
		if rest, ok := strings.CutPrefix(detail, phraseTemplateStatusNote); ok {
			reason, more, _ := strings.Cut(rest, "; ")
			detail = i18n.T(ctx, "webhook.detail.reason", "Reason", reason)
			if more != "" {
				detail += "; " + more
			}
		}
	}
	return detail + tail
}
