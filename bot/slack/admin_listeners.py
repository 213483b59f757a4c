"""`/leadrouter` and the admin modals: ack, parse the form, call AdminService, answer.

Authorization is the service's, on every submission and button press, not only when a
modal is opened: a modal kept open after its user lost the admin role, or a forged
payload, gets the same refusal as anyone else."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.admin import AdminService, InvalidEdit, Saved
from bot.services.channel_membership import ChannelMembershipService
from bot.slack import action_ids as ids
from bot.slack import admin_views as av
from bot.slack.deps import SlackDeps
from bot.slack.listeners import reply_privately
from domain.channel_membership import invite_request
from domain.config import MAX_CONFIG_BYTES
from domain.config_edits import (
    delete_rule,
    move_rule,
    set_sla,
    upsert_rep,
    upsert_rule,
    upsert_team,
)
from domain.errors import DomainError, FieldError, InvalidInput

log = logging.getLogger(__name__)
Ack = Callable[..., Awaitable[None]]
USAGE = (
    "Usage: `/leadrouter` (the admin menu) · `/leadrouter pto YYYY-MM-DD YYYY-MM-DD [@user]` "
    "(time off) · `/leadrouter history` (latest changes, roll back) · `/leadrouter export` "
    "(the YAML file to your DMs) · `/leadrouter import` (upload a YAML file)"
)
_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")
IMPORT_ERRORS_SHOWN = 50
OUR_FAULT = "Something went wrong on our side; nothing was changed. Try again."


def _plain(message: str) -> str:
    """Modal error strings are plain text: `<@U0X>` would show raw, `@U0X` reads."""
    return _MENTION.sub(r"@\1", message)


def parse_pto(words: list[str], caller: str) -> tuple[str, date, date]:
    """`pto 2026-12-01 2026-12-05 [@user]` (the mention arrives escaped, `<@U…|name>`)."""
    if len(words) not in (3, 4):
        raise DomainError(f"Expected two dates and an optional @user.\n{USAGE}")
    try:
        start, end = date.fromisoformat(words[1]), date.fromisoformat(words[2])
    except ValueError:
        raise DomainError(f"Dates are YYYY-MM-DD, e.g. 2026-12-01.\n{USAGE}") from None
    user = caller
    if len(words) == 4:
        match = _USER.match(words[3])
        if not match:
            raise DomainError(f"Name the rep as @user, not {words[3]!r}.\n{USAGE}")
        user = match.group(1)
    return user, start, end


def register(app: AsyncApp, deps: SlackDeps) -> None:
    """`/leadrouter` and every admin screen's buttons, menus and modals."""
    AdminListeners(deps.admin, deps.bot_token, deps.membership).attach(app)


