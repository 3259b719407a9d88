"""Relayed custody: the relayer a brand runs (:func:`open_relayer`), and the other side, custody
steps signed here and sent through a relayer's URL (:func:`relay_steps`, :func:`relay_handoff`),
so that an account with no ether takes part.

Through a relayer each item is one action (one signature, one transaction the relayer pays):
the item's custody nonce is read, the action signed locally with the account's key
(:mod:`supplytrace.core.actions`), posted, and the relayer's transaction reported. Items already
in the state asked for are skipped, as in a direct run (:func:`supplytrace.service.bulk.split`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supplytrace.core.actions import ActionKind, SignedAction
from supplytrace.core.config import Settings
from supplytrace.core.errors import ChainError, SupplytraceError
from supplytrace.core.hashing import keccak
from supplytrace.core.ids import encode_code
from supplytrace.relay import Caps, Relayed, Relayer, UsageBook
from supplytrace.relay.relayer import DEFAULT_MAX_AHEAD
from supplytrace.relay.request import wire
from supplytrace.service import bulk, handoffs, selection
from supplytrace.service.handoffs import Acceptances, MessageSigner
from supplytrace.service.registry import Items, Registry
from supplytrace.service.selection import Applies, ItemSelection

#: How long a signature sent to a relayer stays valid (seconds).
DEFAULT_VALID_FOR = 3600
#: How long to wait for the relayer's answer: it answers once the transaction is mined.
RELAY_TIMEOUT = 660.0
_TX_HASH = re.compile(r"0x[0-9a-f]{64}")


class RelayError(SupplytraceError):
    """The relayer refused an action or could not be reached; the message says why."""


def usage_path(settings: Settings) -> Path:
    """Where a relayer keeps its daily use: ``<SUPPLYTRACE_HOME>/relay/usage.sqlite3``."""
    return settings.home / "relay" / "usage.sqlite3"


def open_relayer(
    settings: Settings,
    network: str,
    account: str,
    *,
    caps: Caps | None = None,
    max_ahead: int = DEFAULT_MAX_AHEAD,
) -> Relayer:
    """The relayer of the registry recorded for ``network``, paying from ape account ``account``."""
    from supplytrace.service.connect import open_registry

    registry = open_registry(settings, network, account=account)
    assert registry.sender is not None  # an account was given
    return Relayer(
        registry.sender, UsageBook(usage_path(settings)), caps, tx_link=registry.tx_link, max_ahead=max_ahead
    )


@dataclass
class RelayRun:
    """What a relayed run did: each item's transaction, and the items already done."""

    relayed: list[Relayed] = field(default_factory=list)
    done: list[bytes] = field(default_factory=list)


Post = Callable[[dict[str, Any]], Relayed]


def poster(url: str, *, timeout: float = RELAY_TIMEOUT, client: Any = None) -> Post:
    """Posts a request to the relayer at ``url`` (its base: ``POST <url>/actions``), through
    ``client`` (an ``httpx.Client``, e.g. a test client of the app) or a connection of its own."""
    if not url.startswith(("http://", "https://")):
        raise RelayError(
            f"--relay {url!r} is not an HTTP(S) URL; give the relayer's address (http://host:port)."
        )
    endpoint = url.rstrip("/") + "/actions"

    def post(body: dict[str, Any]) -> Relayed:
        import httpx

        try:
            if client is not None:
                answer = client.post(endpoint, json=body)
            else:
                answer = httpx.post(endpoint, json=body, timeout=timeout)
        except httpx.HTTPError as exc:
            raise RelayError(
                f"the relayer at {url} is not reachable ({type(exc).__name__}); check --relay and that "
                "`supplytrace relay` runs there."
            ) from None
        return _answer(answer.status_code, answer.content, url)

    return post


def _answer(status: int, content: bytes, url: str) -> Relayed:
    """The relayer's answer (hostile bytes) read, or its refusal raised."""
    try:
        data = json.loads(content[:65536])
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise RelayError(f"the relayer at {url} answered HTTP {status} with no JSON; check --relay.")
    if status != 200:
        error = data.get("error")
        sentence = " ".join(str(error).split())[:500] if error else f"HTTP {status}"
        raise (ChainError if status >= 500 else RelayError)(f"the relayer refused: {sentence}")
    try:
        relayed = Relayed(
            kind=str(data["kind"]),
            item=str(data["item"]),
            signer=str(data["signer"]),
            tx_hash=str(data["tx_hash"]).lower(),
            block=int(data["block"]),
            status=str(data["status"]),
            gas_used=int(data["gas_used"]),
            fee_wei=int(data["fee_wei"]),
            explorer=str(data["explorer"]) if data.get("explorer") else None,
        )
    except (KeyError, TypeError, ValueError):
        raise RelayError(f"the relayer at {url} answered without a transaction; check --relay.") from None
    if not _TX_HASH.fullmatch(relayed.tx_hash) or relayed.status not in ("success", "reverted"):
        raise RelayError(f"the relayer at {url} answered with a malformed transaction; check --relay.")
    if relayed.explorer and not relayed.explorer.startswith(("http://", "https://")):
        relayed = Relayed(**{**relayed.to_json(), "explorer": None})
    return relayed


