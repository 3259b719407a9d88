"""The ``supplytrace`` command line. It parses, calls the package, and prints; nothing more.

Conventions follow ape: ``--network ecosystem:network:provider`` (default: the local devnet) and
``--account ALIAS`` (an ape keystore account; ``TEST::N`` on local networks only). ``scripts/*.py``
expose the same click commands to ``ape run``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from supplytrace.chain import devnet as devnet_ops
from supplytrace.console import UserError, console, err_console, friendly_errors
from supplytrace.core.config import Settings, load_settings, prepare_environment
from supplytrace.core.deployments import Deployment
from supplytrace.service.selection import ItemSelection
from supplytrace.session import DEVNET_NETWORK, connect, load_registry

if TYPE_CHECKING:
    from supplytrace.chain.send import Sent
    from supplytrace.service.registry import Registry

network_option = click.option(
    "--network",
    default=DEVNET_NETWORK,
    show_default=True,
    help="ecosystem:network:provider, as in ape (the default is the local devnet).",
)
account_option = click.option(
    "--account", required=True, help="ape account alias (`ape accounts list`); TEST::N on local networks."
)

db_option = click.option(
    "--db",
    default=None,
    help="Index database: a file path or URL (sqlite:///PATH, postgresql://USER@HOST/DB); "
    "default $SUPPLYTRACE_INDEX_DB, else SUPPLYTRACE_HOME/index.db.",
)


def item_selection(*, lot: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add the ITEMS argument and --gtin/--serial (and --lot) options, passed on as ``selection``."""
    options = [
        click.argument("items", nargs=-1),
        click.option("--gtin", default=None, help="GTIN of the item (with --serial)."),
        click.option("--serial", default=None, help="Serial of the item (with --gtin)."),
    ]
    if lot:
        options.append(
            click.option(
                "--lot",
                "lot_ref",
                default=None,
                help="Every item of this lot (lot id, or GTIN:LOTCODE) that applies.",
            )
        )

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(
            *args: Any,
            items: tuple[str, ...],
            gtin: str | None,
            serial: str | None,
            lot_ref: str | None = None,
            **kwargs: Any,
        ) -> Any:
            return func(*args, selection=ItemSelection(items, gtin, serial, lot_ref), **kwargs)

        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper

    return decorate


@dataclass
class Session:
    """What a chain command needs: settings, provider, the registry and its deployment record."""

    settings: Settings
    provider: Any
    deployment: Deployment
    registry: Any

    def tx_link(self, tx_hash: str) -> str | None:
        from supplytrace.core.explorers import ExplorerLinks

        network = self.provider.network
        links = ExplorerLinks.for_network(
            network.ecosystem.name, network.name, resolver=self.settings.resolver
        )
        return links.tx(tx_hash)


@contextmanager
def session(network: str) -> Iterator[Session]:
    settings = load_settings()
    with connect(network, settings) as provider:
        deployment, registry = load_registry(settings, provider)
        yield Session(settings, provider, deployment, registry)


@contextmanager
def registry_session(network: str, account: str | None = None) -> Iterator[Registry]:
    """The registry recorded for ``network`` (checked against its node), writing as ``account``."""
    from supplytrace.service.connect import open_registry

    registry = open_registry(load_settings(), network, account=account)
    try:
        yield registry
    finally:
        registry.rpc.close()


@contextmanager
def _progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr, started by the first report ``show(done, total)``: the batch
    reports only once it sends, after its confirmation prompt and the keystore's passphrase."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=err_console
    )
    task = None

    def show(done: int, total: int) -> None:
        nonlocal task
        if task is None:
            bar.start()
            task = bar.add_task(label, total=total)
        bar.update(task, completed=done, total=total)

    try:
        yield show
    finally:
        if task is not None:
            bar.stop()


def _sent(message: str, sent: Sent, registry: Registry) -> None:
    """Print what was done, with the transaction, its block, its gas and its explorer link."""
    message += f" (tx {sent.tx_hash}, block {sent.block}, {sent.gas_used:,} gas)"
    link = registry.tx_link(sent.tx_hash)
    if link:
        message += f"\n  {link}"
    console.print(message, soft_wrap=True)


# --------------------------------------------------------------------------------------------
# Root
# --------------------------------------------------------------------------------------------