class AdminListeners:
    """Holds the service and the Slack client the handlers share."""

    def __init__(
        self, admin: AdminService, bot_token: str | None, membership: ChannelMembershipService
    ):
        self.admin = admin
        self.bot_token = bot_token
        self.membership = membership

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
            ids.OPEN_PTO: self.open_pto,
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

    @staticmethod
    def _acked(
        handler: Callable[[dict[str, Any], AsyncWebClient], Awaitable[None]],
    ) -> Callable[..., Awaitable[None]]:
        """Ack at once, then work; a refusal goes back where the click came from."""

        async def listener(ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
            await ack()
            try:
                await handler(body, client)
            except DomainError as error:
                await _tell(client, body, str(error))
            except Exception:
                log.exception("admin action %s failed", body["actions"][0].get("action_id"))
                await _tell(client, body, OUR_FAULT)

        return listener

    # ------------------------------------------------------------------ the command

    async def command(self, ack: Ack, command: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        words = command.get("text", "").split()
        user = command["user_id"]
        message: dict[str, Any] | None = None
        try:
            if not words:
                await self._open_menu(client, command["trigger_id"], user)
            elif words[0] == "pto":
                rep, start, end = parse_pto(words, user)
                saved = await self.admin.set_pto(user, rep, start, end)
                message = {"text": av.changes_text(saved, f"PTO for <@{rep}>")}
            elif words == ["history"]:
                message = await self._history(user)
            elif words == ["export"]:
                await self._send_export(client, user)
                message = {"text": "The configuration file is in your DMs."}
            elif words == ["import"]:
                await self.admin.open_admin(user)
                await client.views_open(trigger_id=command["trigger_id"], view=av.import_modal())
            else:
                message = {"text": USAGE}
        except DomainError as error:
            message = {"text": str(error)}
        except Exception:
            log.exception("/leadrouter %s failed", " ".join(words[:1]))
            message = {"text": OUR_FAULT}
        if message is not None:
            await reply_privately(client, command.get("response_url"), **message)

    async def _editable_teams(self, user: str) -> tuple[bool, list[str]]:
        """Whether `user` is an admin, and the teams they may open: all for an admin,
        the ones they manage for a manager."""
        _, config = await self.admin.current()
        admin = await self.admin.is_admin(user)
        if config is None:
            return admin, []
        return admin, [team.name for team in config.teams if admin or team.manager == user]

    async def team_options(self, ack: Ack, body: dict[str, Any]) -> None:
        _, teams = await self._editable_teams(body["user"]["id"])
        await ack(options=av.team_options(teams, str(body.get("value") or "")))

    async def _open_menu(self, client: AsyncWebClient, trigger_id: str, user: str) -> None:
        version, config = await self.admin.current()
        admin, teams = await self._editable_teams(user)
        if not admin and not teams:
            raise DomainError(
                "Only Leadrouter admins can open the admin menu. You can still set your own "
                "time off: `/leadrouter pto 2026-12-01 2026-12-05`."
            )
        await client.views_open(
            trigger_id=trigger_id, view=av.admin_menu(version, config, admin=admin, teams=teams)
        )

    async def _history(self, user: str) -> dict[str, Any]:
        entries = await self.admin.history(user)
        version, _ = await self.admin.current()
        return av.history_message(entries, version)

    async def _send_export(self, client: AsyncWebClient, user: str) -> None:
        text = await self.admin.export(user)
        version, _ = await self.admin.current()
        dm = await client.conversations_open(users=user)
        await client.files_upload_v2(
            channel=dm["channel"]["id"],
            content=text,
            filename="leadrouter-config.yml",
            title=f"Leadrouter configuration version {version}",
            initial_comment=(
                f"Configuration version {version}. Edit it and send it back with "
                "`/leadrouter import`, or `leadrouter config import FILE`."
            ),
        )

    # ------------------------------------------------------------------ opening modals

    async def open_team(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        action = body["actions"][0]
        name = (action.get("selected_option") or {}).get("value")
        version, config = await self.admin.current()
        team = config.team(name) if config and name else None
        if team is None or team.manager != body["user"]["id"]:
            await self.admin.open_admin(body["user"]["id"])
        await client.views_push(
            trigger_id=body["trigger_id"], view=av.team_modal(version, config, team)
        )

    async def redraw_weights(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Members were picked in the team modal: show a weight input for each. Nothing
        is saved here (the save checks authorization), so this only redraws."""
        view = body["view"]
        meta = av.metadata(view)
        _, config = await self.admin.current()
        previous = config.team(meta["team"]) if config and meta.get("team") else None
        members = av.chosen_members(view["state"]["values"], previous, strict=False)
        redrawn = av.team_modal(meta.get("base"), config, previous, members)
        redrawn["private_metadata"] = view["private_metadata"]
        try:
            await client.views_update(view_id=view["id"], hash=view.get("hash"), view=redrawn)
        except SlackApiError as error:
            if error.response.get("error") != "hash_conflict":
                raise
            # The modal changed again meanwhile; that change's own redraw follows.

    async def open_rep(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        user = body["actions"][0].get("selected_user")
        if not user:
            return
        version, config = await self.admin.open_admin(body["user"]["id"])
        rep = config.rep(user) if config else None
        profile = None
        if rep is None:
            with contextlib.suppress(SlackApiError):  # defaults only: UTC, no email
                profile = (await client.users_info(user=user))["user"]
        await client.views_push(
            trigger_id=body["trigger_id"], view=av.rep_modal(version, rep, user, profile)
        )

    async def open_sla(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        lead_type = (body["actions"][0].get("selected_option") or {}).get("value")
        if lead_type == av.NEW_LEAD_TYPE:
            lead_type = None
        version, config = await self.admin.open_admin(body["user"]["id"])
        await client.views_push(
            trigger_id=body["trigger_id"], view=av.sla_modal(version, config, lead_type)
        )

    async def open_rules(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        version, config = await self.admin.open_admin(body["user"]["id"])
        await client.views_push(trigger_id=body["trigger_id"], view=av.rules_modal(version, config))

    async def open_rule(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        version, config = await self.admin.open_admin(body["user"]["id"])
        await client.views_push(
            trigger_id=body["trigger_id"], view=av.rule_modal(version, config, None, None)
        )

    async def open_history(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        message = await self._history(body["user"]["id"])
        view = av.info_modal("History", message["blocks"])
        await client.views_push(trigger_id=body["trigger_id"], view=view)

    async def open_import(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        await self.admin.open_admin(body["user"]["id"])
        await client.views_push(trigger_id=body["trigger_id"], view=av.import_modal())

    async def open_pto(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Anyone may open it (reps set their own PTO); the save is what is checked."""
        await client.views_open(
            trigger_id=body["trigger_id"], view=av.pto_modal(body["user"]["id"])
        )

    async def export_button(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        await self._send_export(client, body["user"]["id"])

    # ------------------------------------------------------------------ list actions

    async def rule_menu(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Edit, move or delete from the rules list. The list shows version `base`; if
        the rules changed since, the click refers to a stale position, so it is refused
        and the list refreshed instead."""
        user = body["user"]["id"]
        view = body["view"]
        base = av.metadata(view).get("base")
        op, _, index = (
            (body["actions"][0].get("selected_option") or {}).get("value", "").partition(":")
        )
        version, config = await self.admin.open_admin(user)
        rules = config.rules if config else []
        if version != base or not index.isdigit() or int(index) >= len(rules):
            notice = "The rules changed since this list was opened; here they are now."
            await client.views_update(
                view_id=view["id"], view=av.rules_modal(version, config, notice)
            )
            return
        rule = rules[int(index)]
        if op == "edit":
            await client.views_push(
                trigger_id=body["trigger_id"], view=av.rule_modal(version, config, rule, int(index))
            )
            return
        edits = {
            "up": lambda document: move_rule(document, rule.name, -1),
            "down": lambda document: move_rule(document, rule.name, 1),
            "delete": lambda document: delete_rule(document, rule.name),
        }
        if op not in edits:
            return
        try:
            saved = await self.admin.change(
                user, edits[op], f"rule {rule.name}: {op}", base=base, touches=("rules", None)
            )
            notice = av.changes_text(saved, f"Rule {rule.name}")
        except DomainError as error:
            notice = f":warning: {error}"
        version, config = await self.admin.current()
        await client.views_update(view_id=view["id"], view=av.rules_modal(version, config, notice))

    async def rollback(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        target = int(body["actions"][0].get("value", "0"))
        saved = await self.admin.rollback(body["user"]["id"], target)
        text = av.changes_text(saved, f"Rolled back to version {target}")
        if body.get("view"):
            message = await self._history(body["user"]["id"])
            blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
            view = av.info_modal("History", blocks + message["blocks"])
            await client.views_update(view_id=body["view"]["id"], view=view)
        else:
            await reply_privately(client, body.get("response_url"), text=text)

    # ------------------------------------------------------------------ submissions

    async def _submit(
        self,
        ack: Ack,
        title: str,
        work: Callable[[], Awaitable[Saved]],
        fields: dict[str, str],
        fallback: str,
        notices: list[str] | None = None,
    ) -> None:
        """Every way a submission can fail becomes an inline error on a field; success
        replaces the modal with the saved version, its diff and what `work` noticed."""
        try:
            saved = await work()
        except av.FormError as error:
            await ack(response_action="errors", errors=error.errors)
        except InvalidEdit as error:
            errors = av.errors_for_blocks(error.errors, error.prefix, fields, fallback)
            await ack(response_action="errors", errors={k: _plain(v) for k, v in errors.items()})
        except DomainError as error:
            await ack(response_action="errors", errors={fallback: _plain(str(error))[:300]})
        except Exception:
            log.exception("admin submission %s failed", title)
            await ack(response_action="errors", errors={fallback: OUR_FAULT})
        else:
            await ack(response_action="update", view=av.saved_view(title, saved, notices or []))

    async def submit_team(self, ack: Ack, body: dict[str, Any]) -> None:
        view, user = body["view"], body["user"]["id"]
        meta = av.metadata(view)
        original = meta.get("team")
        notices: list[str] = []

        async def work() -> Saved:
            _, config = await self.admin.current()
            previous = config.team(original) if config and original else None
            team = av.parse_team_form(view["state"]["values"], previous)
            saved = await self.admin.change(
                user,
                lambda document: upsert_team(document, original, team),
                f"team {team['name']}"
                + (f" (was {original})" if original and original != team["name"] else ""),
                base=meta.get("base"),
                touches=("teams", original or team["name"]),
                admin_only=False,  # managers may change their team's members
            )
            if team.get("channel"):  # join it now; say at once what needs an /invite
                state = await self.membership.check(team["name"], team["channel"])
                if state.needs_admin:
                    notices.append(invite_request(state))
                    admins = config.admins if config and config.admins else []
                    await self.membership.tell_admins({user, *admins}, [state])
            return saved

        await self._submit(ack, "Team saved", work, av.TEAM_FIELDS, "name", notices)

    async def submit_rep(self, ack: Ack, body: dict[str, Any]) -> None:
        view, user = body["view"], body["user"]["id"]
        meta = av.metadata(view)
        rep_user = str(meta.get("rep") or "")

        async def work() -> Saved:
            _, config = await self.admin.current()
            rep = av.parse_rep_form(
                view["state"]["values"], rep_user, config.rep(rep_user) if config else None
            )
            return await self.admin.change(
                user,
                lambda document: upsert_rep(document, rep_user, rep),
                f"rep {rep_user}",
                base=meta.get("base"),
                touches=("reps", rep_user),
            )

        await self._submit(ack, "Rep saved", work, av.REP_FIELDS, "timezone")

    async def submit_rule(self, ack: Ack, body: dict[str, Any]) -> None:
        view, user = body["view"], body["user"]["id"]
        meta = av.metadata(view)
        original = meta.get("rule")

        async def work() -> Saved:
            _, config = await self.admin.current()
            previous = (
                next((r for r in config.rules if r.name == original), None) if config else None
            )
            rule, position = av.parse_rule_form(view["state"]["values"], previous)
            return await self.admin.change(
                user,
                lambda document: upsert_rule(document, original, rule, position),
                f"rule {rule['name']}",
                base=meta.get("base"),
                touches=("rules", None),
            )

        await self._submit(ack, "Rule saved", work, av.RULE_FIELDS, "name")

    async def submit_sla(self, ack: Ack, body: dict[str, Any]) -> None:
        view, user = body["view"], body["user"]["id"]
        meta = av.metadata(view)

        async def work() -> Saved:
            lead_type = av.sla_lead_type(view["state"]["values"], meta.get("lead_type"))
            sla = av.parse_sla_form(view["state"]["values"])
            return await self.admin.change(
                user,
                lambda document: set_sla(document, lead_type, sla),
                f"SLA {lead_type}",
                base=meta.get("base"),
                touches=("slas", lead_type),
            )

        fallback = "respond_within" if meta.get("lead_type") else "lead_type"
        await self._submit(ack, "SLA saved", work, av.SLA_FIELDS, fallback)

    async def submit_pto(self, ack: Ack, body: dict[str, Any]) -> None:
        caller = body["user"]["id"]

        async def work() -> Saved:
            user, start, end = av.parse_pto_form(body["view"]["state"]["values"], caller)
            return await self.admin.set_pto(caller, user, start, end)

        await self._submit(ack, "Time off saved", work, av.PTO_FIELDS, "user")

    async def submit_import(self, ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Acked at once with a progress view (a download and validation may outlast
        Slack's 3 seconds), then the result replaces it: saved, or every error's path."""
        view, user = body["view"], body["user"]["id"]
        files = view["state"]["values"].get("file", {}).get("file", {}).get("files") or []
        if not files:
            await ack(response_action="errors", errors={"file": "Choose a YAML file."})
            return
        if not await self.admin.is_admin(user):
            await ack(
                response_action="errors", errors={"file": "Only Leadrouter admins can import."}
            )
            return
        await ack(response_action="update", view=av.info_modal("Import", [av.note("Importing…")]))
        file_id = str(files[0].get("id", ""))
        try:
            name, content = await self._download(client, file_id)
            saved = await self.admin.import_file(user, content, name)
            blocks = [av.note(av.changes_text(saved, f"Imported {name}"))]
        except InvalidInput as error:
            blocks = av.import_errors(error.errors[:IMPORT_ERRORS_SHOWN], len(error.errors))
        except DomainError as error:
            blocks = [av.note(f":warning: {error}")]
        except Exception:
            log.exception("import of file %s failed", file_id)
            blocks = [av.note(f":warning: {OUR_FAULT}")]
        await client.views_update(view_id=view["id"], view=av.info_modal("Import", blocks))

    async def _download(self, client: AsyncWebClient, file_id: str) -> tuple[str, bytes]:
        """The uploaded file's bytes, refusing anything over the configuration size limit
        before and while downloading (Slack's `size` could be missing or wrong)."""
        too_big = InvalidInput([FieldError("", f"file larger than {MAX_CONFIG_BYTES} bytes")])
        try:
            info = (await client.files_info(file=file_id))["file"]
        except SlackApiError as error:
            raise DomainError(
                f"Slack did not give the file: {error.response.get('error')}"
            ) from None
        if int(info.get("size") or 0) > MAX_CONFIG_BYTES:
            raise too_big
        url = info.get("url_private_download") or info.get("url_private")
        headers = {"Authorization": f"Bearer {self.bot_token}"}
        session = client.session or aiohttp.ClientSession()
        try:
            async with session.get(url, headers=headers) as response:
                if response.status != 200:
                    raise DomainError(f"Downloading the file failed (HTTP {response.status}).")
                content = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    content.extend(chunk)
                    if len(content) > MAX_CONFIG_BYTES:
                        raise too_big
        finally:
            if client.session is None:
                await session.close()
        return str(info.get("name") or file_id), bytes(content)


async def _tell(client: AsyncWebClient, body: dict[str, Any], text: str) -> None:
    """A refusal for a click: in the modal it came from, else privately in the channel."""
    view = body.get("view")
    if view and view.get("id"):
        blocks = [av.note(f":no_entry: {text}")]
        await client.views_push(
            trigger_id=body["trigger_id"], view=av.info_modal("Leadrouter", blocks)
        )
    else:
        await reply_privately(client, body.get("response_url"), text=text)
