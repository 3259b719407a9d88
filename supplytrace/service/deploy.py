"""Deploying a registry from the packaged artifact (:mod:`supplytrace.core.abi`) and recording
it in ``deployments/<ecosystem>-<network>.json``, the record every later command reads."""

from __future__ import annotations

import time

from supplytrace.chain.rpc import hex_int
from supplytrace.chain.send import Sender
from supplytrace.core import abi, deployments
from supplytrace.core.config import Settings
from supplytrace.core.deployments import Deployment, DeploymentError
from supplytrace.core.errors import ChainError
from supplytrace.core.hashing import keccak


def compiler_description() -> str:
    """The compiler of the packaged registry, as a deployment records it."""
    compiler = abi.artifact()["compiler"]
    settings = compiler.get("settings", {})
    optimizer = settings.get("optimizer", {})
    runs = f"optimizer runs {optimizer.get('runs')}" if optimizer.get("enabled") else "optimizer off"
    return f"solc {compiler.get('version')} (evm {settings.get('evmVersion')}, {runs})"


def deploy_and_record(
    sender: Sender,
    settings: Settings,
    *,
    ecosystem: str,
    network: str,
    admin: str,
    admin_delay: int = 0,
    force: bool = False,
) -> Deployment:
    """Deploy with ``admin`` and ``admin_delay``, then write the record (with the keccak256 of the
    runtime code the node holds, which every later command checks); refused while a record of
    this network exists unless ``force``."""
    path = deployments.record_path(settings.deployments, ecosystem, network)
    if path.exists() and not force:
        raise DeploymentError(
            f"a deployment is already recorded for {ecosystem}:{network} in {path}. "
            "Use --force to deploy a new registry and replace the record."
        )
    sent = sender.deploy(admin, admin_delay)
    if sent.contract_address is None:
        raise ChainError(f"the node reported no contract for deployment {sent.tx_hash}; check the RPC URL.")
    code, chain_id = sender.rpc.batch(
        [("eth_getCode", [sent.contract_address, "latest"]), ("eth_chainId", [])]
    )
    record = Deployment(
        ecosystem=ecosystem,
        network=network,
        chain_id=hex_int(chain_id),
        address=sent.contract_address,
        tx_hash=sent.tx_hash,
        block=sent.block,
        deployer=sender.address,
        admin=admin,
        compiler=compiler_description(),
        runtime_bytecode_keccak="0x" + keccak(bytes.fromhex(str(code)[2:])).hex(),
        deployed_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    deployments.save(settings.deployments, record, force=True)
    return record
