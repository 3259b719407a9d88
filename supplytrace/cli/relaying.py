"""`supplytrace relay` (the brand's relayer, :mod:`supplytrace.relay`) and the custody commands'
``--relay URL``: each item's action signed here and sent, and paid for, by that relayer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from supplytrace.cli.options import account_option, network_option, registry_session
from supplytrace.cli.output import console, count, friendly_errors, say
from supplytrace.core.config import load_settings

if TYPE_CHECKING:
    from supplytrace.relay import Relayed
    from supplytrace.service.relaying import RelayRun

DEFAULT_PORT = 8600


@click.command()
@network_option
@account_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Listen address.")
@click.option("--port", type=int, default=DEFAULT_PORT, show_default=True, help="Listen port.")
@click.option(
    "--max-actions-per-signer",
    type=click.IntRange(1),
    default=200,
    show_default=True,
    help="Actions relayed per signer per UTC day.",
)
@click.option(
    "--max-gas-per-signer",
    type=click.IntRange(1),
    default=10_000_000,
    show_default=True,
    help="Gas relayed per signer per UTC day.",
)
@click.option(
    "--max-gas-per-day",
    type=click.IntRange(1),
    default=200_000_000,
    show_default=True,
    help="Gas the relayer spends per UTC day in all.",
)
@click.option(
    "--max-valid-days",
    type=click.IntRange(1, 365),
    default=7,
    show_default=True,
    help="Refuse signatures whose deadline is further away than this.",
)
@friendly_errors
def relay(
    network: str,
    account: str,
    host: str,
    port: int,
    max_actions_per_signer: int,
    max_gas_per_signer: int,
    max_gas_per_day: int,
    max_valid_days: int,
) -> None:
    """Relay custody actions signed by their actors, paying from --account (the brand's).

    Takes POST /actions (one signed action as JSON; see `--relay` of offer, accept, reject,
    cancel, handoff, record and sell), simulates each before paying (an action the registry would
    refuse is refused, nothing sent), keeps each signer within its daily caps (kept under
    SUPPLYTRACE_HOME/relay, a restart resets nothing) and answers with the transaction once mined.
    GET /health describes it; GET /actions/TX_HASH reports one of its transactions.
    """
    from supplytrace.relay import Caps
    from supplytrace.relay.app import relay_app, serve
    from supplytrace.service.relaying import open_relayer, usage_path

    settings = load_settings()
    caps = Caps(max_actions_per_signer, max_gas_per_signer, max_gas_per_day)
    relayer = open_relayer(settings, network, account, caps=caps, max_ahead=max_valid_days * 86400)
    console.print(
        f"relayer for {network} (registry {relayer.registry}) paying from {relayer.address}, at "
        f"http://{host}:{port} (Ctrl-C stops it); daily use kept in {usage_path(settings)}",
        soft_wrap=True,
        markup=False,
    )
    serve(relay_app(relayer), host, port)


def _line(message: str, relayed: Relayed) -> None:
    text = f"{message} through the relayer (tx {relayed.tx_hash}, block {relayed.block}"
    text += f", {relayed.gas_used:,} gas"
    text += ", paid by the relayer)" if relayed.status == "success" else "; it REVERTED)"
    if relayed.explorer:
        text += f"\n  {relayed.explorer}"
    console.print(text, soft_wrap=True, markup=False)


def relayed(network: str, account: str, url: str, kind: str, did: str, state: str, **options: Any) -> None:
    """Run custody step ``kind`` through the relayer at ``url``: one signature and one
    transaction per item; ``did`` ("offered {item} to X") is printed for each, ``state`` for
    items already done."""
    from supplytrace.service.handoffs import read_acceptance
    from supplytrace.service.relaying import poster, relay_handoff, relay_steps

    post = poster(url)

    def each(r: Relayed) -> None:
        _line(did.format(item=r.item), r)

    with registry_session(network, account) as registry:
        run: RelayRun
        if kind == "handoff":
            run = relay_handoff(registry, post, read_acceptance(options["acceptance"]), on_relayed=each)
        else:
            run = relay_steps(registry, post, kind, on_relayed=each, **options)  # type: ignore[arg-type]
    if len(run.relayed) > 1:
        say(f"{did.format(item=count(len(run.relayed)))} in {len(run.relayed)} relayed transactions")
    done = len(run.done)
    if done:
        say(f"{count(done)} {'was' if done == 1 else 'were'} already {state}; nothing sent for it.")


relay_option = click.option(
    "--relay",
    "relay_url",
    default=None,
    metavar="URL",
    help="Sign here and send through the relayer at URL (`supplytrace relay`), which pays: "
    "one signature and one transaction per item; --yes and --max-per-tx do not apply.",
)
