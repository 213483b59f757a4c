"""Signed requests as Slack sends them: the product's :mod:`bot.localslack.payloads` and
:mod:`bot.localslack.signing` under the name the tests have always used."""

from bot.localslack.payloads import (
    VERIFICATION_TOKEN,
    app_home_opened_event,
    block_action_body,
    checkboxes,
    event_body,
    multi_static_select,
    multi_users_select,
    number_input,
    slash_command_body,
    static_select,
    text_input,
    url_verification_body,
    users_select,
    view_submission_body,
)
from bot.localslack.signing import (
    FORM,
    JSON,
    content_type_of,
    sign,
    signature,
    signed_headers,
)

__all__ = [
    "FORM",
    "JSON",
    "VERIFICATION_TOKEN",
    "app_home_opened_event",
    "block_action_body",
    "checkboxes",
    "content_type_of",
    "event_body",
    "multi_static_select",
    "multi_users_select",
    "number_input",
    "sign",
    "signature",
    "signed_headers",
    "slash_command_body",
    "static_select",
    "text_input",
    "url_verification_body",
    "users_select",
    "view_submission_body",
]
