"""How many items go in one transaction: EIP-7825's per-transaction cap, the node's block gas
limit, a safety margin, and the measured gas of each of the registry's batch functions (the one
place these numbers live; ``tests/service/test_bulk.py`` checks them against the node's
estimates). Every chunk is also estimated before it is sent, and shrunk if it does not fit."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from supplytrace.chain.rpc import Rpc, RpcError, hex_int
from supplytrace.chain.send import TX_GAS_CAP

#: Fraction of the usable gas a chunk may be sized to (the rest is the safety margin).
GAS_MARGIN = 0.9


@dataclass(frozen=True)
class BatchGas:
    """Upper bounds of ``eth_estimateGas`` of a function: ``base + per_item * items``
    (``max_items``: the function takes this many items at most)."""

    per_item: int
    base: int
    max_items: int | None = None

    def gas(self, items: int) -> int:
        return self.base + self.per_item * items


#: Measured on anvil (estimates of 2 and 40 items; chunks of 10 and 200 agree): registerItems
#: 24,962 per item with 14-character serials (a 20-character serial adds 72 in calldata); offer
#: 27,374 (a new pending-receiver slot); accept 13,224, cancel and reject ~13,300 since an
#: ended offer advances the nonce (their refunds make the estimate ~25% above the gas used);
#: handoff 11,049 per item plus the signature check; the fixed part (21,000 intrinsic, the
#: first cold reads) 22,000-29,500.
BATCH_GAS: dict[str, BatchGas] = {
    "registerItems": BatchGas(per_item=25_500, base=60_000),
    # registerItems plus the root's slot and its event: 25,393 gas an item in a batch of 100.
    "registerItemsWithCodes": BatchGas(per_item=26_000, base=90_000),
    "offerBatch": BatchGas(per_item=28_000, base=30_000),
    "acceptBatch": BatchGas(per_item=13_500, base=30_000),
    "cancelOfferBatch": BatchGas(per_item=13_500, base=30_000),
    "rejectOfferBatch": BatchGas(per_item=13_500, base=30_000),
    "handoffBatch": BatchGas(per_item=11_500, base=40_000),
    # Packing writes each content's container, unpacking clears it: ~6,000 an item either way on
    # anvil (estimates of 2 and 40 items); a pack's base includes creating the container (~95,000).
    "pack": BatchGas(per_item=7_000, base=105_000),
    "unpack": BatchGas(per_item=7_000, base=40_000),
    # One item per transaction (no batch function): sell 31,236 gas used, record 30,732.
    "sell": BatchGas(per_item=0, base=35_000, max_items=1),
    "record": BatchGas(per_item=0, base=32_000, max_items=1),
}


@dataclass(frozen=True)
class Sizing:
    """How many items go in one transaction and why."""

    gas_cap: int  # min(EIP-7825 cap, block gas limit)
    gas_budget: int  # what a chunk may use: gas_cap * GAS_MARGIN
    items_per_tx: int


def block_gas_limit(rpc: Rpc) -> int:
    return hex_int(rpc.request("eth_getBlockByNumber", ["latest", False])["gasLimit"])


def chunk_size(rpc: Rpc, gas: BatchGas, max_items_per_tx: int | None = None) -> Sizing:
    """Items per transaction of a function costing ``gas``, under the tx cap and the block limit."""
    cap = min(TX_GAS_CAP, block_gas_limit(rpc))
    budget = int(cap * GAS_MARGIN)
    by_gas = max(1, (budget - gas.base) // gas.per_item) if gas.per_item else 1
    if gas.max_items is not None:
        by_gas = min(by_gas, gas.max_items)
    items = by_gas if max_items_per_tx is None else max(1, min(by_gas, max_items_per_tx))
    return Sizing(gas_cap=cap, gas_budget=budget, items_per_tx=items)


def gas_price(rpc: Rpc) -> int:
    """What one unit of gas costs now (wei): the latest base fee plus the node's suggested
    priority fee, or ``eth_gasPrice`` on a chain without a base fee."""
    block, tip, price = rpc.batch(
        [("eth_getBlockByNumber", ["latest", False]), ("eth_maxPriorityFeePerGas", []), ("eth_gasPrice", [])],
        raise_errors=False,
    )
    base = block.get("baseFeePerGas") if isinstance(block, dict) else None
    if base is not None:
        return hex_int(base) + (hex_int(tip) if not isinstance(tip, RpcError) else 0)
    if isinstance(price, RpcError):
        raise price
    return hex_int(price)


def ether(wei: int) -> str:
    """``wei`` in ETH for people: ``0.0002962 ETH`` (about four significant digits, at least six
    decimals, no exponent)."""
    if wei == 0:
        return "0 ETH"
    value = Decimal(wei) / Decimal(10**18)
    decimals = min(18, max(6, 3 - value.adjusted()))
    return f"{value:.{decimals}f}".rstrip("0").rstrip(".") + " ETH"
