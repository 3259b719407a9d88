"""supplytrace.chain.refusals: every refusal a node answers to a transaction, as geth, anvil,
Erigon, Nethermind and public RPCs word it, becomes one sentence with the fix (plain functions)."""

from __future__ import annotations

import pytest

from supplytrace.chain.refusals import is_known_already, is_nonce_conflict, refusal
from supplytrace.chain.rpc import RpcError
from supplytrace.chain.send import TransactionFailedError
from supplytrace.core.errors import EXIT_CHAIN, EXIT_USER, ChainError


def _sentence(text: str) -> str:
    message = str(refusal(RpcError(-32000, text)))
    assert message.endswith(".") and ". " not in message, f"not one sentence: {message}"
    return message


@pytest.mark.parametrize(
    "text",
    [
        "insufficient funds for gas * price + value",
        "Insufficient funds for gas * price + value",
        "err: insufficient funds for gas (supplied gas 50000)",
        "sender doesn't have enough funds to send tx. The upfront cost is: 1 and the sender's balance is: 0.",
        "gas required exceeds allowance (0)",
    ],
)
def test_refusal__insufficient_funds__fund_the_account(text) -> None:
    assert "fund it" in _sentence(text)
    assert refusal(RpcError(-32000, text)).exit_code == EXIT_USER


@pytest.mark.parametrize(
    "text", ["nonce too low", "nonce too low: next nonce 5, tx nonce 4", "nonce too high"]
)
def test_refusal__nonce_conflict__wait_for_the_other_transaction_and_rerun(text) -> None:
    message = _sentence(text)
    assert "nonce" in message and "run the command again" in message
    assert isinstance(refusal(RpcError(-32000, text)), ChainError)


def test_refusal__replacement_underpriced__a_pending_transaction_of_the_account_holds_the_nonce() -> None:
    message = _sentence("replacement transaction underpriced")
    assert "pending transaction of this account" in message and "run the command again" in message


@pytest.mark.parametrize(
    "text", ["transaction underpriced", "transaction underpriced: tip needed 1, tip permitted 0"]
)
def test_refusal__underpriced__below_the_nodes_minimum(text) -> None:
    assert "minimum" in _sentence(text)


@pytest.mark.parametrize(
    "text", ["max fee per gas less than block base fee", "fee cap less than block base fee: address 0x1"]
)
def test_refusal__fee_below_base_fee__the_base_fee_rose(text) -> None:
    message = _sentence(text)
    assert "base fee" in message and "run the command again" in message
    assert refusal(RpcError(-32000, text)).exit_code == EXIT_CHAIN


@pytest.mark.parametrize(
    "text",
    [
        "exceeds block gas limit",
        "intrinsic gas too high -- tx.gas_limit > env.block.gas_limit",
        "gas limit too high",
        "transaction gas limit too high (cap: 16777216, tx: 20000000)",
    ],
)
def test_refusal__gas_above_the_cap__fewer_items_per_transaction(text) -> None:
    message = _sentence(text)
    assert "more gas than" in message and "--max-per-tx" in message
    assert refusal(RpcError(-32000, text)).exit_code == EXIT_USER


@pytest.mark.parametrize("text", ["execution reverted", "VM Exception while processing transaction: revert"])
def test_refusal__reverted__the_registry_refused(text) -> None:
    error = refusal(RpcError(3, text))
    assert isinstance(error, TransactionFailedError)
    assert "the registry refused the call" in _sentence(text)


@pytest.mark.parametrize("text", ["invalid chain id for signer", "invalid chain id", "chain id mismatch"])
def test_refusal__wrong_chain_id__check_the_network(text) -> None:
    message = _sentence(text)
    assert "chain" in message and "--network" in message
    assert refusal(RpcError(-32000, text)).exit_code == EXIT_USER


def test_refusal__unknown_message__the_node_error_itself() -> None:
    error = RpcError(-32000, "something odd")
    assert refusal(error) is error


@pytest.mark.parametrize(
    ("text", "known"),
    [
        ("already known", True),
        ("transaction already imported", True),
        ("ALREADY_EXISTS: already known", True),
        ("known transaction: 0xabc", True),
        ("nonce too low", False),
    ],
)
def test_is_known_already__node_holds_the_same_transaction(text, known) -> None:
    assert is_known_already(RpcError(-32000, text)) is known


@pytest.mark.parametrize(
    ("text", "conflict"),
    [
        ("nonce too low", True),
        ("replacement transaction underpriced", True),
        ("transaction underpriced", False),
        ("already known", False),
    ],
)
def test_is_nonce_conflict__another_transaction_has_the_nonce(text, conflict) -> None:
    assert is_nonce_conflict(RpcError(-32000, text)) is conflict
