"""The YAML file: export to the caller's DMs, import from an uploaded file."""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import action_ids as ids
from bot.slack.admin.base import OUR_FAULT, Ack, AdminBase, log
from bot.slack.admin.forms import changes_text, info_modal, input_block, modal, note
from bot.slack.blocks import Blocks, View, escape, mrkdwn
from domain.config import MAX_CONFIG_BYTES
from domain.errors import DomainError, FieldError, InvalidInput


def import_modal() -> View:
    blocks: Blocks = [
        {
            "type": "section",
            "text": mrkdwn(
                "Upload a configuration file (the YAML of `leadrouter config export`). It "
                "replaces the whole configuration, or changes nothing if any part is invalid."
            ),
        },
        input_block(
            "file",
            "Configuration file",
            {"type": "file_input", "filetypes": ["yml", "yaml", "txt"], "max_files": 1},
        ),
    ]
    return modal(ids.ADMIN_IMPORT, "Import configuration", blocks, {}, "Import")


def import_errors(errors: list[FieldError], total: int) -> Blocks:
    """Every error with its path (the first 50 when there are more); nothing was saved."""
    lines = "\n".join(escape(str(error), code=True) for error in errors)
    more = f"\n… and {total - len(errors)} more" if total > len(errors) else ""
    return [
        note(f":x: The file was not imported; nothing changed. {total} problem(s):"),
        note(f"```{lines}{more}```"),
    ]


IMPORT_ERRORS_SHOWN = 50


class YamlScreen(AdminBase):
    """The yaml io screen's handlers (mixed into AdminListeners)."""

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

    async def export_button(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        await self._send_export(client, body["user"]["id"])

    async def open_import(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        await self.admin.open_admin(body["user"]["id"])
        await client.views_push(trigger_id=body["trigger_id"], view=import_modal())

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
        await ack(response_action="update", view=info_modal("Import", [note("Importing…")]))
        file_id = str(files[0].get("id", ""))
        try:
            name, content = await self._download(client, file_id)
            saved = await self.admin.import_file(user, content, name)
            blocks = [note(changes_text(saved, f"Imported {name}"))]
        except InvalidInput as error:
            blocks = import_errors(error.errors[:IMPORT_ERRORS_SHOWN], len(error.errors))
        except DomainError as error:
            blocks = [note(f":warning: {error}")]
        except Exception:
            log.exception("import of file %s failed", file_id)
            blocks = [note(f":warning: {OUR_FAULT}")]
        await client.views_update(view_id=view["id"], view=info_modal("Import", blocks))

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
