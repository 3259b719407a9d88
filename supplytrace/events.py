"""The registry's events: one table of layouts, a fast decoder for raw ``eth_getLogs`` entries,
and the one ``eth_getLogs`` loop (:func:`fetch_logs`) every reader uses.

Decoding through web3.py or ape costs ~0.3-0.6 ms per log; every layout here is fixed (indexed
static values in topics, static words or one string in data), so slicing bytes by hand is ~100x
faster. ``tests/supplytrace/test_events.py`` checks this table against the compiled ABI.

:func:`fetch_logs` reads a block range completely or fails: a range the node refuses as too
large (public RPCs cap results at ~10,000 or ranges at 1,000-10,000 blocks) or that times out is
halved, transient failures (dropped or refused connections, HTTP 429/5xx, rate limits) are
retried with exponential backoff, and no sub-range is ever skipped. The indexer
(``supplytrace.indexer``) schedules ranges with it; history reads and batch receipts use it
through :func:`get_logs`.
"""

from __future__ import annotations

import functools
import http.client
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from eth_utils import keccak, to_checksum_address

Blob = TypeVar("Blob", bytes, bytearray)

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
    """A decoded registry event with its position on chain.

    ``block_timestamp`` is the block's time when the node includes it in the log
    (``blockTimestamp``: anvil, geth 1.16+) or when the reader looked it up; None otherwise.
    """

    name: str
    block_number: int
    log_index: int
    tx_hash: str
    block_hash: str
    args: dict[str, Any]
    block_timestamp: int | None = None


#: Checksumming costs ~10 us (keccak); a chain has few participants, so remember them.
_checksum = functools.lru_cache(maxsize=65536)(to_checksum_address)


def _word(value: bytes, kind: str) -> Any:
    if kind == "address":
        return _checksum(value[12:])
    if kind == "bytes32":
        return value
    return int.from_bytes(value, "big")  # uint*


def _hex_bytes(text: str) -> bytes:
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


def _uint(word: bytes) -> int:
    return int.from_bytes(word, "big")


def _address(word: bytes) -> str:
    return _checksum(word[12:])


# Per event: (key, converter or None for bytes32) of each indexed topic, and of each data word
# (None: a string, ABI-encoded at the offset that word holds). Built once; decoding is slicing.
_Field = tuple[str, Any]
_CONVERTERS = {"address": _address, "bytes32": None, "string": "string"}
_TOPIC_FIELDS: dict[str, tuple[_Field, ...]] = {
    name: tuple((key, _CONVERTERS.get(kind, _uint)) for key, kind in fields)
    for name, fields in _INDEXED.items()
}
_DATA_FIELDS: dict[str, tuple[_Field, ...]] = {
    name: tuple((key, _CONVERTERS.get(kind, _uint)) for key, kind in fields) for name, fields in _DATA.items()
}


def decode_args(name: str, topics: bytes, data: bytes) -> dict[str, Any]:
    """The arguments of a ``name`` event from its indexed topics after topic 0 (concatenated,
    32 bytes each) and its data."""
    args: dict[str, Any] = {}
    start = 0
    for key, convert in _TOPIC_FIELDS[name]:
        word = topics[start : start + 32]
        args[key] = word if convert is None else convert(word)
        start += 32
    start = 0
    for key, convert in _DATA_FIELDS[name]:
        word = data[start : start + 32]
        if convert == "string":
            offset = int.from_bytes(word, "big")
            length = int.from_bytes(data[offset : offset + 32], "big")
            args[key] = data[offset + 32 : offset + 32 + length].decode("utf-8", errors="replace")
        else:
            args[key] = word if convert is None else convert(word)
        start += 32
    return args


_new_event = object.__new__
_BLOCK_INTS: dict[str, int] = {}  # block numbers and times repeat for every log of a block


def _block_int(text: str) -> int:
    value = _BLOCK_INTS.get(text)
    if value is None:
        if len(_BLOCK_INTS) > 100_000:
            _BLOCK_INTS.clear()
        value = _BLOCK_INTS[text] = int(text, 16)
    return value


#: topic 0 -> (name, number of topics, whether it has data), to reject a log of another shape.
_SHAPE_BY_TOPIC0 = {
    topic: (name, len(_INDEXED[name]) + 1, bool(_DATA[name])) for name, topic in TOPIC0.items()
}


