"""Measured lots and blends: a lot that declares how much it holds (``registerMeasuredLot``), and a
lot made from the brand's measured lots (``registerTransformedLot``), the mass balance kept on
chain. What a blend drew from each input is read back from the inputs' stock.

A rerun is safe: a lot already registered by the signer with the same metadata is reported as
done and nothing is sent (so nothing is drawn twice); one registered otherwise is refused by the
registry (``LotAlreadyRegistered``) before anything is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supplytrace.chain.send import Sent
from supplytrace.core.errors import ChainError, SupplytraceError
from supplytrace.core.events import LOT_REGISTRATION
from supplytrace.core.ids import encode_code, normalize_gtin
from supplytrace.core.metadata import metadata_hash, store_metadata
from supplytrace.core.quantities import (
    Measure,
    Quantity,
    QuantityError,
    QuantityUnit,
    check_bounds,
    parse_quantity,
    same_unit,
)
from supplytrace.service.bulk import same

if TYPE_CHECKING:
    from supplytrace.core.records import LotRecord
    from supplytrace.service.registry import Registry


@dataclass(frozen=True)
class Stock:
    """A lot's declared unit, what is left of its quantity, and each item's net quantity."""

    lot_id: int
    unit: QuantityUnit
    stock: int
    item_quantity: int

    @property
    def left(self) -> Quantity:
        return Quantity(self.stock, self.unit)


@dataclass(frozen=True)
class Drawn:
    """What a blend took from one input lot (named as given), and what that lot has left."""

    lot_ref: str
    lot_id: int
    quantity: Quantity
    left: Quantity


@dataclass(frozen=True)
class MeasuredLot:
    """A measured or blended lot: its id, the kept metadata, the transaction (None: an earlier
    run made it, nothing sent), its stock now, and for a blend what each input gave."""

    lot_id: int
    metadata_path: Path
    sent: Sent | None
    stock: Stock
    drawn: tuple[Drawn, ...] = ()


@dataclass(frozen=True)
class Input:
    """One input of a blend, as the command line names it: ``GTIN:LOT=QTY``."""

    lot_ref: str
    quantity: Quantity

    @classmethod
    def parse(cls, text: str) -> Input:
        ref, sep, amount = text.rpartition("=")
        if not sep or ":" not in ref:
            raise QuantityError(
                f"input {text!r} must be GTIN:LOT=QUANTITY, e.g. 09506000134352:HARVEST-RO=600kg."
            )
        return cls(ref.strip(), parse_quantity(amount, f"the quantity of input {ref.strip()}"))


def stock(registry: Registry, lot_id: int) -> Stock:
    """The lot's declared unit, stock and item quantity (``getLot``)."""
    record: dict[str, Any] = registry.reads.view("getLot", lot_id)
    unit = int(record.get("unit", 0))  # a registry before issue #14 declares no quantities
    return Stock(
        lot_id,
        QuantityUnit(unit) if unit in QuantityUnit._value2member_map_ else QuantityUnit.NONE,
        int(record.get("stock", 0)),
        int(record.get("itemQuantity", 0)),
    )


def _existing(registry: Registry, gtin14: str, word: bytes, digest: bytes) -> int | None:
    """The lot id if the signer already registered this lot with this metadata (a rerun)."""
    lot_id = registry.reads.lot_id_of(int(gtin14), word)
    if not lot_id:
        return None
    record: dict[str, Any] = registry.reads.view("getLot", lot_id)
    if same(str(record["registrar"]), registry.account) and bytes(record["metadataHash"]) == digest:
        return lot_id
    return None


def _lot_id(sent: Sent) -> int:
    lot_ids = [getattr(e.event, "lot_id", 0) for e in sent.events if isinstance(e.event, LOT_REGISTRATION)]
    if not lot_ids:
        raise ChainError(
            f"transaction {sent.tx_hash} registered no lot (its receipt holds no lot event); "
            "check the RPC URL and the deployment."
        )
    return int(lot_ids[0])


