"""Commands that only read: `status`, `history`, `export-epcis` and `export-fsma204`. None of them
imports ape: the registry is read through the package's JSON-RPC client."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from supplytrace.cli.options import db_option, item_selection, network_option, registry_session
from supplytrace.cli.output import UserError, err_console, friendly_errors, item_fields, print_fields, say
from supplytrace.core.errors import EXIT_NOT_FOUND

if TYPE_CHECKING:
    from supplytrace.chain.history import HistorySource
    from supplytrace.core.records import ItemRecord
    from supplytrace.service.registry import Registry
    from supplytrace.service.selection import ItemSelection


@click.command()
@network_option
@item_selection(lot=False)
@friendly_errors
def status(network: str, selection: ItemSelection) -> None:
    """Show an item's current on-chain record (ITEM: Digital Link URI, 0x id, or --gtin/--serial),
    or a container's (its SSCC: (00) and 18 digits)."""
    with registry_session(network) as registry:  # the live record (getItem): no index is opened
        records = registered(registry, selection)
        for record in records:
            print_fields(item_fields(record) if record.gtin else container_fields(registry, record.item_id))
    records.exit_if_missing()


def container_fields(registry: Registry, container_id: bytes) -> dict[str, object]:
    """A container's live record by field (an SSCC named where an item may be)."""
    found = registry.container(container_id)
    return {
        "container_id": "0x" + container_id.hex(),
        "sscc": f"(00){found.sscc:018d}",
        "custodian": found.custodian,
        "pending_receiver": found.pending_receiver,
        "packed_in": "0x" + found.container.hex() if found.container and any(found.container) else None,
        "custody_nonce": found.custody_nonce,
        "updated_at": found.updated_at,
    }


@click.command()
@network_option
@item_selection(lot=False)
@friendly_errors
def history(network: str, selection: ItemSelection) -> None:
    """Show an item's history: registration, every handoff, observations, sale, recall."""
    from supplytrace.core.story import describe, relayed_by, ssccs

    with registry_session(network) as registry:
        source = history_of(registry)  # the event index when it is on this chain, else the chain's logs
        records = registered(registry, selection)
        for record in records:
            say(f"{record.item_id_hex} (GTIN {record.gtin14}, lot {record.lot_code})")
            entries = source.item_history(record.item_id)
            senders = registry.reads.senders(entry.tx_hash for entry in entries)
            pallets = ssccs(entries)  # the pallets it travelled on, named by their SSCCs
            for entry in entries:
                when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(entry.timestamp or 0))
                link = registry.tx_link(entry.tx_hash) or entry.tx_hash
                step = describe(entry.event, brand=record.brand, ssccs=pallets)
                say(f"  {when}Z  {step.sentence()}\n    {link}")
                if payer := relayed_by(entry.event, senders.get(entry.tx_hash, "")):
                    say(f"    signed by its actor; sent, and paid for, by {payer}")
    records.exit_if_missing()


@click.command("export-epcis")
@network_option
@db_option
@item_selection(lot=False)
@click.option("--lot", "whole_lot", default=None, help="Every item of this lot (lot id, or GTIN:LOTCODE).")
@click.option(
    "--out", type=click.Path(path_type=Path), default=None, help="Write to this file (default: stdout)."
)
@friendly_errors
def export_epcis(
    network: str, db: str | None, selection: ItemSelection, whole_lot: str | None, out: Path | None
) -> None:
    """Write items' histories as a GS1 EPCIS 2.0 JSON-LD document (ITEM..., or --lot LOT)."""
    from supplytrace.service.exports import export_epcis as export
    from supplytrace.service.exports import write_document
    from supplytrace.service.history import open_history
    from supplytrace.service.selection import named_items

    with registry_session(network) as registry:
        lot_id = registry.resolve_lot(whole_lot) if whole_lot else None
        ids = named_items(selection) if selection.names_items else []
        if not ids and lot_id is None:
            raise UserError("name an item (Digital Link URI, 0x id, --gtin/--serial) or --lot.")
        deployment = registry.deployment
        source, reason = open_history(registry.rpc, deployment, db=db, home=registry.settings.home)
        document = export(
            source, registry.reads, item_ids=ids, lot_id=lot_id,
            chain_id=deployment.chain_id, registry=deployment.address,
        )  # fmt: skip
    text = write_document(document, out)
    events = len(document["epcisBody"]["eventList"])
    err_console.print(
        f"{events} EPCIS events (from {reason})" + (f" written to {out}" if out else ""), markup=False
    )
    if out is None:
        click.echo(text, nl=False)