def log_parts(
    topics: list[str],
    data: str,
    blob: Callable[[str], Blob] = bytes.fromhex,  # type: ignore[assignment]
) -> tuple[str, Blob, Blob] | None:
    """A raw log's event name, indexed topics after topic 0 (concatenated, 32 bytes each) and
    data, which is how the indexer stores it (see :func:`decode_args`), from the log's
    ``topics`` and ``data``; None for a log that is not one of the registry's events (another
    contract's event, or a malformed log). ``blob`` makes the bytes from hex (the indexer
    passes ``bytearray.fromhex``: sqlite3 binds a bytearray ~4x faster than bytes)."""
    if not topics:
        return None
    shape = _SHAPE_BY_TOPIC0.get(topics[0]) or _SHAPE_BY_TOPIC0.get(topics[0].lower())
    if shape is None:
        return None
    name, count, has_data = shape
    if len(topics) != count:
        return None
    indexed = blob("".join([t[2:] for t in topics[1:]]))
    return name, indexed, blob(data[2:]) if has_data else blob("")


def block_int(text: str) -> int:
    """A block number or time from its hex text (cached: every log of a block repeats them)."""
    return _BLOCK_INTS.get(text) or _block_int(text)


def decode_log_raw(log: dict[str, Any]) -> tuple[Event, bytes, bytes] | None:
    """:func:`decode_log`, plus the log's :func:`log_parts` topics and data."""
    parts = log_parts(log["topics"], log.get("data", "0x"))
    if parts is None:
        return None
    name, indexed, data = parts
    stamp = log.get("blockTimestamp")
    # Event is frozen; filling its __dict__ directly skips the frozen __setattr__ (4x faster).
    event = _new_event(Event)
    event.__dict__.update(
        name=name,
        block_number=block_int(log["blockNumber"]),
        log_index=int(log["logIndex"], 16),
        tx_hash=log["transactionHash"],
        block_hash=log["blockHash"],
        args=decode_args(name, indexed, data),
        block_timestamp=block_int(stamp) if stamp else None,
    )
    return event, indexed, data


def decode_log(log: dict[str, Any]) -> Event | None:
    """Decode one raw JSON-RPC log; None for events not in the table (e.g. other OZ events)."""
    decoded = decode_log_raw(log)
    return decoded[0] if decoded is not None else None


def topic_for_id(value: bytes | int) -> str:
    """A 32-byte topic for an item id (bytes32) or a lot id (uint)."""
    raw = value if isinstance(value, bytes | bytearray) else int(value).to_bytes(32, "big")
    return "0x" + bytes(raw).rjust(32, b"\0").hex()


#: Topic 0 of every event in the table (one ``eth_getLogs`` filter for all of them).
ALL_TOPICS: list[str] = list(TOPIC0.values())


# ----------------------------------------------------------------------------------------------
# Reading logs: the one eth_getLogs loop
# ----------------------------------------------------------------------------------------------

#: ``request(method, params) -> result``; raises on a JSON-RPC error or a transport failure.
Request = Callable[[str, list[Any]], Any]


class LogFetchError(RuntimeError):
    """The node did not deliver a block range's logs (after retries); nothing was skipped."""


# Node messages that mean "ask for less" (Infura -32005, Alchemy, QuickNode, Erigon, BlockPI, ...).
_TOO_LARGE = (
    "more than",
    "too many",
    "limit exceeded",
    "exceeds the limit",
    "exceed max",
    "exceeds max",
    "range too large",
    "range is too large",
    "range too wide",
    "block range",
    "blocks range",
    "response size",
    "response is too big",
    "too large",
    "max results",
    "result set",
)
# Node messages that mean "try again later".
_TRANSIENT = (
    "timeout",
    "timed out",
    "rate limit",
    "too many requests",
    "try again",
    "temporarily",
    "unavailable",
    "busy",
    "header not found",
    "unknown block",
    "out of range",
    "connection",
    "internal error",
)
_TRANSIENT_HTTP = {408, 425, 429, 500, 502, 503, 504}


