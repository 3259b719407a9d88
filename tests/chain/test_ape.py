"""chain/ape.py: accounts by ape alias; test accounts only on local networks."""

from __future__ import annotations

import pytest

from supplytrace.chain.ape import AccountError, load_account


@pytest.mark.parametrize("network", ["ethereum:sepolia:node", "ethereum:mainnet", "ethereum:holesky:node"])
def test_load_account__test_account_on_public_network__refused(network: str) -> None:
    with pytest.raises(AccountError, match="its key is public"):
        load_account("TEST::0", network)


def test_load_account__test_account_on_local__given(accounts) -> None:
    assert load_account("TEST::1", "ethereum:local:node").address == accounts[1].address


def test_load_account__test_index_out_of_range__names_the_range(accounts) -> None:
    with pytest.raises(AccountError, match=r"is not a test account; use TEST::0 to TEST::"):
        load_account("TEST::999", "ethereum:local:node")


def test_load_account__unknown_alias__says_how_to_create_one() -> None:
    with pytest.raises(AccountError, match="ape accounts import no-such-alias"):
        load_account("no-such-alias", "ethereum:local:node")
