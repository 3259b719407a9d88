"""`supplytrace lot create --quantity` and `lot blend`: a measured lot filled exactly and refused one
jar over, mixed units refused, a blend of two harvests showing what it drew from each, and a blend
over an input's remainder refused. Real processes, real devnet."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import HONEY_GTIN, Cli


def _metadata(tmp_path: Path, name: str, origin: str) -> str:
    path = tmp_path / f"{name}.json"
    path.write_text(f'{{"product": "Acacia honey", "origin": {{"country": "{origin}"}}}}')
    return str(path)


def test_lot_create__quantity_filled_exactly_then_one_over__the_registrys_sentence(
    deployed: Cli, tmp_path: Path
) -> None:
    cli = deployed
    meta = _metadata(tmp_path, "jars", "RO")
    out = cli.run(
        "lot", "create", "--gtin", HONEY_GTIN, "--lot", "JARS-1", "--metadata", meta,
        "--quantity", "1kg", "--item-quantity", "500g", "--account", "TEST::1",
    ).stdout  # fmt: skip
    assert "holds 1,000 g, items of 500 g" in out, out
    for serial in ("J-1", "J-2"):
        cli.run(
            "register", "--gtin", HONEY_GTIN, "--serial", serial, "--lot", "JARS-1", "--account", "TEST::1"
        )
    over = cli.error(
        "register", "--gtin", HONEY_GTIN, "--serial", "J-3", "--lot", "JARS-1", "--account", "TEST::1"
    )
    assert "has 0 left, less than the 500 asked for; register fewer items" in over, over
    assert "0 g" in cli.run("lot", "show", f"{HONEY_GTIN}:JARS-1").stdout


def test_lot_create__mixed_units_or_one_of_the_pair__one_sentence(deployed: Cli, tmp_path: Path) -> None:
    meta = _metadata(tmp_path, "mixed", "RO")
    common = (
        "lot",
        "create",
        "--gtin",
        HONEY_GTIN,
        "--lot",
        "MIX-1",
        "--metadata",
        meta,
        "--account",
        "TEST::1",
    )
    mixed = deployed.error(*common, "--quantity", "1200kg", "--item-quantity", "500ml")
    assert "the quantity is in g but the item quantity in ml" in mixed, mixed
    alone = deployed.error(*common, "--quantity", "1200kg")
    assert "--quantity and --item-quantity go together" in alone, alone


def test_lot_blend__two_harvests_then_over_a_remainder__what_each_gave_then_refused(
    deployed: Cli, tmp_path: Path
) -> None:
    cli = deployed
    for code, origin in (("RO-2026", "RO"), ("BG-2026", "BG")):
        cli.run(
            "lot", "create", "--gtin", HONEY_GTIN, "--lot", code,
            "--metadata", _metadata(tmp_path, code, origin),
            "--quantity", "1200kg", "--item-quantity", "500g", "--account", "TEST::1",
        )  # fmt: skip
    blend = ("lot", "blend", "--gtin", HONEY_GTIN, "--metadata", _metadata(tmp_path, "blend", "EU"))
    out = cli.run(
        *blend, "--lot", "BLEND-1", "--from", f"{HONEY_GTIN}:RO-2026=1000kg",
        "--from", f"{HONEY_GTIN}:BG-2026=600kg",
        "--quantity", "1600kg", "--item-quantity", "500g", "--account", "TEST::1",
    ).stdout  # fmt: skip
    assert "blended" in out and "holds 1,600,000 g" in out, out
    assert "drew 1,000,000 g from lot" in out and f"({HONEY_GTIN}:RO-2026); 200,000 g left" in out, out
    assert f"({HONEY_GTIN}:BG-2026); 600,000 g left" in out, out
    over = cli.error(
        *blend, "--lot", "BLEND-2", "--from", f"{HONEY_GTIN}:RO-2026=300kg",
        "--quantity", "300kg", "--item-quantity", "500g", "--account", "TEST::1",
    )  # fmt: skip
    assert "has 200000 left, less than the 300000 asked for" in over, over
