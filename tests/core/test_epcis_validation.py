"""supplytrace.core.epcis_validation: GS1's vendored EPCIS 2.0 JSON Schema, read offline, and the
one-sentence error naming the first problem of a document and where it is."""

from __future__ import annotations

import copy
import hashlib
import re
from importlib import resources
from typing import Any

import pytest

from supplytrace.core import events as ev
from supplytrace.core.epcis import ItemStory, epcis_document
from supplytrace.core.epcis_schema import SCHEMA_FILE
from supplytrace.core.epcis_validation import EpcisSchemaError, schema, validate_epcis
from supplytrace.core.errors import SupplytraceError
from supplytrace.core.events import Logged
from supplytrace.core.ids import ItemKey
from supplytrace.core.text import ChainText

BRAND = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
SHOP = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
GTIN = "09506000134352"
ITEM = b"\xaa" * 32


def _document() -> dict[str, Any]:
    def logged(event: ev.RegistryEvent, block: int) -> Logged:
        return Logged(event, block, 0, f"0x{block:064x}", f"0x{block + 1:064x}", 1_700_000_000 + block)

    events = [
        logged(ev.ItemRegistered(ITEM, 1, ChainText.of("A")), 2),
        logged(ev.CustodyOffered(ITEM, BRAND, SHOP), 3),
        logged(ev.CustodyTransferred(ITEM, BRAND, SHOP), 4),
        logged(ev.ItemSold(ITEM, SHOP), 5),
    ]
    story = ItemStory(ItemKey.create(GTIN, "A", "L1"), events)
    return epcis_document([story], chain_id=1337, registry=BRAND, created_at=0)


def _refusal(document: dict[str, Any]) -> EpcisSchemaError:
    with pytest.raises(EpcisSchemaError) as caught:
        validate_epcis(document)
    return caught.value


def test_schema__vendored__gs1s_file_unchanged_and_self_contained() -> None:
    folder = resources.files("supplytrace.core.epcis_schema")
    raw = folder.joinpath(SCHEMA_FILE).read_bytes()
    readme = folder.joinpath("README.md").read_text(encoding="utf-8")
    licence = folder.joinpath("LICENSE").read_text(encoding="utf-8")
    contents = schema()

    assert hashlib.sha256(raw).hexdigest() in readme  # the README names what is vendored
    assert "GS1" in licence
    assert contents["$schema"] == "http://json-schema.org/draft-07/schema#"
    refs = re.findall(r'"\$ref":\s*"([^"]*)"', raw.decode("utf-8"))
    assert refs and all(ref.startswith("#/") for ref in refs)  # nothing to fetch


def test_validate_epcis__an_export__valid() -> None:
    assert validate_epcis(_document()) is None


def test_validate_epcis__a_bad_step_and_a_bad_field__the_first_in_document_order_and_where() -> None:
    document = _document()
    document["epcisBody"]["eventList"][2]["bogus"] = 1  # a field that is no URI, later
    document["epcisBody"]["eventList"][1]["bizStep"] = "urn:epcglobal:cbv:bizstep:shipping"  # CBV's own URN

    error = _refusal(document)

    assert isinstance(error, SupplytraceError) and error.exit_code == 1
    assert error.where == "$.epcisBody.eventList[1].bizStep"
    assert error.event is not None and error.event.startswith("event 1: ObjectEvent ni:///sha-256;")
    assert "'urn:epcglobal:cbv:bizstep:shipping' is not valid under any of the given schemas" in error.problem
    assert str(error).startswith("the EPCIS document breaks GS1's EPCIS 2.0 schema at $.epcisBody")


@pytest.mark.parametrize(
    ("change", "where", "problem"),
    [
        (lambda d: d.pop("schemaVersion"), "$", "'schemaVersion' is a required property"),
        (
            lambda d: d["epcisBody"]["eventList"][3].update(bogus=1),
            "$.epcisBody.eventList[3]",
            "field 'bogus' is neither one this event type has nor an extension",
        ),
        (
            lambda d: d["epcisBody"]["eventList"][0].update(eventTime="yesterday"),
            "$.epcisBody.eventList[0].eventTime",
            "'yesterday' is not a 'date-time'",
        ),
        (
            lambda d: d["epcisBody"]["eventList"][1]["sourceList"][0].update(source="acme honey"),
            "$.epcisBody.eventList[1].sourceList[0].source",
            "'acme honey' is not a 'uri'",
        ),
        (  # ilmd belongs to ADD alone
            lambda d: d["epcisBody"]["eventList"][0].update(action="OBSERVE"),
            "$.epcisBody.eventList[0]",
            "the object is not valid under any of the given schemas",
        ),
        (
            lambda d: d["epcisBody"]["eventList"][2].pop("eventTimeZoneOffset"),
            "$.epcisBody.eventList[2]",
            "'eventTimeZoneOffset' is a required property",
        ),
        (
            lambda d: d["epcisBody"]["eventList"][2].update(eventTimeZoneOffset="UTC"),
            "$.epcisBody.eventList[2].eventTimeZoneOffset",
            "'UTC' does not match",
        ),
    ],
    ids=[
        "no-schema-version",
        "unknown-field",
        "bad-time",
        "party-not-a-uri",
        "ilmd-on-observe",
        "no-time-zone",
        "bad-time-zone",
    ],
)
def test_validate_epcis__one_problem__named_with_its_place(change: Any, where: str, problem: str) -> None:
    document = copy.deepcopy(_document())
    change(document)

    error = _refusal(document)

    assert error.where == where
    assert error.problem.startswith(problem), error.problem
    assert len(str(error)) < 1000  # the whole event is named by its id, not printed


def test_validate_epcis__a_lone_event_without_context__refused() -> None:
    event = _document()["epcisBody"]["eventList"][0]

    assert _refusal(event).problem == "'@context' is a required property"
    validate_epcis({"@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"], **event})
