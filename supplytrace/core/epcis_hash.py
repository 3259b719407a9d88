"""The CBV 2.0 event hash of an EPCIS 2.0 JSON-LD event: ``ni:///sha-256;<hex>?ver=CBV2.0``.

EPCIS systems compare events by this hash (CBV 2.0, "EPCIS event hash"): it is computed from
the event's content alone, so two systems holding the same event agree on it whatever they
named it. Implementations disagree in corner cases, so ours is written to give what PyPI
``epcis-event-hash-generator`` (GS1's reference, 1.9.3) gives, and the tests compare both on
every event type the export emits and on random workloads. It does not use that package (it
needs Flask and PyLD, and the network for any context but its own copy), and nothing here does
I/O.

The pre-hash string is ``eventType=<type>``, then the standard fields in the reference's order,
each ``name=value`` (a list: its name, then its sorted elements), then everything else (sorted):

- ``eventTime``: in UTC, milliseconds, ``Z`` (``2023-11-14T22:13:20.000Z``);
- EPC lists: ``epcList`` + the sorted ``epc=<EPC>``; quantity lists: ``quantityList`` + the
  sorted ``quantityElement epcClass=.. quantity=.. uom=..`` (no separators: the join is empty);
- a CBV value given as a bare word (``shipping``) becomes its web vocabulary IRI
  (``https://ref.gs1.org/cbv/BizStep-shipping``), an old CBV URN (``urn:epcglobal:cbv:...``)
  too; numbers lose leading ``+``, trailing zeros and ``.0``; EPC URIs and GS1 Digital Links
  become canonical Digital Links on ``id.gs1.org`` (:func:`canonical_digital_link`);
- ``eventID``, ``recordTime``, ``errorDeclaration`` (and ``type``, already first) are left out;
- extensions: a key with a prefix the document's ``@context`` declares is written
  ``{namespace}local`` (``{urn:supplytrace:epcis:}chainId``), a value with one as
  ``namespace + local``.

Where the reference differs from the algorithm as written (CBV 2.0 and the reference's own
README), we follow the reference (issue #15):

- ``parentID`` comes before ``epcList`` (written: after);
- ``sourceList``, ``destinationList`` and ``bizTransactionList`` are not at their place in the
  standard's order (after ``bizLocation``) but sorted among the extensions, each element
  ``type=..source=..`` in the element's own key order (written: the identifier, then its
  type); ``ilmd`` likewise (written: after them, before the extensions);
- only prefixes declared in the document's own ``@context`` are expanded: ``cbvmda:lotNumber``
  (declared in GS1's context) stays as written (written: ``{urn:epcglobal:cbv:mda:}lotNumber``);
- a bare word anywhere in the event (an extension's value too) that is exactly one CBV term used
  in the event (``recalled`` in a recall's reason, with disposition ``recalled``) becomes that
  term's IRI, as the reference matches bare strings against the JSON-LD expansion;
- numbers are normalised through binary floating point (``1e3`` is ``1000``; an integer beyond
  2**53 loses digits), and any value that reads as a number is one, an extension's too.

Two differences are ours, on purpose: the reference matches bare words against the CBV terms of
the whole *document*, so its hash of an event can change with the other events exported with it;
we use the event's own terms, which is what the reference gives for the event in a document of
its own, and what the standard means (the hash of an event). And a value reading as infinity
(``inf``) makes the reference drop the event (it gives no hash); here it stays text.

Not supported (the export emits none): ``sensorElementList`` (refused), and EPC URIs of keys
other than SGTIN, SSCC, LGTIN, SGLN and PGLN, and Digital Links of keys other than GTIN, SSCC,
GLN and party GLN or with a CPV (AI 22), which are hashed as written.

Offline, the reference resolves only the versioned context
``https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld`` (a copy in its package); the
export names that one (EPCIS 2.0 documents may name any context URI, and GS1's schema allows it),
so anyone can check our hashes with the reference without the network.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["canonical_digital_link", "event_hash", "pre_hash"]

_CBV = "https://ref.gs1.org/cbv/"
_VOC = "https://gs1.org/voc/"
_DISPOSITIONS = frozenset(
    {
        *("active", "available", "completeness_inferred", "completeness_verified", "conformant"),
        *("container_closed", "container_open", "damaged", "destroyed", "dispensed", "disposed"),
        *("encoded", "expired", "in_progress", "in_transit", "inactive", "mismatch_class"),
        *("mismatch_instance", "mismatch_quantity", "needs_replacement", "no_pedigree_match"),
        *("non_conformant", "non_sellable_other", "partially_dispensed", "recalled", "reserved"),
        *("retail_sold", "returned", "sellable_accessible", "sellable_not_accessible", "stolen"),
        *("unavailable", "unknown"),
    }
)
_BIZ_STEPS = frozenset(
    {
        *("accepting", "arriving", "assembling", "collecting", "commissioning", "consigning"),
        *("creating_class_instance", "cycle_counting", "decommissioning", "departing", "destroying"),
        *("disassembling", "dispensing", "encoding", "entering_exiting", "holding", "inspecting"),
        *("installing", "killing", "loading", "other", "packing", "picking", "receiving", "removing"),
        *("repackaging", "repairing", "replacing", "reserving", "retail_selling", "sampling"),
        *("sensor_reporting", "shipping", "staging_outbound", "stock_taking", "stocking", "storing"),
        *("transporting", "unloading", "unpacking", "void_shipping"),
    }
)
_PARTY_TYPES = frozenset({"location", "owning_party", "possessing_party"})
_TRANSACTION_TYPES = frozenset(
    {"bol", "cert", "desadv", "inv", "pedigree", "po", "poc", "prodorder", "recadv", "rma", "testprd"}
    | {"testres", "upevt"}
)
_OLD_CBV_URNS = (
    ("urn:epcglobal:cbv:bizstep:", _CBV + "BizStep-"),
    ("urn:epcglobal:cbv:disp:", _CBV + "Disp-"),
    ("urn:epcglobal:cbv:btt:", _CBV + "BTT-"),
    ("urn:epcglobal:cbv:sdt:", _CBV + "SDT-"),
    ("urn:epcglobal:cbv:er:", _CBV + "ER-"),
)

#: The standard fields in the reference's order, and how each is written.
_EPC_LISTS = ("epcList", "inputEPCList", "childEPCs", "outputEPCList")
_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
_ORDER = (
    *("eventTime", "eventTimeZoneOffset", "certificationInfo", "parentID", "epcList", "inputEPCList"),
    *("childEPCs", "quantityList", "childQuantityList", "inputQuantityList", "outputEPCList"),
    *("outputQuantityList", "action", "transformationID", "bizStep", "disposition"),
    *("persistentDisposition", "readPoint", "bizLocation"),
)
_LEFT_OUT = frozenset({"type", "eventID", "recordTime", "errorDeclaration"})
#: List elements written in their own key order (``type`` then the party), not sorted.
_UNSORTED = frozenset({"bizTransaction", "source", "destination"})


def event_hash(event: Mapping[str, Any], context: Any = None) -> str:
    """The CBV 2.0 hash of an EPCIS 2.0 JSON-LD ``event``; ``context`` is the document's
    ``@context`` (its prefixes name the extensions), by default the event's own."""
    digest = hashlib.sha256(pre_hash(event, context).encode("utf-8")).hexdigest()
    return f"ni:///sha-256;{digest}?ver=CBV2.0"


