"""The registry's events: one frozen type per contract event, the :data:`RegistryEvent` union,
and the one decoder of raw logs, derived from the compiled ABI.

Each type below is the contract event of the same name (``IProvenanceRegistry.sol``), its
fields the event's parameters in order, snake_cased (``from`` is ``from_``). At import the
types are checked against the ABI shipped in :mod:`supplytrace.core.abi` and a decoder is built
for each from the ABI's parameter types: addresses become checksummed ``0x`` text, integers
``int``, ``bytes32`` ids ``bytes``, arrays tuples of those (lots a blend used, a container's
contents), and every string the chain holds (names, descriptions, serials, lot codes, business
steps, recall reasons) a :class:`~supplytrace.core.text.ChainText` keeping its raw bytes.
Decoding is slicing, ~100x faster than web3.py's ``process_log``, and never raises on hostile
bytes (a short or malformed data part decodes leniently: see :mod:`supplytrace.core.words`).

A reader of events ``match``es on the types and ends with ``case _: assert_never(event)``, so
that mypy names every reader a new event type has not been taught (``docs/architecture.md``,
"How to add an event type").
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Literal, TypeAlias, TypeVar

from supplytrace.core import abi
from supplytrace.core.hashing import keccak_text
from supplytrace.core.text import ChainText
from supplytrace.core.words import Convert, converter, padded

Address: TypeAlias = str  # checksummed 0x text


# ----------------------------------------------------------------------------------------------
# The events (IProvenanceRegistry.sol; RoleGranted/RoleRevoked from OpenZeppelin's AccessControl)
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BrandNamed:
    """The admin published the verified display name of a brand."""

    brand: Address
    name: ChainText


@dataclass(frozen=True, slots=True)
class BrandUnnamed:
    """The admin withdrew the verified display name of a brand."""

    brand: Address


@dataclass(frozen=True, slots=True)
class ParticipantDescribed:
    """An address described itself (shown as unverified)."""

    participant: Address
    description: ChainText


@dataclass(frozen=True, slots=True)
class GtinAssigned:
    """The admin assigned a GTIN to a registrar."""

    gtin: int
    registrar: Address


@dataclass(frozen=True, slots=True)
class GtinReleased:
    """The admin released a GTIN assignment."""

    gtin: int
    registrar: Address


@dataclass(frozen=True, slots=True)
class CompanyPrefixAssigned:
    """The admin assigned a GS1 company prefix (``length`` digits) to a registrar."""

    prefix: int
    length: int
    registrar: Address


@dataclass(frozen=True, slots=True)
class CompanyPrefixReleased:
    """The admin released a GS1 company prefix assignment."""

    prefix: int
    length: int
    registrar: Address


@dataclass(frozen=True, slots=True)
class LotRegistered:
    """A registrar registered a lot."""

    lot_id: int
    gtin: int
    registrar: Address
    lot_code: ChainText
    metadata_hash: bytes


@dataclass(frozen=True, slots=True)
class ItemRegistered:
    """An item was registered into a lot; its first custodian is the lot's registrar."""

    item_id: bytes
    lot_id: int
    serial: ChainText


@dataclass(frozen=True, slots=True)
class CustodyOffered:
    """The custodian offered custody of an item to ``to``."""

    item_id: bytes
    from_: Address
    to: Address


@dataclass(frozen=True, slots=True)
class OfferCancelled:
    """The custodian withdrew an open offer."""

    item_id: bytes
    from_: Address
    to: Address


@dataclass(frozen=True, slots=True)
class OfferRejected:
    """The receiver declined an open offer."""

    item_id: bytes
    from_: Address
    to: Address


@dataclass(frozen=True, slots=True)
class CustodyTransferred:
    """Custody moved from ``from_`` to ``to`` with ``to``'s consent."""

    item_id: bytes
    from_: Address
    to: Address


@dataclass(frozen=True, slots=True)
class ItemObserved:
    """The custodian recorded an observation (a business step) with the hash of its data."""

    item_id: bytes
    by: Address
    biz_step: ChainText
    data_hash: bytes


@dataclass(frozen=True, slots=True)
class ItemSold:
    """The custodian sold the item to an end customer."""

    item_id: bytes
    seller: Address


@dataclass(frozen=True, slots=True)
class LotClosed:
    """The lot's registrar or the admin closed a lot to new items."""

    lot_id: int
    by: Address


