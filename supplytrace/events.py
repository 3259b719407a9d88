"""The registry's events: one table of layouts and a fast decoder for raw ``eth_getLogs`` entries.

Decoding through web3.py or ape costs ~0.3-0.6 ms per log; every layout here is fixed (indexed
static values in topics, static words or one string in data), so slicing bytes by hand is ~100x
faster. ``tests/supplytrace/test_events.py`` checks this table against the compiled ABI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils import keccak, to_checksum_address

# name -> inputs in declared order: (name, type, indexed). Types: address, uint*, bytes32, string.
_I, _D = True, False
LAYOUTS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "BrandNamed": (("brand", "address", _I), ("name", "string", _D)),
    "ParticipantDescribed": (("participant", "address", _I), ("description", "string", _D)),
    "GtinAssigned": (("gtin", "uint256", _I), ("registrar", "address", _I)),
    "GtinReleased": (("gtin", "uint256", _I), ("registrar", "address", _I)),
    "CompanyPrefixAssigned": (
        ("prefix", "uint256", _I),
        ("length", "uint8", _D),
        ("registrar", "address", _I),
    ),
    "CompanyPrefixReleased": (
        ("prefix", "uint256", _I),
        ("length", "uint8", _D),
        ("registrar", "address", _I),
    ),
    "LotRegistered": (
        ("lotId", "uint32", _I),
        ("gtin", "uint256", _I),
        ("registrar", "address", _I),
        ("lotCode", "bytes32", _D),
        ("metadataHash", "bytes32", _D),
    ),
    "ItemRegistered": (("itemId", "bytes32", _I), ("lotId", "uint32", _I), ("serial", "bytes32", _D)),
    "CustodyOffered": (("itemId", "bytes32", _I), ("from", "address", _I), ("to", "address", _I)),
    "OfferCancelled": (("itemId", "bytes32", _I), ("from", "address", _I), ("to", "address", _I)),
    "OfferRejected": (("itemId", "bytes32", _I), ("from", "address", _I), ("to", "address", _I)),
    "CustodyTransferred": (("itemId", "bytes32", _I), ("from", "address", _I), ("to", "address", _I)),
    "ItemObserved": (
        ("itemId", "bytes32", _I),
        ("by", "address", _I),
        ("bizStep", "bytes32", _I),
        ("dataHash", "bytes32", _D),
    ),
    "ItemSold": (("itemId", "bytes32", _I), ("seller", "address", _I)),
    "LotClosed": (("lotId", "uint32", _I), ("by", "address", _I)),
    "LotRecalled": (("lotId", "uint32", _I), ("by", "address", _I), ("reason", "string", _D)),
    # OpenZeppelin AccessControl: who holds a role (brands are REGISTRAR_ROLE holders).
    "RoleGranted": (("role", "bytes32", _I), ("account", "address", _I), ("sender", "address", _I)),
    "RoleRevoked": (("role", "bytes32", _I), ("account", "address", _I), ("sender", "address", _I)),
}
_INDEXED = {name: tuple((n, t) for n, t, i in inputs if i) for name, inputs in LAYOUTS.items()}
_DATA = {name: tuple((n, t) for n, t, i in inputs if not i) for name, inputs in LAYOUTS.items()}

#: Events whose first indexed topic is an item id (an item's history).
ITEM_EVENTS = (
    "ItemRegistered",
    "CustodyOffered",
    "OfferCancelled",
    "OfferRejected",
    "CustodyTransferred",
    "ItemObserved",
    "ItemSold",
)
#: Events whose first indexed topic is a lot id.
LOT_EVENTS = ("LotRegistered", "LotClosed", "LotRecalled")


def signature(name: str) -> str:
    return f"{name}({','.join(t for _, t, _ in LAYOUTS[name])})"


TOPIC0: dict[str, str] = {name: "0x" + keccak(text=signature(name)).hex() for name in LAYOUTS}
NAME_BY_TOPIC0: dict[str, str] = {topic: name for name, topic in TOPIC0.items()}


@dataclass(frozen=True)
class Event:
    """A decoded registry event with its position on chain."""

    name: str
    block_number: int
    log_index: int
    tx_hash: str
    block_hash: str
    args: dict[str, Any]


def _word(value: bytes, kind: str) -> Any:
    if kind == "address":
        return to_checksum_address(value[12:])
    if kind == "bytes32":
        return value
    return int.from_bytes(value, "big")  # uint*


def _hex_bytes(text: str) -> bytes:
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


def decode_log(log: dict[str, Any]) -> Event | None:
    """Decode one raw JSON-RPC log; None for events not in the table (e.g. other OZ events)."""
    topics = log["topics"]
    if not topics:
        return None
    name = NAME_BY_TOPIC0.get(topics[0].lower())
    if name is None:
        return None
    indexed, data_fields = _INDEXED[name], _DATA[name]
    args: dict[str, Any] = {}
    for (field, kind), topic in zip(indexed, topics[1:], strict=True):
        args[field] = _word(_hex_bytes(topic), kind)
    if data_fields:
        data = _hex_bytes(log["data"])
        for position, (field, kind) in enumerate(data_fields):
            word = data[32 * position : 32 * position + 32]
            if kind == "string":
                offset = int.from_bytes(word, "big")
                length = int.from_bytes(data[offset : offset + 32], "big")
                args[field] = data[offset + 32 : offset + 32 + length].decode("utf-8", errors="replace")
            else:
                args[field] = _word(word, kind)
    return Event(
        name=name,
        block_number=int(log["blockNumber"], 16),
        log_index=int(log["logIndex"], 16),
        tx_hash=log["transactionHash"],
        block_hash=log["blockHash"],
        args=args,
    )


def topic_for_id(value: bytes | int) -> str:
    """A 32-byte topic for an item id (bytes32) or a lot id (uint)."""
    raw = value if isinstance(value, bytes | bytearray) else int(value).to_bytes(32, "big")
    return "0x" + bytes(raw).rjust(32, b"\0").hex()


def get_logs(
    provider: Any, address: str, topics: list[Any], from_block: int, to_block: int | str = "latest"
) -> list[Event]:
    """Raw ``eth_getLogs`` + hand decoding, in chain order."""
    params = {
        "address": address,
        "fromBlock": hex(from_block),
        "toBlock": to_block if isinstance(to_block, str) else hex(to_block),
        "topics": topics,
    }
    raw = provider.make_request("eth_getLogs", [params])
    events = [e for e in (decode_log(entry) for entry in raw) if e is not None]
    events.sort(key=lambda e: (e.block_number, e.log_index))
    return events
