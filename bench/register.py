"""Batch registration from CSV: 10,000 rows end to end on a fresh registry (anvil via ape-foundry).

Times ``register_csv`` from reading the file to the last transaction confirmed and the receipt
written (validation, chain checks, every chunk estimated, signed, sent and mined), then a rerun of
the finished file (nothing to send: the chain checks and the receipt rebuilt from the logs).
Returns a flat ``{"register.*": number}``.
"""

from __future__ import annotations

import csv
import tempfile
import time
from pathlib import Path

from ape import project

from supplytrace.batch import register_csv, validate_csv
from supplytrace.ids import encode_code

GTIN = "09506000134352"
LOT = "LOT-BENCH-CSV"
ROWS = 10_000


def write_csv(path: Path, rows: int = ROWS) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["gtin", "serial", "lot", "net_weight"])
        for n in range(rows):
            writer.writerow([GTIN, f"SN{n:012d}", LOT, f"{250 + n % 3 * 250} g"])


def measure(accounts) -> dict[str, float | int]:
    admin, brand = accounts[:2]
    registry = project.ProvenanceRegistry.deploy(admin, 0, sender=admin)
    registry.grantRole(registry.REGISTRAR_ROLE(), brand, sender=admin)
    registry.assignGtin(int(GTIN), brand, sender=admin)
    registry.registerLot(int(GTIN), encode_code(LOT, "lot code"), b"\x11" * 32, sender=brand)
    provider = registry.provider
    from_block = int(provider.make_request("eth_blockNumber", []), 16)

    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "items.csv"
        write_csv(source)
        started = time.perf_counter()
        validate_csv(source, registry, brand, provider=provider)
        validated = time.perf_counter() - started

        started = time.perf_counter()
        result = register_csv(
            source,
            registry,
            brand,
            provider,
            Path(folder) / "receipt.csv",
            from_block=from_block,
            progress=False,
        )
        seconds = time.perf_counter() - started
        assert result.registered == ROWS

        started = time.perf_counter()
        rerun = register_csv(
            source,
            registry,
            brand,
            provider,
            Path(folder) / "again.csv",
            from_block=from_block,
            progress=False,
        )
        rerun_seconds = time.perf_counter() - started
        assert rerun.resumed == ROWS and not rerun.transactions and rerun.unlocated == 0

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
