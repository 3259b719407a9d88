"""`supplytrace devnet up|down|status` and `supplytrace deploy`."""

from __future__ import annotations

import click

from supplytrace.cli.options import account_option, network_option
from supplytrace.cli.output import console, friendly_errors, report_wait
from supplytrace.cli.verifying import check_and_print, sourcify_option
from supplytrace.core.config import load_settings


@click.group()
def devnet() -> None:
    """The local devnet (anvil, state kept under .supplytrace/devnet)."""


@devnet.command("up")
@friendly_errors
def devnet_up() -> None:
    """Start the devnet in the background (reuses a running one)."""
    from supplytrace.chain import devnet as devnet_ops

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
    from supplytrace.chain import devnet as devnet_ops

    if devnet_ops.down(load_settings()):
        console.print("devnet stopped; its state is kept for the next `supplytrace devnet up`.")
    else:
        console.print("devnet was not running.")


@devnet.command("status")
@friendly_errors
def devnet_status() -> None:
    """Say whether the devnet is running."""
    from supplytrace.chain import devnet as devnet_ops

    state = devnet_ops.status(load_settings())
    if state.running:
        console.print(f"running at {state.url} (pid {state.pid}), block {state.block}")
    else:
        console.print(f"not running (would listen on {state.url}); start it with `supplytrace devnet up`.")


@click.command()
@network_option
@account_option
@click.option("--admin", default=None, help="Admin address (default: the deploying account).")
@click.option(
    "--admin-delay",
    type=click.IntRange(min=0),
    default=None,
    help="Seconds a transfer of the admin role waits (default: 0 on the local devnet, two days elsewhere).",
)
@click.option("--force", is_flag=True, help="Deploy even if a deployment is recorded for this network.")
@click.option(
    "--verify",
    is_flag=True,
    help="Then check the code against this checkout's sources (as `verify-deployment`) and, on a "
    "public network, publish them to Sourcify and the network's Etherscan-family explorer.",
)
@sourcify_option
@friendly_errors
def deploy(
    network: str,
    account: str,
    admin: str | None,
    admin_delay: int | None,
    force: bool,
    verify: bool,
    sourcify_server: str,
) -> None:
    """Deploy the registry and record it in deployments/<ecosystem>-<network>.json.

    With --verify the exit status is 1 if the deployed code is not what the sources compile to;
    a verifier that cannot be reached is a warning (publish later with
    `verify-deployment --publish`)."""
    from supplytrace.core.deployments import record_path
    from supplytrace.service.connect import deployer, network_names
    from supplytrace.service.registry import Registry

    settings = load_settings()
    ecosystem, name = network_names(network)
    sender = deployer(settings, network, account, on_wait=report_wait)
    registry = Registry.deploy(
        sender, settings, ecosystem=ecosystem, network=name, admin=admin, admin_delay=admin_delay, force=force
    )
    record, path = registry.deployment, record_path(settings.deployments, ecosystem, name)
    console.print(f"registry deployed at {record.address} (block {record.block}); recorded in {path}")
    if verify and not check_and_print(
        settings, sender.rpc, record, network, publish=True, server=sourcify_server
    ):
        raise SystemExit(1)