@dataclass(frozen=True, slots=True)
class LotRenewed:
    """The lot's registrar confirmed it still holds the registrar role and the lot's GTIN: the lot
    takes items again."""

    lot_id: int
    by: Address


@dataclass(frozen=True, slots=True)
class LotRecalled:
    """The lot's registrar or the admin recalled a lot."""

    lot_id: int
    by: Address
    reason: ChainText


@dataclass(frozen=True, slots=True)
class CodesCommitted:
    """The lot's registrar committed the hidden codes of the ``count`` items registered with this
    event (same transaction) as one Merkle root."""

    lot_id: int
    root: bytes
    count: int


@dataclass(frozen=True, slots=True)
class ItemClaimed:
    """Someone holding the item's hidden code claimed it: the pack was opened by its buyer.
    ``custodian`` held the item then."""

    item_id: bytes
    custodian: Address


@dataclass(frozen=True, slots=True)
class RoleGranted:
    """OpenZeppelin AccessControl: ``account`` now holds ``role`` (brands hold REGISTRAR_ROLE)."""

    role: bytes
    account: Address
    sender: Address


@dataclass(frozen=True, slots=True)
class RoleRevoked:
    """OpenZeppelin AccessControl: ``account`` no longer holds ``role``."""

    role: bytes
    account: Address
    sender: Address


@dataclass(frozen=True, slots=True)
class LotQuantityDeclared:
    """A measured lot declared its quantity (in ``unit``, a
    :class:`~supplytrace.core.records.QuantityUnit` number) and each item's net quantity."""

    lot_id: int
    quantity: int
    item_quantity: int
    unit: int


@dataclass(frozen=True, slots=True)
class LotTransformed:
    """Lot ``lot_id`` (registered just before, same transaction) was made from ``input_lot_ids``,
    consuming ``input_quantities`` of them; it holds ``quantity`` in ``unit``."""

    lot_id: int
    input_lot_ids: tuple[int, ...]
    input_quantities: tuple[int, ...]
    quantity: int
    item_quantity: int
    unit: int


@dataclass(frozen=True, slots=True)
class ContainerCreated:
    """Container ``container_id`` (SSCC ``sscc``) was created by its first packing."""

    container_id: bytes
    sscc: int
    custodian: Address


@dataclass(frozen=True, slots=True)
class ContainerPacked:
    """``custodian`` packed ``contents`` (item or container ids) into ``container_id``."""

    container_id: bytes
    custodian: Address
    contents: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class ContainerUnpacked:
    """``custodian`` took ``contents`` out of ``container_id``; it now holds each of them."""

    container_id: bytes
    custodian: Address
    contents: tuple[bytes, ...]


#: Every event a reader of the registry handles (other OpenZeppelin events are not decoded).
RegistryEvent: TypeAlias = (
    BrandNamed
    | BrandUnnamed
    | ParticipantDescribed
    | GtinAssigned
    | GtinReleased
    | CompanyPrefixAssigned
    | CompanyPrefixReleased
    | LotRegistered
    | ItemRegistered
    | CustodyOffered
    | OfferCancelled
    | OfferRejected
    | CustodyTransferred
    | ItemObserved
    | ItemSold
    | LotClosed
    | LotRenewed
    | LotRecalled
    | CodesCommitted
    | ItemClaimed
    | LotQuantityDeclared
    | LotTransformed
    | ContainerCreated
    | ContainerPacked
    | ContainerUnpacked
    | RoleGranted
    | RoleRevoked
)
EVENT_TYPES: tuple[type[RegistryEvent], ...] = typing.get_args(RegistryEvent)
E = TypeVar("E", bound=RegistryEvent)


@dataclass(frozen=True, slots=True)
class Logged:
    """An event with its place on chain. ``timestamp`` is the block's time when the node put it
    in the log (``blockTimestamp``: anvil, geth 1.16+) or a reader looked it up; else None."""

    event: RegistryEvent
    block_number: int
    log_index: int
    tx_hash: str
    block_hash: str
    timestamp: int | None = None

    @property
    def name(self) -> str:
        return type(self.event).__name__

    @property
    def position(self) -> tuple[int, int]:
        return self.block_number, self.log_index

    def stamped(self, timestamp: int) -> Logged:
        return Logged(self.event, self.block_number, self.log_index, self.tx_hash, self.block_hash, timestamp)


