"""`supplytrace pack` and `unpack`, and custody commands given a container's SSCC: a pallet of
two cases of jars packed, offered and accepted, handed over with a signed acceptance, unpacked,
and its jars sold one by one; a packed jar refuses to move alone. Real processes, real devnet."""

from __future__ import annotations

from pathlib import Path

from supplytrace.core.ids import ItemKey, sscc_with_check_digit
from tests.cli.conftest import ADMIN, BRAND, DISTRIBUTOR, HONEY_GTIN, RETAILER, Cli

CASE_A = sscc_with_check_digit("09506000000000001")
CASE_B = sscc_with_check_digit("09506000000000002")
PALLET = sscc_with_check_digit("19506000000000001")


def _custodian(cli: Cli, item: str) -> str:
    out = cli.run("status", item).stdout
    return next(
        line.split(":", 1)[1].strip() for line in out.splitlines() if "custodian" in line.split(":")[0]
    )


def test_pallet__packed_moved_signed_unpacked_sold__each_step_by_sscc(deployed: Cli, tmp_path: Path) -> None:
    cli = deployed
    assert ADMIN
    cli.run("gtin", "assign-prefix", "9506000", BRAND, "--account", "TEST::0")
    rows = tmp_path / "jars.csv"
    rows.write_text("gtin,serial,lot\n" + "".join(f"{HONEY_GTIN},P-{n},HONEY-A\n" for n in range(4)))
    cli.run("register-batch", str(rows), "--yes", "--account", "TEST::1")
    jars = [
        ItemKey.create(HONEY_GTIN, f"P-{n}", "HONEY-A").digital_link("https://id.example.com")
        for n in range(4)
    ]
    contents = tmp_path / "case-b.txt"
    contents.write_text(f"# case B\n{jars[2]}\n{jars[3]}\n")

    out = cli.run("pack", CASE_A, jars[0], jars[1], "--account", "TEST::1").stdout
    assert f"packed 2 items into {CASE_A}" in out, out
    cli.run("pack", f"(00){CASE_B}", "--file", str(contents), "--account", "TEST::1")
    out = cli.run("pack", PALLET, f"(00){CASE_A}", f"00{CASE_B}", "--account", "TEST::1").stdout
    assert f"packed 2 items into {PALLET}" in out, out
    again = cli.run("pack", CASE_A, jars[0], jars[1], "--account", "TEST::1").stdout
    assert f"all 2 items were already in {CASE_A}; nothing to send." in again, again

    alone = cli.error("offer", jars[0], "--to", DISTRIBUTOR, "--account", "TEST::1")
    assert f"is packed in container (00){CASE_A}; move the container, or unpack it first" in alone, alone

    cli.run("offer", f"(00){PALLET}", "--to", DISTRIBUTOR, "--account", "TEST::1")
    cli.run("accept", f"https://id.example.com/00/{PALLET}", "--account", "TEST::2")
    assert _custodian(cli, jars[3]) == DISTRIBUTOR
    pallet = cli.run("status", f"00{PALLET}").stdout
    assert f"sscc: (00){PALLET}" in pallet and f"custodian: {DISTRIBUTOR}" in pallet, pallet

    acceptance = cli.run(
        "sign-acceptance", f"00{PALLET}", "--from", DISTRIBUTOR, "--account", "TEST::3"
    ).stdout
    cli.run("handoff", "".join(acceptance.split()), "--account", "TEST::2")
    assert _custodian(cli, jars[0]) == RETAILER

    out = cli.run("unpack", PALLET, "--account", "TEST::3").stdout
    assert f"took 2 items out of {PALLET}" in out, out
    cli.run("unpack", f"(00){CASE_A}", "--account", "TEST::3")
    rerun = cli.run("unpack", CASE_A, jars[0], "--account", "TEST::3").stdout
    assert f"already out of {CASE_A}" in rerun, rerun
    for jar in jars[:2]:
        cli.run("sell", jar, "--account", "TEST::3")
    assert "sold" in cli.run("status", jars[0]).stdout
    still = cli.error("sell", jars[2], "--account", "TEST::3")
    assert f"is packed in container (00){CASE_B}" in still, still


def test_pack__not_an_sscc__one_sentence(deployed: Cli) -> None:
    message = deployed.error("pack", "12345", "0x" + "ab" * 32, "--account", "TEST::1")
    assert "'12345' is not an SSCC; give the container's 18 digits" in message, message
