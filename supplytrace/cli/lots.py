"""`supplytrace lot create|show|close`, `register`, `register-batch` and `recall` (brands)."""

from __future__ import annotations

from pathlib import Path

import click

from supplytrace.cli.options import (
    account_option,
    bulk_options,
    network_option,
    registry_session,
)
from supplytrace.cli.output import (
    UserError,
    confirm_cost,
    friendly_errors,
    interruptible,
    print_fields,
    progress_bar,
    say,
    sent,
)


@click.group()
def lot() -> None:
    """Lots: create, show, close."""


@lot.command("create")
@network_option
@account_option
@click.option("--gtin", "gtin_value", required=True, help="GTIN of the lot's product.")
@click.option("--lot", "lot_code", required=True, help="GS1 lot code (AI 10), 1-20 characters.")
@click.option(
    "--metadata",
    type=click.Path(path_type=Path),
    required=True,
    help="JSON file: product name, origin, harvest/production date, certificates.",
)
@friendly_errors
def lot_create(network: str, account: str, gtin_value: str, lot_code: str, metadata: Path) -> None:
    """Register a lot; its metadata is hashed canonically (RFC 8785) and kept under .supplytrace/metadata/."""
    from supplytrace.core.metadata import load_metadata

    data = load_metadata(metadata)
    with registry_session(network, account) as registry:
        created = registry.create_lot(gtin_value, lot_code, data)
    stored = created.metadata_path
    say(
        f"lot {created.lot_id} created: GTIN {gtin_value}, lot {lot_code}; "
        f"metadata {stored.name} in {stored.parent}"
    )


@lot.command("show")
@network_option
@click.argument("lot_ref")
@friendly_errors
def lot_show(network: str, lot_ref: str) -> None:
    """Show a lot (LOT_REF: lot id or GTIN:LOTCODE)."""
    with registry_session(network) as registry:
        lot = registry.lot(lot_ref)
    print_fields({
        "lot_id": lot.lot_id, "registrar": lot.registrar, "gtin": lot.gtin14, "lot_code": lot.lot_code,
        "metadata_hash": "0x" + lot.metadata_hash.hex(), "recalled_at": lot.recalled_at, "closed": lot.closed,
    })  # fmt: skip


@lot.command("close")
@network_option
@account_option
@click.argument("lot_ref")
@friendly_errors
def lot_close(network: str, account: str, lot_ref: str) -> None:
    """Close a lot: nothing more can be registered into it. The lot's brand or the admin."""
    with registry_session(network, account) as registry:
        closed = registry.close_lot(lot_ref)
        sent(f"lot {closed.lot_id} closed", closed.sent, registry)


@click.command()
@network_option
@account_option
@click.option("--gtin", "gtin_value", required=True, help="GTIN of the item.")
@click.option("--serial", required=True, help="Serial number (AI 21), 1-20 characters.")
@click.option(
    "--lot", "lot_code", required=True, help="Lot code the item belongs to (created with `lot create`)."
)
@friendly_errors
def register(network: str, account: str, gtin_value: str, serial: str, lot_code: str) -> None:
    """Register one item."""
    with registry_session(network, account) as registry:
        done = registry.register_item(gtin_value, serial, lot_code)
        link = done.key.digital_link(registry.settings.resolver)
        sent(f"registered {done.key.id_hex}\n  {link}", done.sent, registry)


@click.command("register-batch")
@network_option
@account_option
@click.argument("csv_file", type=click.Path(path_type=Path))
@click.option(
    "--receipt",
    "receipt_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Receipt CSV to write (default: FILE.receipt.csv).",
)
@click.option(
    "--hidden-codes",
    is_flag=True,
    help="Give every item a secret code to print inside its pack (written to FILE.codes.csv beside "
    "the receipt, for the printer only); buyers claim the item with it.",
)
@bulk_options
@friendly_errors
def register_batch(
    network: str,
    account: str,
    csv_file: Path,
    receipt_path: Path | None,
    hidden_codes: bool,
    max_per_tx: int | None,
    yes: bool,
) -> None:
    """Register every row of a CSV (columns gtin, serial, lot; other columns kept as item metadata).

    The whole file is validated first and every bad row is reported by line number; nothing is
    sent unless all rows are good. With --hidden-codes the codes file is written before anything
    is sent, and a rerun reuses its codes.
    """
    from supplytrace.batch import BatchValidationError, format_errors
    from supplytrace.batch.hidden import WITH_CODES_GAS
    from supplytrace.chain.gas import BATCH_GAS, gas_price
    from supplytrace.service.bulk import Cost

    receipt_path = receipt_path or csv_file.with_suffix(".receipt.csv")
    with registry_session(network, account) as registry:
        signer = registry.sender.signer if registry.sender else None

        def confirm(items: int, transactions: int) -> None:
            per_tx = WITH_CODES_GAS if hidden_codes else BATCH_GAS["registerItems"]
            gas = transactions * per_tx.base + items * per_tx.per_item
            confirm_cost(Cost(items, transactions, gas, gas_price(registry.rpc)), yes, signer)

        try:
            with interruptible(), progress_bar("registering") as show:
                result = registry.register_csv(
                    csv_file,
                    receipt_path,
                    max_items_per_tx=max_per_tx,
                    before_send=confirm,
                    on_progress=show,
                    hidden_codes=hidden_codes,
                )
        except BatchValidationError as exc:
            for line in format_errors(exc.errors, limit=200):
                say(f"  {line}")
            raise UserError(f"{csv_file}: {len(exc.errors)} problem(s) found; nothing was sent.") from None
    say(result.summary())
    say(f"receipt: {receipt_path}")
    if result.codes_path is not None:
        trees = len(result.trees)
        say(
            f"hidden codes of {result.coded:,} items: {result.codes_path}\n"
            "  SECRET: whoever has this file can claim every item. Send it to the printer only, "
            "never with the receipt, and do not publish it.\n"
            f"  code trees ({trees} committed root{'s' if trees != 1 else ''}) kept under "
            f"{registry.settings.home} for claims."
        )


@click.command()
@network_option
@account_option
@click.argument("lot_ref")
@click.option("--reason", required=True, help="What is wrong and what consumers should do.")
@friendly_errors
def recall(network: str, account: str, lot_ref: str, reason: str) -> None:
    """Recall a whole lot (LOT_REF: lot id or GTIN:LOTCODE). The lot's brand or the admin."""
    with registry_session(network, account) as registry:
        recalled = registry.recall(lot_ref, reason)
        sent(f"lot {recalled.lot_id} recalled", recalled.sent, registry)
