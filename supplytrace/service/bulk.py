"""Bulk runs: one custody step (offer, accept, reject, cancel, a signed handoff) or one
per-item step (sell, record) over many items, in transactions sized under
min(EIP-7825's cap, the block gas limit) from the measured gas of each function
(:data:`~supplytrace.chain.gas.BATCH_GAS`), each chunk estimated before it is sent.

A run is resumable from the chain alone: what an earlier (interrupted) run did is already in the
state asked for, and is skipped and counted as done (:func:`split`). Before anything is sent the
run waits until the account has no pending transaction, tells its :class:`Cost` to
``before_send`` (the place to ask), then reports progress as ``on_progress(done, total)``. Ctrl-C,
or the node failing after a first chunk, raise :class:`~supplytrace.core.errors.InterruptedRunError`
(exit code 3) saying how many items are done and that a rerun finishes the job.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from supplytrace.chain.gas import BATCH_GAS, BatchGas, Sizing, chunk_size, ether, gas_price
from supplytrace.chain.logs import fetch_logs
from supplytrace.chain.reads import RegistryReads
from supplytrace.chain.rpc import hex_int
from supplytrace.chain.send import Sender
from supplytrace.core.errors import ChainError, ContractRevertError, InterruptedRunError, SupplytraceError
from supplytrace.core.events import OBSERVATION, topic0
from supplytrace.core.hashing import keccak
from supplytrace.core.records import ItemRecord, ItemStatus
from supplytrace.service import selection
from supplytrace.service.results import BulkResult, Moved
from supplytrace.service.selection import Applies

Done = Callable[[ItemRecord], bool]  # an item already in the state a run asks for


@dataclass(frozen=True)
class Cost:
    """What a run will send: ``items`` in ``transactions``, about ``gas`` (upper bounds of the
    measured gas) at ``gas_price`` wei (the current base fee plus the suggested tip); ``done``
    items were already done by an earlier run."""

    items: int
    transactions: int
    gas: int
    gas_price: int
    done: int = 0

    @property
    def fee_wei(self) -> int:
        return self.gas * self.gas_price

    def sentence(self) -> str:
        """``25 items in 3 transactions, about 700,000 gas, about 0.0007 ETH at the current base fee``."""
        items = "1 item" if self.items == 1 else f"{self.items:,} items"
        txs = "1 transaction" if self.transactions == 1 else f"{self.transactions:,} transactions"
        return (
            f"{items} in {txs}, about {self.gas:,} gas, about {ether(self.fee_wei)} at the current base fee"
        )


@dataclass(frozen=True)
class RunOptions:
    """How a bulk run goes: at most ``max_items_per_tx`` items per transaction; ``before_send``
    (called once, only if there is something to send; raise to send nothing); ``on_progress(done,
    total)`` items; ``on_sent`` after each confirmed transaction (raise to stop; a rerun finishes)."""

    max_items_per_tx: int | None = None
    before_send: Callable[[Cost], None] | None = None
    on_progress: Callable[[int, int], None] | None = None
    on_sent: Callable[[Moved], None] | None = None


@dataclass(frozen=True)
class Step:
    """What a run sends for a chunk of items: ``call(chunk)`` -> (function, arguments); ``gas``
    sizes the chunks; ``past`` names what was done ("offered"), for sentences."""

    call: Callable[[Sequence[bytes]], tuple[str, tuple[Any, ...]]]
    gas: BatchGas
    past: str


def custody_step(single: str, many: str, extra: tuple[Any, ...], gas: BatchGas, past: str) -> Step:
    """A step with a function for one item (``single``) and its batch twin (``many``)."""

    def call(chunk: Sequence[bytes]) -> tuple[str, tuple[Any, ...]]:
        return (single, (chunk[0], *extra)) if len(chunk) == 1 else (many, (list(chunk), *extra))

    return Step(call, gas, past)


@dataclass(frozen=True)
class Custody:
    """A bulk use case: the lot items it ``applies`` to, the items already ``done`` (in the state
    it asks for), and the ``step`` it sends."""

    applies: Applies
    done: Done
    step: Step


def offering(me: str, to: str) -> Custody:
    step = custody_step("offer", "offerBatch", (to,), BATCH_GAS["offerBatch"], "offered")
    return Custody(Applies(holder=me), lambda r: same(r.custodian, me) and same(r.pending_receiver, to), step)


def accepting(me: str) -> Custody:
    step = custody_step("accept", "acceptBatch", (), BATCH_GAS["acceptBatch"], "accepted")
    return Custody(
        Applies(offered_to=me), lambda r: r.status is ItemStatus.ACTIVE and same(r.custodian, me), step
    )


def rejecting(me: str) -> Custody:
    gas = BATCH_GAS["rejectOfferBatch"]
    step = custody_step("rejectOffer", "rejectOfferBatch", (), gas, "rejected")
    return Custody(
        Applies(offered_to=me), lambda r: r.status is ItemStatus.ACTIVE and r.pending_receiver is None, step
    )


def cancelling(me: str) -> Custody:
    gas = BATCH_GAS["cancelOfferBatch"]
    step = custody_step("cancelOffer", "cancelOfferBatch", (), gas, "withdrawn")
    return Custody(
        Applies(holder=me, offered=True), lambda r: same(r.custodian, me) and r.pending_receiver is None, step
    )


def selling(me: str) -> Custody:
    step = Step(lambda c: ("sell", (c[0],)), BATCH_GAS["sell"], "sold")
    return Custody(Applies(holder=me), lambda r: r.status is ItemStatus.SOLD, step)


# -- which items: what is left, what is done ---------------------------------------------------


def same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.lower() == b.lower()


def split(
    reads: RegistryReads,
    named: Sequence[bytes],
    lot: tuple[int, Sequence[bytes]] | None,
    applies: Applies,
    done: Done,
) -> tuple[list[bytes], list[bytes]]:
    """(to do, already done) of the ``named`` items and of the lot ``(lot id, its items)``: of a
    lot, the items ``applies`` takes are to do and those ``done`` takes are done; of a list of
    more than one item, those ``done`` takes are done and the rest to do (the registry tells
    what is wrong with them). One item alone is sent as named, as it always was."""
    named = list(dict.fromkeys(named))
    todo: list[bytes] = []
    skipped: list[bytes] = []
    if len(named) == 1 and lot is None:
        todo = named
    elif named:
        for record in selection.records(reads, named):
            (skipped if done(record) else todo).append(record.item_id)
    if lot is not None:
        lot_id, lot_items = lot
        chosen, finished = selection.lot_split(reads, lot_id, lot_items, applies, done)
        known = set(todo) | set(skipped)
        todo += [i for i in chosen if i not in known]
        skipped += [i for i in finished if i not in known]
    if not todo and not skipped:
        raise selection.nothing_named()
    return todo, skipped


def chunks(items: Sequence[bytes], size: int) -> list[list[bytes]]:
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


# -- the run ------------------------------------------------------------------------------------


def wait_until_settled(sender: Sender) -> None:
    """Wait until the account has no pending transaction (one sent just before a crash must be
    mined before the chain says what is left)."""
    from supplytrace.batch import wait_for_pending  # loads the batch engine (biip) only to write

    wait_for_pending(sender.rpc, sender.address)


def run(
    sender: Sender,
    step: Step,
    todo: Sequence[bytes],
    *,
    done: Sequence[bytes] = (),
    options: RunOptions | None = None,
) -> BulkResult:
    """Send ``step`` for ``todo`` in chunks sized from its gas (and ``max_items_per_tx``)."""
    options = options or RunOptions()
    sizing = chunk_size(sender.rpc, step.gas, options.max_items_per_tx)
    return send_chunks(sender, step, chunks(todo, sizing.items_per_tx), sizing, done=done, options=options)


def send_chunks(
    sender: Sender,
    step: Step,
    planned: Sequence[Sequence[bytes]],
    sizing: Sizing,
    *,
    done: Sequence[bytes] = (),
    options: RunOptions | None = None,
    resizable: bool = True,
) -> BulkResult:
    """Send ``planned`` chunks one transaction at a time, each estimated first (a chunk above the
    budget is split when ``resizable``) and confirmed before the next."""
    options = options or RunOptions()
    queue = [list(c) for c in planned if c]
    count = sum(len(c) for c in queue)
    total = count + len(done)
    moves: list[Moved] = []

    def finished() -> int:
        return len(done) + sum(len(m.items) for m in moves)

    if not queue:
        return BulkResult((), tuple(done))
    cost = Cost(count, len(queue), sum(step.gas.gas(len(c)) for c in queue), gas_price(sender.rpc), len(done))
    check_balance(sender, cost)
    if options.before_send is not None:
        options.before_send(cost)
    if options.on_progress is not None:
        options.on_progress(finished(), total)
    try:
        while queue:
            chunk = queue.pop(0)
            name, args = step.call(chunk)
            data = sender.calldata(name, *args)
            estimate = _checked(sender, sender.estimate, data, to=sender.registry)
            if resizable and estimate > sizing.gas_budget and len(chunk) > 1:
                queue[:0] = chunks(chunk, max(1, len(chunk) * sizing.gas_budget // estimate))
                continue
            gas_limit = min(sizing.gas_cap, estimate + estimate // 5 + 10_000)
            sent = _checked(sender, sender.transact, data, to=sender.registry, gas_limit=gas_limit)
            moves.append(Moved(tuple(chunk), sent))
            if options.on_progress is not None:
                options.on_progress(finished(), total)
            if options.on_sent is not None:
                options.on_sent(moves[-1])
    except KeyboardInterrupt:
        raise InterruptedRunError(
            f"interrupted after {finished():,} of {total:,} items were {step.past} (a transaction sent "
            "just before may still be mined); run the same command again to finish: what is done is "
            "skipped."
        ) from None
    except ChainError as exc:
        if not moves:
            raise
        raise InterruptedRunError(
            f"the node failed after {finished():,} of {total:,} items were {step.past} ({exc}); run the "
            "same command again to finish: what is done is skipped."
        ) from exc
    return BulkResult(tuple(moves), tuple(done))


def _checked(sender: Sender, action: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``action(...)``; when the registry refuses, an account that cannot pay hears that first."""
    try:
        return action(*args, **kwargs)
    except ContractRevertError as exc:
        check_funds(sender)
        if sender.registry is None:
            raise
        raise selection.with_sscc(RegistryReads(sender.rpc, sender.registry), exc) from None


