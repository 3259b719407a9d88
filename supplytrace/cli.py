"""The ``supplytrace`` command line. It parses, calls the package, and prints; nothing more.

``scripts/*.py`` expose the same click commands to ``ape run``.
"""

from __future__ import annotations

import click

from supplytrace import devnet as devnet_ops
from supplytrace.chain import DEVNET_NETWORK, connect, load_account, load_registry
from supplytrace.config import load_settings
from supplytrace.console import console, friendly_errors

network_option = click.option(
    "--network",
    default=DEVNET_NETWORK,
    show_default=True,
    help="ecosystem:network:provider, as in ape (the default is the local devnet).",
)


@click.group()
@click.option("--verbose", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(package_name="supplytrace")
def main(verbose: bool) -> None:
    """Product provenance: register goods, hand over custody, verify from a QR code."""
    from ape.logging import logger

    logger.set_level("DEBUG" if verbose else "WARNING")


@main.group()
def devnet() -> None:
    """The local devnet (anvil, state kept under .supplytrace/devnet)."""


@devnet.command("up")
@friendly_errors
def devnet_up() -> None:
    """Start the devnet in the background (reuses a running one)."""
    settings = load_settings()
    state, started = devnet_ops.up(settings)
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
@click.option("--account", required=True, help="ape account alias (TEST::N on local networks).")
@click.option("--admin", default=None, help="Admin address (default: the deploying account).")
@click.option("--admin-delay", default=0, show_default=True, help="Seconds an admin transfer must wait.")
@click.option("--force", is_flag=True, help="Deploy even if a deployment is recorded for this network.")
@friendly_errors
def deploy(network: str, account: str, admin: str | None, admin_delay: int, force: bool) -> None:
    """Deploy the registry and record it in deployments/<ecosystem>-<network>.json."""
    from ape import project

    from supplytrace import deployments
    from supplytrace.registry import deploy as deploy_registry

    settings = load_settings()
    with connect(network, settings) as provider:
        net = provider.network
        path = deployments.record_path(settings.deployments, net.ecosystem.name, net.name)
        if path.exists() and not force:
            raise deployments.DeploymentError(
                f"a deployment is already recorded for {net.ecosystem.name}:{net.name} in {path}. "
                "Use --force to deploy a new registry and replace the record."
            )
        sender = load_account(account, provider)
        _, record = deploy_registry(project, provider, sender, admin=admin, admin_delay=admin_delay)
        deployments.save(settings.deployments, record, force=True)
    console.print(f"registry deployed at {record.address} (block {record.block}); recorded in {path}")


@main.command()
@network_option
@click.argument("item")
@friendly_errors
def status(network: str, item: str) -> None:
    """Show an item's current on-chain record (ITEM: Digital Link URI or 0x item id)."""
    from supplytrace.ids import ItemKey, parse_item_id
    from supplytrace.registry import item_state

    item_id = ItemKey.from_digital_link(item).id if "/01/" in item else parse_item_id(item)
    settings = load_settings()
    with connect(network, settings) as provider:
        _, registry = load_registry(settings, provider)
        state = item_state(registry, item_id)
    for field, value in state.__dict__.items():
        console.print(f"{field:>18}: {value}")


@main.command()
@friendly_errors
def demo() -> None:
    """Run the whole story on a fresh local devnet (anvil keeps running afterwards)."""
    from supplytrace.demo import run

    run(load_settings())


if __name__ == "__main__":
    main()
