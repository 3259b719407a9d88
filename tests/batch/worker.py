"""A registration run in its own process, for the kill -9 test (not a test module).

    python -m tests.batch.worker RPC_URL CSV RECEIPT REGISTRY SIGNER MAX_PER_TX

reaches the already running anvil at RPC_URL through the package's JSON-RPC client and runs
``register_csv`` signing as ape's test account number SIGNER.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> None:
    from ape import accounts

    from supplytrace.batch import register_csv
    from supplytrace.chain.ape import ApeSigner
    from supplytrace.chain.rpc import Rpc, hex_int
    from supplytrace.chain.send import Sender

    url, csv_path, receipt, address, signer, max_per_tx = argv
    rpc = Rpc(url)
    chain_id = hex_int(rpc.request("eth_chainId", []))
    sender = Sender(rpc, ApeSigner(accounts.test_accounts[int(signer)]), chain_id=chain_id, registry=address)
    print("connected", flush=True)
    register_csv(
        csv_path, sender, receipt, resolver="https://id.example.com", max_items_per_tx=int(max_per_tx)
    )
    print("finished", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