def check_funds(sender: Sender) -> None:
    """Raise when ``sender``'s account cannot pay even the cheapest transaction (21,000 gas)."""
    check_balance(sender, Cost(0, 1, 21_000, gas_price(sender.rpc)))


def check_balance(sender: Sender, cost: Cost) -> None:
    """Raise when ``sender``'s account has less ether than ``cost`` (at a non-zero gas price)."""
    balance = hex_int(sender.rpc.request("eth_getBalance", [sender.address, "latest"]))
    if balance < cost.fee_wei:
        raise SupplytraceError(
            f"the sending account {sender.address} has too little ether for gas; fund it (a faucet on "
            f"testnets) and retry: it has {ether(balance)}, and this takes about {ether(cost.fee_wei)}."
        )


# -- record: a journal, since an observation can rightly be made twice --------------------------


def record(
    sender: Sender,
    home: Path,
    chain_id: int,
    items: Sequence[bytes],
    word: bytes,
    data_hash: bytes,
    options: RunOptions | None = None,
) -> BulkResult:
    """Record the business step ``word`` with ``data_hash`` for ``items``, one transaction each. An
    observation may be repeated on purpose (a second inspection), so a rerun skips only what an
    unfinished run with the same items, step and data recorded: the run keeps a journal (under
    ``home/runs``) naming the block it started at, deleted when it ends."""
    ids = list(dict.fromkeys(items))
    key = {"chain": chain_id, "registry": sender.registry, "by": sender.address, "step": word.hex()}
    digest = keccak(json.dumps(key, sort_keys=True).encode() + data_hash + b"".join(ids)).hex()[:24]
    journal = home / "runs" / f"record-{digest}.json"
    finished = _recorded_since(sender, journal, ids, word, data_hash)
    if not journal.is_file():
        head = hex_int(sender.rpc.request("eth_blockNumber", []))
        journal.parent.mkdir(parents=True, exist_ok=True)
        journal.write_text(json.dumps({"from_block": head + 1, **key}) + "\n")
    todo = [i for i in ids if i not in set(finished)]
    recorded = Step(lambda c: ("record", (c[0], word, data_hash)), BATCH_GAS["record"], "recorded")
    result = run(sender, recorded, todo, done=finished, options=options)
    journal.unlink(missing_ok=True)
    return result


def _recorded_since(
    sender: Sender, journal: Path, items: Sequence[bytes], word: bytes, data_hash: bytes
) -> list[bytes]:
    """The ``items`` the signer observed as ``word`` with ``data_hash`` since the journal's block."""
    if not journal.is_file() or sender.registry is None:
        return []
    from_block = int(json.loads(journal.read_text())["from_block"])
    head = hex_int(sender.rpc.request("eth_blockNumber", []))
    if from_block > head:
        return []
    by = "0x" + sender.address[2:].lower().rjust(64, "0")
    topics: list[object] = [topic0(OBSERVATION), None, by, "0x" + word.hex()]
    found = {
        bytes.fromhex(log["topics"][1][2:])
        for log in fetch_logs(sender.rpc.request, sender.registry, topics, from_block, head)
        if bytes.fromhex(str(log.get("data", "0x"))[2:66]) == data_hash
    }
    return [i for i in items if i in found]
