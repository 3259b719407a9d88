"""Brand, GTIN and lot administration through the CLI."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import ADMIN, DISTRIBUTOR, HONEY_GTIN, Cli

OTHER_GTIN = "04012345000016"


def test_brand_name__admin__published(deployed: Cli) -> None:
    out = deployed.run("brand", "name", DISTRIBUTOR, "Valley Foods", "--account", "TEST::0").stdout
    assert "now shown as 'Valley Foods'" in out


def test_brand_name__not_admin__refused_with_sentence(deployed: Cli) -> None:
    assert "sign with the admin account" in deployed.error(
        "brand", "name", DISTRIBUTOR, "Fake", "--account", "TEST::2"
    )


def test_brand_describe__anyone__published_unverified(deployed: Cli) -> None:
    out = deployed.run("brand", "describe", "Valley Foods, cold store 3", "--account", "TEST::2").stdout
    assert "unverified" in out


def test_gtin_assign_release__admin__ownership_follows(deployed: Cli) -> None:
    deployed.run("gtin", "assign", OTHER_GTIN, DISTRIBUTOR, "--account", "TEST::0")
    assert "already belongs to" in deployed.error("gtin", "assign", OTHER_GTIN, ADMIN, "--account", "TEST::0")
    deployed.run("gtin", "release", OTHER_GTIN, "--account", "TEST::0")
    assert "not assigned to anyone" in deployed.error("gtin", "release", OTHER_GTIN, "--account", "TEST::0")


def test_gtin_assign_prefix__leading_zero_prefix__kept_with_its_length(deployed: Cli) -> None:
    out = deployed.run("gtin", "assign-prefix", "0614141", DISTRIBUTOR, "--account", "TEST::0").stdout
    assert "company prefix 0614141 belongs to" in out
    assert "company prefix 0614141 already belongs to" in deployed.error(
        "gtin", "assign-prefix", "0614141", ADMIN, "--account", "TEST::0"
    )
    assert "4 to 12 digits" in deployed.error("gtin", "assign-prefix", "123", ADMIN, "--account", "TEST::0")


def test_brand_revoke__brand_with_open_lot__role_gone_and_lot_closed(deployed: Cli, tmp_path: Path) -> None:
    metadata = tmp_path / "m.json"
    metadata.write_text('{"product": "Salmon"}')
    deployed.run("brand", "add", DISTRIBUTOR, "--gtin", "04012345000023", "--account", "TEST::0")
    deployed.run(
        "lot",
        "create",
        "--gtin",
        "04012345000023",
        "--lot",
        "R-1",
        "--metadata",
        str(metadata),
        "--account",
        "TEST::2",
    )
    out = deployed.run("brand", "revoke", DISTRIBUTOR, "--account", "TEST::0").stdout
    assert "no longer a brand" in out
    lot = "04012345000023:R-1"
    assert "closed: True" in " ".join(deployed.run("lot", "show", lot).stdout.split())
    message = deployed.error(
        "register", "--gtin", "04012345000023", "--serial", "S", "--lot", "R-1", "--account", "TEST::2"
    )
    assert "is closed" in message


def test_lot_close__by_brand__no_more_items(deployed: Cli, tmp_path: Path) -> None:
    metadata = tmp_path / "m.json"
    metadata.write_text('{"product": "Acacia honey"}')
    deployed.run(
        "lot",
        "create",
        "--gtin",
        HONEY_GTIN,
        "--lot",
        "HONEY-CLOSE",
        "--metadata",
        str(metadata),
        "--account",
        "TEST::1",
    )
    deployed.run("lot", "close", f"{HONEY_GTIN}:HONEY-CLOSE", "--account", "TEST::1")
    message = deployed.error(
        "register", "--gtin", HONEY_GTIN, "--serial", "LATE", "--lot", "HONEY-CLOSE", "--account", "TEST::1"
    )
    assert "is closed; register new items into a new lot" in message


def test_lot_show__unknown_code__says_create_it(deployed: Cli) -> None:
    assert "supplytrace lot create" in deployed.error("lot", "show", f"{HONEY_GTIN}:NOPE")


def test_devnet_status__running__names_url_and_block(deployed: Cli) -> None:
    out = deployed.run("devnet", "status").stdout
    assert f"running at http://127.0.0.1:{deployed.env['SUPPLYTRACE_DEVNET_PORT']}" in out


def test_devnet_up__already_running__reused(deployed: Cli) -> None:
    assert "already running" in deployed.run("devnet", "up").stdout
