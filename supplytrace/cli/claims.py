"""`supplytrace claim`: claim an item with the hidden code printed inside its pack (a brand's
support desk, for a buyer who cannot use the page)."""

from __future__ import annotations

import click

from supplytrace.cli.options import account_option, network_option, registry_session
from supplytrace.cli.output import UserError, friendly_errors, sent


@click.command()
@network_option
@account_option
@click.argument("words", nargs=-1, metavar="[ITEM] CODE")
@click.option("--gtin", default=None, help="GTIN of the item (with --serial, instead of ITEM).")
@click.option("--serial", default=None, help="Serial of the item (with --gtin).")
@friendly_errors
def claim(network: str, account: str, words: tuple[str, ...], gtin: str | None, serial: str | None) -> None:
    """Claim ITEM (a GS1 Digital Link URI or 0x item id; or --gtin and --serial) with its hidden
    CODE, as printed inside the pack (any case; spaces and hyphens do not matter).

    The proof comes from the code trees kept under SUPPLYTRACE_HOME when the batch was
    registered with --hidden-codes; a wrong code sends nothing. --account pays the gas.
    """
    from supplytrace.service.selection import ItemSelection, named_items

    if len(words) not in (1, 2) or (len(words) == 2) == bool(gtin or serial):
        raise UserError("give the item and its code: `claim ITEM CODE`, or `claim --gtin G --serial S CODE`.")
    *item_words, code = words
    ids = named_items(ItemSelection(tuple(item_words), gtin, serial, None))
    with registry_session(network, account) as registry:
        claimed = registry.claim(ids[0], code)
        sent(f"claimed 0x{claimed.item_id.hex()}", claimed.sent, registry)
