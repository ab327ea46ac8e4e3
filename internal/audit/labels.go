package audit

import (
	"context"

	"mmconsole/internal/i18n"
)

// actionLabelKey is the catalog key of an action's display label. Actions are stored and
// filtered by their name (auth.sign_in); only the audit page shows them as words. The other
// areas' actions are listed by name here, since the audit page is where they are read. A
// switch, not a map: the table stays immutable.
func actionLabelKey(action string) string {
	switch action {
	case ActionSignIn:
		return i18n.Key("audit.action.sign_in")
	case ActionSignInFailed:
		return i18n.Key("audit.action.sign_in_failed")
	case ActionSignOut:
		return i18n.Key("audit.action.sign_out")
	case ActionPasswordChanged:
		return i18n.Key("audit.action.password_changed")
	case ActionLanguageChanged:
		return i18n.Key("audit.action.language_changed")
	case ActionSetupAdmin:
		return i18n.Key("audit.action.setup_admin")
	case ActionInviteAccepted:
		return i18n.Key("audit.action.invite_accepted")
	case ActionUserInvited:
		return i18n.Key("audit.action.user_invited")
	case ActionUserRoleChanged:
		return i18n.Key("audit.action.user_role_changed")
	case ActionUserDisabled:
		return i18n.Key("audit.action.user_disabled")
	case ActionUserEnabled:
		return i18n.Key("audit.action.user_enabled")
	case ActionAccountCreated:
		return i18n.Key("audit.action.account_created")
	case ActionConnectionAdded:
		return i18n.Key("audit.action.connection_added")
	case ActionConnectionChanged:
		return i18n.Key("audit.action.connection_changed")
	case ActionConnectionDeleted:
		return i18n.Key("audit.action.connection_deleted")
	case ActionConnectionTested:
		return i18n.Key("audit.action.connection_tested")
	case ActionConnectionSecretSet:
		return i18n.Key("audit.action.secret_set")
	case ActionConnectionSecretChanged:
		return i18n.Key("audit.action.secret_changed")
	case ActionConnectionSecretCleared:
		return i18n.Key("audit.action.secret_cleared")
	case ActionInsightsEnabled:
		return i18n.Key("audit.action.insights_enabled")
	case "template.create":
		return i18n.Key("audit.action.template_create")
	case "template.clone":
		return i18n.Key("audit.action.template_clone")
	case "template.edit":
		return i18n.Key("audit.action.template_edit")
	case "template.delete":
		return i18n.Key("audit.action.template_delete")
	case "template.ttl.edit":
		return i18n.Key("audit.action.template_ttl_edit")
	case "optimization.change":
		return i18n.Key("audit.action.optimization_change")
	case "send.test":
		return i18n.Key("audit.action.send_test")
	case "sandbox.trigger":
		return i18n.Key("audit.action.sandbox_trigger")
	}
	return ""
}

// ActionLabel is an action as the audit page names it, in the language of ctx; an action with
// no label (one a newer area added) reads as its stored name.
func ActionLabel(ctx context.Context, action string) string {
	if key := actionLabelKey(action); key != "" {
		return i18n.T(ctx, key)
	}
	return action
}
