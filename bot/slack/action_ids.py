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
QUALIFY_LEAD = "qualify_lead"
DISQUALIFY_LEAD = "disqualify_lead"
RECYCLE_LEAD = "recycle_lead"
"""Back to marketing. Disqualify and recycle are also the callback ids of their modals."""
HANDOFF_REASON = "reason"
HANDOFF_NOTE = "note"
"""The hand-off modals' reason select and note input (block id and action id)."""
REPORT_MISROUTE = "report_misroute"
"""The card's "Wrong routing?" button (bot.slack.evidence_listeners)."""
MISROUTE_REPORT = "misroute_report"
"""The callback id of the "Wrong routing?" modal."""

# The evidence features (bot.slack.evidence_views and evidence_listeners).
PROMOTE_EXPERIMENT = "experiment_promote"
REVIEW_FIX = "review_fix"
"""A review finding's button: opens the admin modal that fixes it."""
EXPERIMENT_EDIT = "experiment_edit"
"""The callback id of `/leadrouter experiment`'s modal (declare or change one)."""

# Availability (bot.slack.availability_listeners): offers, pulls, the away toggle.
ACCEPT_LEAD = "accept_lead"
DECLINE_LEAD = "decline_lead"
NEXT_LEAD = "next_lead"
TOGGLE_AWAY = "toggle_away"

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
"""The menu's button, and the callback id of the import modal."""
ADMIN_WEBHOOKS = "admin_webhooks"
"""The menu's button, and the callback id of the webhooks list."""
ADMIN_WEBHOOK_TEST = "admin_webhook_test"
ADMIN_ADD_WEBHOOK = "admin_add_webhook"
ADMIN_EDIT_WEBHOOK = "admin_edit_webhook"
ADMIN_REMOVE_WEBHOOK = "admin_remove_webhook"
ADMIN_SCORING = "admin_scoring"
"""The menu's button, and the callback id of the scoring model modal."""
OPEN_PTO = "open_pto"
SET_UP_LEADROUTER = "setup_leadrouter"
"""The first-run Home tab's button (bot.slack.first_run): opens the New team modal."""
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
ADMIN_WEBHOOK = "admin_webhook"
ADMIN_INFO = "admin_info"
