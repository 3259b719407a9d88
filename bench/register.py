"""Batch registration from CSV: 10,000 rows end to end on a fresh registry (anvil via ape-foundry).

Times ``Registry.register_csv`` (the batch engine, :mod:`supplytrace.batch`) from reading the file
to the last transaction confirmed and the receipt written (validation, chain checks, every chunk
estimated, signed, sent and mined), then a rerun of the finished file (nothing to send: the
chain checks and the receipt rebuilt from the logs). The registry is deployed and set up through
the Registry service too. Returns a flat ``{"register.*": number}``.
"""

from __future__ import annotations

import csv
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import supplytrace.batch  # noqa: F401  (the engine loaded before anything is timed, as the CLI has it)
from supplytrace.chain.ape import ApeSigner
from supplytrace.chain.rpc import Rpc, hex_int
from supplytrace.chain.send import Sender
from supplytrace.core.config import load_settings
from supplytrace.service.registry import Registry

GTIN = "09506000134352"
LOT = "LOT-BENCH-CSV"
ROWS = 10_000


def write_csv(path: Path, rows: int = ROWS) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["gtin", "serial", "lot", "net_weight"])
        for n in range(rows):
            writer.writerow([GTIN, f"SN{n:012d}", LOT, f"{250 + n % 3 * 250} g"])


def measure(accounts, rpc_url: str) -> dict[str, float | int]:
    """The figures on a fresh registry at ``rpc_url``, deployed and set up through the Registry
    service as ``accounts[0]`` (the admin) and ``accounts[1]`` (the brand)."""
    rpc = Rpc(rpc_url)
    with tempfile.TemporaryDirectory() as folder:
        settings = replace(
            load_settings(), home=Path(folder) / "home", deployments=Path(folder) / "deployments"
        )
        deployer = Sender(rpc, ApeSigner(accounts[0]), chain_id=hex_int(rpc.request("eth_chainId", [])))
        admin = Registry.deploy(deployer, settings, ecosystem="ethereum", network="local")
        admin.add_brand(str(accounts[1].address), gtins=[GTIN])
        brand = admin.acting_as(ApeSigner(accounts[1]))
        brand.create_lot(GTIN, LOT, {"product": "benchmark"})

        source = Path(folder) / "items.csv"
        write_csv(source)
        started = time.perf_counter()
        brand.validate_csv(source)
        validated = time.perf_counter() - started

        started = time.perf_counter()
        result = brand.register_csv(source, Path(folder) / "receipt.csv")
        seconds = time.perf_counter() - started
        assert result.registered == ROWS

        started = time.perf_counter()
        rerun = brand.register_csv(source, Path(folder) / "again.csv")
        rerun_seconds = time.perf_counter() - started
        assert rerun.resumed == ROWS and not rerun.transactions and rerun.unlocated == 0
    rpc.close()

    txs = result.transactions
    return {
        "register.csv_10k_seconds": round(seconds, 2),
        "register.csv_10k_validate_seconds": round(validated, 2),
        "register.csv_10k_rerun_seconds": round(rerun_seconds, 2),
        "register.csv_10k_transactions": len(txs),
        "register.csv_10k_items_per_tx": result.sizing.items_per_tx,
        "register.csv_10k_gas_per_full_tx": max(t.gas_used for t in txs),
        "register.csv_10k_gas_per_item": round(result.gas_used / ROWS),
    }
