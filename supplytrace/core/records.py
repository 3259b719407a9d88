"""The registry's records as the package speaks of them: one model for the CLI, the page, the
indexer and the tests.

:class:`ItemRecord` is what ``getItem(itemId)`` returns (and what the index derives from events),
:class:`LotRecord` what ``getLot(lotId)`` returns, :class:`ContainerRecord` what
``getContainer(containerId)`` returns. Status numbers, quantity units and roles are defined here
once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from supplytrace.core.hashing import keccak_text
from supplytrace.core.text import ChainText, Msg

#: OpenZeppelin AccessControl roles: the admin's, and the brands' (``REGISTRAR_ROLE``).
DEFAULT_ADMIN_ROLE = b"\0" * 32
REGISTRAR_ROLE = keccak_text("REGISTRAR_ROLE")


class ItemStatus(IntEnum):
    """``IProvenanceRegistry.ItemStatus``."""

    UNKNOWN = 0  # never registered
    ACTIVE = 1  # registered, in the supply chain
    SOLD = 2  # sold to an end customer; can no longer move
    CLAIMED = 3  # its hidden code was used (the pack opened by its buyer); can no longer move


class QuantityUnit(IntEnum):
    """``IProvenanceRegistry.QuantityUnit``: what a measured lot counts its quantity in."""

    NONE = 0  # the lot declared no quantity
    EACH = 1
    GRAM = 2
    MILLILITRE = 3

    @classmethod
    def of(cls, value: int) -> QuantityUnit:
        """The unit numbered ``value``; a number the contract does not define (hostile data)
        reads as NONE, a quantity nothing can be said of."""
        return cls(value) if value in cls._value2member_map_ else cls.NONE

    @property
    def code(self) -> str | None:
        """Its UN/CEFACT Recommendation 20 code (EPCIS's ``uom``): H87 (piece), GRM, MLT."""
        return _UNECE.get(self)

    @property
    def word(self) -> str:
        """How a sentence names it: ``each``, ``gram``, ``millilitre`` (``none``)."""
        return self.name.lower()

    @property
    def symbol(self) -> str:
        """The short unit a quantity is written with: ``g``, ``ml``, ``units`` ("" for none)."""
        return {QuantityUnit.EACH: "units", QuantityUnit.GRAM: "g", QuantityUnit.MILLILITRE: "ml"}.get(
            self, ""
        )

    def amount(self, quantity: int) -> Msg:
        """``quantity`` of it in words: ``1,500 g``, ``750 ml``, ``12 each`` (a :class:`Msg`: the
        page says it with the reader's digits)."""
        if self is QuantityUnit.GRAM:
            return Msg("%(quantity)s g", quantity=quantity)
        if self is QuantityUnit.MILLILITRE:
            return Msg("%(quantity)s ml", quantity=quantity)
        if self is QuantityUnit.EACH:
            return Msg("%(quantity)s each", quantity=quantity)
        return Msg("%(quantity)s none", quantity=quantity)  # a unit the contract does not define


_UNECE = {QuantityUnit.EACH: "H87", QuantityUnit.GRAM: "GRM", QuantityUnit.MILLILITRE: "MLT"}


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
    container: bytes | None  # the container it is packed in (its custodian: the outermost's)

    @property
    def packed(self) -> bool:
        return self.container is not None

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
            0, 0, False, 0, False, None,
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
    unit: QuantityUnit  # NONE: the lot declared no quantity
    stock: int  # what is left of its quantity (in ``unit``)
    item_quantity: int  # each item's net quantity, drawn from the stock at registration

    @property
    def measured(self) -> bool:
        return self.unit is not QuantityUnit.NONE

    @property
    def recalled(self) -> bool:
        return self.recalled_at != 0

    @property
    def gtin14(self) -> str:
        return f"{self.gtin:014d}"


@dataclass(frozen=True, slots=True)
class ContainerRecord:
    """A container's record (``getContainer``): a logistic unit named by its GS1 SSCC. All zero
    (``sscc`` 0, ``exists`` false) for an id never packed into."""

    container_id: bytes
    sscc: int
    custodian: str | None  # the custodian of its outermost container
    pending_receiver: str | None
    container: bytes | None  # the container it is packed in
    custody_nonce: int
    updated_at: int
    level: int  # 1 + the highest level ever packed into it (an item's is 0)

    @property
    def exists(self) -> bool:
        return self.sscc != 0

    @property
    def sscc18(self) -> str | None:
        return f"{self.sscc:018d}" if self.exists else None

    @property
    def container_id_hex(self) -> str:
        return "0x" + self.container_id.hex()