@click.command("export-fsma204")
@network_option
@db_option
@click.option("--from", "since", required=True, help="First day, YYYY-MM-DD (UTC).")
@click.option("--to", "until", required=True, help="Last day, YYYY-MM-DD (UTC), included.")
@click.option("--lot", "lots", multiple=True, help="Only this lot (GTIN:LOTCODE or lot id); repeat for more.")
@click.option(
    "--out", type=click.Path(path_type=Path), default=None,
    help="Write to FILE.csv or FILE.xlsx (default: CSV on stdout).",
)  # fmt: skip
@friendly_errors
def export_fsma204(
    network: str, db: str | None, since: str, until: str, lots: tuple[str, ...], out: Path | None
) -> None:
    """Write the US FDA FSMA 204 sortable spreadsheet: one row per critical tracking event
    (packing, blend, shipping, receiving) from --from to --to, with its key data elements."""
    from supplytrace.core.fsma204 import day_range
    from supplytrace.service.exports_fsma import check_out, export_fsma204, write_fsma204
    from supplytrace.service.history import open_history
    from supplytrace.web.lotdata import MetadataStore

    start, end = day_range(since, until)
    if out is not None:
        check_out(out)
    with registry_session(network) as registry:
        lot_ids = [registry.resolve_lot(lot) for lot in lots]
        source, reason = open_history(registry.rpc, registry.deployment, db=db, home=registry.settings.home)
        metadata = MetadataStore(registry.settings.metadata_folder)
        rows = export_fsma204(
            source, registry.reads, since=start, until=end, lot_ids=lot_ids, metadata=metadata
        )
    text = write_fsma204(rows, out)
    err_console.print(
        f"{len(rows)} critical tracking events (from {reason})" + (f" written to {out}" if out else ""),
        markup=False,
    )
    if text is not None:
        click.echo(text, nl=False)


def history_of(registry: Registry) -> HistorySource:
    """Where history comes from (``service.history.open_history``: the event index when it can
    answer for this registry on this chain, else the chain's logs); says so on stderr unless
    there is no index at all."""
    from supplytrace.service.history import NO_INDEX, open_history

    source, reason = open_history(registry.rpc, registry.deployment, home=registry.settings.home)
    if NO_INDEX not in reason:
        err_console.print(f"source: {reason}", soft_wrap=True, markup=False, style="dim")
    return source


class Registered(list["ItemRecord"]):
    """The live records of named items that a brand registered, and how many were not."""

    missing = 0

    def exit_if_missing(self) -> None:
        """End the command with exit code 4 (found nothing) when a named item is not registered."""
        if self.missing:
            raise click.exceptions.Exit(EXIT_NOT_FOUND)


def registered(registry: Registry, selection: ItemSelection) -> Registered:
    """The live records of the named items that a brand registered; says which are not (the
    command then exits 4 once it has shown the rest)."""
    from supplytrace.service.selection import named_items, nothing_named

    ids = named_items(selection)
    if not ids:
        raise nothing_named()
    records = Registered()
    for record in registry.items(ids):
        if record.registered:
            records.append(record)
        else:
            records.missing += 1
            say(f"{record.item_id_hex} is not registered by any brand: likely counterfeit.")
    return records
