"""`make bench`: measure and write bench/results.json (merged with the figures already there).

Sections: gas and register (each on its own fresh anvil started by ape-foundry), verify (the
verification page in a process of its own, on a devnet of its own), index (the event indexer
against ape, web3.py and raw eth_getLogs, on an anvil of its own) and qr (no chain; it never
connects to a network), cli (the real command's start-up and `status`, on a devnet of its
own) and network (a merchant's commands on a public-testnet stand-in, with and without
faults). Each section returns a flat ``{"section.metric": number}``.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import click

RESULTS = Path(__file__).resolve().parent / "results.json"


def _gas() -> Mapping[str, object]:
    from ape import accounts, networks

    from bench import gas

    with networks.parse_network_choice("ethereum:local:foundry"):
        return gas.measure(list(accounts.test_accounts))


def _register() -> Mapping[str, object]:
    from ape import accounts, networks

    from bench import register

    with networks.parse_network_choice("ethereum:local:foundry") as provider:
        figures: dict[str, object] = dict(register.measure(list(accounts.test_accounts), provider.http_uri))
    from bench import register_kill9

    figures.update(register_kill9.measure())  # through the real CLI, on a devnet of its own
    return figures


def _qr() -> Mapping[str, object]:
    from bench import qr

    return qr.measure()


def _index() -> Mapping[str, object]:
    from bench import index

    return index.measure()  # on an anvil of its own, like verify


def _verify() -> Mapping[str, object]:
    from bench import verify

    return verify.measure()  # on a devnet of its own: ape-foundry's step tracing would not hold 100k items


def _network() -> Mapping[str, object]:
    from bench import network

    return network.measure()  # a public-testnet stand-in (2 s blocks) and a fault proxy of its own


def _cli() -> Mapping[str, object]:
    from bench import cli

    return cli.measure()  # the real `supplytrace` command, on a devnet of its own


RUNNERS: dict[str, Callable[[], Mapping[str, object]]] = {
    "gas": _gas,
    "register": _register,
    "qr": _qr,
    "verify": _verify,
    "index": _index,
    "cli": _cli,
    "network": _network,
}
SECTIONS = tuple(RUNNERS)


@click.command()
@click.option("--only", type=click.Choice(SECTIONS), multiple=True, help="Run only these sections.")
def main(only: tuple[str, ...]) -> None:
    results: dict[str, object] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for section in only or SECTIONS:
        started = time.perf_counter()
        results.update(RUNNERS[section]())
        click.echo(f"{section}: {time.perf_counter() - started:.1f} s", err=True)
    results["meta.machine"] = f"{platform.machine()} {platform.system()}, Python {sys.version.split()[0]}"
    results["meta.measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    RESULTS.write_text(json.dumps(dict(sorted(results.items())), indent=2) + "\n")
    click.echo(json.dumps(dict(sorted(results.items())), indent=2))


if __name__ == "__main__":
    main()