def pre_hash(event: Mapping[str, Any], context: Any = None) -> str:
    """The canonical string the hash is taken of (see the module's description)."""
    if "sensorElementList" in event:
        raise ValueError("the event hash of sensor data is not supported")
    prefixes = _prefixes(event.get("@context") if context is None else context)
    terms = _terms(event)
    fields = {
        _expand_key(key, prefixes): _values(value, terms, prefixes)
        for key, value in event.items()
        if key != "type"
    }
    ordered = [_ordered(name, fields.pop(name)) for name in _ORDER if name in fields]
    rest = sorted(s for key, value in fields.items() if key not in _LEFT_OUT for s in _generic(key, value))
    return f"eventType={event['type']}" + "".join(ordered) + "".join(rest)


# ----------------------------------------------------------------------------------------------
# Names: prefixes, CBV terms
# ----------------------------------------------------------------------------------------------


def _prefixes(context: Any) -> dict[str, str]:
    """The prefixes a document's ``@context`` declares inline (``{"supplytrace": "urn:..."}``)."""
    found: dict[str, str] = {}
    for entry in context if isinstance(context, list) else []:
        if isinstance(entry, dict):
            found.update({k: str(v) for k, v in entry.items()})
    return found


def _expand_key(key: str, prefixes: Mapping[str, str]) -> str:
    prefix, colon, local = key.partition(":")
    return f"{{{prefixes[prefix]}}}{local}" if colon and prefix in prefixes else key


