"""`make demo`: the whole story on a fresh local devnet, non-interactive.

A beekeeper brand (verified name, its own GTIN) registers a lot of honey jars with its metadata
(origin, harvest date, a lab-test certificate hash). One pallet goes to a distributor by offer
and accept, the other by a signed one-transaction handoff; the distributor hands the first
pallet on to a retailer, who records an inspection and sells a jar. A second lot is recalled. A
third lot of sealed jars carries a hidden code under each lid: one is sold, and its buyer claims it
with the code, so a copy of its outer QR code reads "claimed". Two measured harvests (RO, BG)
are blended into a fourth lot, whose jars go in two cases on a pallet.
Then the event index is built (``SUPPLYTRACE_HOME/index.db``, or ``$SUPPLYTRACE_INDEX_DB``), QR
codes and a label sheet go to the project's ``demo-output/`` (only the demo's own files are
replaced there: the README walk-through's ``demo-output/walkthrough/`` stays), the verification
page starts in the background on ``SUPPLYTRACE_RESOLVER`` (reading history from that index), and
the URL of each case (genuine, sold, claimed, recalled, unknown) is printed and written to
``demo-output/summary.json``. Every chain step is a use case of the one
:class:`~supplytrace.service.registry.Registry`.

The devnet and the page keep running afterwards; ``make demo-stop`` stops both.
``SUPPLYTRACE_DEMO_OUTPUT`` moves the output folder (the tests use it).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from rich.console import Console
from rich.table import Table

from supplytrace.chain import devnet
from supplytrace.chain.rpc import Rpc
from supplytrace.core import deployments
from supplytrace.core.config import Settings
from supplytrace.core.ids import ItemKey
from supplytrace.core.networks import DEVNET_NETWORK
from supplytrace.service.connect import deployer, network_names, signer_for
from supplytrace.service.registry import Registry

console = Console(highlight=False, soft_wrap=True)
HONEY_GTIN = "09506000134352"
LOT_CODE = "ACACIA-2026-07"
#: The product's name in the page's three languages (docs/languages.md): a Chinese or Romanian
#: shopper reads it in theirs.
LOT_METADATA = {
    "product": {
        "en": "Acacia honey, 500 g jar",
        "zh-CN": "洋槐蜂蜜，500 克装",  # noqa: RUF001  (Chinese punctuation)
        "ro": "Miere de salcâm, borcan de 500 g",
    },
    "brand": "Hillside Apiaries",
    "origin": {"country": "RO", "region": "Banat", "apiary": "Hillside #3"},
    "harvestDate": "2026-07-14",
    "certificates": [
        {
            "type": "lab-test",
            "lab": "Apis Lab, Timișoara",
            "sha256": "9f2c5d1e7a0b4c3d8e6f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d",
        }
    ],
}
RECALLED_LOT_CODE = "ACACIA-2026-05"
RECALLED_METADATA = {
    "product": "Acacia honey, 500 g jar",
    "brand": "Hillside Apiaries",
    "origin": {"country": "RO", "region": "Banat", "apiary": "Hillside #1"},
    "harvestDate": "2026-05-28",
    "certificates": [
        {
            "type": "lab-test",
            "lab": "Apis Lab, Timișoara",
            "sha256": "0b7e2f4a6c8d0e1f3a5b7c9d1e3f5a7b9c1d3e5f7a9b1c3d5e7f9a1b3c5d7e9f",
        }
    ],
}
RECALL_REASON = (
    "A lab re-test found antibiotic residues above the legal limit. Do not eat it; return the jar "
    "to the shop for a full refund."
)
BRAND_NAME = "Hillside Apiaries"
DISTRIBUTOR_DESCRIPTION = "Carpathian Foods (distributor)"
RETAILER_DESCRIPTION = "Corner Grocery, Timișoara"
JARS = 24
RECALLED_JARS = 6
INSPECTION_REPORT = b"Corner Grocery inspection: seal intact, label legible, stored at 18 C.\n"
SEALED_LOT_CODE = "ACACIA-2026-08"
SEALED_JARS = 8
HARVESTS = (
    ("HARVEST-RO-2026", "1200kg", {"country": "RO", "region": "Banat", "apiary": "Hillside #3"}),
    ("HARVEST-BG-2026", "800kg", {"country": "BG", "region": "Vratsa", "apiary": "Danube Bees co-op"}),
)
BLEND_LOT_CODE = "BLEND-2026-09"
BLEND_METADATA = {
    "product": "Wildflower honey blend, 500 g jar",
    "brand": "Hillside Apiaries",
    "origin": "Blend of EU honeys (RO, BG)",
    "blendDate": "2026-09-01",
}
BLEND_JARS = 12
#: The beekeeper's GS1 company prefix (its GTIN's), from which it builds its cases' and pallets' SSCCs.
COMPANY_PREFIX = "9506000"
#: The cases a consumer can meet, in the order they are printed.
CASES = ("genuine", "sold", "claimed", "recalled", "unknown")


@dataclass(frozen=True)
class DemoItem:
    case: str
    key: ItemKey
    expected_status: str


@dataclass(frozen=True)
class Story:
    registry: Registry
    lot_id: int
    recalled_lot_id: int
    lot_keys: list[ItemKey]
    items: list[DemoItem]
    names: dict[str, str]
    sealed_lot_id: int = 0  # the lot of sealed jars with hidden codes (:func:`tell_claim`)
    blend_lot_id: int = 0  # the blend of two harvests (:func:`tell_lineage`)
    pallet: str = ""  # the SSCC of the blend's pallet, handed to the distributor


def tell_story(cast: tuple[Registry, Registry, Registry, Registry], say: Callable[[str], None]) -> Story:
    """Play the supply chain on one registry as (admin, beekeeper, distributor, retailer): the
    same registry acting as each one's account (``Registry.acting_as``); lot metadata is kept
    under the settings' home.

    Used by ``make demo`` on the devnet and by the page's tests on ape's test network.
    """
    admin, beekeeper, distributor, retailer = cast
    home = beekeeper.settings.home
    admin.add_brand(beekeeper.account, name=BRAND_NAME, gtins=[HONEY_GTIN])
    distributor.describe(DISTRIBUTOR_DESCRIPTION)
    retailer.describe(RETAILER_DESCRIPTION)
    say(f"brand {BRAND_NAME} (verified name) = {beekeeper.account}, owns GTIN {HONEY_GTIN}")
    say(f"distributor {distributor.account} and retailer {retailer.account} described themselves")

    lot_id = beekeeper.create_lot(HONEY_GTIN, LOT_CODE, LOT_METADATA).lot_id
    serials = [f"JAR{n:05d}" for n in range(1, JARS + 1)]
    (receipt,) = beekeeper.register_items(HONEY_GTIN, LOT_CODE, serials).transactions
    keys = [ItemKey.create(HONEY_GTIN, s, LOT_CODE) for s in serials]
    ids = [k.id for k in keys]
    say(
        f"lot {lot_id} ({LOT_CODE}, metadata in {home / 'metadata'}): "
        f"{JARS} jars in one tx ({receipt.gas_used:,} gas)"
    )

    pallet_a, pallet_b = ids[:12], ids[12:]
    beekeeper.offer(pallet_a, to=distributor.account)
    distributor.accept(pallet_a)
    say("pallet A: beekeeper -> distributor (offer + accept)")

    beekeeper.handoff(distributor.sign_acceptance(pallet_b, sender=beekeeper.account))
    say("pallet B: beekeeper -> distributor (one tx carrying the distributor's EIP-712 signature)")

    distributor.handoff(retailer.sign_acceptance(pallet_a, sender=distributor.account))
    say("pallet A: distributor -> retailer (one tx, the retailer's signature)")

    retailer.record(ids[:2], "inspecting", data=INSPECTION_REPORT)
    retailer.sell(ids[:1])
    say(f"retailer inspected {serials[0]} and {serials[1]}, and sold {serials[0]}")

    recalled_lot = beekeeper.create_lot(HONEY_GTIN, RECALLED_LOT_CODE, RECALLED_METADATA).lot_id
    recalled_serials = [f"JAR{n:05d}" for n in range(501, 501 + RECALLED_JARS)]
    beekeeper.register_items(HONEY_GTIN, RECALLED_LOT_CODE, recalled_serials)
    recalled_keys = [ItemKey.create(HONEY_GTIN, s, RECALLED_LOT_CODE) for s in recalled_serials]
    beekeeper.offer([k.id for k in recalled_keys], to=distributor.account)
    distributor.accept([k.id for k in recalled_keys])
    beekeeper.recall(recalled_lot, RECALL_REASON)
    say(f"lot {recalled_lot} ({RECALLED_LOT_CODE}): {RECALLED_JARS} jars to the distributor, then recalled")

    items = [
        DemoItem("genuine", keys[1], "genuine"),
        DemoItem("sold", keys[0], "sold"),
        DemoItem("recalled", recalled_keys[0], "recalled"),
        # A code nobody registered: what a counterfeiter's made-up label resolves to.
        DemoItem("unknown", ItemKey.create(HONEY_GTIN, "JAR99999", LOT_CODE), "unknown"),
    ]
    names = {
        admin.account: "admin",
        beekeeper.account: "beekeeper",
        distributor.account: "distributor",
        retailer.account: "retailer",
    }
    return Story(admin, lot_id, recalled_lot, keys, items, names)


def tell_claim(
    story: Story, cast: tuple[Registry, Registry, Registry, Registry], work: Path, say: Callable[[str], None]
) -> Story:
    """Sealed jars with hidden codes: the beekeeper registers a lot of them from a CSV with
    ``hidden_codes`` (the printer's codes file in ``work``), one goes to the retailer and is sold,
    and its buyer opens it and enters the code inside the lid. Every copy of its outer QR code
    now reads "claimed". Returns ``story`` with the claimed jar among its cases."""
    _, beekeeper, _, retailer = cast
    sealed = beekeeper.create_lot(HONEY_GTIN, SEALED_LOT_CODE, {**LOT_METADATA, "harvestDate": "2026-08-02"})
    serials = [f"JAR{n:05d}" for n in range(801, 801 + SEALED_JARS)]
    work.mkdir(parents=True, exist_ok=True)
    rows = "".join(f"{HONEY_GTIN},{serial},{SEALED_LOT_CODE}\n" for serial in serials)
    (work / "sealed.csv").write_text("gtin,serial,lot\n" + rows, encoding="utf-8")
    result = beekeeper.register_csv(work / "sealed.csv", hidden_codes=True)
    keys = [ItemKey.create(HONEY_GTIN, s, SEALED_LOT_CODE) for s in serials]
    say(
        f"lot {SEALED_LOT_CODE}: {SEALED_JARS} sealed jars with a hidden code each under the lid "
        f"(one Merkle root on chain; the printer's codes file: {result.codes_path})"
    )
    jar = keys[0]
    beekeeper.handoff(retailer.sign_acceptance([jar.id], sender=beekeeper.account))
    retailer.sell([jar.id])
    with open(result.codes_path or "", encoding="utf-8", newline="") as codes:
        code = next(row["code"] for row in csv.DictReader(codes) if row["serial"] == jar.serial)
    beekeeper.claim(jar.id, code)
    say(f"retailer sold {jar.serial}; its buyer opened it and entered the code inside the lid: claimed")
    return replace(
        story, items=[*story.items, DemoItem("claimed", jar, "claimed")], sealed_lot_id=sealed.lot_id
    )


def tell_lineage(
    story: Story,
    cast: tuple[Registry, Registry, Registry, Registry],
    say: Callable[[str], None],
    *,
    hand_over: bool = True,
) -> Story:
    """Lineage: two measured harvests (RO and BG, their origin in the metadata) are blended into
    one lot, the registry keeping the balance; its jars go into two cases on one pallet (SSCCs from
    the beekeeper's company prefix), and with ``hand_over`` the pallet goes to the distributor in
    one signed handoff that moves every jar. Returns ``story`` with the blend's lot and the
    pallet's SSCC."""
    from supplytrace.core.ids import container_id, sscc_with_check_digit
    from supplytrace.core.quantities import measure, parse_quantity
    from supplytrace.service.measured import Input

    admin, beekeeper, distributor, _ = cast
    inputs = []
    for code, quantity, origin in HARVESTS:
        metadata = {**LOT_METADATA, "origin": origin, "certificates": []}
        harvest = beekeeper.create_measured_lot(HONEY_GTIN, code, metadata, measure(quantity, "500g"))
        say(f"lot {harvest.lot_id} ({code}, {origin['country']}): {harvest.stock.left} of honey, measured")
        inputs.append(Input(f"{HONEY_GTIN}:{code}", parse_quantity("600kg" if "RO" in code else "400kg")))
    blend = beekeeper.blend(
        HONEY_GTIN, BLEND_LOT_CODE, BLEND_METADATA, inputs, parse_quantity("1000kg"), parse_quantity("500g")
    )
    drawn = ", ".join(f"{d.quantity} from {d.lot_ref.split(':')[1]} ({d.left} left)" for d in blend.drawn)
    say(f"lot {blend.lot_id} ({BLEND_LOT_CODE}): blended {drawn}")
    serials = [f"BLEND{n:05d}" for n in range(1, BLEND_JARS + 1)]
    beekeeper.register_items(HONEY_GTIN, BLEND_LOT_CODE, serials)
    ids = [ItemKey.create(HONEY_GTIN, s, BLEND_LOT_CODE).id for s in serials]
    admin.assign_prefix(COMPANY_PREFIX, beekeeper.account)
    cases = [sscc_with_check_digit(f"0{COMPANY_PREFIX}00000000{n}") for n in (1, 2)]
    pallet = sscc_with_check_digit(f"1{COMPANY_PREFIX}000000001")
    half = BLEND_JARS // 2
    beekeeper.pack(cases[0], ids[:half])
    beekeeper.pack(cases[1], ids[half:])
    beekeeper.pack(pallet, [container_id(c) for c in cases])
    say(f"{BLEND_JARS} jars of the blend in cases (00){cases[0]} and (00){cases[1]} on pallet (00){pallet}")
    if hand_over:
        beekeeper.handoff(distributor.sign_acceptance([container_id(pallet)], sender=beekeeper.account))
        say("the pallet: beekeeper -> distributor (one signed handoff moves every jar)")
    return replace(story, blend_lot_id=blend.lot_id, pallet=pallet)


def output_folder(settings: Settings | None = None) -> Path:
    """Where the demo writes: ``$SUPPLYTRACE_DEMO_OUTPUT``, else the project's ``demo-output/``."""
    default = settings.project / "demo-output" if settings is not None else Path("demo-output")
    return Path(os.environ.get("SUPPLYTRACE_DEMO_OUTPUT", default)).resolve()


def demo_files(out: Path) -> list[Path]:
    """Every file the demo writes into ``out`` (nothing else there is touched: the README
    walk-through keeps its files in ``demo-output/walkthrough/``)."""
    return [
        *(out / "qr" / f"{case}.png" for case in CASES),
        out / f"labels-{LOT_CODE}.svg",
        out / f"labels-{LOT_CODE}.pdf",
        out / "summary.json",
    ]


def index_story(settings: Settings, rpc: Rpc, record: deployments.Deployment) -> str:
    """Index the registry's events from its deployment block into the default index (what
    ``supplytrace index --reset`` does), so that the page reads history from it; returns the
    line to print.

    The devnet is new on every run, so whatever the index holds for its chain belongs to an
    earlier devnet, possibly under the same registry address (same deployer, same nonce) but
    with other blocks: it is reset first, never trusted."""
    from supplytrace.indexer.job import run_index

    done = run_index(rpc, record, db=None, home=settings.home, reset=True)
    report, url = done.report, done.url
    first = report.first_block if report.first_block is not None else record.block
    last = report.checkpoint if report.checkpoint is not None else first - 1
    return (
        f"event index: {report.events:,} events in {last - first + 1:,} blocks ({first}-{last}) "
        f"indexed into {url}; the page reads history from it"
    )


def run(settings: Settings) -> None:
    from supplytrace.labels.qr import qr_png
    from supplytrace.labels.sheet import write_label_sheet
    from supplytrace.web import server

    out = output_folder(settings)
    for old in demo_files(out):  # a previous run's outputs: a failed run leaves no stale summary
        old.unlink(missing_ok=True)
    console.rule("supplytrace demo")
    server.stop_background(settings)
    devnet.down(settings)
    shutil.rmtree(settings.home / "devnet", ignore_errors=True)
    state, _ = devnet.up(settings)
    console.print(f"devnet: fresh anvil at {state.url} (state in {state.state_file})")

    ecosystem, network = network_names(DEVNET_NETWORK)
    sender = deployer(settings, DEVNET_NETWORK, "TEST::0")
    admin = Registry.deploy(sender, settings, ecosystem=ecosystem, network=network, force=True)
    record = admin.deployment
    path = deployments.record_path(settings.deployments, ecosystem, network)
    console.print(f"deployed ProvenanceRegistry at {record.address}; recorded in {path}")
    beekeeper, distributor, retailer = (
        admin.acting_as(signer_for(DEVNET_NETWORK, f"TEST::{n}")) for n in (1, 2, 3)
    )
    cast = (admin, beekeeper, distributor, retailer)
    story = tell_claim(tell_story(cast, console.print), cast, settings.home / "demo", console.print)
    story = tell_lineage(story, cast, console.print)
    story = replace(story, items=sorted(story.items, key=lambda i: CASES.index(i.case)))

    table = Table(title=f"the demo's cases on chain {record.chain_id}")
    for column in ("case", "serial", "lot", "custodian", "status", "recalled"):
        table.add_column(column)
    for demo_item in story.items:
        st = admin.item(demo_item.key.id)
        table.add_row(
            demo_item.case,
            demo_item.key.serial,
            demo_item.key.lot or "-",
            story.names.get(st.custodian or "", st.custodian or "-"),
            st.status.name.lower(),
            "yes" if st.recalled else "no",
        )
    console.print(table)
    console.print(index_story(settings, admin.rpc, record), soft_wrap=True)

    (out / "qr").mkdir(parents=True, exist_ok=True)
    qr_files = {}
    for demo_item in story.items:
        qr_files[demo_item.case] = qr_png(
            demo_item.key, settings.resolver, out / "qr" / f"{demo_item.case}.png"
        )
    sheet = write_label_sheet(
        story.lot_keys,
        settings.resolver,
        svg_path=out / f"labels-{LOT_CODE}.svg",
        pdf_path=out / f"labels-{LOT_CODE}.pdf",
        title=f"{BRAND_NAME}: GTIN {HONEY_GTIN} lot {LOT_CODE}",
    )
    console.print(f"QR codes in {out / 'qr'}; label sheet {', '.join(str(p) for p in sheet)}")

    # The page relays claims from the devnet's first test account: a shopper who opens one of the
    # other sealed jars can enter its code on the page (the codes file is under the demo's home).
    page = server.start_background(settings, network=DEVNET_NETWORK, relayer="TEST::0")
    console.print(f"verification page at {page.url} (pid {page.pid}, log {page.log})")

    items = [
        {
            "case": demo_item.case,
            "uri": demo_item.key.digital_link(settings.resolver),
            "item_id": demo_item.key.id_hex,
            "gtin": demo_item.key.gtin,
            "serial": demo_item.key.serial,
            "lot": demo_item.key.lot,
            "expected_status": demo_item.expected_status,
            "qr": str(qr_files[demo_item.case]),
        }
        for demo_item in story.items
    ]
    summary = {
        "base_url": settings.resolver.rstrip("/"),
        "contract": record.address,
        "chain_id": record.chain_id,
        "network": f"{record.ecosystem}:{record.network}",
        "rpc_url": settings.devnet_url,
        "lots": {
            "genuine": story.lot_id,
            "claimed": story.sealed_lot_id,
            "recalled": story.recalled_lot_id,
            "blend": story.blend_lot_id,
        },
        "pallet": story.pallet,
        "label_sheet": [str(p) for p in sheet],
        "items": items,
    }
    (out / "summary.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )

    console.rule("open these on the verification page")
    for entry in items:
        console.print(f"{entry['case']:>9}: {entry['uri']}", soft_wrap=True)
    console.print(f"summary: {out / 'summary.json'}")
    console.print("the devnet and the page keep running; stop both with `make demo-stop`.")
