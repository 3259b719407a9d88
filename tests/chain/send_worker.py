"""One sender in its own process, for the concurrent-senders test (not a test module).

    python -m tests.chain.send_worker RPC_URL CHAIN_ID REGISTRY LOCK_DIR NAME COUNT  (key on stdin)

sends ``COUNT`` ``describeSelf`` transactions to the registry, one after the other, signing with
the private key read from stdin (eth_account, so the process starts without ape), and prints
one JSON line per mined transaction: its hash, block and status.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


class KeySigner:
    def __init__(self, key: str) -> None:
        from eth_account import Account

        self._account = Account.from_key(key)

    @property
    def address(self) -> str:
        return str(self._account.address)

    def sign_transaction(self, tx: dict[str, Any]) -> bytes:
        fields = {k: v for k, v in tx.items() if v is not None}
        return bytes(self._account.sign_transaction(fields).raw_transaction)


def main(argv: list[str]) -> None:
    from supplytrace.chain.rpc import Rpc
    from supplytrace.chain.send import Sender

    url, chain_id, registry, lock_dir, name, count = argv
    signer = KeySigner(sys.stdin.readline().strip())
    sender = Sender(Rpc(url), signer, chain_id=int(chain_id), registry=registry, lock_dir=Path(lock_dir))
    print("ready", flush=True)
    for n in range(int(count)):
        sent = sender.call("describeSelf", f"{name} #{n}")
        print(json.dumps({"tx": sent.tx_hash, "block": sent.block, "success": sent.success}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
