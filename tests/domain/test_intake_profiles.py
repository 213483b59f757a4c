"""Contract tests of the built-in intake profiles against payloads in each vendor's
documented shape (tests/fixtures/intake; each profile's YAML cites the vendor page its
shape comes from), and the mapping rules a custom profile may use.

Why: a sender reshaping nothing is the point of a profile, so each built-in must turn
the vendor's own payload into the lead a person would have typed, and name every
problem when it cannot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from domain.config import dump_config, load_config, validate_config
from domain.errors import InvalidInput
from domain.intake_formats import SALESFORCE_ACK, decode_body
from domain.intake_mapping import map_payload, split_name, to_number
from domain.intake_profiles import (
    BUILTIN_PROFILES,
    IntakeProfile,
    builtin_profiles,
    resolve_profile,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "intake"


def mapped(profile: str, fixture: str, custom: list[IntakeProfile] | None = None) -> list[Any]:
    chosen = resolve_profile(profile, custom or [])
    body = (FIXTURES / fixture).read_bytes()
    kind = "text/xml" if fixture.endswith(".xml") else "application/json"
    return map_payload(chosen, decode_body(body, kind, chosen.format).document)


def only(profile: str, fixture: str) -> dict[str, Any]:
    [record] = mapped(profile, fixture)
    assert record.problems == [], record.problems
    assert record.lead is not None
    return record.lead.model_dump(exclude_defaults=True)


def test_every_builtin_profile_loads_and_is_named_as_in_the_contract() -> None:
    assert set(builtin_profiles()) == set(BUILTIN_PROFILES)
    assert set(BUILTIN_PROFILES) == {
        "hubspot", "typeform", "meta", "linkedin", "salesforce", "zapier", "generic"
    }  # fmt: skip


def test_hubspot_workflow_contact_record() -> None:
    lead = only("hubspot", "hubspot_workflow_contact.json")
    assert lead == {
        "external_id": "3234574",
        "email": "ada@acme.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company": "Acme",
        "company_domain": "acme.com",
        "country": "US",
        "state": "NY",
        "employees": 1200,
        "source": "paid_ads",
        "attributes": {"lifecycle_stage": "marketingqualifiedlead", "hubspot_portal": 62515},
    }


def test_hubspot_crm_object_shape_maps_the_same_fields() -> None:
    lead = only("hubspot", "hubspot_crm_object.json")
    assert lead["email"] == "grace@example.org"
    assert lead["external_id"] == "512"
    assert lead["source"] == "referral"  # REFERRALS in HubSpot's analytics source
    assert lead["employees"] == 40


def test_typeform_answers_by_type_and_ref_hidden_fields_and_value_maps() -> None:
    lead = only("typeform", "typeform_form_response.json")
    assert lead["email"] == "grace@navy.example"
    assert (lead["first_name"], lead["last_name"]) == ("Grace", "Brewster Hopper")
    assert lead["phone"] == "+4930123456"
    assert lead["lead_type"] == "demo_request"  # "Demo request" -> demo_request
    assert lead["employees"] == 51  # the lower bound of "51-200"
    assert lead["source"] == "paid_ads"  # utm_medium=cpc
    assert lead["country"] == "DE"
    assert lead["external_id"] == "a3a12ec67a1365927098a606107fac15"


def test_meta_lead_field_data_with_a_full_name() -> None:
    lead = only("meta", "meta_lead.json")
    assert lead["email"] == "katherine@nasa.example"
    assert (lead["first_name"], lead["last_name"]) == ("Katherine", "Johnson")
    assert lead["external_id"] == "1034590872219921"
    assert lead["source"] == "paid_ads"


def test_meta_leadgen_notification_without_field_data_names_the_missing_contact() -> None:
    [record] = mapped("meta", "meta_leadgen_webhook.json")
    assert record.lead is None
    assert record.values["external_id"] == "1034590872219921"  # leadgen_id
    assert [str(problem) for problem in record.problems] == ["body: email or phone is required"]


def test_linkedin_answers_found_through_the_forms_predefined_fields() -> None:
    lead = only("linkedin", "linkedin_lead_form_response.json")
    assert lead["email"] == "dorothy@compute.example"
    assert (lead["first_name"], lead["last_name"]) == ("Dorothy", "Vaughan")
    assert lead["company"] == "Compute Corp"
    assert lead["employees"] == 1001
    assert lead["attributes"]["job_title"] == "Head of Computing"
    assert lead["source"] == "paid_ads"  # leadType SPONSORED


def test_salesforce_outbound_message_gives_one_record_per_notification() -> None:
    first, second = mapped("salesforce", "salesforce_outbound_message.xml")
    assert first.problems == []
    assert first.lead is not None
    assert first.lead.external_id == "00Q000000000001AAA"
    assert first.lead.lead_type == "referral"  # LeadSource "Partner Referral"
    assert first.lead.phone is None  # xsi:nil
    assert first.lead.employees == 640
    assert second.lead is None
    assert [str(problem) for problem in second.problems] == ["email: is not an email address"]


def test_salesforce_flow_callout_json_uses_the_same_profile() -> None:
    lead = only("salesforce", "salesforce_flow_callout.json")
    assert lead["external_id"] == "00Q000000000003AAA"
    assert lead["company_domain"] == "somerville.example"
    assert lead["attributes"] == {"salesforce_owner": "005000000000001AAA"}


def test_salesforce_ack_is_the_notifications_response() -> None:
    assert "<Ack>true</Ack>" in SALESFORCE_ACK
    assert "http://soap.sforce.com/2005/09/outbound" in SALESFORCE_ACK


def test_salesforce_refuses_xml_with_a_dtd() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    with pytest.raises(InvalidInput, match="not a SOAP message"):
        decode_body(bomb, "text/xml", "salesforce")


def test_zapier_flat_fields_and_a_full_name() -> None:
    lead = only("zapier", "zapier_webhook.json")
    assert (lead["first_name"], lead["last_name"]) == ("Alan", "Mathison Turing")
    assert lead["lead_type"] == "demo_request"  # "Contact sales"
    assert lead["employees"] == 500  # "500+"
    assert lead["external_id"] == "zap-lead-88231"


def test_generic_takes_our_names_or_camel_case_and_ignores_the_rest() -> None:
    lead = only("generic", "generic_lead.json")
    assert lead["external_id"] == "web-7731"
    assert lead["company"] == "Erlangen Algebra"
    assert lead["lead_type"] == "demo_request"
    assert lead["attributes"] == {"campaign": "spring"}


CUSTOM = """
intake_profiles:
  - name: webinar
    records: attendees[*]
    fields:
      email: contact.mail
      first_name: {path: contact.name, split_name: first}
      last_name: {path: contact.name, split_name: last}
      employees: org.size
      source: {value: event}
      lead_type:
        path: interest
        map: {"Demo request": demo_request, "Newsletter": mql}
      attributes.webinar: session
  - name: typeform-custom
    extends: typeform
    fields:
      company: "answers[field.ref=organisation].text"