def create_measured(
    registry: Registry, gtin: str, lot_code: str, metadata: dict[str, Any], measure: Measure
) -> MeasuredLot:
    """Register a lot of ``gtin`` declaring ``measure`` (its quantity and each item's)."""
    gtin14 = normalize_gtin(gtin)
    word = encode_code(lot_code, "lot code")
    check_bounds(measure)
    digest = metadata_hash(metadata)
    stored = store_metadata(registry.settings.home, metadata)
    lot_id = _existing(registry, gtin14, word, digest)
    sent = None
    if lot_id is None:
        sent = registry.send(
            "registerMeasuredLot", int(gtin14), word, digest,
            measure.quantity.amount, measure.item_quantity.amount, int(measure.unit),
        )  # fmt: skip
        lot_id = _lot_id(sent)
    return MeasuredLot(lot_id, stored, sent, stock(registry, lot_id))


def blend(
    registry: Registry,
    gtin: str,
    lot_code: str,
    metadata: dict[str, Any],
    inputs: Sequence[Input],
    quantity: Quantity,
    item_quantity: Quantity,
) -> MeasuredLot:
    """Register a lot of ``gtin`` made from the signer's measured lots ``inputs`` (each drawing
    its quantity), holding ``quantity`` (at most what went in), items of ``item_quantity``."""
    if not inputs:
        raise SupplytraceError("a blend needs at least one input: --from GTIN:LOT=QUANTITY.")
    gtin14 = normalize_gtin(gtin)
    word = encode_code(lot_code, "lot code")
    named = {"quantity": quantity, "item quantity": item_quantity}
    named.update({f"quantity of input {i.lot_ref}": i.quantity for i in inputs})
    same_unit(named)
    check_bounds(Measure(quantity, item_quantity))
    lot_ids = [registry.resolve_lot(i.lot_ref) for i in inputs]
    digest = metadata_hash(metadata)
    stored = store_metadata(registry.settings.home, metadata)
    lot_id = _existing(registry, gtin14, word, digest)
    sent = None
    if lot_id is None:
        for ref, input_id in zip((i.lot_ref for i in inputs), lot_ids, strict=True):
            had = stock(registry, input_id)
            if had.unit is QuantityUnit.NONE:
                raise SupplytraceError(
                    f"lot {ref} declared no quantity, so nothing can be drawn from it; blend only lots "
                    "created with --quantity."
                )
        sent = registry.send(
            "registerTransformedLot", int(gtin14), word, digest, lot_ids,
            [i.quantity.amount for i in inputs], quantity.amount, item_quantity.amount,
        )  # fmt: skip
        lot_id = _lot_id(sent)
    drawn = tuple(
        Drawn(i.lot_ref, input_id, i.quantity, stock(registry, input_id).left)
        for i, input_id in zip(inputs, lot_ids, strict=True)
    )
    return MeasuredLot(lot_id, stored, sent, stock(registry, lot_id), drawn)


def origin_label_of(registry: Registry, lot_id: int) -> str | None:
    """The origin line the labels of a blended lot print (EU 2024/1438: "Blend of honey from
    Romania (62 %), Bulgaria (38 %)"), computed as the page computes it: the lineage from the
    history, each leaf lot's ``origin.country`` from its metadata in SUPPLYTRACE_HOME/metadata
    (checked against its hash on chain; unknown otherwise). None for a lot no transformation
    made, or a lineage the history does not wholly show."""
    from supplytrace.core.lineage import LineageError
    from supplytrace.web.lineage import blend_label, read_lineage
    from supplytrace.web.lotdata import MetadataStore

    read = read_lineage(registry.history, lot_id)
    if not read.made:
        return None
    ids = list(read.lots)
    found: list[LotRecord | None] = registry.reads.run(registry.reads.lots_read(ids))
    records = dict(zip(ids, found, strict=True))
    store = MetadataStore(registry.settings.metadata_folder)

    def document(digest: bytes) -> dict[str, Any] | None:
        found = store.get(digest)
        return found.document if found.state == "verified" else None

    try:
        return blend_label(read, records, document)
    except LineageError:
        return None