@click.group()
@click.option("--verbose", is_flag=True, help="Show tracebacks and ape's log for errors.")
@click.version_option(package_name="supplytrace")
def main(verbose: bool) -> None:
    """Product provenance: register goods, hand over custody, verify from a QR code."""
    from ape.logging import logger

    prepare_environment()

    logger.set_level("DEBUG" if verbose else "WARNING")


# --------------------------------------------------------------------------------------------
# Devnet and deployment
# --------------------------------------------------------------------------------------------


@main.group()
def devnet() -> None:
    """The local devnet (anvil, state kept under .supplytrace/devnet)."""


@devnet.command("up")
@friendly_errors
def devnet_up() -> None:
    """Start the devnet in the background (reuses a running one)."""
    state, started = devnet_ops.up(load_settings())
    verb = "started" if started else "already running"
    console.print(
        f"devnet {verb} at {state.url} (pid {state.pid}, block {state.block}); state in {state.state_file}"
    )
    console.print("stop it with `supplytrace devnet down` (or `make demo-stop`).")


@devnet.command("down")
@friendly_errors
def devnet_down() -> None:
    """Stop the devnet; its state is kept for the next `devnet up`."""
    if devnet_ops.down(load_settings()):
        console.print("devnet stopped; its state is kept for the next `supplytrace devnet up`.")
    else:
        console.print("devnet was not running.")


@devnet.command("status")
@friendly_errors
def devnet_status() -> None:
    """Say whether the devnet is running."""
    state = devnet_ops.status(load_settings())
    if state.running:
        console.print(f"running at {state.url} (pid {state.pid}), block {state.block}")
    else:
        console.print(f"not running (would listen on {state.url}); start it with `supplytrace devnet up`.")


@main.command()
@network_option
@account_option
@click.option("--admin", default=None, help="Admin address (default: the deploying account).")
@click.option("--admin-delay", default=0, show_default=True, help="Seconds an admin transfer must wait.")
@click.option("--force", is_flag=True, help="Deploy even if a deployment is recorded for this network.")
@friendly_errors
def deploy(network: str, account: str, admin: str | None, admin_delay: int, force: bool) -> None:
    """Deploy the registry and record it in deployments/<ecosystem>-<network>.json."""
    from supplytrace.core.deployments import record_path
    from supplytrace.service.connect import deployer, network_names
    from supplytrace.service.registry import Registry

    settings = load_settings()
    ecosystem, name = network_names(network)
    sender = deployer(settings, network, account)
    registry = Registry.deploy(
        sender, settings, ecosystem=ecosystem, network=name, admin=admin, admin_delay=admin_delay, force=force
    )
    record, path = registry.deployment, record_path(settings.deployments, ecosystem, name)
    console.print(f"registry deployed at {record.address} (block {record.block}); recorded in {path}")


# --------------------------------------------------------------------------------------------
# Brands and GTINs (admin)
# --------------------------------------------------------------------------------------------


@main.group()
def brand() -> None:
    """Brands: registrar role, verified names, self-descriptions."""


@brand.command("add")
@network_option
@account_option
@click.argument("address")
@click.option("--name", default=None, help="Verified display name to publish.")
@click.option("--gtin", "gtins", multiple=True, help="GTIN to assign to the brand (repeatable).")
@friendly_errors
def brand_add(network: str, account: str, address: str, name: str | None, gtins: tuple[str, ...]) -> None:
    """Make ADDRESS a brand (registrar), optionally naming it and assigning GTINs. Admin only."""
    with registry_session(network, account) as registry:
        registry.add_brand(address, name=name, gtins=gtins)
    console.print(
        f"{address} is a brand" + (f" named {name!r}" if name else "") + _list(" owning GTIN", gtins)
    )


@brand.command("name")
@network_option
@account_option
@click.argument("address")
@click.argument("name")
@friendly_errors
def brand_name(network: str, account: str, address: str, name: str) -> None:
    """Publish the verified display NAME of brand ADDRESS. Admin only."""
    with registry_session(network, account) as registry:
        _sent(f"{address} is now shown as {name!r}", registry.name_brand(address, name), registry)


@brand.command("revoke")
@network_option
@account_option
@click.argument("address")
@friendly_errors
def brand_revoke(network: str, account: str, address: str) -> None:
    """Revoke a brand's registrar role and close its open lots. Admin only."""
    with registry_session(network, account) as registry:
        closed = [str(lot.lot_id) for lot in registry.revoke_brand(address).closed]
    console.print(f"{address} is no longer a brand; closed lots: {', '.join(closed) or 'none'}")


