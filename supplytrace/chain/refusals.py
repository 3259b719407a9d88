"""A node's refusal of a transaction, in one sentence with the fix, and which refusals mean "the
node has this transaction already" or "another transaction holds this nonce".

Nodes word their refusals differently (geth, anvil, Erigon, Nethermind, Besu and the public RPCs
in front of them); the phrases below are matched in lower case.
"""

from __future__ import annotations

from supplytrace.chain.codec import revert_error
from supplytrace.chain.rpc import RpcError
from supplytrace.core.errors import ChainError, SupplytraceError


class TransactionFailedError(SupplytraceError):
    """A transaction reverted (mined, or refused by the node's simulation of it)."""


_KNOWN = ("already known", "already imported", "known transaction", "already exists", "alreadyknown")
_NONCE_TAKEN = ("nonce too low", "replacement transaction underpriced", "nonce has already been used")
_FUNDS = (
    "insufficient funds",
    "exceeds account balance",
    "enough funds",
    "gas required exceeds allowance (0)",
)
_GAS_CAP = (
    "exceeds block gas limit",
    "intrinsic gas too high",
    "gas limit too high",
    "exceeds the block gas limit",
    "gas limit reached",
)
_BASE_FEE = ("less than block base fee", "max fee per gas less than", "fee cap less than")
_CHAIN_ID = ("invalid chain id", "chain id mismatch", "incorrect chain id", "invalid sender")


def _text(exc: RpcError) -> str:
    return str(exc).lower()


def is_known_already(exc: RpcError) -> bool:
    """The node already holds a transaction with this hash (sent before; waiting tells)."""
    return any(phrase in _text(exc) for phrase in _KNOWN)


def is_nonce_conflict(exc: RpcError) -> bool:
    """Another transaction holds this nonce: mined ("nonce too low") or pending with a fee the
    new one does not beat by enough ("replacement transaction underpriced")."""
    return any(phrase in _text(exc) for phrase in _NONCE_TAKEN)


def refusal(exc: RpcError) -> SupplytraceError:
    """A node's refusal of a call or a transaction in plain words (the error itself when it is
    none of the known ones)."""
    error = revert_error(exc.data)
    if error is not None:
        return error
    text = _text(exc)
    if any(phrase in text for phrase in _FUNDS):
        return SupplytraceError(
            "the sending account has too little ether for gas; fund it (a faucet on testnets) and retry."
        )
    if "nonce too low" in text or "nonce has already been used" in text:
        return ChainError(
            "another transaction of this account (sent by another program or machine) took the nonce "
            "this one was signed with; wait until it is mined, then run the command again."
        )
    if "nonce too high" in text:
        return ChainError(
            "the node does not know this account's earlier transactions yet (nonce too high); "
            "wait a minute, then run the command again."
        )
    if "replacement transaction underpriced" in text:
        return ChainError(
            "a pending transaction of this account holds the nonce with a fee this one does not beat; "
            "wait until it is mined, then run the command again."
        )
    if any(phrase in text for phrase in _BASE_FEE):
        return ChainError(
            "the base fee rose above the most this transaction offered to pay while it was sent; "
            "run the command again (the fees are read afresh)."
        )
    if "underpriced" in text:
        return ChainError(
            "the node refused the transaction's fee as below its minimum gas price; run the command "
            "again when fees are lower, or use a node with a lower minimum."
        )
    if any(phrase in text for phrase in _GAS_CAP):
        return SupplytraceError(
            "the transaction needs more gas than a block or the network's cap per transaction allows "
            "(16,777,216 since Osaka); send fewer items per transaction (--max-per-tx)."
        )
    if any(phrase in text for phrase in _CHAIN_ID):
        return SupplytraceError(
            "the node's chain is not the one the transaction was signed for (wrong chain id); "
            "check --network and its RPC URL in ape-config.yaml."
        )
    if "revert" in text:
        return TransactionFailedError(
            f"the registry refused the call ({exc}); check the command's arguments against the "
            "registry's current state and run it again."
        )
    return exc
