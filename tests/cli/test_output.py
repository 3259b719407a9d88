"""supplytrace.cli.output: what waiting for a transaction prints (stderr, one line an event), and
that the commands that send hand that printer to the Sender."""

from __future__ import annotations

from supplytrace.chain.pending import Replaced, Waiting
from supplytrace.cli.output import report_wait

TX = "0x" + "ab" * 32
NEW = "0x" + "cd" * 32


def test_report_wait__waiting__one_line_on_stderr_with_hash_seconds_and_block(capsys) -> None:
    report_wait(Waiting(TX, 12.4, 1234))
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"waiting for {TX} (12 s, node at block 1234)\n"


def test_report_wait__replaced__one_line_on_stderr_naming_both_transactions(capsys) -> None:
    report_wait(Replaced(TX, NEW, nonce=7, blocks=3, seconds=40.0, fees={"maxFeePerGas": 3 * 10**9}))
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert TX in err and NEW in err and "nonce 7" in err and "not mined after 3 blocks" in err


def test_registry_session__sending_command__waits_are_printed(monkeypatch) -> None:
    from supplytrace.cli import options

    seen = {}

    class StopError(Exception):
        pass

    def open_registry(settings, network, *, account=None, on_wait=None):
        seen["on_wait"] = on_wait
        raise StopError

    monkeypatch.setattr("supplytrace.service.connect.open_registry", open_registry)
    try:
        with options.registry_session("ethereum:local:node", "TEST::0"):
            pass
    except StopError:
        pass
    assert seen["on_wait"] is report_wait