@brand.command("describe")
@network_option
@account_option
@click.argument("description")
@friendly_errors
def brand_describe(network: str, account: str, description: str) -> None:
    """Describe your own account (shown to consumers as unverified)."""
    with registry_session(network, account) as registry:
        _sent("description published (unverified)", registry.describe(description), registry)


@main.group()
def gtin() -> None:
    """GTIN and GS1 company prefix ownership (admin)."""


@gtin.command("assign")
@network_option
@account_option
@click.argument("value")
@click.argument("brand_address")
@friendly_errors
def gtin_assign(network: str, account: str, value: str, brand_address: str) -> None:
    """Assign GTIN VALUE to BRAND_ADDRESS. Admin only."""
    from supplytrace.core.ids import normalize_gtin

    gtin14 = normalize_gtin(value)
    with registry_session(network, account) as registry:
        sent = registry.assign_gtin(value, brand_address)
        _sent(f"GTIN {gtin14} belongs to {brand_address}", sent, registry)


@gtin.command("release")
@network_option
@account_option
@click.argument("value")
@friendly_errors
def gtin_release(network: str, account: str, value: str) -> None:
    """Release the assignment of GTIN VALUE. Admin only."""
    from supplytrace.core.ids import normalize_gtin

    gtin14 = normalize_gtin(value)
    with registry_session(network, account) as registry:
        _sent(f"GTIN {gtin14} released", registry.release_gtin(value), registry)


@gtin.command("assign-prefix")
@network_option
@account_option
@click.argument("prefix")
@click.argument("brand_address")
@friendly_errors
def gtin_assign_prefix(network: str, account: str, prefix: str, brand_address: str) -> None:
    """Assign GS1 company prefix PREFIX (4-12 digits, leading zeros count) to BRAND_ADDRESS. Admin only."""
    with registry_session(network, account) as registry:
        sent = registry.assign_prefix(prefix, brand_address)
        _sent(f"company prefix {prefix} belongs to {brand_address}", sent, registry)


# --------------------------------------------------------------------------------------------
# Lots and registration (brands)
# --------------------------------------------------------------------------------------------


@main.group()
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
    console.print(
        f"lot {created.lot_id} created: GTIN {gtin_value}, lot {lot_code}; "
        f"metadata {stored.name} in {stored.parent}"
    )


@lot.command("show")
@network_option
@click.argument("lot_ref")
@friendly_errors
def lot_show(network: str, lot_ref: str) -> None:
    """Show a lot (LOT_REF: lot id or GTIN:LOTCODE)."""
    from types import SimpleNamespace

    with registry_session(network) as registry:
        lot = registry.lot(lot_ref)
    _print_record(
        SimpleNamespace(
            lot_id=lot.lot_id,
            registrar=lot.registrar,
            gtin=lot.gtin14,
            lot_code=str(lot.lot_code),
            metadata_hash="0x" + lot.metadata_hash.hex(),
            recalled_at=lot.recalled_at,
            closed=lot.closed,
        )
    )


@lot.command("close")
@network_option
@account_option
@click.argument("lot_ref")
@friendly_errors
def lot_close(network: str, account: str, lot_ref: str) -> None:
    """Close a lot: nothing more can be registered into it. The lot's brand or the admin."""
    with registry_session(network, account) as registry:
        closed = registry.close_lot(lot_ref)
        _sent(f"lot {closed.lot_id} closed", closed.sent, registry)


@main.command()
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
        _sent(f"registered {done.key.id_hex}\n  {link}", done.sent, registry)


@main.command("register-batch")
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
@click.option("--max-per-tx", type=int, default=None, help="At most this many items per transaction.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation before sending.")
@friendly_errors
def register_batch(
    network: str, account: str, csv_file: Path, receipt_path: Path | None, max_per_tx: int | None, yes: bool
) -> None:
    """Register every row of a CSV (columns gtin, serial, lot; other columns kept as item metadata).

    The whole file is validated first and every bad row is reported by line number; nothing is
    sent unless all rows are good. A rerun after an interruption finishes the job.
    """
    from supplytrace.batch import BatchValidationError, format_errors

    receipt_path = receipt_path or csv_file.with_suffix(".receipt.csv")
    with registry_session(network, account) as registry:
        signer = registry.sender.signer if registry.sender else None

        def confirm(items: int, transactions: int) -> None:
            if not yes:
                click.confirm(f"Register {items} item(s) in {transactions} transaction(s)?", abort=True)
            unlock = getattr(signer, "unlock", None)  # a keystore account: unlock once, not per transaction
            if unlock is not None:
                unlock()

        try:
            with _progress_bar("registering") as show:
                result = registry.register_csv(
                    csv_file, receipt_path, max_items_per_tx=max_per_tx, before_send=confirm, on_progress=show
                )
        except BatchValidationError as exc:
            for line in format_errors(exc.errors, limit=200):
                console.print(f"  {line}")
            raise UserError(f"{csv_file}: {len(exc.errors)} problem(s) found; nothing was sent.") from None
    console.print(result.summary())
    console.print(f"receipt: {receipt_path}")