"""


def custom_profiles() -> list[IntakeProfile]:
    return validate_config(yaml.safe_load(CUSTOM)).intake_profiles


def test_a_custom_profile_reports_every_problem_of_every_record() -> None:
    payload = {
        "session": "ignored: not inside a record",
        "attendees": [
            {
                "contact": {"mail": "lin@example.com", "name": "Lin Wei Chen"},
                "org": {"size": "1,200"},
                "interest": "demo request",
                "session": "s-1",
            },
            {"contact": {"mail": "nope", "name": {"first": "x"}}, "org": {"size": "many"},
             "interest": "Pricing"},
        ],
    }  # fmt: skip
    first, second = map_payload(resolve_profile("webinar", custom_profiles()), payload)
    assert first.lead is not None
    assert first.lead.model_dump(exclude_defaults=True) == {
        "email": "lin@example.com",
        "first_name": "Lin",
        "last_name": "Wei Chen",
        "employees": 1200,
        "source": "event",
        "lead_type": "demo_request",
        "attributes": {"webinar": "s-1"},
    }
    assert second.lead is None
    assert sorted(str(problem) for problem in second.problems) == [
        "email: is not an email address",
        "employees: expected a number (from org.size), got 'many'",
        "first_name: expected a single value (from contact.name), found an object",
        "last_name: expected a single value (from contact.name), found an object",
        'lead_type: "Pricing" (from interest) is not in the value map '
        '(known: "demo request", "newsletter")',
    ]


def test_extends_overrides_one_field_and_keeps_the_rest() -> None:
    profile = resolve_profile("typeform-custom", custom_profiles())
    base = builtin_profiles()["typeform"]
    assert profile.auth == base.auth
    assert profile.fields["email"] == base.fields["email"]
    assert profile.fields["company"] != base.fields["company"]


def test_a_payload_without_records_is_refused_whole() -> None:
    with pytest.raises(InvalidInput, match="no records found at attendees"):
        map_payload(resolve_profile("webinar", custom_profiles()), {"people": []})


@pytest.mark.parametrize(
    ("profiles", "error"),
    [
        ([{"name": "x", "fields": {"mail": "a"}}], "intake_profiles[0].fields"),
        ([{"name": "x", "fields": {"email": "a["}}], "intake_profiles[0].fields.email"),
        ([{"name": "x", "extends": "nobody"}], "intake_profiles[0].extends"),
        ([{"name": "x"}, {"name": "x"}], "intake_profiles[1].name"),
        ([{"name": "Has Spaces"}], "intake_profiles[0].name"),
        (
            [{"name": "x", "auth": {"scheme": "meta", "secret_env": "lower"}}],
            "intake_profiles[0].auth.secret_env",
        ),
    ],
)
def test_invalid_profiles_are_refused_with_their_path(
    profiles: list[dict[str, Any]], error: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_config({"intake_profiles": profiles})
    assert any(problem.path.startswith(error) for problem in raised.value.errors), raised.value


def test_configurations_without_profiles_are_unchanged() -> None:
    assert validate_config({}).intake_profiles == []


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("Ada Lovelace", "Ada", "Lovelace"),
        ("Cher", "Cher", None),
        ("Hopper, Grace", "Grace", "Hopper"),
    ],
)
def test_split_name(text: str, first: str, last: str | None) -> None:
    assert (split_name(text, "first"), split_name(text, "last")) == (first, last)


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        (12, 12),
        ("1,200", 1200),
        ("500+", 500),
        ("51-200", 51),
        (3.6, 4),
        ("many", None),
        (True, None),
    ],
)
def test_numbers_from_forms(raw: Any, number: int | None) -> None:
    assert to_number(raw) == number


def test_an_extended_profile_survives_export_and_import() -> None:
    config = validate_config(yaml.safe_load(CUSTOM))
    again = load_config(dump_config(config))
    assert again.intake_profiles == config.intake_profiles
    extended = resolve_profile("typeform-custom", again.intake_profiles)
    assert extended.auth.scheme == "typeform"  # not the default a dump would spell out


def test_profiles_extending_each_other_in_a_loop_are_refused() -> None:
    loop = [{"name": "a", "extends": "b"}, {"name": "b", "extends": "a"}]
    with pytest.raises(InvalidInput, match="loop"):
        validate_config({"intake_profiles": loop})


json_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=5)
    ),
    max_leaves=25,
)


@given(st.sampled_from(BUILTIN_PROFILES), json_values)
def test_any_payload_maps_or_is_refused_with_problems_never_a_crash(
    profile: str, payload: Any
) -> None:
    try:
        records = map_payload(builtin_profiles()[profile], payload)
    except InvalidInput as error:
        assert error.errors
        return
    for record in records:
        assert (record.lead is None) == bool(record.problems)
