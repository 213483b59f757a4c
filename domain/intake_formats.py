"""Turning a sender's body into the document a profile maps: JSON, or Salesforce's SOAP.

Salesforce outbound messages are SOAP 1.1 `notifications` calls (up to 100
`Notification` elements, each carrying one `sObject` with the fields the admin chose),
documented in "Understanding the Outbound Messaging WSDL":
https://developer.salesforce.com/docs/platform/api/guide/sforce-api-om-outboundmessaging-wsdl.html
Each sObject becomes one record keyed by its field names (`Email`, `FirstName`, ...), the
same names a Salesforce flow's HTTP callout sends as JSON, so one profile maps both.
Salesforce retries a message until it receives the `notificationsResponse` Ack.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from domain.errors import FieldError, InvalidInput

_XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"

SALESFORCE_ACK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    "<soapenv:Body>"
    '<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">'
    "<Ack>true</Ack></notificationsResponse>"
    "</soapenv:Body></soapenv:Envelope>"
)


@dataclass(frozen=True)
class Decoded:
    document: Any
    soap: bool  # a Salesforce outbound message: answer with SALESFORCE_ACK


def decode_body(body: bytes, content_type: str, profile_format: str) -> Decoded:
    """The parsed body; InvalidInput when it is neither JSON nor (for a Salesforce
    profile) an outbound message."""
    if profile_format == "salesforce" and _looks_like_xml(body, content_type):
        return Decoded(salesforce_records(body), soap=True)
    try:
        return Decoded(json.loads(body), soap=False)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput([FieldError("body", "not valid JSON")]) from None


def _looks_like_xml(body: bytes, content_type: str) -> bool:
    return "xml" in content_type.lower() or body.lstrip()[:1] == b"<"


def salesforce_records(body: bytes) -> list[dict[str, Any]]:
    """The sObjects of an outbound message, one dict of field -> text (None for nil)."""
    try:
        root = fromstring(body, forbid_dtd=True)
    except (DefusedXmlException, SyntaxError) as error:
        raise InvalidInput([FieldError("body", f"not a SOAP message: {error}")]) from None
    notifications = next((node for node in root.iter() if _local(node) == "notifications"), None)
    if notifications is None:
        raise InvalidInput([FieldError("body", "no Salesforce `notifications` element")])
    records = []
    for notification in notifications:
        if _local(notification) != "Notification":
            continue
        sobject = next((node for node in notification if _local(node) == "sObject"), None)
        if sobject is not None:
            records.append({_local(item): _text(item) for item in sobject})
    return records


def _local(node: Element) -> str:
    return node.tag.rpartition("}")[2]


def _text(node: Element) -> str | None:
    if node.get(_XSI_NIL) == "true":
        return None
    return (node.text or "").strip() or None
