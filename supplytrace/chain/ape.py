"""The ape glue, and the only module that imports ape: networks by ape's names, accounts by alias.

``--network ecosystem:network:provider`` (default: the local devnet, ``ethereum:local:node``)
names a network as ape does; :func:`rpc_url` turns it into the node's JSON-RPC URL (the devnet's
without starting ape). ``--account ALIAS`` names an ape keystore account (``ape accounts import
ALIAS``; the passphrase comes from ``SUPPLYTRACE_PASSPHRASE_<ALIAS>`` or one prompt per command); ``TEST::N``
names ape's N-th test account and is accepted on local networks only. Private keys are never
taken as arguments. :class:`ApeSigner` lets :class:`~supplytrace.chain.send.Sender` sign with
an ape account; nothing else of ape is used: reads and sends go through
:mod:`supplytrace.chain.rpc`.
"""

from __future__ import annotations

import getpass
import os
import re
import sys
from collections.abc import Callable
from typing import Any

from supplytrace.chain.devnet import DevnetError, status
from supplytrace.core.config import Settings
from supplytrace.core.errors import SupplytraceError
from supplytrace.core.networks import DEVNET_NETWORK, LOCAL_NETWORK, split_choice

_verbose = False


def set_verbose(verbose: bool) -> None:
    """Show ape's own log (DEBUG) with ``--verbose``; warnings only otherwise. Applied when ape
    is first needed: commands that only read never import it."""
    global _verbose
    _verbose = verbose


def _ape_logging() -> None:
    from ape.logging import logger

    logger.set_level("DEBUG" if _verbose else "ERROR")


class AccountError(SupplytraceError):
    """An account cannot be used here; the message says why and what to do."""


class NetworkError(SupplytraceError):
    """A network choice cannot be used; the message says why and what to do."""


def rpc_url(network: str, settings: Settings) -> str:
    """The JSON-RPC URL of ``network`` (ecosystem:network[:provider], as in ape). The devnet's
    comes from the settings (and it must be running); any other from ape's configuration."""
    if network == DEVNET_NETWORK:
        if not status(settings).running:
            raise DevnetError(
                f"the local devnet is not running at {settings.devnet_url}; "
                "start it with `supplytrace devnet up`."
            )
        return settings.devnet_url
    from ape import networks
    from ape.exceptions import ApeException

    _ape_logging()
    try:  # the provider as configured, not connected: the node is reached through our own Rpc
        provider = networks.get_provider_from_choice(network)
        url = getattr(provider, "http_uri", None) or getattr(provider, "uri", None)
    except ApeException as exc:
        raise NetworkError(
            f"cannot use network {network!r} ({exc}); name it as ecosystem:network:provider "
            "(e.g. ethereum:sepolia:node) and give its RPC URL in ape-config.yaml."
        ) from None
    if not url or not str(url).startswith(("http://", "https://")):
        raise NetworkError(
            f"network {network} has no HTTP(S) RPC URL ({url}); configure one in ape-config.yaml "
            "(node: ethereum: <network>: uri: https://...)."
        )
    return str(url)


def is_local(network: str) -> bool:
    return split_choice(network)[1] == LOCAL_NETWORK


def load_account(alias: str, network: str) -> Any:
    """An ape account by alias; ``TEST::N`` (test accounts) on local networks only."""
    from ape import accounts
    from ape.exceptions import AccountsError

    _ape_logging()
    if alias.upper().startswith("TEST::"):
        if not is_local(network):
            raise AccountError(
                f"test account {alias} is refused on {split_choice(network)[1]}: its key is public. "
                "Use a keystore account (`ape accounts import ALIAS`) and --account ALIAS."
            )
        index = alias.split("::", 1)[1]
        count = len(accounts.test_accounts)
        if not index.isdigit() or int(index) >= count:
            raise AccountError(f"{alias!r} is not a test account; use TEST::0 to TEST::{count - 1}.")
        return accounts.test_accounts[int(index)]
    try:
        return accounts.load(alias)
    except (AccountsError, IndexError, KeyError):
        raise AccountError(
            f"no ape account named {alias!r}; create one with `ape accounts import {alias}` "
            "(or `ape accounts generate`) and try again."
        ) from None


def passphrase_variable(alias: str) -> str:
    """The environment variable that holds the passphrase of keystore account ``alias`` for
    unattended runs: ``SUPPLYTRACE_PASSPHRASE_`` and the alias in capitals, every character but
    letters and digits as ``_`` (``brand-deployer``: ``SUPPLYTRACE_PASSPHRASE_BRAND_DEPLOYER``), a
    name bash can export. ape's own ``APE_ACCOUNTS_<alias>_PASSPHRASE`` is read too."""
    return "SUPPLYTRACE_PASSPHRASE_" + re.sub(r"[^A-Z0-9]", "_", alias.upper())


#: Asks for a keystore's passphrase: ``ask(alias)`` (None: no one to ask).
AskPassphrase = Callable[[str], str]


def ask_on_terminal(alias: str) -> str:
    """The passphrase of ``alias`` typed on the terminal (not echoed)."""
    return getpass.getpass(f"Passphrase of ape account '{alias}': ")