# --------------------------------------------------------------------------------------------
# Custody
# --------------------------------------------------------------------------------------------


@main.command()
@network_option
@account_option
@item_selection()
@click.option("--to", "receiver", required=True, help="Address of the receiver.")
@friendly_errors
def offer(
    network: str,
    account: str,
    selection: ItemSelection,
    receiver: str,
) -> None:
    """Offer custody of items to --to; custody moves when the receiver accepts."""
    with registry_session(network, account) as registry:
        moved = registry.offer(selection, to=receiver)
        _sent(f"offered {_count(moved.items)} to {receiver}", moved.sent, registry)


@main.command()
@network_option
@account_option
@item_selection()
@friendly_errors
def accept(
    network: str,
    account: str,
    selection: ItemSelection,
) -> None:
    """Accept offers made to you; you become the custodian."""
    with registry_session(network, account) as registry:
        moved = registry.accept(selection)
        _sent(f"accepted {_count(moved.items)}", moved.sent, registry)


@main.command()
@network_option
@account_option
@item_selection()
@friendly_errors
def reject(
    network: str,
    account: str,
    selection: ItemSelection,
) -> None:
    """Decline offers made to you."""
    with registry_session(network, account) as registry:
        moved = registry.reject(selection)
        _sent(f"rejected {_count(moved.items)}", moved.sent, registry)


@main.command()
@network_option
@account_option
@item_selection()
@friendly_errors
def cancel(
    network: str,
    account: str,
    selection: ItemSelection,
) -> None:
    """Withdraw your open offers."""
    with registry_session(network, account) as registry:
        moved = registry.cancel(selection)
        _sent(f"cancelled the offer of {_count(moved.items)}", moved.sent, registry)


@main.command("sign-acceptance")
@network_option
@account_option
@item_selection()
@click.option("--from", "sender_address", required=True, help="Address of the current custodian.")
@click.option("--valid-for", default=60, show_default=True, help="Minutes the acceptance stays valid.")
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Write the acceptance to this file (default: print it as one line).",
)
@friendly_errors
def sign_acceptance(
    network: str,
    account: str,
    selection: ItemSelection,
    sender_address: str,
    valid_for: int,
    output: Path | None,
) -> None:
    """As the receiver, sign your acceptance of items from --from (sent over to the custodian)."""
    with registry_session(network, account) as registry:
        signed = registry.sign_acceptance(selection, sender=sender_address, valid_for=60 * valid_for)
    text = signed.text
    if output:
        output.write_text(text + "\n")
        console.print(
            f"acceptance of {_count(signed.request.items)} written to {output}; send it to {sender_address}."
        )
    else:
        console.print(text, soft_wrap=True)


@main.command()
@network_option
@account_option
@click.argument("acceptance")
@friendly_errors
def handoff(network: str, account: str, acceptance: str) -> None:
    """Hand items over in one transaction with the receiver's signed ACCEPTANCE (file or string)."""
    from supplytrace.service.handoffs import read_acceptance

    signed = read_acceptance(acceptance)
    with registry_session(network, account) as registry:
        moved = registry.handoff(signed)
        _sent(f"handed {_count(moved.items)} to {signed.request.receiver}", moved.sent, registry)


@main.command()
@network_option
@account_option
@item_selection(lot=False)
@click.option("--step", required=True, help="Business step, e.g. inspecting, receiving, storing (CBV).")
@click.option(
    "--data",
    "data_file",
    type=click.Path(path_type=Path),
    default=None,
    help="File whose keccak256 is recorded (e.g. an inspection report).",
)
@friendly_errors
def record(
    network: str,
    account: str,
    selection: ItemSelection,
    step: str,
    data_file: Path | None,
) -> None:
    """Record an observation about an item you hold, without changing custody."""
    with registry_session(network, account) as registry:
        for moved in registry.record(selection, step, data_file):
            _sent(f"recorded {step!r} for 0x{moved.items[0].hex()}", moved.sent, registry)


