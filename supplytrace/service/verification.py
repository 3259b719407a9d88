"""Source verification: is the code at the recorded registry address what this checkout's sources
compile to? (``supplytrace verify-deployment``, ``deploy --verify``)

:func:`check_sources` rebuilds the compiler's standard-JSON input from ``contracts/`` and the
OpenZeppelin copy in ``.deps/`` with the settings of ``ape-config.yaml``
(:mod:`supplytrace.core.sources`), has Sourcify's matcher compare it with the node's code
(:mod:`supplytrace.chain.sourcify`), and records the result in the deployment record
(:class:`~supplytrace.core.deployments.SourceCheck`), where the verification page reads it.

:func:`publish_to_sourcify` and :func:`publish_to_etherscan` send the same sources to public
verifiers; what they answer is printed, never recorded as "verified": only a match computed here
is.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from supplytrace.chain.rpc import Rpc, redacted
from supplytrace.chain.sourcify import DEFAULT_TIMEOUT, MatchResult, run_verifier
from supplytrace.core import abi, deployments, sources
from supplytrace.core.config import package_checkout
from supplytrace.core.deployments import EXACT_MATCH, MATCH, MISMATCH, Deployment, SourceCheck
from supplytrace.core.errors import SupplytraceError
from supplytrace.core.hashing import checksum

TOOL = Path("tools") / "verify-deployment.mjs"


class PublishError(SupplytraceError):
    """A verifier could not be reached or refused the sources; one sentence with the way out."""


@dataclass(frozen=True)
class SourcesCheck:
    """What :func:`check_sources` found and recorded."""

    deployment: Deployment  # the record as now saved, with its ``source_check``
    check: SourceCheck
    result: MatchResult
    standard_input: dict[str, Any]
    seconds: float


def checkout_of(sources_root: Path | None = None) -> Path:
    """The checkout whose sources are compiled (this package's own, unless given)."""
    root = sources_root or package_checkout()
    if root is None or not (root / TOOL).is_file():
        raise SupplytraceError(
            "verify-deployment compiles the sources, so it runs from a checkout of supplytrace "
            "(git clone, then `make install`), not from an installed package."
        )
    return root


def check_sources(
    deployment: Deployment,
    rpc_url: str,
    folder: Path,
    *,
    sources_root: Path | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> SourcesCheck:
    """Compare the code of ``deployment`` on the node at ``rpc_url`` with the sources, and record
    the result in the record under ``folder``. Raises ``VerifierError`` if the check cannot run."""
    root = checkout_of(sources_root)
    config = sources.solidity_config(root)
    standard_input = sources.standard_input(config)
    path, name = sources.REGISTRY_TARGET
    compiler = sources.long_version(config.version, str(abi.artifact()["compiler"]["version"]))
    request = {
        "solcJsonInput": standard_input,
        "compilerVersion": compiler,
        "compilationTarget": {"path": path, "name": name},
        "rpcUrl": rpc_url,
        "chainId": deployment.chain_id,
        "address": deployment.address,
        "creationTxHash": deployment.tx_hash or None,
    }
    started = time.monotonic()
    result = run_verifier(root / TOOL, request, timeout=timeout)
    if result.error_message and rpc_url in result.error_message:  # public RPC URLs carry API keys
        result = replace(result, error_message=result.error_message.replace(rpc_url, redacted(rpc_url)))
    seconds = time.monotonic() - started
    check = SourceCheck(
        match=result.runtime or MISMATCH,
        creation_match=result.creation or (MISMATCH if result.runtime is None else None),
        checked_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        sources_commit=sources_commit(root),
        compiler=compiler,
    )
    updated = deployments.with_source_check(folder, deployment, check)
    return SourcesCheck(updated, check, result, standard_input, seconds)


def sentence(check: SourcesCheck) -> str:
    """What ``verify-deployment`` prints: one sentence."""
    address = checksum(check.deployment.address)
    if check.check.match == EXACT_MATCH:
        return (
            f"full match (exact, metadata included): the code at {address} is what these sources compile to."
        )
    if check.check.match == MATCH:
        return (
            f"partial match (same code, different metadata): the code at {address} is what these sources "
            "compile to, but the file names, comments or settings differ."
        )
    said = check.result.error_message if check.result.error_code != "no_match" else None
    reason = f" ({said.rstrip('.')})" if said else ""  # e.g. no contract at the address
    return f"MISMATCH: the code at {address} is not what these sources compile to{reason}."


def sources_commit(root: Path) -> str | None:
    """``git`` commit of ``root`` (with ``+dirty`` when the compiled sources have changes), or None."""
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "contracts", "ape-config.yaml"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}+dirty" if changes else head


def sourcify_files(metadata: dict[str, Any], standard_input: dict[str, Any]) -> dict[str, str]:
    """The files Sourcify's ``POST /verify`` takes: ``metadata.json`` and every source it names."""
    files = {"metadata.json": json.dumps(metadata, separators=(",", ":"))}
    for unit in metadata.get("sources", {}):
        files[unit] = standard_input["sources"][unit]["content"]
    return files


def publish_to_sourcify(
    server: str,
    deployment: Deployment,
    metadata: dict[str, Any] | None,
    standard_input: dict[str, Any],
    *,
    timeout: float = 60.0,
) -> str:
    """Send the metadata and sources to the Sourcify server at ``server`` (its ``POST /verify``);
    returns what it says. Raises :class:`PublishError` (one sentence) when it cannot."""
    later = "run `supplytrace verify-deployment --publish` later"
    if metadata is None:
        raise PublishError(f"no compiled metadata to send to Sourcify; {later}.")
    body = {
        "address": deployment.address,
        "chain": str(deployment.chain_id),
        "files": sourcify_files(metadata, standard_input),
        "creatorTxHash": deployment.tx_hash,
    }
    server = server.rstrip("/")  # a Sourcify server's address carries no key: shown whole
    url = server + "/verify"
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode("utf-8", "replace").strip()
        raise PublishError(
            f"Sourcify at {server} refused the sources (HTTP {exc.code}: {detail}); {later}."
        ) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PublishError(f"could not reach Sourcify at {server} ({reason}); {later}.") from None
    results = answer.get("result") if isinstance(answer, dict) else None
    status = results[0].get("status") if isinstance(results, list) and results else None
    return f"Sourcify at {server} answered: {status or answer}"


def constructor_arguments(rpc: Rpc, deployment: Deployment) -> str | None:
    """The ABI-encoded constructor arguments of the registry's creation (hex without 0x), read
    from its creation transaction: what follows the packaged creation code. None if unknown."""
    tx = rpc.request("eth_getTransactionByHash", [deployment.tx_hash]) if deployment.tx_hash else None
    code = str(abi.artifact()["deploymentBytecode"])[2:].lower()
    data = str((tx or {}).get("input", ""))[2:].lower()
    return data[len(code) :] if data.startswith(code) else None


def publish_to_etherscan(
    network: str,
    deployment: Deployment,
    standard_input: dict[str, Any],
    arguments: str | None,
    *,
    api_uri: str | None = None,
) -> str:
    """Send the standard-JSON input (and the constructor ``arguments``) to the network's
    Etherscan-family explorer through ape-etherscan; returns what it says. Raises
    :class:`PublishError` (one sentence) when it cannot."""
    from supplytrace.chain.ape import etherscan_verify

    path, name = sources.REGISTRY_TARGET
    compiler = str(abi.artifact()["compiler"]["version"])
    try:
        return etherscan_verify(
            network,
            deployment.address,
            standard_input,
            compiler_version=compiler,
            contract_name=f"{path}:{name}",
            constructor_arguments=arguments,
            api_uri=api_uri,
        )
    except Exception as exc:  # ape-etherscan raises requests', ape's and its own errors
        raise PublishError(
            f"could not publish to the explorer of {network} through ape-etherscan ({exc}); "
            "set ETHERSCAN_API_KEY and run `supplytrace verify-deployment --publish` later."
        ) from None
