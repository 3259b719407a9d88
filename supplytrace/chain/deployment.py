"""The one deployment check: the node is the recorded chain and holds the recorded registry code."""

from __future__ import annotations

from supplytrace.chain.rpc import Rpc, hex_int, redacted
from supplytrace.core.deployments import Deployment, DeploymentError
from supplytrace.core.hashing import keccak


def check_deployment(rpc: Rpc, deployment: Deployment) -> None:
    """Raise :class:`DeploymentError` (one sentence with the fix) unless the node at ``rpc`` is
    chain ``deployment.chain_id`` and the code at the registry's address is the recorded code."""
    chain_id, code = rpc.batch([("eth_chainId", []), ("eth_getCode", [deployment.address, "latest"])])
    node_chain = hex_int(chain_id)
    if node_chain != deployment.chain_id:
        raise DeploymentError(
            f"the node at {redacted(rpc.url)} is chain {node_chain}, but the registry for {deployment.key} "
            f"was deployed on chain {deployment.chain_id}; check --network and the RPC URL."
        )
    if code in (None, "0x", ""):
        raise DeploymentError(
            f"no registry code at {deployment.address} on {deployment.key}; the chain was reset. "
            "Deploy again with `supplytrace deploy --force` (or run `make demo`)."
        )
    if "0x" + keccak(bytes.fromhex(str(code)[2:])).hex() != deployment.runtime_bytecode_keccak:
        raise DeploymentError(
            f"the code at {deployment.address} is not the code recorded for {deployment.key}; the record "
            "belongs to another deployment. Deploy again (`supplytrace deploy --force`) or fix deployments/."
        )
