"""The one way to the node, over :mod:`supplytrace.core`.

- :mod:`.rpc` — JSON-RPC over HTTP(S), sync and async; one error type, timeouts, retries.
- :mod:`.codec` — calls encoded, answers and reverts decoded, from the packaged ABI.
- :mod:`.logs` — the one ``eth_getLogs`` loop; decoded, validated, time-stamped events.
- :mod:`.reads` — the registry's views as records (``ItemRecord``, ``LotRecord``).
- :mod:`.send` — estimate, sign, send, wait, replace what sits (docs/sending.md).
- :mod:`.nonces` — the per-account nonce lock and allocation.
- :mod:`.pending` — a transaction in flight, fee bumps, the wait events.
- :mod:`.refusals` — a node's refusal of a transaction in plain words.
- :mod:`.history` — the history port and its chain adapter.
- :mod:`.deployment` — the one check that a deployment record matches the node.
- :mod:`.devnet` — the local devnet (anvil).
- :mod:`.ape` — the only module that imports ape: networks and accounts by ape's names.
"""
