"""The rep screen and time off: modals, parsing and handlers."""

from __future__ import annotations

import contextlib
import re
from datetime import date
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.services.admin import Saved
from bot.slack import action_ids as ids
from bot.slack.admin.base import Ack, AdminBase
from bot.slack.admin.forms import (
    FormError,
    Values,
    input_block,
    metadata,
    modal,
    option,
    string_of,
    text_input,
    user_select,
    value_of,
)
from bot.slack.blocks import Blocks, View, mrkdwn
from domain.config import RepConfig
from domain.config_edits import (
    upsert_rep,
)

REP_FIELDS = {
    "email": "email",
    "timezone": "timezone",
    "working_hours": "hours",
    "capacity": "capacity",
    "pto": "pto",
    "active": "active",
}


PTO_FIELDS = {"pto": "end"}


_HOURS = re.compile(r"^\s*([a-z,\-]+)\s+(.+?)\s*$", re.IGNORECASE)


def rep_modal(
    version: int | None,
    rep: RepConfig | None,
    user: str,
    profile: dict[str, Any] | None = None,
) -> View:
    """Add or edit a rep. A new rep's email and timezone start from their Slack
    `profile` (users.info), so working hours are read in the right zone."""
    profile = profile or {}
    email = rep.email if rep else profile.get("profile", {}).get("email")
    timezone = rep.timezone if rep else profile.get("tz") or "UTC"
    hours = (
        "; ".join(f"{days} {spans}" for days, spans in (rep.working_hours or {}).items())
        if rep
        else ""
    )
    pto = ", ".join(f"{r.start.isoformat()}..{r.end.isoformat()}" for r in (rep.pto if rep else []))
    capacity: dict[str, Any] = {
        "type": "number_input",
        "is_decimal_allowed": False,
        "min_value": "0",
    }
    if rep and rep.capacity is not None:
        capacity["initial_value"] = str(rep.capacity)
    active: dict[str, Any] = {"type": "checkboxes", "options": [option("active", "Active")]}
    if rep is None or rep.active:
        active["initial_options"] = [option("active", "Active")]
    blocks: Blocks = [
        {"type": "section", "text": mrkdwn(f"Rep <@{user}>")},
        input_block("email", "Email", text_input(email), optional=True),
        input_block(
            "timezone",
            "Timezone",
            text_input(timezone),
            hint="IANA name, e.g. America/New_York",
        ),
        input_block(
            "hours",
            "Working hours",
            text_input(hours),
            optional=True,
            hint="e.g. mon-fri 09:00-17:30; sat 10:00-14:00 (empty: always on shift)",
        ),
        input_block("capacity", "Capacity (max open leads)", capacity, optional=True),
        input_block(
            "pto",
            "PTO",
            text_input(pto, multiline=True),
            optional=True,
            hint="Ranges like 2026-12-01..2026-12-05, comma separated; one day: 2026-12-24",
        ),
        input_block("active", "Status", active, optional=True),
    ]
    meta = {"base": version, "rep": user}
    return modal(ids.ADMIN_REP, "Rep", blocks, meta, "Save")


def parse_rep_form(values: Values, user: str, previous: RepConfig | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    hours: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in (string_of(values, "hours") or "").split(";"))):
        match = _HOURS.match(part)
        if not match:
            errors["hours"] = f"expected days then hours, like mon-fri 09:00-17:30; got {part!r}"
            break
        hours[match.group(1).lower()] = match.group(2)
    pto = []
    for part in filter(
        None, (p.strip() for p in re.split(r"[,\n]", string_of(values, "pto") or ""))
    ):
        start, _, end = part.partition("..")
        try:
            first = date.fromisoformat(start.strip())
            last = date.fromisoformat(end.strip()) if end else first
        except ValueError:
            errors["pto"] = f"expected YYYY-MM-DD..YYYY-MM-DD, got {part!r}"
            break
        pto.append({"from": first.isoformat(), "to": last.isoformat()})
    capacity = value_of(values, "capacity").get("value")
    if errors:
        raise FormError(errors)
    kept = previous.model_dump(mode="json", by_alias=True, exclude_none=True) if previous else {}
    rep: dict[str, Any] = {
        **{k: v for k, v in kept.items() if k not in REP_FIELDS},
        "user": user,
        "timezone": string_of(values, "timezone") or "UTC",
        "pto": pto,
        "active": bool(value_of(values, "active").get("selected_options")),
    }
    optional = {
        "email": string_of(values, "email"),
        "working_hours": hours or None,
        "capacity": int(capacity) if capacity not in (None, "") else None,
    }
    rep.update({key: value for key, value in optional.items() if value is not None})
    return rep


def pto_modal(user: str) -> View:
    """Time off for yourself, or (managers, admins) for someone else: checked on save."""
    blocks: Blocks = [
        input_block("start", "From", {"type": "datepicker"}),
        input_block("end", "To (inclusive)", {"type": "datepicker"}),
        input_block(
            "user",
            "Who",
            user_select(user),
            hint="Yourself; managers may choose their team's reps, admins anyone.",
        ),
    ]
    return modal(ids.ADMIN_PTO, "Time off", blocks, {}, "Save")


def parse_pto_form(values: Values, caller: str) -> tuple[str, date, date]:
    picked = {block: value_of(values, block).get("selected_date") for block in ("start", "end")}
    missing = {block: "Choose a date." for block, value in picked.items() if not value}
    if missing:
        raise FormError(missing)
    user = value_of(values, "user").get("selected_user") or caller
    return user, date.fromisoformat(picked["start"]), date.fromisoformat(picked["end"])


class RepScreen(AdminBase):
    """The rep screen's handlers (mixed into AdminListeners)."""

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
            trigger_id=body["trigger_id"], view=rep_modal(version, rep, user, profile)
        )

    async def open_pto(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Anyone may open it (reps set their own PTO); the save is what is checked."""
        await client.views_open(trigger_id=body["trigger_id"], view=pto_modal(body["user"]["id"]))

    async def submit_rep(self, ack: Ack, body: dict[str, Any]) -> None:
        view, user = body["view"], body["user"]["id"]
        meta = metadata(view)
        rep_user = str(meta.get("rep") or "")

        async def work() -> Saved:
            _, config = await self.admin.current()
            rep = parse_rep_form(
                view["state"]["values"], rep_user, config.rep(rep_user) if config else None
            )
            return await self.admin.change(
                user,
                lambda document: upsert_rep(document, rep_user, rep),
                f"rep {rep_user}",
                base=meta.get("base"),
                touches=("reps", rep_user),
            )

        await self._submit(ack, "Rep saved", work, REP_FIELDS, "timezone")

    async def submit_pto(self, ack: Ack, body: dict[str, Any]) -> None:
        caller = body["user"]["id"]

        async def work() -> Saved:
            user, start, end = parse_pto_form(body["view"]["state"]["values"], caller)
            return await self.admin.set_pto(caller, user, start, end)

        await self._submit(ack, "Time off saved", work, PTO_FIELDS, "user")
