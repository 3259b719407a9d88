"""A merchant's commands on a public-testnet stand-in (tests/standin.py: Sepolia's chain id, 2 s
blocks, EIP-7825's gas cap as the block gas limit, ape keystore accounts unlocked from the
environment), each a real ``supplytrace`` process with stdin closed:

- ``network.register_10k_seconds``: ``register-batch`` of 10,000 rows, to every row confirmed;
- ``network.offer_lot_1000_seconds``: ``offer --lot`` of a 1,000-item lot (more gas than one
  transaction may use, so several), to every offer confirmed;
- ``network.register_10k_with_faults_seconds``: 10,000 rows again through a fault proxy that
  loses the answer to sends (HTTP 502 after forwarding), answers "already known", drops
  connections and delays answers; the command is rerun while it exits non-zero, as a cron job
  would, and the reruns are counted.

``..._faults`` counts what the proxy did besides the delay (lost, refused and dropped answers, the
outage). Beside each: duplicates (registrations of an item beyond its first, receipt rows naming an item
twice) and lost rows (CSV rows neither registered nor in the receipt): both must be 0.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.faults import Faults, FaultyProxy
from tests.standin import SEPOLIA, StandIn, standin, write_project

GTIN = "09506000134352"
ROWS = 10_000
OFFER_ITEMS = 1_000
MAX_RERUNS = 20


def write_rows(path: Path, lot: str, count: int, prefix: str) -> list[str]:
    serials = [f"{prefix}{n:05d}" for n in range(count)]
    path.write_text("gtin,serial,lot\n" + "".join(f"{GTIN},{s},{lot}\n" for s in serials))
    return serials


def create_lot(s: StandIn, folder: Path, code: str) -> None:
    metadata = folder / f"{code}.json"
    metadata.write_text('{"product": "benchmark honey"}')
    s.sign("brand", "lot", "create", "--gtin", GTIN, "--lot", code, "--metadata", str(metadata))


def counted(s: StandIn, lot: str, serials: list[str], receipt: Path) -> tuple[int, int]:
    """(duplicates, lost rows) of a registration run, from the chain's logs and the receipt."""
    on_chain = s.lot_serials(GTIN, lot)
    rows = [row["serial"] for row in csv.DictReader(receipt.open())] if receipt.exists() else []
    duplicates = (len(on_chain) - len(set(on_chain))) + (len(rows) - len(set(rows)))
    lost = len(set(serials) - set(on_chain)) + len(set(serials) - set(rows))
    return duplicates, lost


def timed(s: StandIn, alias: str, *args: str, project: Path | None = None) -> tuple[float, int]:
    """Seconds until ``args`` finished, rerun while it fails (at most MAX_RERUNS), and the reruns."""
    started = time.perf_counter()
    last = ""
    for rerun in range(MAX_RERUNS + 1):
        result = subprocess.run(
            [sys.executable, "-m", "supplytrace.cli", *args, "--account", alias, "--network", SEPOLIA],
            env=s.env(alias), cwd=project or s.project, capture_output=True, text=True,
            stdin=subprocess.DEVNULL, timeout=1800,
        )  # fmt: skip
        if result.returncode == 0:
            return time.perf_counter() - started, rerun
        last = result.stderr[-3000:]
        if "Traceback" in result.stderr or result.returncode == 1:
            raise RuntimeError(f"supplytrace {' '.join(args)} failed:\n{last}")
    raise RuntimeError(f"supplytrace {' '.join(args)} did not finish in {MAX_RERUNS} reruns:\n{last}")


#: What the proxy does to successive sends: answers lost before and after the node took them,
#: "already known" and the other wordings of a transaction the node has.
SEND_FAULTS = ["502", "ok", "already known", "drop", "ok", "lost", "transaction already imported", "ok"]


@contextmanager
def faulty_project(s: StandIn, folder: Path) -> Iterator[tuple[Path, FaultyProxy]]:
    """A second project folder naming a fault proxy in front of the stand-in's node as Sepolia's
    node, sharing the deployment record and the signing state (the same home: one nonce lock).
    Besides the send faults, every 97th request is dropped, every answer is 20 ms late, and ten
    seconds in the node is unreachable for five seconds (the command stops; the rerun finishes)."""
    proxy = FaultyProxy(s.node_url, Faults(after_send=SEND_FAULTS * 20, drop_every=97, delay=0.02))
    outage = threading.Timer(10.0, proxy.refuse_for, (5.0,))
    outage.daemon = True
    try:
        project = write_project(folder / "faulty", proxy.url)
        (project / "deployments").mkdir(exist_ok=True)
        for record in (s.project / "deployments").iterdir():
            (project / "deployments" / record.name).write_text(record.read_text())
        outage.start()
        yield project, proxy
    finally:
        outage.cancel()
        proxy.stop()


def measure() -> dict[str, float | int]:
    figures: dict[str, float | int] = {}
    with tempfile.TemporaryDirectory() as tmp, standin(Path(tmp)) as s:
        work = Path(tmp)
        s.sign("brand-deployer", "deploy")
        s.sign("brand-deployer", "brand", "add", s.address("brand"), "--gtin", GTIN)

        create_lot(s, work, "NET-10K")
        serials = write_rows(work / "rows.csv", "NET-10K", ROWS, "N")
        seconds, _ = timed(s, "brand", "register-batch", str(work / "rows.csv"), "--yes")
        duplicates, lost = counted(s, "NET-10K", serials, work / "rows.receipt.csv")
        figures.update(
            {
                "network.register_10k_seconds": round(seconds, 1),
                "network.register_10k_duplicates": duplicates,
                "network.register_10k_lost_rows": lost,
            }
        )

        create_lot(s, work, "NET-OFFER")
        write_rows(work / "offer.csv", "NET-OFFER", OFFER_ITEMS, "O")
        s.sign("brand", "register-batch", str(work / "offer.csv"), "--yes")
        seconds, _ = timed(
            s, "brand", "offer", "--lot", f"{GTIN}:NET-OFFER", "--to", s.address("distributor"), "--yes"
        )
        figures["network.offer_lot_1000_seconds"] = round(seconds, 1)

        create_lot(s, work, "NET-FAULTS")
        serials = write_rows(work / "faults.csv", "NET-FAULTS", ROWS, "F")
        with faulty_project(s, work) as (project, proxy):
            rows = str(work / "faults.csv")
            seconds, reruns = timed(s, "brand", "register-batch", rows, "--yes", project=project)
            faults = sum(n for kind, n in proxy.faults.counts.items() if kind not in ("sent", "delayed"))
        duplicates, lost = counted(s, "NET-FAULTS", serials, work / "faults.receipt.csv")
        figures.update(
            {
                "network.register_10k_with_faults_seconds": round(seconds, 1),
                "network.register_10k_with_faults_duplicates": duplicates,
                "network.register_10k_with_faults_lost_rows": lost,
                "network.register_10k_with_faults_reruns": reruns,
                "network.register_10k_with_faults_faults": faults,
            }
        )
    return figures
