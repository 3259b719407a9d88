"""`supplytrace verify-deployment`: is the code at the recorded registry address what this
checkout's sources compile to? And the `--verify` half of `supplytrace deploy`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from rich.markup import escape

from supplytrace.cli.options import network_option
from supplytrace.cli.output import console, err_console, friendly_errors
from supplytrace.core.config import Settings, load_settings
from supplytrace.core.sources import SOURCIFY_SERVER

if TYPE_CHECKING:
    from supplytrace.chain.rpc import Rpc
    from supplytrace.core.deployments import Deployment
    from supplytrace.service.verification import SourcesCheck

sourcify_option = click.option(
    "--sourcify-server",
    default=SOURCIFY_SERVER,
    envvar="SUPPLYTRACE_SOURCIFY_SERVER",
    show_default=True,
    show_envvar=True,
    help="The Sourcify server --publish sends the sources to.",
)


@click.command("verify-deployment")
@network_option
@click.option(
    "--publish",
    is_flag=True,
    help="Also send the sources to Sourcify and to the network's Etherscan-family explorer "
    "(ape-etherscan, ETHERSCAN_API_KEY); public networks only.",
)
@sourcify_option
@friendly_errors
def verify_deployment(network: str, publish: bool, sourcify_server: str) -> None:
    """Check that the code at the recorded registry address is exactly what this checkout's
    sources compile to (Sourcify's matcher, run locally against the node; no explorer needed),
    and record the result in deployments/<ecosystem>-<network>.json for the verification page.

    \b
    Prints one sentence; exit status:
      0  full match (exact, metadata included) or partial match (same code, different metadata)
      1  MISMATCH: the code at the address is not what these sources compile to
         (or no deployment is recorded, or the record names other code)
      2  the check could not run (the node, Node.js or the compiler failed)
    """
    from supplytrace.core import deployments
    from supplytrace.service.connect import connect_rpc, network_names

    settings = load_settings()
    ecosystem, name = network_names(network)
    deployment = deployments.load(settings.deployments, ecosystem, name)
    rpc = connect_rpc(settings, network)
    verified = check_and_print(settings, rpc, deployment, network, publish=publish, server=sourcify_server)
    raise SystemExit(0 if verified else 1)


def check_and_print(
    settings: Settings, rpc: Rpc, deployment: Deployment, network: str, *, publish: bool, server: str
) -> bool:
    """Check the sources of ``deployment``, print the sentence (and publish when asked); True on a
    full or partial match."""
    from supplytrace.chain.ape import is_local
    from supplytrace.chain.deployment import check_deployment
    from supplytrace.core.deployments import record_path
    from supplytrace.service import verification

    check_deployment(rpc, deployment)
    err_console.print("compiling the sources and comparing them with the code on the chain…")
    checked = verification.check_sources(deployment, rpc.url, settings.deployments)
    console.print(verification.sentence(checked), markup=False)
    err_console.print(  # stdout holds the one sentence; where it was recorded goes beside it
        f"recorded in {record_path(settings.deployments, deployment.ecosystem, deployment.network)} "
        f"(sources {checked.check.sources_commit or 'not under git'}, {checked.seconds:.0f} s)",
        markup=False,
    )
    if not publish or not checked.check.verified:
        return checked.check.verified
    if is_local(network):
        err_console.print("not published: Sourcify and the explorers do not know a local network.")
        return True
    for publish_to in (_sourcify, _etherscan):
        try:
            console.print(publish_to(checked, rpc, network, server), markup=False)
        except verification.PublishError as exc:
            err_console.print(f"[yellow]warning:[/] {escape(str(exc))}")
    return True


def _sourcify(checked: SourcesCheck, rpc: Rpc, network: str, server: str) -> str:
    from supplytrace.service import verification

    return verification.publish_to_sourcify(
        server, checked.deployment, checked.result.metadata, checked.standard_input
    )


def _etherscan(checked: SourcesCheck, rpc: Rpc, network: str, server: str) -> str:
    from supplytrace.service import verification

    arguments = verification.constructor_arguments(rpc, checked.deployment)
    return verification.publish_to_etherscan(network, checked.deployment, checked.standard_input, arguments)
