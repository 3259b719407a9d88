"""Accounts: test accounts only on local networks."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from supplytrace.session import AccountError, load_account


def _provider(network: str) -> SimpleNamespace:
    """The one attribute load_account reads: the connected network's name."""
    return SimpleNamespace(network=SimpleNamespace(name=network))


@pytest.mark.parametrize("network", ["sepolia", "mainnet", "holesky"])
def test_load_account__test_account_on_public_network__refused(network: str) -> None:
    with pytest.raises(AccountError, match="its key is public"):
        load_account("TEST::0", _provider(network))


def test_load_account__test_account_on_local__given(accounts) -> None:
    assert load_account("TEST::1", _provider("local")).address == accounts[1].address
