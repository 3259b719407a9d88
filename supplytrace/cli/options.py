"""Options shared by commands, and the registry a command works on.

Conventions follow ape: ``--network ecosystem:network:provider`` (default: the local devnet) and
``--account ALIAS`` (an ape keystore account; ``TEST::N`` on local networks only). A command
that only reads opens the registry without an account, so it never imports ape.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from supplytrace.core.config import load_settings
from supplytrace.core.networks import DEVNET_NETWORK

if TYPE_CHECKING:
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
lot_option = click.option("--lot", "lot_ref", required=True, help="Lot id or GTIN:LOTCODE.")
max_per_tx_option = click.option(
    "--max-per-tx", type=int, default=None, help="At most this many items per transaction."
)
yes_option = click.option("--yes", is_flag=True, help="Do not ask for confirmation before sending.")

#: What the help of every command that may send many transactions says about the question.
CONFIRM_HELP = (
    "Before sending more than one transaction, the command shows what it will cost and asks; --yes "
    "sends without asking. Without a terminal to answer on (stdin closed) and without --yes, nothing "
    "is sent. A rerun after an interruption finishes the job: what is done is skipped."
)


def yes_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--yes, and the rule of the question (:data:`CONFIRM_HELP`) in the command's help."""
    func.__doc__ = (func.__doc__ or "").rstrip() + "\n\n" + CONFIRM_HELP
    return yes_option(func)


def bulk_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--max-per-tx and --yes (:func:`yes_options`)."""
    return max_per_tx_option(yes_options(func))


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
                "--lot", "lot_ref", default=None, help="Every item of this lot (lot id, or GTIN:LOTCODE)."
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
            from supplytrace.service.selection import ItemSelection

            return func(*args, selection=ItemSelection(items, gtin, serial, lot_ref), **kwargs)

        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper

    return decorate


@contextmanager
def registry_session(network: str, account: str | None = None) -> Iterator[Registry]:
    """The registry recorded for ``network`` (checked against its node), writing as ``account``
    (through ape) or, without one, only reading (no ape)."""
    from supplytrace.cli.output import report_wait
    from supplytrace.service.connect import open_registry

    registry = open_registry(load_settings(), network, account=account, on_wait=report_wait)
    try:
        yield registry
    finally:
        registry.rpc.close()
