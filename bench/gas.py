"""Gas of every registry operation and of the baselines a user would pick instead.

Deploys fresh contracts on an anvil devnet (ape-foundry) and measures the total gas of each
transaction (``receipt.gas_used``, intrinsic gas included). Returns a flat ``{"gas.*": int}``.
"""

from __future__ import annotations

from ape import chain, project

from supplytrace.core.handoff import make_request
from supplytrace.core.ids import encode_code, item_id

GTIN = "09506000134352"
BATCH = 100


def _sign(receiver, registry, items, sender, deadline) -> bytes:
    nonces = [registry.getItem(i).custodyNonce for i in items]
    request = make_request(
        chain_id=chain.chain_id,
        registry=registry.address,
        items=items,
        nonces=nonces,
        sender=str(sender),
        receiver=str(receiver),
        deadline=deadline,
    )
    return receiver.sign_message(request.signable()).encode_rsv()


def measure(accounts) -> dict[str, int]:
    admin, brand, distributor, retailer, other = accounts[:5]
    registry = project.ProvenanceRegistry.deploy(admin, 0, sender=admin)
    registry.grantRole(registry.REGISTRAR_ROLE(), brand, sender=admin)
    registry.assignGtin(int(GTIN), brand, sender=admin)

    gas: dict[str, int] = {}
    tx = registry.registerLot(int(GTIN), encode_code("LOT-BENCH-1", "lot"), b"\x11" * 32, sender=brand)
    gas["gas.register_lot"] = tx.gas_used
    lot = registry.lotCount()
    # Warm-up item so the lot is not new to the measured single registration either way.
    registry.registerItem(lot, encode_code("WARMUP"), sender=brand)
    tx = registry.registerItem(lot, encode_code("SINGLE-000001"), sender=brand)
    gas["gas.register_single"] = tx.gas_used
    serials = [f"SN{n:012d}" for n in range(BATCH)]
    tx = registry.registerItems(lot, [encode_code(s) for s in serials], sender=brand)
    gas["gas.register_batch_per_item"] = round(tx.gas_used / BATCH)
    ids = [item_id(GTIN, s) for s in serials]

    tx = registry.offer(ids[0], distributor, sender=brand)
    gas["gas.offer"] = tx.gas_used
    tx = registry.accept(ids[0], sender=distributor)
    gas["gas.accept"] = tx.gas_used
    gas["gas.offer_plus_accept"] = gas["gas.offer"] + gas["gas.accept"]

    deadline = chain.pending_timestamp + 3600
    signature = _sign(distributor, registry, [ids[1]], brand, deadline)
    tx = registry.handoff(ids[1], distributor, deadline, signature, sender=brand)
    gas["gas.handoff_signed"] = tx.gas_used

    tx = registry.record(ids[1], encode_code("inspecting", "bizStep"), b"\x22" * 32, sender=distributor)
    gas["gas.record"] = tx.gas_used
    tx = registry.sell(ids[1], sender=distributor)
    gas["gas.sell"] = tx.gas_used
    tx = registry.recallLot(lot, "Lab test found residues; return to the store for a refund.", sender=brand)
    gas["gas.recall_lot"] = tx.gas_used

    # Baseline 1: OpenZeppelin 5 ERC721, one token per product, custody = ownership.
    nft = project.BaselineProductNFT.deploy(sender=admin)
    gas["gas.baseline.erc721_mint"] = nft.mint(brand, 1, sender=brand).gas_used  # holder's first token
    gas["gas.baseline.erc721_mint_existing_holder"] = nft.mint(brand, 2, sender=brand).gas_used
    nft.mint(brand, 3, sender=brand)
    nft.mint(brand, 4, sender=brand)
    gas["gas.baseline.erc721_transfer"] = nft.transferFrom(brand, retailer, 1, sender=brand).gas_used
    gas["gas.baseline.erc721_transfer_existing_holder"] = nft.transferFrom(
        brand, retailer, 2, sender=brand
    ).gas_used
    # The ERC721 counterpart of a consented two-step handoff: owner approves, receiver pulls.
    approve = nft.approve(distributor, 3, sender=brand).gas_used
    pull = nft.transferFrom(brand, distributor, 3, sender=distributor).gas_used
    gas["gas.baseline.erc721_approve_plus_transfer"] = approve + pull

    # Baseline 2: a typical tutorial registry (strings + custody array in storage).
    naive = project.NaiveRegistry.deploy(sender=admin)
    gas["gas.baseline.naive_register"] = naive.registerProduct(
        "SN000000000001", "Acacia honey 500 g", sender=brand
    ).gas_used
    gas["gas.baseline.naive_transfer"] = naive.transferProduct("SN000000000001", other, sender=brand).gas_used
    return gas
