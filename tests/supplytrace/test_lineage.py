"""The demo's lineage chapter (:func:`supplytrace.demo.tell_lineage`) on ape's anvil, pallet
handed over: every jar of the blend is the distributor's after one signed handoff. (``make demo``
keeps the pallet until the index folds a container's custody.)"""

from __future__ import annotations

from supplytrace.chain.ape import ApeSigner
from supplytrace.core.ids import ItemKey
from supplytrace.demo import BLEND_JARS, BLEND_LOT_CODE, HONEY_GTIN, Story, tell_lineage
from supplytrace.service.registry import Registry
from tests.service.conftest import deployment, settings  # noqa: F401 (fixtures)


def test_tell_lineage__hand_over__blend_packed_and_the_pallet_with_the_distributor(
    rpc,
    deployment,  # noqa: F811 (fixture)
    settings,  # noqa: F811 (fixture)
    admin,
    brand,
    distributor,
    retailer,
):
    reader = Registry(rpc, deployment, settings)
    cast = tuple(reader.acting_as(ApeSigner(a)) for a in (admin, brand, distributor, retailer))
    admin_, beekeeper = cast[0], cast[1]
    story = Story(admin_, 0, 0, [], [], {})
    lines: list[str] = []
    told = tell_lineage(story, cast, lines.append)  # type: ignore[arg-type]
    assert told.blend_lot_id and len(told.pallet) == 18
    jars = [ItemKey.create(HONEY_GTIN, f"BLEND{n:05d}", BLEND_LOT_CODE).id for n in range(1, BLEND_JARS + 1)]
    assert {r.custodian for r in reader.items(jars)} == {distributor.address}
    assert beekeeper.lot(told.blend_lot_id).registrar == brand.address
    assert any("blended 600,000 g from HARVEST-RO-2026" in line for line in lines), lines
