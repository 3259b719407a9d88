"""supplytrace.chain.sourcify: the verifier tool's answers read, its failures one sentence (exit
code 2), with stand-in tools (the real one is run by tests/cli/test_verifying.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from supplytrace.chain.sourcify import VerifierError, run_verifier
from supplytrace.core.errors import EXIT_CHAIN


def _tool(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "tool.mjs"
    path.write_text(body)
    return path


def test_run_verifier__tool_finds_no_match__result_with_the_reason(tmp_path: Path) -> None:
    tool = _tool(
        tmp_path,
        "process.stdout.write(JSON.stringify({runtimeMatch: null, creationMatch: null, "
        'error: {code: "no_match", message: "The bytecodes differ"}, metadata: null}) + "\\n");',
    )
    result = run_verifier(tool, {"rpcUrl": "http://127.0.0.1:1"})
    assert (result.runtime, result.creation, result.error_code) == (None, None, "no_match")
    assert result.error_message == "The bytecodes differ"


def test_run_verifier__tool_cannot_reach_the_node__verifier_error_exit_2(tmp_path: Path) -> None:
    tool = _tool(
        tmp_path,
        "process.stdout.write(JSON.stringify({runtimeMatch: null, "
        'error: {code: "cannot_fetch_bytecode", message: "RPC failure"}}) + "\\n"); process.exitCode = 2;',
    )
    with pytest.raises(
        VerifierError, match=r"could not run: RPC failure \(cannot_fetch_bytecode\)"
    ) as caught:
        run_verifier(tool, {})
    assert caught.value.exit_code == EXIT_CHAIN


def test_run_verifier__tool_crashes__verifier_error_names_make_install(tmp_path: Path) -> None:
    tool = _tool(tmp_path, 'throw new Error("Cannot find module lib-sourcify");')
    with pytest.raises(VerifierError, match=r"tool.mjs failed \(exit 1: .*\); run `make install`"):
        run_verifier(tool, {})


def test_run_verifier__tool_hangs__stopped_at_the_timeout(tmp_path: Path) -> None:
    tool = _tool(tmp_path, "setTimeout(() => {}, 60000);")
    with pytest.raises(VerifierError, match="took longer than 1 s"):
        run_verifier(tool, {}, timeout=1)