@main.command()
@network_option
@account_option
@item_selection(lot=False)
@friendly_errors
def sell(network: str, account: str, selection: ItemSelection) -> None:
    """Mark items sold to an end customer (they can never move again)."""
    with registry_session(network, account) as registry:
        for moved in registry.sell(selection):
            _sent(f"sold 0x{moved.items[0].hex()}", moved.sent, registry)


@main.command()
@network_option
@account_option
@click.argument("lot_ref")
@click.option("--reason", required=True, help="What is wrong and what consumers should do.")
@friendly_errors
def recall(network: str, account: str, lot_ref: str, reason: str) -> None:
    """Recall a whole lot (LOT_REF: lot id or GTIN:LOTCODE). The lot's brand or the admin."""
    with registry_session(network, account) as registry:
        recalled = registry.recall(lot_ref, reason)
        _sent(f"lot {recalled.lot_id} recalled", recalled.sent, registry)


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


@main.command()
@network_option
@item_selection(lot=False)
@friendly_errors
def status(network: str, selection: ItemSelection) -> None:
    """Show an item's current on-chain record (ITEM: Digital Link URI, 0x id, or --gtin/--serial)."""
    with session(network) as sess:
        _history(sess)  # says where history comes from (the record is read live)
        for item_id in _items(sess, selection):
            state = _registered_item(sess, item_id)
            if state is not None:
                _print_record(state)


@main.command()
@network_option
@item_selection(lot=False)
@friendly_errors
def history(network: str, selection: ItemSelection) -> None:
    """Show an item's history: registration, every handoff, observations, sale, recall."""
    from supplytrace.core.story import describe

    with session(network) as sess:
        source = _history(sess)  # the event index when it is on this chain, else the chain's logs
        for item_id in _items(sess, selection):
            state = _registered_item(sess, item_id)
            if state is None:
                continue
            console.print(f"[bold]0x{item_id.hex()}[/] (GTIN {state.gtin}, lot {state.lot_code})")
            for entry in source.item_history(item_id):
                when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(entry.timestamp or 0))
                link = sess.tx_link(entry.tx_hash) or entry.tx_hash
                step = describe(entry.event, brand=state.brand).sentence()
                console.print(f"  {when}Z  {step}\n    {link}", soft_wrap=True, markup=False)


