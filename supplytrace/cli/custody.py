"""Custody: offer, accept, reject, cancel, signed handoffs (sign-acceptance, handoff), record, sell."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from supplytrace.cli.options import account_option, item_selection, network_option, registry_session
from supplytrace.cli.output import count, friendly_errors, say, sent

if TYPE_CHECKING:
    from supplytrace.service.selection import ItemSelection


@click.command()
@network_option
@account_option
@item_selection()
@click.option("--to", "receiver", required=True, help="Address of the receiver.")
@friendly_errors
def offer(network: str, account: str, selection: ItemSelection, receiver: str) -> None:
    """Offer custody of items to --to; custody moves when the receiver accepts."""
    with registry_session(network, account) as registry:
        moved = registry.offer(selection, to=receiver)
        sent(f"offered {count(moved.items)} to {receiver}", moved.sent, registry)


@click.command()
@network_option
@account_option
@item_selection()
@friendly_errors
def accept(network: str, account: str, selection: ItemSelection) -> None:
    """Accept offers made to you; you become the custodian."""
    with registry_session(network, account) as registry:
        moved = registry.accept(selection)
        sent(f"accepted {count(moved.items)}", moved.sent, registry)


@click.command()
@network_option
@account_option
@item_selection()
@friendly_errors
def reject(network: str, account: str, selection: ItemSelection) -> None:
    """Decline offers made to you."""
    with registry_session(network, account) as registry:
        moved = registry.reject(selection)
        sent(f"rejected {count(moved.items)}", moved.sent, registry)


@click.command()
@network_option
@account_option
@item_selection()
@friendly_errors
def cancel(network: str, account: str, selection: ItemSelection) -> None:
    """Withdraw your open offers."""
    with registry_session(network, account) as registry:
        moved = registry.cancel(selection)
        sent(f"cancelled the offer of {count(moved.items)}", moved.sent, registry)


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
    if output is None:
        say(signed.text)
        return
    output.write_text(signed.text + "\n")
    say(f"acceptance of {count(signed.request.items)} written to {output}; send it to {sender_address}.")


@click.command()
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
        sent(f"handed {count(moved.items)} to {signed.request.receiver}", moved.sent, registry)


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
@friendly_errors
def record(network: str, account: str, selection: ItemSelection, step: str, data_file: Path | None) -> None:
    """Record an observation about an item you hold, without changing custody."""
    with registry_session(network, account) as registry:
        for moved in registry.record(selection, step, data_file):
            sent(f"recorded {step!r} for 0x{moved.items[0].hex()}", moved.sent, registry)


@click.command()
@network_option
@account_option
@item_selection(lot=False)
@friendly_errors
def sell(network: str, account: str, selection: ItemSelection) -> None:
    """Mark items sold to an end customer (they can never move again)."""
    with registry_session(network, account) as registry:
        for moved in registry.sell(selection):
            sent(f"sold 0x{moved.items[0].hex()}", moved.sent, registry)
