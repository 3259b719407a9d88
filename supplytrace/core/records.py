"""The registry's records as the package speaks of them: one model for the CLI, the page, the
indexer and the tests.

:class:`ItemRecord` is what ``getItem(itemId)`` returns (and what the index derives from events),
:class:`LotRecord` what ``getLot(lotId)`` returns. Status numbers, roles and the zero address are
defined here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from supplytrace.core.hashing import keccak_text
from supplytrace.core.text import ChainText

#: OpenZeppelin AccessControl roles: the admin's, and the brands' (``REGISTRAR_ROLE``).
DEFAULT_ADMIN_ROLE = b"\0" * 32
REGISTRAR_ROLE = keccak_text("REGISTRAR_ROLE")


class ItemStatus(IntEnum):
    """``IProvenanceRegistry.ItemStatus``."""

    UNKNOWN = 0  # never registered
    ACTIVE = 1  # registered, in the supply chain
    SOLD = 2  # sold to an end customer; can no longer move
    CLAIMED = 3  # its hidden code was used (the pack opened by its buyer); can no longer move


@dataclass(frozen=True, slots=True)
class ItemRecord:
    """An item's current record (``getItem``). Addresses are checksummed text, None for
    address(0); ``gtin`` is the GTIN-14 as an integer (0 when unknown)."""

    item_id: bytes
    status: ItemStatus
    custodian: str | None
    pending_receiver: str | None
    brand: str | None
    lot_id: int
    gtin: int
    lot_code: ChainText
    lot_metadata_hash: bytes
    custody_nonce: int  # changes so far: moves, withdrawn or declined offers, observations
    updated_at: int  # block time of registration or of the last change of custody or status
    recalled: bool
    recalled_at: int  # 0 unless recalled
    lot_closed: bool

    @property
    def registered(self) -> bool:
        return self.status is not ItemStatus.UNKNOWN

    @property
    def sold(self) -> bool:
        return self.status is ItemStatus.SOLD

    @property
    def claimed(self) -> bool:
        return self.status is ItemStatus.CLAIMED

    @property
    def gtin14(self) -> str | None:
        return f"{self.gtin:014d}" if self.registered else None

    @property
    def item_id_hex(self) -> str:
        return "0x" + self.item_id.hex()

    @classmethod
    def unknown(cls, item_id: bytes) -> ItemRecord:
        """The record of an id no brand registered (``getItem`` of it: all zero)."""
        return cls(
            bytes(item_id), ItemStatus.UNKNOWN, None, None, None, 0, 0, ChainText(b""), b"\0" * 32,
            0, 0, False, 0, False,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class LotRecord:
    """A lot's record (``getLot``)."""

    lot_id: int
    registrar: str | None
    gtin: int
    lot_code: ChainText
    metadata_hash: bytes
    recalled_at: int  # 0 unless recalled
    closed: bool

    @property
    def recalled(self) -> bool:
        return self.recalled_at != 0

    @property
    def gtin14(self) -> str:
        return f"{self.gtin:014d}"