@main.command()
@item_selection(lot=False)
@click.option("--lot", "lot_code", default=None, help="Lot code to include in the URI (/10/...).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("."), show_default=True)
@click.option("--format", "formats", type=click.Choice(["png", "svg"]), multiple=True, default=("png", "svg"))
@friendly_errors
def qr(
    selection: ItemSelection,
    lot_code: str | None,
    out_dir: Path,
    formats: tuple[str, ...],
) -> None:
    """Write the QR code (GS1 Digital Link on the configured resolver) of an item, as PNG and SVG."""
    from supplytrace.qr import qr_png, qr_svg

    settings = load_settings()
    out_dir.mkdir(parents=True, exist_ok=True)
    for key in _keys(selection, lot_code):
        stem = out_dir / f"{key.gtin}-{_safe(key.serial)}"
        for fmt in formats:
            path = stem.with_suffix(f".{fmt}")
            (qr_png if fmt == "png" else qr_svg)(key, settings.resolver, path)
            console.print(f"{path}: {key.digital_link(settings.resolver)}", soft_wrap=True)


@main.command()
@network_option
@click.option("--lot", "lot_ref", required=True, help="Lot id or GTIN:LOTCODE.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("."), show_default=True)
@friendly_errors
def labels(network: str, lot_ref: str, out_dir: Path) -> None:
    """Write a printable label sheet (SVG and PDF) with a QR code for every item of a lot."""
    from supplytrace.labels import write_label_sheet

    with registry_session(network) as registry:
        lot, keys = registry.lot_keys(lot_ref)
    if not keys:
        raise UserError(f"lot {lot.lot_id} has no registered items yet; register some first.")
    gtin14, code = lot.gtin14, str(lot.lot_code)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"labels-{gtin14}-{_safe(code)}"
    written = write_label_sheet(
        keys,
        load_settings().resolver,
        svg_path=stem.with_suffix(".svg"),
        pdf_path=stem.with_suffix(".pdf"),
        title=f"GTIN {gtin14} lot {code}",
    )
    console.print(f"{len(keys)} labels: " + ", ".join(str(p) for p in written))


@main.command()
@friendly_errors
def demo() -> None:
    """Run the whole story on a fresh local devnet (anvil keeps running afterwards)."""
    from supplytrace.demo import run

    run(load_settings())


# ============================================================================================
# Verification page: `supplytrace serve` (the code lives in supplytrace/web/)
# ============================================================================================


@main.command()
@network_option
@click.option(
    "--rpc-url",
    default=None,
    help="JSON-RPC URL the page reads from (default: the devnet's, or the one ape uses for --network).",
)
@click.option("--host", default=None, help="Listen address (default: the host of SUPPLYTRACE_RESOLVER).")
@click.option(
    "--port", type=int, default=None, help="Listen port (default: the port of SUPPLYTRACE_RESOLVER)."
)
@click.option(
    "--background", is_flag=True, help="Run in the background (pid file under SUPPLYTRACE_HOME/web)."
)
@click.option("--stop", is_flag=True, help="Stop the page started with --background.")
@db_option
@friendly_errors
def serve(**options: Any) -> None:
    """Serve the verification page: the QR codes' GS1 Digital Link resolver, item, lot and tx pages.

    Every request reads the item's record live from the chain (getItem). History comes from the
    event index (--db) when it holds this registry on the node's chain, with the chain's events
    after the index's last block added to every answer, and the page says how far the index
    lags; without a usable index it comes from the chain's logs. Which one is decided when the
    page starts (it prints it): build the index first with `supplytrace index`, and keep it
    current with `supplytrace index --follow`.
    """
    from supplytrace.core.errors import SupplytraceError
    from supplytrace.web import server

    try:
        _serve(server, **options)
    except SupplytraceError as exc:
        raise UserError(str(exc)) from None


def _serve(
    server: Any,
    network: str,
    rpc_url: str | None,
    host: str | None,
    port: int | None,
    background: bool,
    stop: bool,
    db: str | None,
) -> None:
    settings = load_settings()
    if stop:
        stopped = server.stop_background(settings)
        console.print("verification page stopped." if stopped else "verification page was not running.")
        return
    if background:
        started = server.start_background(
            settings, network=network, rpc_url=rpc_url, host=host, port=port, db=db
        )
        console.print(f"verification page at {started.url} (pid {started.pid}, log {started.log})")
        console.print("stop it with `supplytrace serve --stop` (or `make demo-stop`).")
        return
    if rpc_url is None:
        if network == DEVNET_NETWORK:
            if not devnet_ops.status(settings).running:
                raise UserError(
                    f"the local devnet is not running at {settings.devnet_url}; start it with "
                    "`supplytrace devnet up` (or run `make demo`)."
                )
            rpc_url = settings.devnet_url
        else:
            with connect(network, settings) as provider:
                rpc_url = str(provider.http_uri)
    from supplytrace.service.page import build_page

    app, history = build_page(settings, network, rpc_url, db=db)
    listen_host, listen_port = server.listen_address(settings.resolver, host, port)
    console.print(f"verification page for {network} at http://{listen_host}:{listen_port} (Ctrl-C stops it)")
    console.print(history, soft_wrap=True, markup=False)
    server.run(app, listen_host, listen_port)


# ============================================================================================
# Event index: `supplytrace index`, `supplytrace export-epcis` (the code lives in supplytrace/indexer/)
# ============================================================================================


@main.command()
@network_option
@db_option
@click.option("--follow", is_flag=True, help="Keep indexing new blocks until stopped (Ctrl-C or SIGTERM).")
@click.option(
    "--confirmations",
    type=click.IntRange(min=0),
    default=None,
    help="Stay this many blocks behind the head (default: 0 on local chains, 12 on Ethereum networks).",
)
@click.option(
    "--reorg-window",
    type=click.IntRange(min=2),
    default=128,
    show_default=True,
    help="Blocks whose hashes are kept to repair a reorganisation; a deeper one stops the indexer.",
)
@click.option("--poll-interval", type=float, default=2.0, show_default=True, help="Seconds between polls.")
@click.option("--reset", is_flag=True, help="Forget this network's index and rebuild it from the deployment.")
@friendly_errors
def index(
    network: str,
    db: str | None,
    follow: bool,
    confirmations: int | None,
    reorg_window: int,
    poll_interval: float,
    reset: bool,
) -> None:
    """Index the registry's events (from its deployment block) into SQLite or PostgreSQL."""
    from supplytrace.chain.ape import rpc_url
    from supplytrace.chain.deployment import check_deployment
    from supplytrace.chain.rpc import Rpc
    from supplytrace.core.deployments import load
    from supplytrace.core.errors import SupplytraceError
    from supplytrace.core.networks import split_choice
    from supplytrace.indexer.job import run_index
    from supplytrace.indexer.run import IndexerConfig

    config = IndexerConfig(
        confirmations=confirmations, reorg_window=reorg_window, poll_interval=poll_interval
    )
    settings = load_settings()
    ecosystem, name, _ = split_choice(network)
    try:
        deployment = load(settings.deployments, ecosystem, name)
        rpc = Rpc(rpc_url(network, settings))
        check_deployment(rpc, deployment)
        with _index_progress(follow) as (stop, callbacks):
            done = run_index(
                rpc, deployment, db=db, home=settings.home, follow=follow, reset=reset, config=config,
                stop=stop, **callbacks,
            )  # fmt: skip
    except SupplytraceError as exc:
        raise UserError(str(exc)) from None
    report = done.report
    rate = f"{report.events_per_second:,.0f} events/s"
    console.print(
        f"indexed {report.events:,} events in {report.seconds:.1f} s ({rate}); "
        f"{done.url} is at block {report.checkpoint}"
        + (f"; {len(report.reorgs)} reorg(s) repaired" if report.reorgs else "")
        + (
            f"; {report.fetch.refused_logs:,} log(s) of another contract or block range refused"
            if report.fetch.refused_logs
            else ""
        ),
        soft_wrap=True,
    )


@contextmanager
def _index_progress(follow: bool) -> Iterator[tuple[Any, dict[str, Any]]]:
    """A stop event set by SIGINT / SIGTERM (the chunk being stored is finished first), and the
    callbacks that show the run: a progress bar, reorgs and retried node failures on stderr."""
    import signal
    import threading

    from rich.markup import escape
    from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task: Task) -> Text:
            seconds = task.elapsed or 0.0
            if seconds <= 0:
                return Text("")
            events = int(task.fields.get("events", 0))
            return Text(f"{task.completed / seconds:,.0f} blocks/s  {events / seconds:,.0f} events/s")

    bar = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(),
        TextColumn("block {task.fields[block]:,} / {task.fields[target]:,}"),
        TextColumn("{task.fields[events]:,} events"), Rate(), TimeElapsedColumn(),
        console=err_console, transient=False,
    )  # fmt: skip
    task = bar.add_task("following" if follow else "indexing", total=None, block=0, target=0, events=0)

    def on_progress(p: Any) -> None:
        done, total = p.block - p.first_block + 1, max(1, p.target - p.first_block + 1)
        bar.update(task, total=total, completed=done, block=p.block, target=p.target, events=p.events)

    def on_reorg(reorg: Any) -> None:
        err_console.print(
            f"reorg: the chain replaced blocks after {reorg.ancestor} (depth {reorg.depth}); "
            f"{reorg.removed_events} events rolled back and indexed again from the new branch."
        )

    def on_error(exc: Exception) -> None:
        err_console.print(
            f"[yellow]warning:[/] the node failed ({escape(str(exc))}); retrying, nothing is skipped."
        )

    stop = threading.Event()
    signals = (signal.SIGINT, signal.SIGTERM) if follow else (signal.SIGTERM,)
    previous = {sig: signal.getsignal(sig) for sig in signals}
    for sig in signals:
        signal.signal(sig, lambda _sig, _frame: stop.set())
    try:
        with bar:
            yield stop, {"on_progress": on_progress, "on_reorg": on_reorg, "on_error": on_error}
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@main.command("export-epcis")
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
    from supplytrace.chain.reads import RegistryReads
    from supplytrace.chain.rpc import Rpc
    from supplytrace.core.errors import SupplytraceError
    from supplytrace.service.exports import export_epcis as export
    from supplytrace.service.exports import write_document
    from supplytrace.service.history import open_history

    with session(network) as sess:
        lot_id = _lot_id(sess, whole_lot) if whole_lot else None
        ids = _items(sess, selection) if (selection.items or selection.gtin or selection.serial) else []
        if not ids and lot_id is None:
            raise UserError("name an item (Digital Link URI, 0x id, --gtin/--serial) or --lot.")
        rpc, deployment = Rpc(str(sess.provider.http_uri)), sess.deployment
        source, reason = open_history(rpc, deployment, db=db, home=sess.settings.home)
        try:
            document = export(
                source, RegistryReads(rpc, deployment.address), item_ids=ids, lot_id=lot_id,
                chain_id=deployment.chain_id, registry=deployment.address,
            )  # fmt: skip
        except SupplytraceError as exc:
            raise UserError(str(exc)) from None
    text = write_document(document, out)
    events = len(document["epcisBody"]["eventList"])
    err_console.print(
        f"{events} EPCIS events (from {reason})" + (f" written to {out}" if out else ""), markup=False
    )
    if out is None:
        click.echo(text, nl=False)


