"""`supplytrace serve` (the verification page, :mod:`supplytrace.web`) and `supplytrace demo`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from supplytrace.cli.options import db_option, network_option
from supplytrace.cli.output import UserError, console, friendly_errors
from supplytrace.core.config import SERVE_RPC_URL_ENV, load_settings
from supplytrace.core.networks import DEVNET_NETWORK


@click.command()
@friendly_errors
def demo() -> None:
    """Run the whole story on a fresh local devnet (anvil keeps running afterwards)."""
    from supplytrace.demo import run

    run(load_settings())


@click.command()
@network_option
@click.option(
    "--rpc-url",
    default=None,
    envvar=SERVE_RPC_URL_ENV,
    show_envvar=True,
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
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes serving the page (each with its own connections); about one per core.",
)
@click.option(
    "--codes-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of the brands' code tree documents (<chain id>/<registry>/<root>.json) the page "
    "checks codes inside lids against (default: SUPPLYTRACE_HOME/codes).",
)
@click.option(
    "--relayer",
    default=None,
    metavar="ALIAS",
    help="ape account that sends buyers' claims (pays their gas; passphrase from "
    "SUPPLYTRACE_PASSPHRASE_<ALIAS>). Without it the page takes no codes.",
)
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

    With --relayer, an unclaimed item whose lot has hidden codes asks for the code inside the lid
    and sends the claim from that account; wrong codes are rate-limited per item and per client
    and send nothing. Checks of each item are counted per day in the index database (no IP or
    user agent is stored). Page processes on other machines sharing one database should share
    SUPPLYTRACE_PAGE_SECRET (16 characters or more).

    The Digital Link addresses answer as a GS1-Conformant Resolver (link types, linksets,
    /.well-known/gs1resolver); a brand's own links per GTIN or lot come from the TOML or JSON
    file SUPPLYTRACE_RESOLVER_LINKS names, checked when the page starts (docs/resolver.md).
    """
    from supplytrace.web import server

    _serve(server, **options)


def _serve(
    server: Any,
    network: str,
    rpc_url: str | None,
    host: str | None,
    port: int | None,
    background: bool,
    stop: bool,
    db: str | None,
    workers: int = 1,
    codes_dir: Path | None = None,
    relayer: str | None = None,
) -> None:
    from supplytrace.chain import devnet as devnet_ops

    settings = load_settings()
    if stop:
        stopped = server.stop_background(settings)
        console.print("verification page stopped." if stopped else "verification page was not running.")
        return
    if background:
        started = server.start_background(
            settings,
            network=network,
            rpc_url=rpc_url,
            host=host,
            port=port,
            db=db,
            workers=workers,
            codes_dir=codes_dir,
            relayer=relayer,
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
            from supplytrace.chain.ape import rpc_url as network_url

            rpc_url = network_url(network, settings)
    from supplytrace.service.page import build_page
    from supplytrace.web.claims import page_secret

    secret = page_secret()  # one for every worker: they share the clients' rate limit

    def make() -> tuple[Any, str]:
        return build_page(
            settings, network, rpc_url, db=db, codes_dir=codes_dir, relayer=relayer, secret=secret
        )

    app, history = make()
    listen_host, listen_port = server.listen_address(settings.resolver, host, port)
    console.print(f"verification page for {network} at http://{listen_host}:{listen_port} (Ctrl-C stops it)")
    console.print(history, soft_wrap=True, markup=False)
    server.run(
        app,
        listen_host,
        listen_port,
        workers=workers,
        make_app=lambda: make()[0],
    )
