"""Raw JSON-RPC for the verification page: no ape in the request path.

A call through ape's contract layer costs milliseconds; the page instead sends one batched
JSON-RPC POST per request over a keep-alive connection, with the calldata encoded and the
return data decoded here by hand. Every layout used is static (``ItemRecord`` and ``LotRecord``
are tuples of 32-byte words), so decoding is slicing. ``tests/web/test_rpc.py`` checks the
decoders against ape's own decoding of the same calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from eth_utils import keccak, to_checksum_address

from supplytrace.ids import decode_code


def selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


GET_ITEM = selector("getItem(bytes32)")
GET_LOT = selector("getLot(uint32)")
LOT_COUNT = selector("lotCount()")
GTIN_OWNER = selector("gtinOwner(uint256)")
ITEM_STATUSES = selector("itemStatuses(bytes32[])")
HAS_ROLE = selector("hasRole(bytes32,address)")
REGISTRAR_ROLE = keccak(text="REGISTRAR_ROLE")


class ChainUnavailableError(RuntimeError):
    """The node could not be reached or answered garbage: the page cannot check anything now."""


class RpcError(RuntimeError):
    """The node answered a call with a JSON-RPC error (e.g. a revert)."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{message} (code {code})")
        self.code = code
        self.data = data


def word(value: int | bytes | str) -> bytes:
    """One ABI word: an int (uint), an address (0x text) or up to 32 bytes (left-aligned bytes32)."""
    if isinstance(value, int):
        return value.to_bytes(32, "big")
    if isinstance(value, str):
        return bytes.fromhex(value[2:]).rjust(32, b"\0")
    return bytes(value).ljust(32, b"\0")


def _words(raw: bytes, count: int) -> list[bytes]:
    if len(raw) < 32 * count:
        raise ChainUnavailableError(f"the node returned {len(raw)} bytes where {32 * count} were expected.")
    return [raw[32 * n : 32 * n + 32] for n in range(count)]


def _uint(value: bytes) -> int:
    return int.from_bytes(value, "big")


def _address(value: bytes) -> str | None:
    return None if not any(value) else to_checksum_address(value[12:])


def hex_bytes(text: str) -> bytes:
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


@dataclass(frozen=True)
class LiveItem:
    """``getItem(id)``: the item's record on chain right now (``status`` 0 = never registered)."""

    status: int
    custodian: str | None
    pending_receiver: str | None
    brand: str | None
    lot_id: int
    gtin: int
    lot_code: str
    lot_metadata_hash: bytes
    custody_nonce: int
    updated_at: int
    recalled: bool
    recalled_at: int
    lot_closed: bool

    @property
    def registered(self) -> bool:
        return self.status != 0

    @property
    def sold(self) -> bool:
        return self.status == 2


def decode_item(raw: bytes) -> LiveItem:
    w = _words(raw, 13)
    registered = _uint(w[0]) != 0
    return LiveItem(
        status=_uint(w[0]),
        custodian=_address(w[1]),
        pending_receiver=_address(w[2]),
        brand=_address(w[3]),
        lot_id=_uint(w[4]),
        gtin=_uint(w[5]),
        lot_code=decode_code(w[6]) if registered else "",
        lot_metadata_hash=w[7],
        custody_nonce=_uint(w[8]),
        updated_at=_uint(w[9]),
        recalled=_uint(w[10]) != 0,
        recalled_at=_uint(w[11]),
        lot_closed=_uint(w[12]) != 0,
    )


@dataclass(frozen=True)
class LiveLot:
    """``getLot(id)``: a lot's record on chain right now."""

    lot_id: int
    registrar: str | None
    gtin: int
    lot_code: str
    metadata_hash: bytes
    recalled_at: int
    closed: bool


def decode_lot(lot_id: int, raw: bytes) -> LiveLot:
    w = _words(raw, 6)
    return LiveLot(
        lot_id=lot_id,
        registrar=_address(w[0]),
        gtin=_uint(w[1]),
        lot_code=decode_code(w[2]),
        metadata_hash=w[3],
        recalled_at=_uint(w[4]),
        closed=_uint(w[5]) != 0,
    )


def decode_statuses(raw: bytes) -> list[tuple[int, int]]:
    """``itemStatuses`` return data: (status, lot id) per item."""
    first, second = _uint(raw[0:32]), _uint(raw[32:64])
    count = _uint(raw[first : first + 32])
    statuses = [_uint(raw[first + 32 * (1 + n) : first + 32 * (2 + n)]) for n in range(count)]
    lots = [_uint(raw[second + 32 * (1 + n) : second + 32 * (2 + n)]) for n in range(count)]
    return list(zip(statuses, lots, strict=True))


def encode_statuses_call(item_ids: Sequence[bytes]) -> bytes:
    head = word(32) + word(len(item_ids))
    return ITEM_STATUSES + head + b"".join(bytes(i) for i in item_ids)


def _call(to: str, data: bytes) -> tuple[str, list[Any]]:
    return "eth_call", [{"to": to, "data": "0x" + data.hex()}, "latest"]


def _result_bytes(value: Any) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise ChainUnavailableError(f"the node returned {value!r} where hex data was expected.")
    return hex_bytes(value)


