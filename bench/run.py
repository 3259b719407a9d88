"""`make bench`: measure and write bench/results.json (merged with the figures already there).

Each section runs on its own fresh anvil started by ape-foundry. Sections: gas.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

import click

RESULTS = Path(__file__).resolve().parent / "results.json"
SECTIONS = ("gas",)


@click.command()
@click.option("--only", type=click.Choice(SECTIONS), multiple=True, help="Run only these sections.")
def main(only: tuple[str, ...]) -> None:
    from ape import accounts, networks

    results: dict[str, object] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    with networks.parse_network_choice("ethereum:local:foundry"):
        test_accounts = list(accounts.test_accounts)
        for section in only or SECTIONS:
            started = time.perf_counter()
            if section == "gas":
                from bench import gas

                results.update(gas.measure(test_accounts))
            click.echo(f"{section}: {time.perf_counter() - started:.1f} s", err=True)
    results["meta.machine"] = f"{platform.machine()} {platform.system()}, Python {sys.version.split()[0]}"
    results["meta.measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    RESULTS.write_text(json.dumps(dict(sorted(results.items())), indent=2) + "\n")
    click.echo(json.dumps(dict(sorted(results.items())), indent=2))


if __name__ == "__main__":
    main()
