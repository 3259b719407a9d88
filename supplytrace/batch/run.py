"""Running a checked plan: register what remains in gas-sized chunks, one transaction at a time,
each confirmed before the next.

Before anything is sent the run waits until the signer has no pending transaction (one sent just
before a ``kill -9`` must not be sent again). Chunks are sized to fit under min(EIP-7825's
per-transaction cap, the node's block gas limit) with a margin, and each chunk is estimated
before it is sent. The contract is all-or-nothing per transaction and rejects duplicates: if a
chunk meets ``ItemAlreadyRegistered`` (another process raced us), at the estimate or mined, the
statuses are read again and the run continues with what remains. Progress is reported through
a callback (``on_progress(done, total)``); signing is the :class:`~supplytrace.chain.send.Sender`'s.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from supplytrace.batch.check import ChainCheck, GroupState, check_on_chain
from supplytrace.batch.errors import BatchError, BatchInterruptedError
from supplytrace.batch.plan import Plan, PlannedItem
from supplytrace.batch.receipt import BatchResult, TxRecord, receipt_rows
from supplytrace.chain.gas import BATCH_GAS, Sizing
from supplytrace.chain.gas import chunk_size as gas_chunk_size
from supplytrace.chain.reads import RegistryReads
from supplytrace.chain.rpc import Rpc, hex_int
from supplytrace.chain.send import Sender
from supplytrace.core.errors import ChainError, ContractRevertError
from supplytrace.core.ids import encode_code

if TYPE_CHECKING:
    from supplytrace.batch.hidden import CodeBook

#: The gas of ``registerItems`` the chunks are sized from (measured; see
#: :data:`~supplytrace.chain.gas.BATCH_GAS`): per item, and the fixed part of a transaction.
PER_ITEM_GAS = BATCH_GAS["registerItems"].per_item
BASE_GAS = BATCH_GAS["registerItems"].base
DEFAULT_PENDING_TIMEOUT = 180.0
#: Rounds of "the chain changed under us, read it again" before giving up.
RETRY_ROUNDS = 5

Progress = Callable[[int, int], None]  # (items done, items in the plan)


def pending_count(rpc: Rpc, address: str) -> int:
    """Transactions of ``address`` the node has accepted but not yet mined."""
    pending, latest = rpc.batch(
        [("eth_getTransactionCount", [address, "pending"]), ("eth_getTransactionCount", [address, "latest"])]
    )
    return max(0, hex_int(pending) - hex_int(latest))


def wait_for_pending(
    rpc: Rpc, address: str, *, timeout: float = DEFAULT_PENDING_TIMEOUT, poll: float = 0.25
) -> None:
    """Wait until ``address`` has no pending transaction (e.g. one sent just before a crash).

    Raises :class:`BatchError` after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while (count := pending_count(rpc, address)) > 0:
        if time.monotonic() >= deadline:
            raise BatchError(
                f"{count} transaction{'s' if count > 1 else ''} of {address} {'are' if count > 1 else 'is'} "
                f"still pending after {timeout:.0f} s; wait until {'they are' if count > 1 else 'it is'} "
                "mined (or replace it with a higher fee in your wallet) and run the command again."
            )
        time.sleep(poll)


def chunk_size(rpc: Rpc, max_items_per_tx: int | None = None, *, with_codes: bool = False) -> Sizing:
    """Items per ``registerItems`` (``with_codes``: ``registerItemsWithCodes``) transaction, under
    the tx cap and the block limit."""
    if with_codes:
        from supplytrace.batch.hidden import WITH_CODES_GAS

        return gas_chunk_size(rpc, WITH_CODES_GAS, max_items_per_tx)
    return gas_chunk_size(rpc, BATCH_GAS["registerItems"], max_items_per_tx)


class _ChainChanged(Exception):  # noqa: N818 (a signal inside the run, never seen outside)
    """The chain changed under us (an item got registered meanwhile); read the statuses again."""

    def __init__(self, chunk: frozenset[bytes] = frozenset(), reverted: str | None = None):
        super().__init__(reverted or "ItemAlreadyRegistered")
        self.chunk = chunk
        self.reverted = reverted  # hash of a mined transaction that reverted


