"""Sending transactions to the registry: estimate, sign, send, wait, and a revert in plain words.

A :class:`Sender` signs with a :class:`Signer` (an ape account, through
:mod:`supplytrace.chain.ape`) and talks to the node only through :class:`~supplytrace.chain.rpc.Rpc`:

- the gas is estimated first; a revert there is the registry's custom error, decoded from the
  ABI into its sentence (:class:`~supplytrace.core.errors.ContractRevertError`), and nothing is sent;
- the nonce is the account's pending nonce, the fees EIP-1559's (``2 x base fee + tip``) where
  the chain has a base fee;
- the transaction's hash is computed from the signed bytes before it is sent, so an answer lost
  after the node accepted it, or an "already known" answer, means "wait for that hash", never a
  second transaction;
- waiting is bounded (``mining_timeout``) and reported (``on_wait``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from supplytrace.chain.codec import constructor_args, function, revert_error
from supplytrace.chain.rpc import Rpc, RpcError, hex_int
from supplytrace.core import abi
from supplytrace.core.errors import ChainError, SupplytraceError
from supplytrace.core.events import Logged, decode_log
from supplytrace.core.hashing import checksum, keccak

DEFAULT_MINING_TIMEOUT = 600.0
#: EIP-7825 (Osaka): no transaction may ask for more gas than 2**24.
TX_GAS_CAP = 16_777_216


class Signer(Protocol):
    """Signs transactions for one account (``supplytrace.chain.ape.ApeSigner``)."""

    @property
    def address(self) -> str: ...

    def sign_transaction(self, tx: dict[str, Any]) -> bytes:
        """The signed, serialised transaction (EIP-2718 bytes) of ``tx``: chainId, nonce, to,
        data, value, gas and either maxFeePerGas + maxPriorityFeePerGas or gasPrice."""
        ...


@dataclass(frozen=True)
class Sent:
    """A mined transaction: where, what it cost, what the registry logged."""

    tx_hash: str
    block: int
    gas_used: int
    gas_limit: int
    fee_wei: int
    success: bool
    contract_address: str | None = None
    events: list[Logged] = field(default_factory=list)


class TransactionFailedError(SupplytraceError):
    """A mined transaction reverted."""


class Sender:
    """Transactions of ``signer`` to the registry at ``registry`` (or a deployment) on ``rpc``."""

    def __init__(
        self,
        rpc: Rpc,
        signer: Signer,
        *,
        chain_id: int,
        registry: str | None = None,
        mining_timeout: float = DEFAULT_MINING_TIMEOUT,
        on_wait: Callable[[str, float], None] | None = None,
    ) -> None:
        self.rpc = rpc
        self.signer = signer
        self.chain_id = chain_id
        self.registry = checksum(registry) if registry else None
        self.mining_timeout = mining_timeout
        self.on_wait = on_wait

    @property
    def address(self) -> str:
        return checksum(self.signer.address)

    # -- the registry's functions ---------------------------------------------------------------

    def calldata(self, name: str, *args: Any) -> bytes:
        return function(name).calldata(*args)

    def call(self, name: str, *args: Any, gas_limit: int | None = None) -> Sent:
        """Send the registry's function ``name`` with ``args`` and wait until it is mined."""
        if self.registry is None:
            raise SupplytraceError("no registry to send to; deploy one first (`supplytrace deploy`).")
        return self.transact(self.calldata(name, *args), to=self.registry, gas_limit=gas_limit)

    def deploy(self, *args: Any, contract: str = abi.REGISTRY) -> Sent:
        """Deploy ``contract`` from the packaged artifact with constructor ``args``."""
        code = bytes.fromhex(abi.artifact(contract)["deploymentBytecode"].removeprefix("0x"))
        return self.transact(code + constructor_args(*args, contract=contract), to=None)

    # -- the steps ------------------------------------------------------------------------------

    def estimate(self, data: bytes, *, to: str | None) -> int:
        """eth_estimateGas; a revert raises the registry's error in plain words."""
        call: dict[str, Any] = {"from": self.address, "data": "0x" + data.hex()}
        if to is not None:
            call["to"] = to
        try:
            return hex_int(self.rpc.request("eth_estimateGas", [call]))
        except RpcError as exc:
            raise _refusal(exc) from exc

    def fees(self) -> dict[str, int]:
        """EIP-1559 fees (``2 x base fee + tip``) where the chain has a base fee, else a gas price."""
        block, tip, price = self.rpc.batch(
            [
                ("eth_getBlockByNumber", ["latest", False]),
                ("eth_maxPriorityFeePerGas", []),
                ("eth_gasPrice", []),
            ],
            raise_errors=False,
        )
        base = block.get("baseFeePerGas") if isinstance(block, dict) else None
        if base is not None:
            priority = hex_int(tip) if not isinstance(tip, RpcError) else 1_000_000_000
            return {"maxFeePerGas": 2 * hex_int(base) + priority, "maxPriorityFeePerGas": priority}
        if isinstance(price, RpcError):
            raise price
        return {"gasPrice": hex_int(price)}

    def send(self, data: bytes, *, to: str | None, gas_limit: int) -> str:
        """Sign and send; returns the transaction hash (known before the node answers)."""
        nonce = hex_int(self.rpc.request("eth_getTransactionCount", [self.address, "pending"]))
        tx: dict[str, Any] = {
            "chainId": self.chain_id,
            "nonce": nonce,
            "to": to,
            "data": data,
            "value": 0,
            "gas": gas_limit,
            **self.fees(),
        }
        raw = self.signer.sign_transaction(tx)
        tx_hash = "0x" + keccak(raw).hex()
        try:
            answer = self.rpc.request("eth_sendRawTransaction", ["0x" + raw.hex()])
        except RpcError as exc:
            text = str(exc).lower()
            if exc.transport or "already known" in text or "already imported" in text:
                return tx_hash  # the node may have it: waiting tells
            raise _refusal(exc) from exc
        if isinstance(answer, str) and answer.lower() != tx_hash:
            raise ChainError(f"the node reported transaction {answer} for {tx_hash}; check the RPC URL.")
        return tx_hash

    def wait(self, tx_hash: str, *, gas_limit: int = 0) -> Sent:
        """The transaction's outcome once mined; reports the wait through ``on_wait``."""
        started = time.monotonic()
        delay = 0.02
        while True:
            receipt = self.rpc.request("eth_getTransactionReceipt", [tx_hash])
            if isinstance(receipt, dict) and receipt.get("blockNumber") is not None:
                return self._sent(tx_hash, receipt, gas_limit)
            waited = time.monotonic() - started
            if waited >= self.mining_timeout:
                raise ChainError(
                    f"transaction {tx_hash} was sent but not mined within {self.mining_timeout:.0f} s; "
                    "look it up on a block explorer, then run the command again (it sends nothing twice)."
                )
            if self.on_wait is not None and waited > 2:
                self.on_wait(tx_hash, waited)
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    def transact(self, data: bytes, *, to: str | None, gas_limit: int | None = None) -> Sent:
        """Estimate (unless ``gas_limit``), send and wait; a revert raises in plain words."""
        if gas_limit is None:
            estimate = self.estimate(data, to=to)
            gas_limit = min(TX_GAS_CAP, estimate + estimate // 5 + 10_000)
        sent = self.wait(self.send(data, to=to, gas_limit=gas_limit), gas_limit=gas_limit)
        if not sent.success:
            raise self._reverted(sent, data, to)
        return sent

    # -- helpers --------------------------------------------------------------------------------

    def _sent(self, tx_hash: str, receipt: dict[str, Any], gas_limit: int) -> Sent:
        gas_used = hex_int(receipt.get("gasUsed", "0x0"))
        price = hex_int(receipt.get("effectiveGasPrice", "0x0"))
        address = receipt.get("contractAddress")
        registry = (address or self.registry or "").lower()
        events = [
            e
            for log in receipt.get("logs", [])
            if str(log.get("address", "")).lower() == registry and (e := decode_log(log)) is not None
        ]
        return Sent(
            tx_hash,
            hex_int(receipt["blockNumber"]),
            gas_used,
            gas_limit,
            gas_used * price,
            hex_int(receipt.get("status", "0x1")) == 1,
            checksum(address) if address else None,
            events,
        )

    def _reverted(self, sent: Sent, data: bytes, to: str | None) -> SupplytraceError:
        """Why a mined transaction reverted: the same call replayed at its block."""
        call: dict[str, Any] = {"from": self.address, "data": "0x" + data.hex(), "gas": hex(sent.gas_limit)}
        if to is not None:
            call["to"] = to
        try:
            self.rpc.request("eth_call", [call, hex(sent.block - 1)])
        except RpcError as exc:
            error = revert_error(exc.data)
            if error is not None:
                return error
        if sent.gas_used >= sent.gas_limit:
            return TransactionFailedError(
                f"transaction {sent.tx_hash} ran out of gas ({sent.gas_used:,}); run the command again."
            )
        return TransactionFailedError(
            f"transaction {sent.tx_hash} reverted (block {sent.block}); the chain changed since it was "
            "checked. Run the command again."
        )


def _refusal(exc: RpcError) -> SupplytraceError:
    """A node's refusal of a call or a transaction in plain words."""
    error = revert_error(exc.data)
    if error is not None:
        return error
    text = str(exc).lower()
    if "insufficient funds" in text or "exceeds account balance" in text:
        return SupplytraceError(
            "the sending account has too little ether for gas; fund it (a faucet on testnets) and retry."
        )
    if "nonce too low" in text:
        return ChainError("another transaction of this account took its nonce; run the command again.")
    if "underpriced" in text:
        return ChainError(
            "the node refused the transaction's fee as too low (another transaction of this account is "
            "pending); wait for it and run the command again."
        )
    if "execution reverted" in text or "revert" in text:
        return TransactionFailedError(f"the registry refused the call ({exc}).")
    return exc
