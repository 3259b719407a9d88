"""`supplytrace pack` and `unpack`: items and containers into and out of a container (GS1 SSCC,
a case or a pallet), in transactions sized like every bulk step; a rerun skips what is done.
Every custody command takes the container where it takes an item (its SSCC: ``(00)`` and 18
digits), and moves everything in it at once."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from supplytrace.cli.options import (
    account_option,
    bulk_options,
    item_selection,
    network_option,
    registry_session,
)
from supplytrace.cli.output import bulk_run, bulk_summary, count, friendly_errors

if TYPE_CHECKING:
    from supplytrace.service.selection import ItemSelection

_FILE_HELP = "A file naming one item or container a line (URIs, 0x ids, SSCCs)."


def _with_file(selection: ItemSelection, file: Path | None) -> ItemSelection:
    from dataclasses import replace

    from supplytrace.service.containers import file_items

    return selection if file is None else replace(selection, items=selection.items + file_items(file))


@click.command()
@network_option
@account_option
@click.argument("sscc")
@item_selection()
@click.option("--file", "contents_file", type=click.Path(path_type=Path), default=None, help=_FILE_HELP)
@bulk_options
@friendly_errors
def pack(
    network: str,
    account: str,
    sscc: str,
    selection: ItemSelection,
    contents_file: Path | None,
    max_per_tx: int | None,
    yes: bool,
) -> None:
    """Pack items or containers you hold into the container SSCC (a case, a pallet; created by
    its first packing from your GS1 company prefix). Name them as the custody commands do, or
    other containers by their SSCC ((00) and 18 digits); --lot packs the lot's loose items."""
    did = f"packed {{items}} into {sscc}"
    with (
        registry_session(network, account) as registry,
        bulk_run(registry, "packing", yes, lambda m: did.format(items=count(m.items)), max_per_tx) as run,
    ):
        result = registry.pack(sscc, _with_file(selection, contents_file), run=run)
    bulk_summary(result, did, f"in {sscc}")


@click.command()
@network_option
@account_option
@click.argument("sscc")
@item_selection(lot=False)
@click.option("--file", "contents_file", type=click.Path(path_type=Path), default=None, help=_FILE_HELP)
@bulk_options
@friendly_errors
def unpack(
    network: str,
    account: str,
    sscc: str,
    selection: ItemSelection,
    contents_file: Path | None,
    max_per_tx: int | None,
    yes: bool,
) -> None:
    """Take items or containers out of the container SSCC you hold (all of them if none is
    named); you then hold each, and they move on their own again."""
    did = f"took {{items}} out of {sscc}"
    with (
        registry_session(network, account) as registry,
        bulk_run(registry, "unpacking", yes, lambda m: did.format(items=count(m.items)), max_per_tx) as run,
    ):
        result = registry.unpack(sscc, _with_file(selection, contents_file), run=run)
    bulk_summary(result, did, f"out of {sscc}")