def registry_reads(sender: Sender) -> RegistryReads:
    """The reads of the registry ``sender`` sends to."""
    if sender.registry is None:
        raise BatchError("no registry to register into; deploy one first (`supplytrace deploy`).")
    return RegistryReads(sender.rpc, sender.registry)


def run_batch(
    plan: Plan,
    sender: Sender,
    *,
    resolver: str,
    reads: RegistryReads | None = None,
    tx_link: Callable[[str], str | None] | None = None,
    from_block: int = 0,
    max_items_per_tx: int | None = None,
    check: ChainCheck | None = None,
    on_chunk: Callable[[TxRecord], None] | None = None,
    before_send: Callable[[int, int], None] | None = None,
    on_progress: Progress | None = None,
    pending_timeout: float = DEFAULT_PENDING_TIMEOUT,
    codes: CodeBook | None = None,
) -> BatchResult:
    """Register every item of ``plan`` not yet on chain with ``sender`` and return one receipt row
    per item (Digital Links on ``resolver``).

    With ``codes`` (:mod:`.hidden`) every chunk is one code tree, sent with
    ``registerItemsWithCodes``; the trees are planned and written to the codes file before
    anything is sent.

    ``check`` is the result of :func:`check_on_chain` if the caller has just run it (after
    :func:`wait_for_pending`); otherwise both run here. ``from_block`` (the registry's deployment
    block) bounds the log search for items registered by an earlier run. ``on_chunk`` is called
    after each confirmed transaction (an exception there stops the run; a rerun finishes it).
    ``before_send(items, transactions)`` is called once before the first transaction, only if
    there is something to send: the place to ask for confirmation and unlock a keystore account
    once (``ApeSigner.unlock()``). An exception there sends nothing.
    """
    reads = reads or registry_reads(sender)
    rpc, address = sender.rpc, sender.address
    if check is None:
        wait_for_pending(rpc, address, timeout=pending_timeout)
        check = check_on_chain(plan, reads, address)
    sizing = chunk_size(rpc, max_items_per_tx, with_codes=codes is not None)
    _check_funds(rpc, address, check.remaining_count, sizing)
    if codes is not None:
        codes.prepare(check, reads, sizing.items_per_tx)
    if before_send is not None and check.remaining_count:
        if codes is not None:
            planned = sum(len(codes.chunks(g.remaining)) for g in check.groups)
        else:
            planned = sum(-(-len(g.remaining) // sizing.items_per_tx) for g in check.groups)
        before_send(check.remaining_count, planned)
    located: dict[bytes, tuple[str, int]] = {}  # item id -> (tx hash, block), sent by this run
    transactions: list[TxRecord] = []
    items_per_tx = sizing.items_per_tx
    current = check

    def advance() -> None:
        if on_progress is not None:
            on_progress(len(current.done | located.keys()), plan.size)

    advance()
    try:
        for _round in range(RETRY_ROUNDS):
            try:
                for state in current.groups:
                    items_per_tx = _register_group(
                        state, sender, sizing, items_per_tx, located, transactions, advance, on_chunk, codes
                    )
                break
            except _ChainChanged as retry:
                wait_for_pending(rpc, address, timeout=pending_timeout)
                current = check_on_chain(plan, reads, address)
                if codes is not None:
                    codes.prepare(current, reads, items_per_tx)
                still = {i.item_id for g in current.groups for i in g.remaining}
                if retry.reverted and retry.chunk <= still:
                    raise BatchError(
                        f"transaction {retry.reverted} reverted although none of its items was registered "
                        "meanwhile; look it up on a block explorer, then run the command again (it registers "
                        "only what is missing)."
                    ) from None
                advance()
        else:
            raise BatchError(
                "items of this batch kept being registered by another process while this one ran; "
                "stop the other process and run the command again."
            )
        used = Sizing(sizing.gas_cap, sizing.gas_budget, items_per_tx)
        rows = receipt_rows(
            plan, reads, current, located, resolver=resolver, tx_link=tx_link, from_block=from_block
        )
    except ChainError as exc:
        if not transactions:
            raise
        raise BatchInterruptedError(
            f"the node failed after {len(current.done | located.keys()):,} of {plan.size:,} items were "
            f"registered ({exc}); run the same command again once it answers: it registers only what "
            "is missing."
        ) from exc
    return BatchResult(
        rows=rows, transactions=tuple(transactions), sizing=used, extra_columns=plan.extra_columns
    )


def _register_group(
    state: GroupState,
    sender: Sender,
    sizing: Sizing,
    items_per_tx: int,
    located: dict[bytes, tuple[str, int]],
    transactions: list[TxRecord],
    show: Callable[[], None],
    on_chunk: Callable[[TxRecord], None] | None,
    codes: CodeBook | None = None,
) -> int:
    """Register the group's remaining items in chunks (with ``codes``: one code tree each);
    returns the chunk size it ended with (a chunk estimated above the budget shrinks it, and the
    chunks after it are cut anew: with codes, into new trees written before they are sent)."""
    todo = [i for i in state.remaining if i.item_id not in located]
    queue = codes.chunks(todo) if codes is not None else _cut(todo, items_per_tx)
    while queue:
        chunk = queue.pop(0)
        serials = [encode_code(i.key.serial) for i in chunk]
        if codes is not None:
            data = sender.calldata("registerItemsWithCodes", state.lot_id, serials, codes.root_of(chunk))
        else:
            data = sender.calldata("registerItems", state.lot_id, serials)
        estimate = _estimate(sender, data)
        if estimate > sizing.gas_budget and len(chunk) > 1:
            items_per_tx = max(1, len(chunk) * sizing.gas_budget // estimate)
            queue = _cut([i for c in [chunk, *queue] for i in c], items_per_tx)
            if codes is not None:
                codes.replan(queue)
            continue
        gas_limit = min(sizing.gas_cap, estimate + estimate // 5)
        sent = sender.wait(sender.send(data, to=sender.registry, gas_limit=gas_limit), gas_limit=gas_limit)
        tx_hash = sent.tx_hash  # the one mined (a replacement's, when the first sat)
        if not sent.success:
            # Most likely another process registered one of these items after our estimate.
            raise _ChainChanged(frozenset(i.item_id for i in chunk), reverted=tx_hash)
        for planned in chunk:
            located[planned.item_id] = (tx_hash, sent.block)
        if codes is not None:
            codes.committed(chunk, state.lot_id)
        record = TxRecord(
            tx_hash, sent.block, state.lot_id, len(chunk), sent.gas_used, gas_limit, sent.fee_wei
        )
        transactions.append(record)
        show()
        if on_chunk is not None:
            on_chunk(record)
    return items_per_tx


def _cut(items: list[PlannedItem], size: int) -> list[list[PlannedItem]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def _estimate(sender: Sender, data: bytes) -> int:
    """eth_estimateGas of a chunk. A revert becomes :class:`_ChainChanged` (an item got registered
    meanwhile) or a :class:`BatchError` with the contract error's plain sentence."""
    try:
        return sender.estimate(data, to=sender.registry)
    except ContractRevertError as exc:
        if exc.name == "ItemAlreadyRegistered":
            raise _ChainChanged from exc
        raise BatchError(str(exc)) from exc


def _check_funds(rpc: Rpc, address: str, count: int, sizing: Sizing) -> None:
    if count == 0:
        return
    txs = -(-count // sizing.items_per_tx)
    gas = count * PER_ITEM_GAS + txs * BASE_GAS
    price_answer, balance_answer = rpc.batch([("eth_gasPrice", []), ("eth_getBalance", [address, "latest"])])
    price, balance = hex_int(price_answer), hex_int(balance_answer)
    if price and balance < gas * price:
        raise BatchError(
            f"the signing account {address} has {balance / 1e18:.6f} ETH but registering {count} items "
            f"takes about {gas * price / 1e18:.6f} ETH at the current gas price; fund it and run the "
            "command again."
        )
