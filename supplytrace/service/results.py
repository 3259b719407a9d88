"""What the Registry's use cases return: the transaction (:class:`~supplytrace.chain.send.Sent`)
with what it acted on; a bulk run's transactions with what an earlier run had already done."""

from __future__ import annotations

from collections.abc import Iterator
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
class BulkResult:
    """A bulk run (offer, accept, reject, cancel, handoff, sell, record): the transactions it
    sent, in order (each a :class:`Moved`: one chunk of items), and the items it skipped as
    already done (by an earlier, interrupted run: they were already in the state asked for).
    Iterating gives the transactions."""

    moves: tuple[Moved, ...]
    done: tuple[bytes, ...] = ()

    def __iter__(self) -> Iterator[Moved]:
        return iter(self.moves)

    def __len__(self) -> int:
        return len(self.moves)

    @property
    def items(self) -> tuple[bytes, ...]:
        """Every item this run acted on, in order."""
        return tuple(i for m in self.moves for i in m.items)

    @property
    def gas_used(self) -> int:
        return sum(m.sent.gas_used for m in self.moves)

    @property
    def fee_wei(self) -> int:
        """What the run's transactions cost together (wei)."""
        return sum(m.sent.fee_wei for m in self.moves)


@dataclass(frozen=True)
class Revoked:
    """A brand's registrar role revoked (None: it had none) and the lots that were closed."""

    revoked: Sent | None
    closed: tuple[LotChanged, ...]