def _terms(event: Mapping[str, Any]) -> set[str]:
    """The CBV IRIs the event uses (as JSON-LD expansion gives them): its bare CBV words where
    the context makes them IRIs, and every value already written as a CBV or GS1 IRI."""
    found: set[str] = set()

    def add(value: Any, kind: str, words: frozenset[str]) -> None:
        if isinstance(value, str) and value in words:
            found.add(f"{_CBV}{kind}-{value}")

    add(event.get("bizStep"), "BizStep", _BIZ_STEPS)
    add(event.get("disposition"), "Disp", _DISPOSITIONS)
    persistent = event.get("persistentDisposition")
    if isinstance(persistent, dict):
        for value in [*_as_list(persistent.get("set", [])), *_as_list(persistent.get("unset", []))]:
            add(value, "Disp", _DISPOSITIONS)
    for name, kind, words in (
        ("sourceList", "SDT", _PARTY_TYPES),
        ("destinationList", "SDT", _PARTY_TYPES),
        ("bizTransactionList", "BTT", _TRANSACTION_TYPES),
    ):
        for element in event.get(name) or []:
            if isinstance(element, dict):
                add(element.get("type"), kind, words)

    def walk(value: Any) -> None:
        if isinstance(value, str) and value.startswith((_CBV, _VOC)):
            found.add(value)
        elif isinstance(value, dict):
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(event)
    return found


def _values(value: Any, terms: set[str], prefixes: Mapping[str, str]) -> Any:
    """``value`` with each bare word that names exactly one of ``terms`` replaced by it, keys
    and prefixed values expanded."""
    if isinstance(value, dict):
        return {_expand_key(k, prefixes): _values(v, terms, prefixes) for k, v in value.items()}
    if isinstance(value, list):
        return [_values(v, terms, prefixes) for v in value]
    if not isinstance(value, str):
        return value
    matches = [t for t in terms if t.endswith(("-" + value, "/" + value))]
    if len(matches) == 1:
        value = matches[0]
    prefix, colon, local = value.partition(":")
    return prefixes[prefix] + local if colon and prefix in prefixes else value


# ----------------------------------------------------------------------------------------------
# The pre-hash string
# ----------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return (value if isinstance(value, str) else str(value)).strip()


def _field(name: str, value: Any, *, time: bool = False) -> str:
    """``name=value``, the value canonical; nothing for an empty value."""
    text = _text(value)
    if not text:
        return ""
    return f"{name}={_timestamp(text) if time else _canonical(text)}"


