"""The ``supplytrace`` command line: one module per area, each command parsing its options,
calling the :class:`~supplytrace.service.registry.Registry` (or an engine) and printing.

- :mod:`.node` — ``devnet up|down|status``, ``deploy``
- :mod:`.brands` — ``brand …``, ``gtin …`` (the admin)
- :mod:`.lots` — ``lot create|blend|show|close``, ``register``, ``register-batch``, ``recall`` (brands)
- :mod:`.claims` — ``claim`` (an item with its hidden code)
- :mod:`.custody` — ``offer``, ``accept``, ``reject``, ``cancel``, ``sign-acceptance``,
  ``handoff``, ``record``, ``sell``
- :mod:`.containers` — ``pack``, ``unpack`` (cases and pallets by SSCC)
- :mod:`.reading` — ``status``, ``history``, ``export-epcis``, ``export-fsma204``
- :mod:`.printing` — ``qr``, ``labels``
- :mod:`.indexing` — ``index``; :mod:`.serving` — ``serve``, ``demo``
- :mod:`.relaying` — ``relay`` (the brand's relayer), and the custody commands' ``--relay URL``
- :mod:`.verifying` — ``verify-deployment`` (and ``deploy --verify``)
- :mod:`.options` (shared options, the registry a command works on), :mod:`.output` (printing
  and the one error boundary)

Commands that only read never import ape (tests/cli/test_imports.py). ``scripts/*.py`` expose
the same commands to ``ape run``.
"""

from __future__ import annotations

import click

from supplytrace.cli.brands import brand, gtin
from supplytrace.cli.claims import claim
from supplytrace.cli.containers import pack, unpack
from supplytrace.cli.custody import accept, cancel, handoff, offer, record, reject, sell, sign_acceptance
from supplytrace.cli.indexing import index
from supplytrace.cli.lots import lot, recall, register, register_batch
from supplytrace.cli.node import deploy, devnet
from supplytrace.cli.printing import labels, qr
from supplytrace.cli.reading import export_epcis, export_fsma204, history, status
from supplytrace.cli.relaying import relay
from supplytrace.cli.serving import demo, serve
from supplytrace.cli.verifying import verify_deployment
from supplytrace.core.config import prepare_environment

COMMANDS = (
    devnet, deploy, brand, gtin, lot, register, register_batch, offer, accept, reject, cancel,
    sign_acceptance, handoff, record, sell, recall, pack, unpack, claim, status, history, qr, labels,
    demo, serve, index, export_epcis, export_fsma204, verify_deployment, relay,
)  # fmt: skip


@click.group()
@click.option("--verbose", is_flag=True, help="Show tracebacks and ape's log for errors.")
@click.version_option(package_name="supplytrace")
def main(verbose: bool) -> None:
    """Product provenance: register goods, hand over custody, verify from a QR code."""
    from supplytrace.chain.ape import set_verbose

    prepare_environment()
    set_verbose(verbose)


for _command in COMMANDS:
    main.add_command(_command)

__all__ = [
    "accept",
    "brand",
    "cancel",
    "claim",
    "demo",
    "deploy",
    "devnet",
    "export_epcis",
    "export_fsma204",
    "gtin",
    "handoff",
    "history",
    "index",
    "labels",
    "lot",
    "main",
    "offer",
    "pack",
    "qr",
    "recall",
    "record",
    "register",
    "register_batch",
    "reject",
    "relay",
    "sell",
    "serve",
    "sign_acceptance",
    "status",
    "unpack",
    "verify_deployment",
]  # fmt: skip
