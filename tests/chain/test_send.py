"""supplytrace.chain.send through a fault proxy in front of ape's anvil: a send whose answer is
lost, dropped or refused as already known after the node accepted it is waited for (never sent
twice); nonce conflicts are resolved; concurrent processes of one account never collide; a
transaction that sits is replaced with bumped fees; waiting is reported; refusals are sentences."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from supplytrace.chain.pending import Replaced, Waiting
from supplytrace.chain.rpc import RpcError
from supplytrace.core.errors import ChainError, SupplytraceError
from tests.chain.conftest import nonce_of
from tests.conftest import ROOT


def _described(sender: Any, text: str = "hello") -> Any:
    return sender.call("describeSelf", text)


def _mined_once(rpc: Any, account: Any, before: int, sent: Any) -> None:
    assert nonce_of(rpc, account) == before + 1, "not exactly one transaction was mined"
    assert sent.success
    assert int(rpc.request("eth_getTransactionByHash", [sent.tx_hash])["nonce"], 16) == before


@pytest.mark.parametrize("fault", ["502", "drop"])
def test_call__answer_lost_after_the_node_accepted__waits_for_that_hash_and_mines_once(
    fault, proxy, sender_for, stranger, rpc
) -> None:
    proxy.faults.after_send = [fault]
    before = nonce_of(rpc, stranger)
    sent = _described(sender_for(stranger, proxy.url))
    assert proxy.faults.counts["sent"] == 1
    assert proxy.faults.counts["send_502" if fault == "502" else "send_drop"] == 1
    _mined_once(rpc, stranger, before, sent)


@pytest.mark.parametrize(
    "answer", ["already known", "transaction already imported", "ALREADY_EXISTS: already known"]
)
def test_call__node_answers_already_known_after_accepting__waits_for_that_hash_and_mines_once(
    answer, proxy, sender_for, stranger, rpc
) -> None:
    proxy.faults.after_send = [answer]
    before = nonce_of(rpc, stranger)
    sent = _described(sender_for(stranger, proxy.url))
    assert proxy.faults.counts == proxy.faults.counts | {"sent": 1, "send_error": 1}
    _mined_once(rpc, stranger, before, sent)


def test_call__nonce_too_low_for_our_own_accepted_transaction__waits_for_it_and_mines_once(
    proxy, sender_for, stranger, rpc
) -> None:
    proxy.faults.after_send = ["nonce too low"]
    before = nonce_of(rpc, stranger)
    sent = _described(sender_for(stranger, proxy.url))
    assert proxy.faults.counts["sent"] == 1
    _mined_once(rpc, stranger, before, sent)


def test_call__send_lost_before_reaching_the_node__sent_again_and_mines_once(
    proxy, sender_for, stranger, rpc
) -> None:
    proxy.faults.after_send = ["lost"]
    before = nonce_of(rpc, stranger)
    sent = _described(sender_for(stranger, proxy.url, rebroadcast_after=0.2))
    assert proxy.faults.counts["send_lost"] == 1 and proxy.faults.counts["sent"] == 1
    _mined_once(rpc, stranger, before, sent)


def test_call__send_outlasts_the_rpc_timeout__waits_for_that_hash_and_mines_once(
    proxy, sender_for, stranger, rpc
) -> None:
    proxy.faults.stall = {"eth_sendRawTransaction": 1.5}
    before = nonce_of(rpc, stranger)
    sent = _described(sender_for(stranger, proxy.url, timeout=0.5, rebroadcast_after=30))
    assert proxy.faults.counts["stalled"] == 1 and proxy.faults.counts["sent"] == 1
    _mined_once(rpc, stranger, before, sent)


def test_call__every_answer_delayed__mined_once(proxy, sender_for, stranger, rpc) -> None:
    proxy.faults.delay = 0.2
    before = nonce_of(rpc, stranger)
    sent = _described(sender_for(stranger, proxy.url))
    assert proxy.faults.counts["delayed"] >= 4 and proxy.faults.counts["sent"] == 1
    _mined_once(rpc, stranger, before, sent)


def test_call__node_reports_a_stale_nonce__retries_with_a_fresh_nonce_and_mines_once(
    proxy, sender_for, stranger, rpc
) -> None:
    _described(sender_for(stranger))  # the account has a mined transaction the lagging node forgets
    proxy.faults.nonce_lag = 1
    before = nonce_of(rpc, stranger)
    sent = _described(sender_for(stranger, proxy.url, lock_dir=None), "another")
    assert proxy.faults.counts["lagged"] >= 1 and proxy.faults.counts["sent"] == 2  # refused, then the next
    _mined_once(rpc, stranger, before, sent)


def test_call__three_processes_share_one_account__each_transaction_mined_exactly_once(
    interval_mining, stranger, registry, chain, node_url, locks
) -> None:
    before = nonce_of(interval_mining, stranger)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.chain.send_worker", node_url, str(chain.chain_id),
             str(registry.address), str(locks), f"worker-{n}", "2"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=env, cwd=ROOT,
        )
        for n in range(3)
    ]  # fmt: skip
    outputs = []
    for worker in workers:
        out, err = worker.communicate(stranger.private_key + "\n", timeout=180)
        assert worker.returncode == 0, err
        outputs.append([json.loads(line) for line in out.splitlines()[1:]])
    sent = [tx for output in outputs for tx in output]
    assert len(sent) == 6 and all(tx["success"] for tx in sent)
    assert len({tx["tx"] for tx in sent}) == 6
    assert nonce_of(interval_mining, stranger) == before + 6
    nonces = {
        int(interval_mining.request("eth_getTransactionByHash", [tx["tx"]])["nonce"], 16) for tx in sent
    }
    assert nonces == set(range(before, before + 6))


def test_wait__not_mined_for_three_blocks__replaced_with_fees_bumped_and_mined_once(
    manual_mining, sender_for, stranger
) -> None:
    rpc = manual_mining
    events: list[Any] = []
    sender = sender_for(stranger, on_wait=events.append, replace_after_blocks=3)
    before = nonce_of(rpc, stranger)
    data = sender.calldata("describeSelf", "stuck")
    gas = sender.estimate(data, to=sender.registry) + 10_000
    first = sender.send(data, to=sender.registry, gas_limit=gas)
    original = rpc.request("eth_getTransactionByHash", [first])
    # The base fee jumps above what the transaction offers: it sits in the pool.
    rpc.request("anvil_setNextBlockBaseFeePerGas", [hex(int(original["maxFeePerGas"], 16) * 50)])
    stop = threading.Event()

    def mine() -> None:
        while not stop.wait(0.3):
            rpc.request("evm_mine", [])

    miner = threading.Thread(target=mine)
    miner.start()
    try:
        sent = sender.wait(first, gas_limit=gas)
    finally:
        stop.set()
        miner.join()
    replaced = [e for e in events if isinstance(e, Replaced)]
    assert replaced and replaced[0].old_hash == first and replaced[0].nonce == before
    after = re.search(r"not mined after (\d+) blocks", str(replaced[0]))
    assert after and int(after[1]) >= 3
    assert sent.success and sent.tx_hash != first and sent.tx_hash in {r.new_hash for r in replaced}
    assert rpc.request("eth_getTransactionReceipt", [first]) is None
    assert nonce_of(rpc, stranger) == before + 1
    mined = rpc.request("eth_getTransactionByHash", [sent.tx_hash])
    for fee in ("maxFeePerGas", "maxPriorityFeePerGas"):
        assert int(mined[fee], 16) * 8 >= int(original[fee], 16) * 9, fee  # +12.5 % at least


def test_wait__not_mined_for_a_while__reports_the_hash_seconds_and_node_block_every_few_seconds(
    manual_mining, sender_for, stranger
) -> None:
    rpc = manual_mining
    events: list[Any] = []
    sender = sender_for(stranger, on_wait=events.append, report_every=0.5)
    data = sender.calldata("describeSelf", "slow")
    tx_hash = sender.send(data, to=sender.registry, gas_limit=100_000)
    head = int(rpc.request("eth_blockNumber", []), 16)
    timer = threading.Timer(2.6, rpc.request, ("evm_mine", []))
    timer.start()
    started = time.monotonic()
    sender.wait(tx_hash)
    timer.join()
    waits = [e for e in events if isinstance(e, Waiting)]
    assert waits and all(e.tx_hash == tx_hash and e.block == head for e in waits)
    assert len(waits) <= (time.monotonic() - started) / 0.5 + 1
    assert all(b.seconds - a.seconds >= 0.45 for a, b in itertools.pairwise(waits))
    last = waits[-1]
    assert str(last) == f"waiting for {tx_hash} ({last.seconds:.0f} s, node at block {head})"


def test_request__node_stalls_past_the_timeout__one_sentence_naming_the_node_and_the_fix(
    proxy, sender_for, stranger
) -> None:
    proxy.faults.stall = {"eth_estimateGas": 2.0}
    sender = sender_for(stranger, proxy.url, timeout=0.5)
    with pytest.raises(RpcError) as raised:
        _described(sender)
    assert raised.value.timed_out and raised.value.exit_code == 2
    assert str(raised.value) == (
        f"the node at {proxy.url} did not answer eth_estimateGas within 0.5 s; check the RPC URL "
        "or raise SUPPLYTRACE_RPC_TIMEOUT."
    )


def test_call__wrong_chain_id__refused_with_one_sentence_and_nothing_mined(sender_for, stranger, rpc) -> None:
    sender = sender_for(stranger)
    sender.chain_id += 1
    before = nonce_of(rpc, stranger)
    with pytest.raises(
        SupplytraceError, match=r"^the node's chain is not the one .* check --network"
    ) as raised:
        _described(sender)
    assert not isinstance(raised.value, RpcError)
    assert nonce_of(rpc, stranger) == before


def test_call__gas_above_the_block_gas_limit__refused_with_one_sentence(sender_for, stranger, rpc) -> None:
    sender = sender_for(stranger)
    limit = int(rpc.request("eth_getBlockByNumber", ["latest", False])["gasLimit"], 16)
    with pytest.raises(SupplytraceError, match="more gas than") as raised:
        sender.call("describeSelf", "big", gas_limit=limit + 1)
    assert not isinstance(raised.value, ChainError)
