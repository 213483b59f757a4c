"""Every admin screen's handlers on one object, registered on the Bolt app."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack import action_ids as ids
from bot.slack.admin.base import AdminBase
from bot.slack.admin.history import HistoryScreen
from bot.slack.admin.menu import MenuScreen
from bot.slack.admin.rep import RepScreen
from bot.slack.admin.rules import RulesScreen
from bot.slack.admin.scoring import ScoringScreen
from bot.slack.admin.sla import SlaScreen
from bot.slack.admin.team import TeamScreen
from bot.slack.admin.webhooks import WebhooksScreen
from bot.slack.admin.yaml_io import YamlScreen
from bot.slack.deps import SlackDeps


def register(app: AsyncApp, deps: SlackDeps) -> None:
    """`/leadrouter` and every admin screen's buttons, menus and modals."""
    AdminListeners(deps.admin, deps.bot_token, deps.membership, deps.webhook_tests).attach(app)


class AdminListeners(
    MenuScreen,
    TeamScreen,
    RepScreen,
    RulesScreen,
    SlaScreen,
    HistoryScreen,
    YamlScreen,
    ScoringScreen,
    WebhooksScreen,
    AdminBase,
):
    """Every screen's handlers on one object sharing the service and the bot token."""

    def attach(self, app: AsyncApp) -> None:
        app.command("/leadrouter")(self.command)
        for action_id, handler in {
            ids.ADMIN_NEW_TEAM: self.open_team,
            ids.ADMIN_EDIT_TEAM: self.open_team,
            ids.ADMIN_EDIT_REP: self.open_rep,
            ids.ADMIN_EDIT_SLA: self.open_sla,
            ids.ADMIN_RULES: self.open_rules,
            ids.ADMIN_ADD_RULE: self.open_rule,
            ids.ADMIN_RULE_MENU: self.rule_menu,
            ids.ADMIN_HISTORY: self.open_history,
            ids.ADMIN_ROLLBACK: self.rollback,
            ids.ADMIN_EXPORT: self.export_button,
            ids.ADMIN_IMPORT: self.open_import,
            ids.ADMIN_WEBHOOKS: self.open_webhooks,
            ids.ADMIN_WEBHOOK_TEST: self.send_webhook_test,
            ids.ADMIN_ADD_WEBHOOK: self.open_webhook,
            ids.ADMIN_EDIT_WEBHOOK: self.open_webhook,
            ids.ADMIN_REMOVE_WEBHOOK: self.remove_webhook,
            ids.OPEN_PTO: self.open_pto,
            ids.ADMIN_SCORING: self.open_scoring,
        }.items():
            app.action(action_id)(self._acked(handler))
        app.action({"block_id": ids.TEAM_MEMBERS, "action_id": ids.TEAM_MEMBERS})(
            self._acked(self.redraw_weights)
        )
        app.options(ids.ADMIN_EDIT_TEAM)(self.team_options)
        app.view(ids.ADMIN_TEAM)(self.submit_team)
        app.view(ids.ADMIN_REP)(self.submit_rep)
        app.view(ids.ADMIN_RULE)(self.submit_rule)
        app.view(ids.ADMIN_SLA)(self.submit_sla)
        app.view(ids.ADMIN_IMPORT)(self.submit_import)
        app.view(ids.ADMIN_PTO)(self.submit_pto)
        app.view(ids.ADMIN_SCORING)(self.submit_scoring)
        app.view(ids.ADMIN_WEBHOOK)(self.submit_webhook)
