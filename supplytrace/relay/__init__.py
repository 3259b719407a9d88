"""The relayer (``supplytrace relay``): custody actions signed by their actors (EIP-712,
:mod:`supplytrace.core.actions`), sent and paid for by the brand's account, so that a merchant
with no ether takes part.

- :mod:`.request` reads a request (hostile JSON) into a :class:`~supplytrace.core.actions.SignedAction`
  and its signatures, or refuses it with one sentence;
- :mod:`.caps` keeps each signer's and the relayer's daily use (actions, gas) in a SQLite file, so
  a restart resets nothing, and reserves a slot atomically before anything is sent;
- :mod:`.relayer` simulates the exact registry call (eth_call at a pinned block) and sends nothing
  that would revert, reserves, sends through the idempotent :class:`~supplytrace.chain.send.Sender`
  and reports the transaction;
- :mod:`.app` is its HTTP face (FastAPI): ``POST /actions``, ``GET /actions/{tx_hash}``,
  ``GET /health``.

An engine beside ``web/``, ``indexer/`` and ``batch/``: it imports only ``chain`` and ``core``.
"""

from supplytrace.relay.caps import CapExceededError, Caps, UsageBook
from supplytrace.relay.relayer import Relayed, Relayer
from supplytrace.relay.request import RelayRequest, RequestError, parse_request

__all__ = [
    "CapExceededError",
    "Caps",
    "RelayRequest",
    "Relayed",
    "Relayer",
    "RequestError",
    "UsageBook",
    "parse_request",
]
