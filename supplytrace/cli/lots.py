"""`supplytrace lot create|show|close`, `register`, `register-batch` and `recall` (brands)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from supplytrace.service.measured import MeasuredLot
    from supplytrace.service.registry import Registry


@click.group()
def lot() -> None:
    """Lots: create, blend, show, close."""


def _metadata_option(func: Any) -> Any:
    return click.option(
        "--metadata",
        type=click.Path(path_type=Path),
        required=True,
        help="JSON file: product name, origin, harvest/production date, certificates.",
    )(func)


item_quantity_option = click.option(
    "--item-quantity", default=None, help="Each item's net quantity, in the lot's kind of unit (e.g. 500g)."
)


@lot.command("create")
@network_option
@account_option
@click.option("--gtin", "gtin_value", required=True, help="GTIN of the lot's product.")
@click.option("--lot", "lot_code", required=True, help="GS1 lot code (AI 10), 1-20 characters.")
@_metadata_option
@click.option(
    "--quantity",
    default=None,
    help="How much the lot holds (1200kg, 500g, 750l, 300units): registering items draws on it.",
)
@item_quantity_option
@friendly_errors
def lot_create(
    network: str,
    account: str,
    gtin_value: str,
    lot_code: str,
    metadata: Path,
    quantity: str | None,
    item_quantity: str | None,
) -> None:
    """Register a lot; its metadata is hashed canonically (RFC 8785) and kept under .supplytrace/metadata/.

    With --quantity (and --item-quantity) the lot declares how much it holds, and the registry
    refuses items beyond it; kilograms are kept as grams, litres as millilitres.
    """
    from supplytrace.core.metadata import load_metadata
    from supplytrace.core.quantities import measure

    if (quantity is None) != (item_quantity is None):
        raise UserError("--quantity and --item-quantity go together; give both (e.g. 1200kg and 500g).")
    measured = measure(quantity, item_quantity) if quantity and item_quantity else None
    data = load_metadata(metadata)
    with registry_session(network, account) as registry:
        if measured is not None:
            made = registry.create_measured_lot(gtin_value, lot_code, data, measured)
            _made(f"lot {made.lot_id} created: GTIN {gtin_value}, lot {lot_code}", made, registry)
            return
        created = registry.create_lot(gtin_value, lot_code, data)
    stored = created.metadata_path
    say(
        f"lot {created.lot_id} created: GTIN {gtin_value}, lot {lot_code}; "
        f"metadata {stored.name} in {stored.parent}"
    )


def _made(what: str, made: MeasuredLot, registry: Registry) -> None:
    """A measured or blended lot: what it holds, what each input gave, and its transaction."""
    stock = made.stock
    lines = [f"{what}; holds {stock.left}, items of {stock.item_quantity:,} {stock.unit.symbol}"]
    lines += [f"  drew {d.quantity} from lot {d.lot_id} ({d.lot_ref}); {d.left} left" for d in made.drawn]
    lines.append(f"  metadata {made.metadata_path.name} in {made.metadata_path.parent}")
    if made.sent is None:
        say("\n".join([lines[0] + " (already created by an earlier run; nothing sent)", *lines[1:]]))
    else:
        sent("\n".join(lines), made.sent, registry)


@lot.command("blend")
@network_option
@account_option
@click.option("--gtin", "gtin_value", required=True, help="GTIN of the blend's product.")
@click.option("--lot", "lot_code", required=True, help="The blend's GS1 lot code (AI 10), 1-20 characters.")
@_metadata_option
@click.option(
    "--from",
    "inputs",
    multiple=True,
    required=True,
    help="An input lot and what is drawn from it: GTIN:LOT=QUANTITY (e.g. 09506000134352:RO-2026=600kg); "
    "repeat for each input.",
)
@click.option("--quantity", required=True, help="How much the blend holds: at most what went in.")
@click.option(
    "--item-quantity", required=True, help="Each item's net quantity, in the same kind of unit (e.g. 500g)."
)
@friendly_errors
def lot_blend(
    network: str,
    account: str,
    gtin_value: str,
    lot_code: str,
    metadata: Path,
    inputs: tuple[str, ...],
    quantity: str,
    item_quantity: str,
) -> None:
    """Register a lot made from your measured lots (a blend of harvests), drawing on each input's
    stock; the registry keeps the balance (no more out than went in). A rerun sends nothing."""
    from supplytrace.core.metadata import load_metadata
    from supplytrace.core.quantities import parse_quantity
    from supplytrace.service.measured import Input

    parsed = [Input.parse(text) for text in inputs]
    total, each = parse_quantity(quantity), parse_quantity(item_quantity, "item quantity")
    data = load_metadata(metadata)
    with registry_session(network, account) as registry:
        made = registry.blend(gtin_value, lot_code, data, parsed, total, each)
        _made(f"lot {made.lot_id} blended: GTIN {gtin_value}, lot {lot_code}", made, registry)


@lot.command("show")
@network_option
@click.argument("lot_ref")
@friendly_errors
def lot_show(network: str, lot_ref: str) -> None:
    """Show a lot (LOT_REF: lot id or GTIN:LOTCODE)."""
    from supplytrace.service.measured import stock

    with registry_session(network) as registry:
        lot = registry.lot(lot_ref)
        left = stock(registry, lot.lot_id)
    print_fields({
        "lot_id": lot.lot_id, "registrar": lot.registrar, "gtin": lot.gtin14, "lot_code": lot.lot_code,
        "metadata_hash": "0x" + lot.metadata_hash.hex(), "recalled_at": lot.recalled_at, "closed": lot.closed,
    })  # fmt: skip
    if left.unit:
        print_fields({"stock": str(left.left), "item_quantity": f"{left.item_quantity:,} {left.unit.symbol}"})


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
