"""Custody: offer, accept, reject, cancel, signed handoffs (sign-acceptance, handoff), record, sell.

Every command that acts on many items sends them in transactions sized under the per-transaction
gas cap and the block gas limit (sell and record: one per item), shows the cost and asks before
sending more than one (:data:`~supplytrace.cli.options.CONFIRM_HELP`), shows progress on stderr,
prints each transaction with its link and fee and the total, and finishes the job when rerun.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from supplytrace.cli.options import (
    account_option,
    bulk_options,
    item_selection,
    max_per_tx_option,
    network_option,
    registry_session,
    yes_options,
)
from supplytrace.cli.output import bulk_run, bulk_summary, count, friendly_errors, say
from supplytrace.cli.relaying import relay_option, relayed

if TYPE_CHECKING:
    from supplytrace.service.results import Moved
    from supplytrace.service.selection import ItemSelection


def _items(moved: Moved) -> str:
    return count(moved.items)


@click.command()
@network_option
@account_option
@item_selection()
@click.option("--to", "receiver", required=True, help="Address of the receiver.")
@bulk_options
@relay_option
@friendly_errors
def offer(
    network: str,
    account: str,
    selection: ItemSelection,
    receiver: str,
    max_per_tx: int | None,
    yes: bool,
    relay_url: str | None,
) -> None:
    """Offer custody of items to --to; custody moves when the receiver accepts."""
    if relay_url:
        return relayed(
            network, account, relay_url, "offer", "offered {item} to " + receiver, f"offered to {receiver}",
            items=selection, to=receiver,
        )  # fmt: skip
    did = "offered {items} to " + receiver
    with (
        registry_session(network, account) as registry,
        bulk_run(registry, "offering", yes, lambda m: did.format(items=_items(m)), max_per_tx) as run,
    ):
        result = registry.offer(selection, to=receiver, run=run)
    bulk_summary(result, did, f"offered to {receiver}")


@click.command()
@network_option
@account_option
@item_selection()
@bulk_options
@relay_option
@friendly_errors
def accept(
    network: str,
    account: str,
    selection: ItemSelection,
    max_per_tx: int | None,
    yes: bool,
    relay_url: str | None,
) -> None:
    """Accept offers made to you; you become the custodian."""
    if relay_url:
        return relayed(network, account, relay_url, "accept", "accepted {item}", "yours", items=selection)
    with (
        registry_session(network, account) as registry,
        bulk_run(registry, "accepting", yes, lambda m: f"accepted {_items(m)}", max_per_tx) as run,
    ):
        result = registry.accept(selection, run=run)
    bulk_summary(result, "accepted {items}", "yours")


@click.command()
@network_option
@account_option
@item_selection()
@bulk_options
@relay_option
@friendly_errors
def reject(
    network: str,
    account: str,
    selection: ItemSelection,
    max_per_tx: int | None,
    yes: bool,
    relay_url: str | None,
) -> None:
    """Decline offers made to you."""
    if relay_url:
        return relayed(
            network, account, relay_url, "reject", "rejected {item}", "without an open offer", items=selection
        )
    with (
        registry_session(network, account) as registry,
        bulk_run(registry, "rejecting", yes, lambda m: f"rejected {_items(m)}", max_per_tx) as run,
    ):
        result = registry.reject(selection, run=run)
    bulk_summary(result, "rejected {items}", "without an open offer")


@click.command()
@network_option
@account_option
@item_selection()
@bulk_options
@relay_option
@friendly_errors
def cancel(
    network: str,
    account: str,
    selection: ItemSelection,
    max_per_tx: int | None,
    yes: bool,
    relay_url: str | None,
) -> None:
    """Withdraw your open offers."""
    if relay_url:
        return relayed(
            network,
            account,
            relay_url,
            "cancel",
            "cancelled the offer of {item}",
            "without an open offer",
            items=selection,
        )
    each = lambda m: f"cancelled the offer of {_items(m)}"  # noqa: E731
    with (
        registry_session(network, account) as registry,
        bulk_run(registry, "cancelling", yes, each, max_per_tx) as run,
    ):
        result = registry.cancel(selection, run=run)
    bulk_summary(result, "cancelled the offer of {items}", "without an open offer")


@click.command("sign-acceptance")
@network_option
@account_option
@item_selection()
@click.option("--from", "sender_address", required=True, help="Address of the current custodian.")
@click.option("--valid-for", default=60, show_default=True, help="Minutes the acceptance stays valid.")
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Write the acceptance to this file (default: print it, one line per part).",
)
@max_per_tx_option
@friendly_errors
def sign_acceptance(
    network: str,
    account: str,
    selection: ItemSelection,
    sender_address: str,
    valid_for: int,
    output: Path | None,
    max_per_tx: int | None,
) -> None:
    """As the receiver, sign your acceptance of items from --from (sent over to the custodian).

    More items than one handoff transaction takes are signed in parts (one signature each, one
    passphrase), one `st1:` line per part, all in the one text or file that `handoff` takes.
    """
    with registry_session(network, account) as registry:
        signed = registry.sign_acceptance(
            selection, sender=sender_address, valid_for=60 * valid_for, max_items_per_tx=max_per_tx
        )
    if output is None:
        say(signed.text)
        return
    output.write_text(signed.text + "\n")
    parts = len(signed.parts)
    say(
        f"acceptance of {count(signed.items)}{f' in {parts} parts' if parts > 1 else ''} written to "
        f"{output}; send it to {sender_address}."
    )


@click.command()
@network_option
@account_option
@click.argument("acceptance")
@yes_options
@relay_option
@friendly_errors
def handoff(network: str, account: str, acceptance: str, yes: bool, relay_url: str | None) -> None:
    """Hand items over with the receiver's signed ACCEPTANCE (file or string): one transaction per
    part of it (parts already used are skipped).

    With --relay, each part must be of one item (the receiver signs with `sign-acceptance
    --max-per-tx 1`): you sign each item's handoff too, and the relayer sends both signatures.
    """
    from supplytrace.service.handoffs import read_acceptance

    if relay_url:
        return relayed(
            network, account, relay_url, "handoff", "handed over {item}", "handed over", acceptance=acceptance
        )

    signed = read_acceptance(acceptance)
    did = "handed {items} to " + signed.receiver
    with (
        registry_session(network, account) as registry,
        bulk_run(registry, "handing over", yes, lambda m: did.format(items=_items(m))) as run,
    ):
        result = registry.handoff(signed, run=run)
    bulk_summary(result, did, f"handed over to {signed.receiver}")


@click.command()
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
@yes_options
@relay_option
@friendly_errors
def record(
    network: str,
    account: str,
    selection: ItemSelection,
    step: str,
    data_file: Path | None,
    yes: bool,
    relay_url: str | None,
) -> None:
    """Record an observation about items you hold (one transaction each), without changing custody.

    A rerun of an interrupted run (same items, step and data) skips the items it recorded; once a
    run has finished, the same command records the observation again.
    """
    if relay_url:
        return relayed(
            network, account, relay_url, "record", f"recorded {step!r} for {{item}}", "",
            items=selection, step=step, data_file=data_file,
        )  # fmt: skip
    each = lambda m: f"recorded {step!r} for 0x{m.items[0].hex()}"  # noqa: E731
    with registry_session(network, account) as registry, bulk_run(registry, "recording", yes, each) as run:
        result = registry.record(selection, step, data_file, run=run)
    bulk_summary(result, f"recorded {step!r} for {{items}}", f"recorded as {step!r}")


@click.command()
@network_option
@account_option
@item_selection(lot=False)
@yes_options
@relay_option
@friendly_errors
def sell(network: str, account: str, selection: ItemSelection, yes: bool, relay_url: str | None) -> None:
    """Mark items sold to an end customer (one transaction each; they can never move again)."""
    if relay_url:
        return relayed(network, account, relay_url, "sell", "sold {item}", "sold", items=selection)
    with (
        registry_session(network, account) as registry,
        bulk_run(registry, "selling", yes, lambda m: f"sold 0x{m.items[0].hex()}") as run,
    ):
        result = registry.sell(selection, run=run)
    bulk_summary(result, "sold {items}", "sold")