def chain_order(logs: list[Logged]) -> list[Logged]:
    return sorted(logs, key=lambda log: (log.block_number, log.log_index))


# ----------------------------------------------------------------------------------------------
# The decoder, derived from the ABI
# ----------------------------------------------------------------------------------------------

Subject = Literal["item", "container", "lot", "other"]


def _snake(name: str) -> str:
    out = "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
    return out + "_" if out in ("from", "in", "for", "with", "as", "is", "not") else out


@dataclass(frozen=True, slots=True)
class EventSpec:
    """What the decoder knows of one event type."""

    type: type[RegistryEvent]
    name: str
    signature: str
    topic0: str  # 0x + 64 hex digits, lower case
    topics: int  # indexed parameters (topic 0 not counted)
    has_data: bool
    subject: Subject  # what its first indexed parameter identifies: an item, a container, a lot, or none
    decode: Callable[[bytes, bytes], RegistryEvent]  # (indexed topics after topic 0, data)


#: What an event's first indexed parameter names. A custody event's ``itemId`` may name a container
#: (custody actions work on both); a container's own events name it ``containerId``.
_SUBJECTS: dict[str, Subject] = {"itemId": "item", "containerId": "container", "lotId": "lot"}


def _spec(event_type: type[RegistryEvent], entry: dict[str, Any]) -> EventSpec:
    name = event_type.__name__
    hints = typing.get_type_hints(event_type)
    inputs = entry["inputs"]
    names = [f.name for f in fields(event_type)]
    expected = [_snake(p["name"]) for p in inputs]
    if names != expected:
        raise TypeError(f"events.{name} has fields {names}; the ABI's {name} has {expected}")
    topic_fields: list[tuple[int, Convert]] = []
    data_fields: list[tuple[int, Convert]] = []
    for position, param in enumerate(inputs):
        convert = converter(param["type"], hints[names[position]], f"events.{name}.{names[position]}")
        if param["indexed"] and (param["type"] == "string" or param["type"].endswith("]")):
            raise TypeError(f"events.{name}.{names[position]}: an indexed {param['type']} is only a hash")
        (topic_fields if param["indexed"] else data_fields).append((position, convert))
    count = len(inputs)

    def decode(topics: bytes, data: bytes) -> RegistryEvent:
        values: list[Any] = [None] * count
        for n, (position, convert) in enumerate(topic_fields):
            values[position] = convert(b"", topics[32 * n : 32 * n + 32])
        for n, (position, convert) in enumerate(data_fields):
            values[position] = convert(data, padded(data[32 * n : 32 * n + 32]))
        return event_type(*values)

    first = inputs[0]["name"] if inputs and inputs[0]["indexed"] else ""
    subject: Subject = _SUBJECTS.get(first, "other")
    signature = abi.signature(entry)
    return EventSpec(
        event_type,
        name,
        signature,
        "0x" + keccak_text(signature).hex(),
        len(topic_fields),
        bool(data_fields),
        subject,
        decode,
    )


SPECS: dict[type[RegistryEvent], EventSpec] = {
    t: _spec(t, abi.entries("event")[t.__name__]) for t in EVENT_TYPES
}
BY_TOPIC0: dict[str, EventSpec] = {spec.topic0: spec for spec in SPECS.values()}
#: Topic 0 of every event type (one ``eth_getLogs`` filter for all of them).
ALL_TOPICS: list[str] = [spec.topic0 for spec in SPECS.values()]
#: Event types whose first indexed parameter is an item id (an item's own history).
ITEM_EVENTS: tuple[type[RegistryEvent], ...] = tuple(t for t, s in SPECS.items() if s.subject == "item")
#: Event types whose first indexed parameter is a container id (its creation, packing, unpacking;
#: its custody steps are item events naming its id).
CONTAINER_EVENTS: tuple[type[RegistryEvent], ...] = tuple(
    t for t, s in SPECS.items() if s.subject == "container"
)
#: Event types whose first indexed parameter is a lot id (every item of the lot shares them).
LOT_EVENTS: tuple[type[RegistryEvent], ...] = tuple(t for t, s in SPECS.items() if s.subject == "lot")
#: The item event that also names its lot: the one that brings an item into being.
REGISTRATION = ItemRegistered
#: The lot event that names its registrar: the one that brings a lot into being.
LOT_REGISTRATION = LotRegistered
#: The item event of an observation (a business step with a data hash), for a rerun of `record`.
OBSERVATION = ItemObserved
if [t for t in ITEM_EVENTS if "lot_id" in {f.name for f in fields(t)}] != [REGISTRATION] or [
    t for t in LOT_EVENTS if "registrar" in {f.name for f in fields(t)}
] != [LOT_REGISTRATION]:
    raise TypeError("the ABI's registration events are not the ones events.REGISTRATION names")
