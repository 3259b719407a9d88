"""What the Registry's use cases return: the transaction (:class:`~supplytrace.chain.send.Sent`)
with what it acted on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from supplytrace.chain.send import Sent
from supplytrace.core.ids import ItemKey


@dataclass(frozen=True)
class LotCreated:
    lot_id: int
    metadata_path: Path  # the canonical JSON kept for the verification page
    sent: Sent


@dataclass(frozen=True)
class LotChanged:
    lot_id: int
    sent: Sent


@dataclass(frozen=True)
class Registered:
    key: ItemKey
    lot_id: int
    sent: Sent


@dataclass(frozen=True)
class Moved:
    """Items a custody step acted on, and its one transaction."""

    items: tuple[bytes, ...]
    sent: Sent


@dataclass(frozen=True)
class Revoked:
    """A brand's registrar role revoked (None: it had none) and the lots that were closed."""

    revoked: Sent | None
    closed: tuple[LotChanged, ...]
