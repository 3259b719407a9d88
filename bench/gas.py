"""Gas of every registry operation and of the baselines a user would pick instead.

Deploys fresh contracts on an anvil devnet (ape-foundry) and measures the total gas of each
transaction (``receipt.gas_used``, intrinsic gas included). Returns a flat ``{"gas.*": int}``.
"""

from __future__ import annotations

from ape import chain, project

from supplytrace.core.actions import SignedAction
from supplytrace.core.codes import CodeTree, code_word, leaf, new_code
from supplytrace.core.handoff import make_request
from supplytrace.core.ids import container_id, encode_code, item_id, sscc_with_check_digit

GTIN = "09506000134352"
BATCH = 100


def _sign(receiver, registry, items, sender, deadline, nonces=None) -> bytes:
    nonces = nonces or [registry.getItem(i).custodyNonce for i in items]
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


def _sign_action(signer, registry, kind, item, deadline, **fields) -> bytes:
    action = SignedAction(
        kind=kind,
        chain_id=chain.chain_id,
        registry=registry.address,
        item=item,
        nonce=registry.getItem(item).custodyNonce,
        deadline=deadline,
        **fields,
    )
    return signer.sign_message(action.signable()).encode_rsv()


def _relayed(registry, ids, brand, distributor, relayer, deadline) -> dict[str, int]:
    """Each relayed action on an item in the same state as its direct counterpart's (ids[2] as
    ids[0]: offer, accept; ids[3] as ids[1]: handoff, record, sell), sent and paid by ``relayer``."""
    gas: dict[str, int] = {}
    a, b = ids[2], ids[3]
    signature = _sign_action(brand, registry, "offer", a, deadline, to=str(distributor))
    gas["gas.relayed.offer"] = registry.offerBySig(
        a, distributor, deadline, signature, sender=relayer
    ).gas_used
    signature = _sign_action(distributor, registry, "accept", a, deadline)
    gas["gas.relayed.accept"] = registry.acceptBySig(a, deadline, signature, sender=relayer).gas_used
    fields = {"sender": str(brand), "to": str(distributor)}
    signatures = [
        _sign_action(who, registry, "handoff", b, deadline, **fields) for who in (brand, distributor)
    ]
    tx = registry.handoffBySig(b, distributor, deadline, *signatures, sender=relayer)
    gas["gas.relayed.handoff"] = tx.gas_used
    step, data = encode_code("inspecting", "bizStep"), b"\x22" * 32
    signature = _sign_action(distributor, registry, "record", b, deadline, biz_step=step, data_hash=data)
    tx = registry.recordBySig(b, step, data, deadline, signature, sender=relayer)
    gas["gas.relayed.record"] = tx.gas_used
    signature = _sign_action(distributor, registry, "sell", b, deadline)
    gas["gas.relayed.sell"] = registry.sellBySig(b, deadline, signature, sender=relayer).gas_used
    return gas


def _codes(registry, lot, brand, relayer) -> dict[str, int]:
    """A batch registered with its hidden codes' commitment, and one claim (a proof of 7 hashes)."""
    serials = [f"HC{n:012d}" for n in range(BATCH)]
    ids = [item_id(GTIN, s) for s in serials]
    codes = [new_code() for _ in ids]
    tree = CodeTree.of(leaf(i, c) for i, c in zip(ids, codes, strict=True))
    tx = registry.registerItemsWithCodes(lot, [encode_code(s) for s in serials], tree.root, sender=brand)
    gas = {"gas.register_batch_per_item_with_codes": round(tx.gas_used / BATCH)}
    proof = tree.proof(leaf(ids[0], codes[0]))
    tx = registry.claim(ids[0], code_word(codes[0]), proof, sender=relayer)
    gas["gas.claim"] = tx.gas_used
    return gas


GRAM = 2  # IProvenanceRegistry.QuantityUnit.Gram
PALLET_ITEMS = 1000
CASE_ITEMS = 250