#: Events about one address alone (an indexed address first): it names or describes itself, is
#: named, or has its name withdrawn. What a reader shows for an address.
NAMING_EVENTS: tuple[type[RegistryEvent], ...] = tuple(
    t
    for t, s in SPECS.items()
    if s.subject == "other"
    and (first := abi.entries("event")[t.__name__]["inputs"][0])["type"] == "address"
    and first["indexed"]
)


def topic0(*types: type[RegistryEvent]) -> list[str]:
    """Topic 0 of each of ``types`` (a filter's first topic position)."""
    return [SPECS[t].topic0 for t in types]


def spec_of(name: str) -> EventSpec:
    """The spec of the event type called ``name`` (as stored in the index)."""
    return _BY_NAME[name]


_BY_NAME = {spec.name: spec for spec in SPECS.values()}


def split_log(
    topics: list[str], data: str, blob: Callable[[str], Any] = bytes.fromhex
) -> tuple[EventSpec, Any, Any] | None:
    """A raw log's spec, indexed topics after topic 0 (concatenated, 32 bytes each) and data, as
    ``blob`` makes them from hex (the indexer stores these and decodes on reading); None for a
    log that is none of the registry's events or has the wrong number of topics."""
    if not topics:
        return None
    spec = BY_TOPIC0.get(topics[0]) or BY_TOPIC0.get(topics[0].lower())
    if spec is None or len(topics) != spec.topics + 1:
        return None
    indexed = blob("".join([t[2:] for t in topics[1:]]))
    return spec, indexed, blob(data[2:]) if spec.has_data else blob("")


def decode(name: str, topics: bytes, data: bytes) -> RegistryEvent:
    """The event called ``name`` from its stored topics and data (see :func:`split_log`)."""
    return _BY_NAME[name].decode(bytes(topics), bytes(data))


_BLOCK_INTS: dict[str, int] = {}  # block numbers and times repeat for every log of a block


def block_int(text: str) -> int:
    """A block number or time from its hex text (cached: every log of a block repeats them)."""
    value = _BLOCK_INTS.get(text)
    if value is None:
        if len(_BLOCK_INTS) > 100_000:
            _BLOCK_INTS.clear()
        value = _BLOCK_INTS[text] = int(text, 16)
    return value


def decode_log(log: dict[str, Any]) -> Logged | None:
    """One raw JSON-RPC log as a :class:`Logged` event; None for a log that is not one of the
    registry's events (another contract's, another OpenZeppelin event, a malformed log)."""
    parts = split_log(log.get("topics") or [], log.get("data") or "0x")
    if parts is None:
        return None
    spec, indexed, data = parts
    stamp = log.get("blockTimestamp")
    return Logged(
        spec.decode(indexed, data),
        block_int(log["blockNumber"]),
        int(log["logIndex"], 16),
        log["transactionHash"],
        log["blockHash"],
        block_int(stamp) if stamp else None,
    )


def id_topic(value: bytes | int) -> str:
    """The 32-byte topic of an item id (bytes32) or a lot id (uint)."""
    raw = value if isinstance(value, bytes | bytearray) else int(value).to_bytes(32, "big")
    return "0x" + bytes(raw).rjust(32, b"\0").hex()


def address_topic(address: str) -> str:
    return "0x" + bytes.fromhex(address[2:]).rjust(32, b"\0").hex()


def subject_ids(event: RegistryEvent) -> tuple[bytes | None, int | None]:
    """(item or container id, lot id) the event is about, where it names them. A custody
    event's ``item_id`` may be a container's id; a container's own events name it too."""
    item = getattr(event, "item_id", None) or getattr(event, "container_id", None)
    lot = getattr(event, "lot_id", None)
    return item, lot
