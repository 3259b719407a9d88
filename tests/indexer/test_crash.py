"""kill -9 at random points: every restart continues from the checkpoint, and the index ends up
exactly as one built in a single run: no gap, no duplicate."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.indexer.conftest import dump, full_index

ROOT = Path(__file__).resolve().parents[2]


def _start(
    db_url: str, rpc_url: str, registry: str, deployment_block: int, chain_id: int
) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.indexer.worker",
            db_url,
            rpc_url,
            registry,
            str(deployment_block),
            str(chain_id),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.strip() == "started", line + process.stderr.read() if process.stderr else line
    return process


def test_catch_up__killed_at_random_points__restarts_leave_no_gap_and_no_duplicate(
    workload, make_indexer, make_db, rpc_url, registry, deployment_block, chain_id
) -> None:
    work = workload(seed=31)
    for _ in range(25):
        work.register(2)
    for _ in range(15):
        work.step()
    db_url = make_db()
    rng = random.Random(31)
    kills = 0
    checkpoints = []
    for _ in range(12):
        process = _start(db_url, rpc_url, str(registry.address), deployment_block, chain_id)
        time.sleep(rng.uniform(0.0, 0.25))
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            kills += 1
        process.wait(timeout=30)
        checkpoint = make_indexer(db_url).store.checkpoint()
        checkpoints.append(checkpoint.block_number if checkpoint else None)
    final = _start(db_url, rpc_url, str(registry.address), deployment_block, chain_id)
    stdout, stderr = final.communicate(timeout=120)
    assert "done" in stdout, stderr
    assert kills >= 3, f"the worker finished before most kills ({checkpoints})"
    known = [c for c in checkpoints if c is not None]
    assert known == sorted(known), "a checkpoint moved back"
    assert dump(make_indexer(db_url)) == dump(full_index(make_db(), make_indexer))
