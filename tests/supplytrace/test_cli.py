"""supplytrace.cli: commands run through click's CliRunner, plus one real `supplytrace --help` subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from supplytrace import __version__
from supplytrace.cli import main


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def one_message(output: str) -> str:
    """The printed text with rich's line wrapping undone."""
    return " ".join(output.split())


def test_devnet_status__free_port__not_running_message(devnet_settings):
    result = invoke("devnet", "status")
    assert result.exit_code == 0
    assert one_message(result.output) == (
        f"not running (would listen on {devnet_settings.devnet_url}); start it with `supplytrace devnet up`."
    )


def test_devnet_down__not_running__says_so(devnet_settings):
    result = invoke("devnet", "down")
    assert result.exit_code == 0
    assert result.output.strip() == "devnet was not running."


def test_deploy__devnet_not_running__devnet_not_running_sentence(devnet_settings):
    result = invoke("deploy", "--account", "TEST::0")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert one_message(result.output) == (
        f"error: the local devnet is not running at {devnet_settings.devnet_url}; "
        "start it with `supplytrace devnet up`."
    )
    assert not devnet_settings.deployments.exists()


def test_deploy__long_error__printed_on_one_line(devnet_settings):
    # Errors go to logs and CI output; rich hard-wraps at 80 columns when stderr is not a terminal.
    result = invoke("deploy", "--account", "TEST::0")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1, result.output


@pytest.fixture
def deployed(devnet_settings):
    """A real devnet on a free port with a registry deployed by `supplytrace deploy`."""
    started = invoke("devnet", "up")
    assert started.exit_code == 0, started.output
    result = invoke("deploy", "--account", "TEST::0")
    assert result.exit_code == 0, result.output
    assert "registry deployed at 0x" in result.output
    return devnet_settings


def test_deploy__devnet_running__record_written(deployed):
    record = json.loads((deployed.deployments / "ethereum-local.json").read_text())
    assert record["chain_id"] == deployed.devnet_chain_id
    assert record["deployer"] == record["admin"]


def test_deploy__already_recorded_without_force__one_sentence_error(deployed):
    result = invoke("deploy", "--account", "TEST::0")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "a deployment is already recorded for ethereum:local" in one_message(result.output)


def test_status__malformed_item_id__one_line_error_exit_1(deployed):
    result = invoke("status", "0x..bad")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.output == "error: '0x..bad' is not an item id: expected 0x followed by 64 hex digits.\n"


def test_status__unregistered_item__says_likely_counterfeit_exit_4(deployed):
    result = invoke("status", "0x" + "ab" * 32)
    assert result.exit_code == 4
    assert one_message(result.output) == f"0x{'ab' * 32} is not registered by any brand: likely counterfeit."


def test_status__digital_link_without_serial__one_sentence_error_exit_1(deployed):
    result = invoke("status", "https://id.example.com/01/09506000134352/10/L1")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    message = one_message(result.output)
    assert message.startswith("error: 'https://id.example.com/01/09506000134352/10/L1' does not identify")
    assert message.endswith("it needs a GTIN (/01/) and a serial (/21/).")


def test_status__input_with_square_brackets__error_printed_verbatim(deployed):
    # The message quotes user input; rich must not read "[/foo]" as markup (MarkupError, no sentence).
    result = CliRunner().invoke(main, ["status", "[/foo]"])
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1
    assert one_message(result.output).startswith("error: '[/foo]' is not a GS1 Digital Link URI")


def test_deploy__no_account_option__usage_error_exit_2(devnet_settings):
    result = invoke("deploy")
    assert result.exit_code == 2
    assert "Missing option '--account'" in result.output


def test_version__option__prints_package_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert __version__ in result.output


def test_help__real_subprocess__lists_commands():
    executable = Path(sys.executable).with_name("supplytrace")
    completed = subprocess.run(
        [str(executable), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Product provenance" in completed.stdout
    for command in ("deploy", "devnet", "status", "demo"):
        assert command in completed.stdout