def _ordered(name: str, value: Any) -> str:
    """A standard field at its place in the order."""
    values = value if isinstance(value, list) else [value]
    if name in _EPC_LISTS:
        inner = sorted(_field("epc", v) for v in values)
    elif name in _QUANTITY_LISTS:
        inner = sorted(
            "quantityElement" + "".join(_field(k, q[k]) for k in ("epcClass", "quantity", "uom") if k in q)
            for q in values
        )
    elif name in ("readPoint", "bizLocation"):
        inner = [_field("id", value.get("id", ""))]
    elif name == "persistentDisposition":
        inner = [
            "".join(sorted(_field(part, v) for v in _as_list(value.get(part, []))))
            for part in ("set", "unset")
        ]
    else:  # a single value (a list of them: each, sorted)
        return "".join(sorted(_field(name, v, time=name == "eventTime") for v in values))
    text = "".join(inner)
    return name + text if text else ""


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _generic(key: str, value: Any) -> list[str]:
    """The strings of a field outside the standard order: ``key=value``, ``key`` and its
    children's strings, a list's elements each on its own (a ``...List``: grouped under its
    name, elements named without ``List``; ``childEPCs``: as ``epc``)."""
    if key.endswith("List") and not isinstance(value, list):
        value = [value]  # the reference reads a ...List as a list even of one
    if isinstance(value, list):
        if key.endswith("List") or key == "childEPCs":
            element = "epc" if key == "childEPCs" else key[:-4]
            if key in ("sourceList", "destinationList", "bizTransactionList"):
                parts = [_pair(v) for v in value]
            else:
                parts = [s for v in value for s in _generic(element, v)]
            return [key + _join(parts, sort=True)] if value else []
        return [s for v in value for s in _generic(key, v)]
    if isinstance(value, dict):
        children = [(k, s) for k, v in value.items() for s in _generic(k, v)]
        sort = not any(k in _UNSORTED for k, _ in children)
        return [key + _join([s for _, s in children], sort=sort)]
    text = _text(value)
    return [key + ("=" + _canonical(text) if text else "")]


def _pair(element: Any) -> str:
    """A source, destination or business transaction: its first two fields, in its order."""
    items = list(element.items())[:2] if isinstance(element, dict) else []
    return "".join(s for k, v in items for s in _generic(k, v))


def _join(parts: list[str], *, sort: bool) -> str:
    return "".join(sorted(parts) if sort and len(parts) > 1 else parts)


# ----------------------------------------------------------------------------------------------
# Values
# ----------------------------------------------------------------------------------------------