def _message(exc: BaseException) -> str:
    return " ".join(str(part) for part in (getattr(exc, "code", ""), exc)).lower()


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff for transient failures: ``attempts`` tries in all (None: forever),
    waiting ``base`` seconds after the first failure, doubling up to ``cap``."""

    attempts: int | None = 8
    base: float = 0.2
    cap: float = 10.0

    def delay(self, failures: int) -> float:
        return min(self.cap, self.base * 2 ** max(0, failures - 1))


@dataclass
class FetchStats:
    """What :func:`fetch_logs` went through: calls made, ranges halved, transient retries, and
    the widest span the node accepted (the next request should not ask for more)."""

    calls: int = 0
    halvings: int = 0
    retries: int = 0
    widest_accepted: int = 0
    errors: list[str] = field(default_factory=list)


def _rate_limited(exc: BaseException) -> bool:
    text = _message(exc)
    return getattr(exc, "status", None) == 429 or "rate limit" in text or "too many requests" in text


def is_too_large(exc: BaseException) -> bool:
    """The node refused the request as too large (results, block span or response size)."""
    if getattr(exc, "status", None) == 413:
        return True
    if _rate_limited(exc):
        return False
    text = _message(exc)
    return "-32005" in text or any(p in text for p in _TOO_LARGE)


def is_timeout(exc: BaseException) -> bool:
    text = _message(exc)
    return isinstance(exc, TimeoutError) or "timed out" in text or "timeout" in text


def is_transient(exc: BaseException) -> bool:
    """A failure that may go away: a dropped, refused or reset connection, a timeout, HTTP 429
    or 5xx, a rate limit, a node that lags behind its peers."""
    if isinstance(exc, OSError | http.client.HTTPException):  # ConnectionError and TimeoutError too
        return True
    if getattr(exc, "status", None) in _TRANSIENT_HTTP or _rate_limited(exc):
        return True
    text = _message(exc)
    return any(p in text for p in _TRANSIENT)


def call_with_retry(
    request: Request,
    method: str,
    params: list[Any],
    *,
    retry: RetryPolicy,
    stats: FetchStats | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """One JSON-RPC call, retried with ``retry``'s backoff while it fails transiently."""
    failures = 0
    while True:
        try:
            return request(method, params)
        except Exception as exc:
            if not is_transient(exc):
                raise
            failures = _failed(exc, failures, method, retry, stats, sleep)


def _failed(
    exc: Exception,
    failures: int,
    method: str,
    retry: RetryPolicy,
    stats: FetchStats | None,
    sleep: Callable[[float], None],
) -> int:
    """Count a transient failure and wait before the next try; raise when tries are used up."""
    failures += 1
    if stats is not None:
        stats.retries += 1
        if len(stats.errors) < 100:
            stats.errors.append(f"{type(exc).__name__}: {exc}"[:200])
    if retry.attempts is not None and failures >= retry.attempts:
        raise LogFetchError(
            f"{method} failed {failures} times in a row (last: {type(exc).__name__}: {exc})"
        ) from exc
    sleep(retry.delay(failures))
    return failures


def fetch_logs(
    request: Request,
    address: str | list[str],
    topics: list[Any],
    from_block: int,
    to_block: int,
    *,
    retry: RetryPolicy = RetryPolicy(),
    stats: FetchStats | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Any]:
    """Every raw log of ``address`` matching ``topics`` in blocks ``[from_block, to_block]``, in
    chain order, or an exception: never a partial answer. The logs are what ``request`` makes
    of them: dicts, or the indexer's :class:`~supplytrace.indexer.rows.RawLog`.

    A range the node refuses as too large, or that times out, is halved (and the halves
    likewise, down to one block); other transient failures (dropped or refused connections,
    HTTP 429/5xx) are retried on the same range with ``retry``'s backoff.
    """
    stats = stats if stats is not None else FetchStats()
    logs: list[Any] = []
    pending = [(from_block, to_block)]  # a stack: lower half on top, so logs stay in order
    failures = 0
    while pending:
        start, end = pending[-1]
        params = {"address": address, "topics": topics, "fromBlock": hex(start), "toBlock": hex(end)}
        stats.calls += 1
        try:
            found = request("eth_getLogs", [params])
        except Exception as exc:
            if end > start and (is_too_large(exc) or is_timeout(exc)):
                stats.halvings += 1
                pending.pop()
                middle = (start + end) // 2
                pending.extend([(middle + 1, end), (start, middle)])
                continue
            if is_too_large(exc):
                raise LogFetchError(
                    f"the node refuses to return the logs of block {start} alone ({exc}); "
                    "use a node without a result cap"
                ) from exc
            if not is_transient(exc):
                raise
            failures = _failed(exc, failures, "eth_getLogs", retry, stats, sleep)
            continue
        pending.pop()
        failures = 0
        stats.widest_accepted = max(stats.widest_accepted, end - start + 1)
        logs.extend(found)
    return logs


def latest_block(request: Request) -> int:
    result = request("eth_blockNumber", [])
    return int(result, 16) if isinstance(result, str) else int(result)


def get_logs(
    provider: Any, address: str, topics: list[Any], from_block: int, to_block: int | str = "latest"
) -> list[Event]:
    """Decoded registry events over ``[from_block, to_block]`` (``provider.make_request``), in
    chain order, read with :func:`fetch_logs`."""
    request: Request = provider.make_request
    end = latest_block(request) if isinstance(to_block, str) else to_block
    if end < from_block:
        return []
    raw = fetch_logs(request, address, topics, from_block, end)
    events = [e for entry in raw if not entry.get("removed") and (e := decode_log(entry)) is not None]
    events.sort(key=lambda e: (e.block_number, e.log_index))
    return events