def _history(sess: Session) -> Any:
    """Where history comes from (``service.history.open_history``: the event index when it can
    answer for this registry on this chain, else the chain's logs); says so on stderr unless
    there is no index at all."""
    from supplytrace.chain.rpc import Rpc
    from supplytrace.service.history import NO_INDEX, open_history

    source, reason = open_history(Rpc(str(sess.provider.http_uri)), sess.deployment, home=sess.settings.home)
    if NO_INDEX not in reason:
        err_console.print(f"source: {reason}", soft_wrap=True, markup=False, style="dim")
    return source


# --------------------------------------------------------------------------------------------
# Argument helpers
# --------------------------------------------------------------------------------------------


def _registered_item(sess: Session, item_id: bytes) -> Any:
    """The item's live record; None after saying so when no brand registered it."""
    from supplytrace.registry import item_state

    state = item_state(sess.registry, item_id)
    if not state.registered:
        console.print(f"0x{item_id.hex()} is not registered by any brand: likely counterfeit.")
        return None
    return state


def _print_record(record: Any) -> None:
    from enum import Enum

    for field, value in record.__dict__.items():
        if isinstance(value, Enum):
            value = value.name.lower()
        elif field.endswith("_at") and isinstance(value, int) and value:
            value = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(value)) + f" ({value})"
        console.print(f"{field:>18}: {value}", soft_wrap=True)


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