def _timestamp(text: str) -> str:
    """A time in UTC at millisecond precision (ISO 8601 with ``Z``); a time without a zone is
    read as UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    moment = moment.replace(microsecond=0) + timedelta(microseconds=round(moment.microsecond, -3))
    return moment.isoformat(timespec="milliseconds")[:-6] + "Z"


def _canonical(text: str) -> str:
    for urn, iri in _OLD_CBV_URNS:
        text = text.replace(urn, iri)
    text = _number(text)
    return canonical_digital_link(text) or text


def _number(text: str) -> str:
    """A number as Python prints its float (no ``+``, no trailing zeros, no ``.0``)."""
    try:
        number = float(text)
    except ValueError:
        return text
    if math.isnan(number) or math.isinf(number):
        return text
    return str(int(number)) if number.is_integer() else str(number)


# ----------------------------------------------------------------------------------------------
# EPC URIs and GS1 Digital Links
# ----------------------------------------------------------------------------------------------

_CHAR = (  # the reference's: a character of an EPC URI's serial, or some of their escapes
    r"(?:%2[125-9A-Fa-f]|%3[0-9A-Fa-f]|%4[1-9A-Fa-f]|%5[0-9AaFf]|%6[1-9A-Fa-f]|%7[0-9Aa]"
    r"|[!')(*+,.0-9:;=A-Za-z_-])"
)
_EPC = {
    "sgtin": re.compile(rf"^urn:epc:id:sgtin:(\d{{6,12}})\.(\d{{1,7}})\.({_CHAR}{{1,20}})$"),
    "lgtin": re.compile(rf"^urn:epc:class:lgtin:(\d{{6,12}})\.(\d{{1,7}})\.({_CHAR}{{1,20}})$"),
    "sscc": re.compile(r"^urn:epc:id:sscc:(\d{6,12})\.(\d{5,11})$"),
    "sgln": re.compile(rf"^urn:epc:id:sgln:(\d{{6,12}})\.(\d{{0,6}})\.({_CHAR}{{1,20}})$"),
    "pgln": re.compile(r"^urn:epc:id:pgln:(\d{6,12})\.(\d{0,6})$"),
}
_SAFE = r"[\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]"
_SAFE_TEXT = re.compile(rf"^{_SAFE}{{0,20}}$")
_SHORT_NAMES = {"gtin": "01", "sscc": "00", "gln": "414", "party": "417", "lot": "10", "ser": "21"}
_DL = re.compile(
    r"^https?://[^/?#]+(?:/[^?#]*?)?/(01|00|414|417|gtin|sscc|gln|party)/(\d{4}[^?]+?)(?:\?.*)?$"
)
_CANONICAL = (
    re.compile(r"^https://id\.gs1\.org/00/\d{18}$"),
    re.compile(rf"^https://id\.gs1\.org/01/\d{{14}}(?:/(?:21|10)/{_SAFE}{{0,20}})?$"),
    re.compile(r"^https://id\.gs1\.org/41[47]/\d{13}$"),
    re.compile(rf"^https://id\.gs1\.org/414/\d{{13}}/254/{_SAFE}{{0,20}}$"),
)


def _check_digit(digits: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str(-total % 10)


def _percent(text: str) -> str:
    """The characters GS1 Digital Link wants percent-encoded that EPC URIs allow."""
    for char in "!()*+,:":
        text = text.replace(char, f"%{ord(char):02X}")
    return text


def canonical_digital_link(uri: str) -> str | None:
    """The canonical GS1 Digital Link (``https://id.gs1.org/...``, GTIN of 14 digits, the finest
    key only: a serial drops the lot, no query) of an EPC URI or Digital Link, else None."""
    if "." not in uri:
        return None
    for kind, pattern in _EPC.items():
        found = pattern.match(uri)
        if found is None:
            continue
        prefix, reference = found.group(1), found.group(2)
        if kind in ("sgtin", "lgtin"):
            if len(prefix) + len(reference) != 13:
                return None
            gtin = reference[:1] + prefix + reference[1:]
            ai = "21" if kind == "sgtin" else "10"
            return f"https://id.gs1.org/01/{gtin}{_check_digit(gtin)}/{ai}/{_percent(found.group(3))}"
        if kind == "sscc":
            if len(prefix) + len(reference) != 17:
                return None
            sscc = reference[:1] + prefix + reference[1:]
            return f"https://id.gs1.org/00/{sscc}{_check_digit(sscc)}"
        if len(prefix) + len(reference) != 12:
            return None
        gln = prefix + reference + _check_digit(prefix + reference)
        if kind == "pgln":
            return f"https://id.gs1.org/417/{gln}"
        extension = found.group(3)
        return f"https://id.gs1.org/414/{gln}" + ("" if extension == "0" else f"/254/{_percent(extension)}")
    found = _DL.match(uri)
    if found is None:
        return None
    key = _SHORT_NAMES.get(found.group(1), found.group(1))
    parts = found.group(2).split("/")
    path = [_SHORT_NAMES.get(p, p) if i % 2 else p for i, p in enumerate(parts)]
    if key == "01" and path[0].isdigit() and len(path[0]) in (8, 12, 13):
        path[0] = path[0].zfill(14)
    if key == "01" and len(path) == 5 and path[1] == "10" and path[3] == "21" and _SAFE_TEXT.match(path[2]):
        path = [path[0], *path[3:]]  # a serial: the lot is not needed
    link = f"https://id.gs1.org/{key}/" + "/".join(path)
    return link if any(p.match(link) for p in _CANONICAL) else None
