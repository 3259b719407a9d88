"""`make demo`: the whole story on a fresh local devnet, non-interactive.

A beekeeper brand registers a lot of honey jars; one pallet goes to a distributor by offer and
accept, another by a signed one-transaction handoff; the distributor hands the first pallet to a
retailer; an inspection is recorded and a jar is sold. The devnet keeps running afterwards
(`make demo-stop` / `supplytrace devnet down`).
"""

from __future__ import annotations

import shutil

from rich.table import Table

from supplytrace import deployments, devnet
from supplytrace.chain import DEVNET_NETWORK, connect, load_account
from supplytrace.config import Settings
from supplytrace.console import console
from supplytrace.ids import encode_code
from supplytrace.registry import (
    add_brand,
    deploy,
    handoff,
    handoff_request,
    item_state,
    keys_for,
    register_items,
    register_lot,
    sign_acceptance,
)

HONEY_GTIN = "09506000134352"
LOT_CODE = "ACACIA-2026-07"
LOT_METADATA = {
    "product": "Acacia honey, 500 g jar",
    "brand": "Hillside Apiaries",
    "origin": {"country": "RO", "region": "Banat", "apiary": "Hillside #3"},
    "harvestDate": "2026-07-14",
    "certificates": [{"type": "lab-test", "lab": "Apis Lab", "sha256": "9f2c" + "0" * 60}],
}
JARS = 24


def run(settings: Settings) -> None:
    from ape import chain, project

    console.rule("supplytrace demo")
    devnet.down(settings)
    shutil.rmtree(settings.home / "devnet", ignore_errors=True)
    state, _ = devnet.up(settings)
    console.print(f"devnet: fresh anvil at {state.url} (state in {state.state_file})")

    with connect(DEVNET_NETWORK, settings) as provider:
        admin, beekeeper, distributor, retailer = (load_account(f"TEST::{n}", provider) for n in range(4))
        registry, record = deploy(project, provider, admin)
        path = deployments.save(settings.deployments, record, force=True)
        console.print(f"deployed ProvenanceRegistry at {record.address}; recorded in {path}")

        add_brand(registry, admin, beekeeper.address, name="Hillside Apiaries", gtins=[HONEY_GTIN])
        console.print(f"brand Hillside Apiaries = {beekeeper.address}, owns GTIN {HONEY_GTIN}")
        lot_id = register_lot(registry, beekeeper, HONEY_GTIN, LOT_CODE, LOT_METADATA)
        serials = [f"JAR{n:05d}" for n in range(1, JARS + 1)]
        (receipt,) = register_items(registry, beekeeper, lot_id, serials)
        keys = keys_for(HONEY_GTIN, LOT_CODE, serials)
        ids = [k.id for k in keys]
        console.print(
            f"lot {lot_id} ({LOT_CODE}): {JARS} jars registered in one tx ({receipt.gas_used:,} gas)"
        )

        pallet_a, pallet_b = ids[:12], ids[12:]
        registry.offerBatch(pallet_a, distributor, sender=beekeeper)
        registry.acceptBatch(pallet_a, sender=distributor)
        console.print("handoff 1: pallet A beekeeper -> distributor (offer + accept)")

        deadline = chain.pending_timestamp + 3600
        request = handoff_request(
            registry, provider, pallet_b, beekeeper.address, distributor.address, deadline
        )
        handoff(registry, beekeeper, request, sign_acceptance(distributor, request))
        console.print(
            "handoff 1': pallet B beekeeper -> distributor (one tx, distributor's EIP-712 signature)"
        )

        request = handoff_request(
            registry, provider, pallet_a, distributor.address, retailer.address, deadline
        )
        handoff(registry, distributor, request, sign_acceptance(retailer, request))
        console.print("handoff 2: pallet A distributor -> retailer (one tx, retailer's signature)")

        registry.record(ids[0], encode_code("inspecting", "bizStep"), b"\x01" * 32, sender=retailer)
        registry.sell(ids[0], sender=retailer)
        console.print(f"retailer recorded an inspection of {serials[0]} and sold it")

        names = {
            admin.address: "admin",
            beekeeper.address: "beekeeper",
            distributor.address: "distributor",
            retailer.address: "retailer",
        }
        table = Table(title=f"lot {lot_id} on chain {record.chain_id}")
        for column in ("serial", "item id", "custodian", "status", "moves"):
            table.add_column(column)
        shown = keys[:2] + keys[12:14]
        for key in shown:
            st = item_state(registry, key.id)
            table.add_row(
                key.serial,
                st.item_id[:12] + "…",
                names.get(st.custodian or "", st.custodian or "-"),
                st.status.name.lower(),
                str(st.custody_nonce),
            )
        console.print(table)
        for key in shown:
            console.print(f"  {key.serial}: {key.digital_link(settings.resolver)}", soft_wrap=True)
    console.print("the devnet keeps running; stop it with `make demo-stop`.")