def _signer(registry: Registry) -> MessageSigner:
    signer = registry.sender.signer if registry.sender else None
    if not isinstance(signer, MessageSigner):
        raise SupplytraceError("this account cannot sign messages; use an ape account (--account ALIAS).")
    return signer


def _case(kind: str, me: str, to: str | None) -> bulk.Custody:
    if kind == "offer":
        return bulk.offering(me, selection.address(to or ""))
    cases = {"accept": bulk.accepting, "reject": bulk.rejecting, "cancel": bulk.cancelling}
    return cases.get(kind, bulk.selling)(me)


def relay_steps(
    registry: Registry,
    post: Post,
    kind: ActionKind,
    items: Items,
    *,
    to: str | None = None,
    step: str | None = None,
    data_file: str | os.PathLike[str] | None = None,
    valid_for: int = DEFAULT_VALID_FOR,
    on_relayed: Callable[[Relayed], None] | None = None,
) -> RelayRun:
    """Sign ``kind`` (offer, accept, reject, cancel, record, sell) for each of ``items`` as
    ``registry``'s account and send each through ``post``; ``to`` for an offer, ``step`` (and
    ``data_file``) for a record, as the direct commands take them."""
    me = registry.account
    run = RelayRun()
    fields: dict[str, Any] = {}
    if kind == "record":
        fields["biz_step"] = encode_code(step or "", "business step")
        if data_file is not None and not Path(data_file).is_file():
            raise SupplytraceError(
                f"data file {data_file} does not exist; give the file whose hash to record (--data)."
            )
        fields["data_hash"] = keccak(Path(data_file).read_bytes()) if data_file is not None else b"\0" * 32
        todo = registry.select(items, Applies(holder=me))
    else:
        if kind == "offer":
            fields["to"] = selection.address(to or "")
        case = _case(kind, me, to)
        named = selection.named_items(items) if isinstance(items, ItemSelection) else list(items)
        lot = None
        if isinstance(items, ItemSelection) and items.lot_ref is not None:
            lot_id = registry.resolve_lot(items.lot_ref)
            lot = (lot_id, [i.item_id for i in registry.history.lot_items(lot_id)])
        todo, run.done = bulk.split(registry.reads, named, lot, case.applies, case.done)
    signer = _signer(registry)
    deadline = handoffs.now(registry.rpc) + valid_for
    for record in registry.items(todo):
        action = SignedAction(
            kind=kind,
            chain_id=registry.deployment.chain_id,
            registry=registry.address,
            item=record.item_id,
            nonce=record.custody_nonce,
            deadline=deadline,
            **fields,
        )
        _send(run, post, wire(action, bytes(signer.sign_message(action.signable()))), on_relayed)
    return run


def relay_handoff(
    registry: Registry,
    post: Post,
    acceptance: Acceptances,
    *,
    on_relayed: Callable[[Relayed], None] | None = None,
) -> RelayRun:
    """Hand items over through ``post`` with the receiver's signed ``acceptance`` (parts of one
    item each), each part signed by ``registry``'s account (the custodian) too; parts already
    used are done."""
    me = registry.account
    handoffs.check_handoff(acceptance, sender=me, deployment=registry.deployment)
    batched = [part for part in acceptance.parts if part.request.is_batch]
    if batched:
        raise RelayError(
            f"this acceptance has a part of {len(batched[0].request.items)} items, and a relayer hands "
            "over one item per signature; ask the receiver to sign with `sign-acceptance --max-per-tx 1`."
        )
    signer = _signer(registry)
    run = RelayRun()
    live = dict(zip(acceptance.items, registry.items(acceptance.items), strict=True))
    for part in acceptance.parts:
        request = part.request
        item, nonce = request.items[0], request.nonces[0]
        if bulk.same(live[item].custodian, request.receiver) and live[item].custody_nonce > nonce:
            run.done.append(item)
            continue
        action = SignedAction(
            kind="handoff",
            chain_id=request.chain_id,
            registry=request.registry,
            item=item,
            nonce=nonce,
            deadline=request.deadline,
            to=request.receiver,
            sender=me,
        )
        body = wire(action, bytes(signer.sign_message(action.signable())), part.signature)
        _send(run, post, body, on_relayed)
    return run


def _send(
    run: RelayRun, post: Post, body: dict[str, Any], on_relayed: Callable[[Relayed], None] | None
) -> None:
    try:
        relayed = post(body)
    except (RelayError, ChainError) as exc:
        if run.relayed:
            raise type(exc)(
                f"{exc} ({len(run.relayed)} item{'s' if len(run.relayed) > 1 else ''} relayed before it; "
                "a rerun skips what is done.)"
            ) from None
        raise
    run.relayed.append(relayed)
    if on_relayed is not None:
        on_relayed(relayed)