def _lineage(registry, admin, brand, distributor) -> dict[str, int]:
    """Measured lots (a batch drawing on the stock), a blend of three harvests, and a pallet of
    four cases of 250 items: packing and unpacking per item, and the pallet handed over by offer +
    accept and by a signed handoff (each moving all 1,000 items in one write)."""
    gas: dict[str, int] = {}
    gtin = int(GTIN)
    harvests = []
    for n in range(3):
        code = encode_code(f"HARVEST-{n}", "lot")
        registry.registerMeasuredLot(gtin, code, b"\x33" * 32, 2_000_000, 500, GRAM, sender=brand)
        harvests.append(registry.lotCount())
    tx = registry.registerTransformedLot(
        gtin, encode_code("BLEND-1", "lot"), b"\x44" * 32, harvests, [600_000, 400_000, 500_000],
        1_500_000, 500, sender=brand,
    )  # fmt: skip
    gas["gas.blend_3_inputs"] = tx.gas_used
    blend = registry.lotCount()
    registry.registerItem(blend, encode_code("MWARMUP"), sender=brand)
    serials = [f"MS{n:012d}" for n in range(BATCH)]
    tx = registry.registerItems(blend, [encode_code(s) for s in serials], sender=brand)
    gas["gas.register_batch_per_item_measured"] = round(tx.gas_used / BATCH)

    registry.assignCompanyPrefix(9506000, 7, brand, sender=admin)
    pallet_items = [f"PAL{n:010d}" for n in range(PALLET_ITEMS)]
    for start in range(0, PALLET_ITEMS, 500):
        chunk = pallet_items[start : start + 500]
        registry.registerItems(blend, [encode_code(s) for s in chunk], sender=brand)
    ids = [item_id(GTIN, s) for s in pallet_items]
    cases = [sscc_with_check_digit(f"0950600000000{n:04d}") for n in range(1, 5)]
    pallet = sscc_with_check_digit("19506000000000001")
    # The first case's packing creates it; the next three are measured after creation is paid.
    registry.pack(int(cases[0]), ids[:CASE_ITEMS], sender=brand)
    per_item, marginal = [], []
    for n, case in enumerate(cases[1:], start=1):
        registry.pack(int(case), ids[n * CASE_ITEMS : n * CASE_ITEMS + 1], sender=brand)  # creates it
        one = registry.pack(int(case), ids[n * CASE_ITEMS + 1 : n * CASE_ITEMS + 2], sender=brand).gas_used
        tx = registry.pack(int(case), ids[n * CASE_ITEMS + 2 : (n + 1) * CASE_ITEMS], sender=brand)
        per_item.append(tx.gas_used / (CASE_ITEMS - 2))
        marginal.append((tx.gas_used - one) / (CASE_ITEMS - 3))
    # Per item: the marginal cost (a 249-item packing less a 1-item one, over 247); the whole
    # transaction over its items (intrinsic 21,000 and the container's own write included) too.
    gas["gas.pack_per_item"] = round(max(marginal))
    gas["gas.pack_per_item_tx_248"] = round(max(per_item))
    registry.pack(int(pallet), [container_id(c) for c in cases], sender=brand)
    pallet_id = container_id(pallet)
    offer = registry.offer(pallet_id, distributor, sender=brand).gas_used
    accept = registry.accept(pallet_id, sender=distributor).gas_used
    gas["gas.pallet_handoff_1000"] = offer + accept
    deadline = chain.pending_timestamp + 3600
    nonce = registry.getContainer(pallet_id).custodyNonce
    signature = _sign(brand, registry, [pallet_id], distributor, deadline, [nonce])
    tx = registry.handoff(pallet_id, brand, deadline, signature, sender=distributor)
    gas["gas.pallet_handoff_signed_1000"] = tx.gas_used
    registry.unpack(pallet_id, [container_id(cases[0])], sender=brand)
    case_id = container_id(cases[0])
    one = registry.unpack(case_id, ids[:1], sender=brand).gas_used
    tx = registry.unpack(case_id, ids[1:CASE_ITEMS], sender=brand)
    gas["gas.unpack_per_item"] = round((tx.gas_used - one) / (CASE_ITEMS - 2))
    gas["gas.unpack_per_item_tx_249"] = round(tx.gas_used / (CASE_ITEMS - 1))
    return gas


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
    gas.update(_relayed(registry, ids, brand, distributor, other, deadline))
    gas.update(_codes(registry, lot, brand, other))
    gas.update(_lineage(registry, admin, brand, distributor))
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
