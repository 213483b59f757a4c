"""What every admin screen's handlers share: the service, ack-then-work for clicks, and
one way to submit a form (validate, save, answer with errors on the modal's blocks).

Authorization is the service's, on every submission and button press, not only when a
modal is opened: a modal kept open after its user lost the admin role, or a forged
payload, gets the same refusal as anyone else.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.services.admin import AdminService, InvalidEdit, Saved
from bot.services.channel_membership import ChannelMembershipService
from bot.services.webhook_endpoints import WebhookEndpoints
from bot.services.webhook_tests import WebhookTests
from bot.slack.admin.forms import FormError, errors_for_blocks, info_modal, note, saved_view
from bot.slack.listeners import reply_privately
from domain.errors import DomainError

log = logging.getLogger(__name__)


Ack = Callable[..., Awaitable[None]]


OUR_FAULT = "Something went wrong on our side; nothing was changed. Try again."


_MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")


def unmentioned(message: str) -> str:
    """Modal error strings are plain text (and escaped mrkdwn shows `<@U0X>` raw): `@U0X` reads."""
    return _MENTION.sub(r"@\1", message)


async def _tell(client: AsyncWebClient, body: dict[str, Any], text: str) -> None:
    """A refusal for a click: in the modal it came from, else privately in the channel."""
    view = body.get("view")
    if view and view.get("id"):
        blocks = [note(f":no_entry: {text}")]
        await client.views_push(
            trigger_id=body["trigger_id"], view=info_modal("Leadrouter", blocks)
        )
    else:
        await reply_privately(client, body.get("response_url"), text=text)


class AdminBase:
    """Holds the services and the bot token the handlers share."""

    def __init__(
        self,
        admin: AdminService,
        bot_token: str | None,
        membership: ChannelMembershipService,
        webhook_tests: WebhookTests | None = None,
    ):
        self.admin = admin
        self.bot_token = bot_token
        self.membership = membership
        self.webhook_tests = webhook_tests or WebhookTests(admin, admin.now)
        self.webhook_endpoints = WebhookEndpoints(admin, self.webhook_tests.environ)

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
        except FormError as error:
            await ack(response_action="errors", errors=error.errors)
        except InvalidEdit as error:
            errors = errors_for_blocks(error.errors, error.prefix, fields, fallback)
            await ack(
                response_action="errors", errors={k: unmentioned(v) for k, v in errors.items()}
            )
        except DomainError as error:
            await ack(response_action="errors", errors={fallback: unmentioned(str(error))[:300]})
        except Exception:
            log.exception("admin submission %s failed", title)
            await ack(response_action="errors", errors={fallback: OUR_FAULT})
        else:
            await ack(response_action="update", view=saved_view(title, saved, notices or []))
