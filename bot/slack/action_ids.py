"""The ids Slack sends back when a button is pressed, a menu chosen or a modal submitted.

A view puts them on its elements and a listener registers for them: both import them
from here, so they cannot drift apart. The values are a contract with messages already
posted in Slack (a card from last week still carries `claim_lead`): never rename one.
"""

from __future__ import annotations

# Lead cards (bot.slack.views) and their listeners (bot.slack.listeners).
CLAIM_LEAD = "claim_lead"
MARK_CONTACTED = "mark_contacted"
RELEASE_LEAD = "release_lead"
REASSIGN_LEAD = "reassign_lead"
"""The card's button, and the callback id of the reassign modal it opens."""
NEW_OWNER = "new_owner"
"""The reassign modal's user picker (its block id and action id)."""

# The admin screens (bot.slack.admin, a module per screen: view, parsing and handlers).
ADMIN_NEW_TEAM = "admin_new_team"
ADMIN_EDIT_TEAM = "admin_edit_team"
ADMIN_EDIT_REP = "admin_edit_rep"
ADMIN_EDIT_SLA = "admin_edit_sla"
ADMIN_RULES = "admin_rules"
"""The menu's button, and the callback id of the rules modal."""
ADMIN_ADD_RULE = "admin_add_rule"
ADMIN_RULE_MENU = "admin_rule_menu"
ADMIN_HISTORY = "admin_history"
ADMIN_ROLLBACK = "admin_rollback"
ADMIN_EXPORT = "admin_export"
ADMIN_IMPORT = "admin_import"
ADMIN_WEBHOOKS = "admin_webhooks"
ADMIN_WEBHOOK_TEST = "admin_webhook_test"
"""The menu's button, and the callback id of the import modal."""
OPEN_PTO = "open_pto"
TEAM_MEMBERS = "members"
"""The team modal's member picker (its block id and action id): redraws the weights."""

# Admin modals' callback ids.
ADMIN_MENU = "admin_menu"
ADMIN_SAVED = "admin_saved"
ADMIN_TEAM = "admin_team"
ADMIN_REP = "admin_rep"
ADMIN_PTO = "admin_pto"
ADMIN_RULE = "admin_rule"
ADMIN_SLA = "admin_sla"
ADMIN_INFO = "admin_info"
