"""Sourcify's matcher, run offline: ``tools/verify-deployment.mjs`` (npm
``@ethereum-sourcify/lib-sourcify`` with the installed solc-js) compiles a standard-JSON input,
reads the code at an address (and its creation transaction) from the node, and says whether
they match. This module runs it as a child process, bounded by a timeout, and reads its answer.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from supplytrace.core.errors import ChainError

#: Seconds the tool may take: two solc-js compilations of the registry (≈4 s each on one core)
#: plus Node's start and the node's answers, with room for a loaded machine.
DEFAULT_TIMEOUT = 300.0


class VerifierError(ChainError):
    """The check could not run (no Node, the tool failed, the node did not answer, timeout)."""


@dataclass(frozen=True)
class MatchResult:
    """The tool's answer: ``exact_match``, ``match`` or None for the runtime code and for the
    creation transaction, and why there was no match (lib-sourcify's error code and message)."""

    runtime: str | None
    creation: str | None
    error_code: str | None
    error_message: str | None
    metadata: dict[str, Any] | None


def run_verifier(
    tool: Path, request: dict[str, Any], *, timeout: float = DEFAULT_TIMEOUT, node: str | None = None
) -> MatchResult:
    """Run ``tool`` (``tools/verify-deployment.mjs``) on ``request`` (see its header); the RPC URL
    goes through stdin, never the command line. Raises :class:`VerifierError` when it cannot run."""
    executable = node or shutil.which("node")
    if executable is None:
        raise VerifierError(
            "Node.js is not installed (`node` is not on PATH); install it and run `make install`."
        )
    try:
        done = subprocess.run(
            [executable, str(tool)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise VerifierError(
            f"the source check took longer than {timeout:.0f} s and was stopped; "
            "try again on a quieter machine."
        ) from None
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise VerifierError(
            f"{tool.name} failed (exit {done.returncode}: {tail}); run `make install` in the checkout."
        ) from None
    error = answer.get("error") or {}
    if done.returncode != 0:
        raise VerifierError(
            f"the source check could not run: {error.get('message') or 'no reason given'} "
            f"({error.get('code') or done.returncode})."
        )
    return MatchResult(
        runtime=answer.get("runtimeMatch"),
        creation=answer.get("creationMatch"),
        error_code=error.get("code"),
        error_message=error.get("message"),
        metadata=answer.get("metadata"),
    )