def _count(ids: Any) -> str:
    return "1 item" if len(ids) == 1 else f"{len(ids)} items"


def _list(prefix: str, values: tuple[str, ...]) -> str:
    return f"{prefix}{'s' if len(values) > 1 else ''} {', '.join(values)}" if values else ""


def _keys(selection: ItemSelection, lot_code: str | None) -> list[Any]:
    """GS1 keys from Digital Link URIs and/or --gtin/--serial."""
    from supplytrace.ids import ItemKey

    keys = [ItemKey.from_digital_link(text) for text in selection.items]
    if _gtin_serial(selection):
        keys.append(ItemKey.create(selection.gtin or "", selection.serial or "", lot_code))
    if not keys:
        raise UserError("name an item: a GS1 Digital Link URI, or --gtin and --serial.")
    return keys


def _gtin_serial(selection: ItemSelection) -> bool:
    """Whether --gtin/--serial name an item (they go together)."""
    if bool(selection.gtin) != bool(selection.serial):
        raise UserError("--gtin and --serial go together.")
    return bool(selection.gtin)


def _items(sess: Session, selection: ItemSelection) -> list[bytes]:
    """Item ids from URIs, hex ids or --gtin/--serial (a whole lot: ``Registry.select``)."""
    from supplytrace.service.selection import named_items, nothing_named

    ids = named_items(selection)
    if not ids:
        raise nothing_named()
    return ids


def _lot_id(sess: Session, lot_ref: str) -> int:
    """A lot id from `7` or `GTIN:LOTCODE`."""
    from supplytrace.ids import encode_code, normalize_gtin

    if lot_ref.isdigit():
        lot_id = int(lot_ref)
        if not 0 < lot_id <= int(sess.registry.lotCount()):
            raise UserError(f"lot {lot_id} does not exist on this registry.")
        return lot_id
    gtin_text, sep, code = lot_ref.partition(":")
    if not sep:
        raise UserError(f"{lot_ref!r} is not a lot: give a lot id (e.g. 7) or GTIN:LOTCODE.")
    gtin14 = normalize_gtin(gtin_text)
    lot_id = int(sess.registry.lotIdOf(int(gtin14), encode_code(code, "lot code")))
    if lot_id == 0:
        raise UserError(f"GTIN {gtin14} has no lot {code!r}; create it with `supplytrace lot create`.")
    return lot_id


if __name__ == "__main__":
    main()
