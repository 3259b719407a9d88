"""What is printed on the goods: `supplytrace qr` (an item's QR code) and `supplytrace labels`
(a lot's label sheet). `qr` works offline; `labels` reads the lot's items without ape."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from supplytrace.cli.options import item_selection, lot_option, network_option, registry_session
from supplytrace.cli.output import UserError, friendly_errors, safe_name, say
from supplytrace.core.config import load_settings

if TYPE_CHECKING:
    from supplytrace.core.ids import ItemKey
    from supplytrace.service.selection import ItemSelection

out_option = click.option(
    "--out", "out_dir", type=click.Path(path_type=Path), default=Path("."), show_default=True
)


@click.command()
@item_selection(lot=False)
@click.option("--lot", "lot_code", default=None, help="Lot code to include in the URI (/10/...).")
@out_option
@click.option("--format", "formats", type=click.Choice(["png", "svg"]), multiple=True, default=("png", "svg"))
@friendly_errors
def qr(selection: ItemSelection, lot_code: str | None, out_dir: Path, formats: tuple[str, ...]) -> None:
    """Write the QR code (GS1 Digital Link on the configured resolver) of an item, as PNG and SVG."""
    from supplytrace.core.ids import ItemKey
    from supplytrace.labels.qr import qr_png, qr_svg
    from supplytrace.service.selection import gtin_and_serial, key_of

    resolver = load_settings().resolver
    keys = [key_of(text) for text in selection.items]
    if gtin_and_serial(selection):
        keys.append(ItemKey.create(selection.gtin or "", selection.serial or "", lot_code))
    if not keys:
        raise UserError("name an item: a GS1 Digital Link URI, or --gtin and --serial.")
    out_dir.mkdir(parents=True, exist_ok=True)
    for key in keys:
        for fmt in formats:
            path = (out_dir / f"{key.gtin}-{safe_name(key.serial)}").with_suffix(f".{fmt}")
            (qr_png if fmt == "png" else qr_svg)(key, resolver, path)
            say(f"{path}: {key.digital_link(resolver)}")


@click.command()
@network_option
@lot_option
@out_option
@click.option(
    "--codes",
    "codes_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The codes file of `register-batch --hidden-codes`: also write the inner labels (each item's "
    "hidden code, in the same order as the outer labels).",
)
@friendly_errors
def labels(network: str, lot_ref: str, out_dir: Path, codes_file: Path | None) -> None:
    """Write a printable label sheet (SVG and PDF) with a QR code for every item of a lot."""
    from supplytrace.labels.sheet import write_label_sheet
    from supplytrace.service.measured import origin_label_of

    with registry_session(network) as registry:
        lot, keys = registry.lot_keys(lot_ref)
        origin = origin_label_of(registry, lot.lot_id) if keys else None
    if not keys:
        raise UserError(f"lot {lot.lot_id} has no registered items yet; register some first.")
    gtin14, code = lot.gtin14, str(lot.lot_code)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"labels-{gtin14}-{safe_name(code)}"
    written = write_label_sheet(
        keys, load_settings().resolver, svg_path=stem.with_suffix(".svg"), pdf_path=stem.with_suffix(".pdf"),
        title=f"GTIN {gtin14} lot {code}", origins={key.id: origin for key in keys} if origin else None,
    )  # fmt: skip
    say(f"{len(keys)} labels: " + ", ".join(str(p) for p in written))
    if origin:
        say(f"each label prints its origin: {origin}")
    if codes_file is not None:
        _inner_labels(keys, codes_file, out_dir / f"inner-{stem.name}", f"GTIN {gtin14} lot {code}")


def _inner_labels(keys: Sequence[ItemKey], codes_file: Path, stem: Path, title: str) -> None:
    from supplytrace.labels.inner import InnerLabel, read_codes, write_inner_sheet

    resolver = load_settings().resolver
    try:
        codes = read_codes(codes_file)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UserError(
            f"{codes_file} cannot be read as a codes file ({exc}); give the FILE.codes.csv."
        ) from None
    links = [key.digital_link(resolver) for key in keys]
    inner = [InnerLabel(codes[link], link) for link in links if link in codes]
    if not inner:
        raise UserError(f"{codes_file} holds no code of this lot's items; give the codes file of its batch.")
    written = write_inner_sheet(
        inner, stem.with_suffix(".svg"), stem.with_suffix(".pdf"), title=f"{title} (inner, secret)"
    )
    missing = len(keys) - len(inner)
    say(
        f"{len(inner)} inner labels (SECRET, for the printer only): "
        + ", ".join(str(p) for p in written)
        + (f"; {missing} items of the lot have no hidden code in {codes_file}" if missing else "")
    )