class ApeSigner:
    """Signs transactions with an ape account (keystore or test account).

    A keystore account is unlocked once, at its first signature: with the passphrase from the
    environment (:func:`passphrase_variable`) without any prompt, else asked once on the terminal
    (``ask``); then ape signs without its ``Sign: [y/N]`` confirmation, which a command has
    already asked for what it sends. Without a passphrase and without a terminal it is one
    sentence naming the variable to set.
    """

    def __init__(self, account: Any, *, ask: AskPassphrase | None = None) -> None:
        self.account = account
        self.ask = ask if ask is not None else (ask_on_terminal if _interactive() else None)
        self._unlocked = not hasattr(account, "set_autosign")  # test accounts sign as they are

    @property
    def address(self) -> str:
        return str(self.account.address)

    def unlock(self) -> None:
        """Unlock a keystore account once (see the class documentation); a no-op afterwards."""
        if self._unlocked:
            return
        alias = str(getattr(self.account, "alias", "") or self.address)
        variable = passphrase_variable(alias)
        passphrase = os.environ.get(variable) or os.environ.get(f"APE_ACCOUNTS_{alias}_PASSPHRASE")
        if passphrase:
            self._autosign(
                passphrase,
                f"the passphrase in {variable} does not open account {alias!r}; "
                "set it to the account's passphrase and run the command again.",
            )
            return
        if self.ask is None:
            raise AccountError(
                f"account {alias!r} is locked and there is no terminal to ask for its passphrase; "
                f"export {variable}=... (or run the command in a terminal)."
            )
        for attempt in range(1, 4):
            try:
                self._autosign(self.ask(alias), f"wrong passphrase for account {alias!r}.")
                return
            except AccountError:
                if attempt == 3:
                    raise AccountError(
                        f"wrong passphrase for account {alias!r} three times; nothing was sent. "
                        "Run the command again with the account's passphrase."
                    ) from None

    def _autosign(self, passphrase: str, wrong: str) -> None:
        from ape.exceptions import AccountsError
        from ape.logging import logger

        level = logger.level
        logger.set_level("ERROR")  # not ape's "Danger! This account will now sign any transaction"
        try:
            self.account.set_autosign(True, passphrase=passphrase)
        except (AccountsError, ValueError):
            raise AccountError(wrong) from None
        finally:
            logger.set_level(level)
        self._unlocked = True

    def sign_transaction(self, tx: dict[str, Any]) -> bytes:
        from ape import networks

        self.unlock()
        fields = dict(tx)
        if fields.get("to") is None:
            fields.pop("to", None)
        fields["type"] = 2 if "maxFeePerGas" in fields else 0
        txn = networks.ethereum.create_transaction(**fields)
        signed = self.account.sign_transaction(txn)
        if signed is None:
            raise AccountError("the account declined to sign the transaction; nothing was sent.")
        return bytes(signed.serialize_transaction())

    def sign_message(self, message: Any) -> bytes:
        """A 65-byte (r, s, v) signature of an EIP-712 ``SignableMessage``."""
        self.unlock()
        signature = self.account.sign_message(message)
        if signature is None:
            raise AccountError("the account declined to sign; nothing was signed.")
        return bytes(signature.encode_rsv())


def _interactive() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except ValueError:  # stdin closed
        return False


def explain_ape_error(exc: BaseException) -> str | None:
    """A sentence for the failures ape raises itself (a wrong passphrase, an unknown network)."""
    name = type(exc).__name__
    text = str(exc)
    if name in ("InvalidPasswordError",) or ("unlock" in text.lower() and "attempt" in text.lower()):
        return "the passphrase is wrong; run the command again (or set SUPPLYTRACE_PASSPHRASE_<ALIAS>)."
    if name == "NetworkError" or "No (supported) node found" in text:
        return "the node is not reachable; start the devnet (`supplytrace devnet up`) or check the RPC URL."
    return None


def etherscan_verify(
    network: str,
    address: str,
    standard_input: dict[str, Any],
    *,
    compiler_version: str,
    contract_name: str,
    constructor_arguments: str | None,
    api_uri: str | None = None,
) -> str:
    """Submit ``standard_input`` to the Etherscan-family explorer of ``network`` through the
    ape-etherscan plugin's client (API key from ``ETHERSCAN_API_KEY``), as standard JSON so that
    the explorer compiles exactly what the registry was compiled from; returns its answer (a
    receipt id to poll on the explorer). ``api_uri`` replaces the explorer's API address (tests).

    Only the plugin's HTTP client is used: its ``publish_contract`` would rebuild the input from
    ape's project and, for Ethereum, flatten it into one file, which changes the metadata.
    """
    from ape import config, networks
    from ape_etherscan.client import ContractClient, get_etherscan_api_uri
    from ape_etherscan.types import EtherscanInstance

    _ape_logging()
    with networks.parse_network_choice(network) as provider:
        net = provider.network
        uri = api_uri or get_etherscan_api_uri(
            config.get_config("etherscan"), net.ecosystem.name, net.name, provider.chain_id
        )
        instance = EtherscanInstance(
            ecosystem_name=net.ecosystem.name, network_name=net.name, uri=uri, api_uri=uri
        )
        optimizer = standard_input["settings"].get("optimizer", {})
        receipt = ContractClient(instance, address).verify_source_code(
            standard_input,
            compiler_version,
            contract_name=contract_name,
            optimization_used=bool(optimizer.get("enabled")),
            optimization_runs=optimizer.get("runs"),
            constructor_arguments=constructor_arguments,
            evm_version=standard_input["settings"].get("evmVersion"),
        )
    return f"the explorer accepted the sources for checking (receipt {receipt})"