class _Batch:
    """Shared request building and response matching for the sync and async clients."""

    def __init__(self) -> None:
        self._next_id = 0

    def _body(self, calls: Sequence[tuple[str, list[Any]]]) -> tuple[bytes, list[int]]:
        ids = []
        payload = []
        for method, params in calls:
            self._next_id += 1
            ids.append(self._next_id)
            payload.append({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        return orjson.dumps(payload), ids

    @staticmethod
    def _match(content: bytes, ids: list[int]) -> list[Any]:
        try:
            answers = orjson.loads(content)
        except orjson.JSONDecodeError:
            raise ChainUnavailableError("the node's answer is not JSON.") from None
        if isinstance(answers, dict):  # some nodes answer a whole failed batch with one error
            error = answers.get("error") or {}
            raise ChainUnavailableError(f"the node refused the request: {error.get('message', answers)}")
        by_id = {a.get("id"): a for a in answers if isinstance(a, dict)}
        out: list[Any] = []
        for request_id in ids:
            answer = by_id.get(request_id)
            if answer is None:
                raise ChainUnavailableError("the node's answer is missing a result.")
            if "error" in answer:
                error = answer["error"] or {}
                out.append(RpcError(int(error.get("code", 0)), str(error.get("message")), error.get("data")))
            else:
                out.append(answer.get("result"))
        return out


class AsyncChain(_Batch):
    """The page's live reads: batched JSON-RPC over one keep-alive connection pool."""

    def __init__(self, url: str, registry: str, *, timeout: float = 5.0) -> None:
        super().__init__()
        self.url = url
        self.registry = to_checksum_address(registry)
        self._client = httpx.AsyncClient(
            timeout=timeout,
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=16, keepalive_expiry=60),
            headers={"Content-Type": "application/json"},
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        """Results in order; a call the node answered with an error gives an :class:`RpcError`."""
        body, ids = self._body(calls)
        try:
            response = await self._client.post(self.url, content=body)
        except httpx.HTTPError as exc:
            raise ChainUnavailableError(f"cannot reach the node at {self.url}: {exc!r}") from None
        if response.status_code != 200:
            raise ChainUnavailableError(f"the node at {self.url} answered HTTP {response.status_code}.")
        return self._match(response.content, ids)

    async def item(self, item_id: bytes, *, gtin: int | None = None) -> tuple[LiveItem, int, str | None]:
        """(the item's record, the chain head, the owner of ``gtin`` if asked), in one round trip."""
        calls = [("eth_blockNumber", []), _call(self.registry, GET_ITEM + word(item_id))]
        if gtin is not None:
            calls.append(_call(self.registry, GTIN_OWNER + word(gtin)))
        results = await self.batch(calls)
        _raise_any(results)
        owner = _address(_result_bytes(results[2])[:32]) if gtin is not None else None
        return decode_item(_result_bytes(results[1])), int(results[0], 16), owner

    async def lot(self, lot_id: int) -> tuple[LiveLot | None, int]:
        """(the lot's record or None if there is no such lot, the chain head)."""
        results = await self.batch(
            [
                ("eth_blockNumber", []),
                _call(self.registry, LOT_COUNT),
                _call(self.registry, GET_LOT + word(lot_id)),
            ]
        )
        _raise_any(results[:2])
        head, count = int(results[0], 16), _uint(_result_bytes(results[1])[:32])
        if not 0 < lot_id <= count:
            return None, head
        _raise_any(results[2:])
        return decode_lot(lot_id, _result_bytes(results[2])), head

    async def item_statuses(self, item_ids: Sequence[bytes]) -> list[tuple[int, int]]:
        if not item_ids:
            return []
        (result,) = await self.batch([_call(self.registry, encode_statuses_call(item_ids))])
        _raise_any([result])
        return decode_statuses(_result_bytes(result))

    async def transaction(self, tx_hash: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None, int]:
        """(the transaction, its receipt, the chain head); (None, None, head) for an unknown hash."""
        results = await self.batch(
            [
                ("eth_blockNumber", []),
                ("eth_getTransactionByHash", [tx_hash]),
                ("eth_getTransactionReceipt", [tx_hash]),
            ]
        )
        _raise_any(results)
        return results[1], results[2], int(results[0], 16)

    async def block_time(self, number: int) -> int | None:
        (block,) = await self.batch([("eth_getBlockByNumber", [hex(number), False])])
        _raise_any([block])
        return None if block is None else int(block["timestamp"], 16)

    async def account(self, address: str) -> tuple[bytes, bool, int]:
        """(code at ``address``, whether it holds REGISTRAR_ROLE, the chain head)."""
        results = await self.batch(
            [
                ("eth_blockNumber", []),
                ("eth_getCode", [address, "latest"]),
                _call(self.registry, HAS_ROLE + word(REGISTRAR_ROLE) + word(address)),
            ]
        )
        _raise_any(results)
        return _result_bytes(results[1]), _uint(_result_bytes(results[2])[:32]) != 0, int(results[0], 16)


def _raise_any(results: Sequence[Any]) -> None:
    for result in results:
        if isinstance(result, RpcError):
            raise ChainUnavailableError(f"the node could not answer a read: {result}")


class SyncRpc(_Batch):
    """A blocking JSON-RPC client with ape's ``provider.make_request`` shape, for the chain-backed
    history (``supplytrace.events.get_logs`` takes any object with that method)."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        super().__init__()
        self.url = url
        self._client = httpx.Client(timeout=timeout, headers={"Content-Type": "application/json"})

    def close(self) -> None:
        self._client.close()

    def batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        if not calls:
            return []
        body, ids = self._body(calls)
        try:
            response = self._client.post(self.url, content=body)
        except httpx.HTTPError as exc:
            raise ChainUnavailableError(f"cannot reach the node at {self.url}: {exc!r}") from None
        if response.status_code != 200:
            raise ChainUnavailableError(f"the node at {self.url} answered HTTP {response.status_code}.")
        return self._match(response.content, ids)

    def make_request(self, method: str, params: list[Any]) -> Any:
        (result,) = self.batch([(method, params)])
        if isinstance(result, RpcError):
            raise result
        return result
