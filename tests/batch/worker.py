"""A registration run in its own process, for the kill -9 test (not a test module).

    APE_FOUNDRY_HOST=http://127.0.0.1:PORT python -m tests.batch.worker CSV RECEIPT REGISTRY SIGNER MAX_PER_TX

connects to the already running anvil (ape-foundry reuses a node at APE_FOUNDRY_HOST) and runs
``register_csv`` with test account number SIGNER.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> None:
    from ape import accounts, networks, project

    from supplytrace.batch import register_csv

    csv_path, receipt, address, signer, max_per_tx = argv
    with networks.parse_network_choice("ethereum:local:foundry") as provider:
        registry = project.ProvenanceRegistry.at(address)
        print("connected", flush=True)
        register_csv(
            csv_path,
            registry,
            accounts.test_accounts[int(signer)],
            provider,
            receipt,
            max_items_per_tx=int(max_per_tx),
            progress=False,
        )
        print("finished", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
