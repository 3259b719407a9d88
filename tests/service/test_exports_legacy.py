"""The EPCIS export of items a registrar gave hostile bytes: a registry deployed before issue #11
took any bytes as a serial or lot code, so its logs hold them for good; they export distinct, the
index and the chain give the same document, and nothing raises."""

from __future__ import annotations

import pytest

from supplytrace.service.exports import export_epcis
from tests.conftest import HONEY_GTIN, legacy_registry
from tests.service.test_exports import _word


@pytest.fixture(scope="module")
def registry(admin):
    """The registry as deployed before issue #11 (``tests.conftest.legacy_registry``): it takes any
    bytes as a serial or lot code, and its deployments keep them for good."""
    return legacy_registry().deploy(admin, 0, sender=admin)


def test_export_epcis__serials_and_lot_code_of_hostile_bytes__exported_distinct_never_raises(
    send_raw,
    sources,
    registry,
    brand,
    chain_id,
) -> None:
    send_raw(brand, "registerLot", int(HONEY_GTIN), _word(b"\xc3\x28"), b"\x33" * 32)
    lot = int(registry.lotCount())
    send_raw(brand, "registerItems", lot, [_word(b"A\x00B"), _word(b"A")])
    index, chain, reads = sources()
    options = {"chain_id": chain_id, "registry": str(registry.address), "created_at": 0}
    document = export_epcis(index, reads, lot_id=lot, **options)
    assert document == export_epcis(chain, reads, lot_id=lot, **options)
    epcs = [e["epcList"][0] for e in document["epcisBody"]["eventList"]]
    assert len(epcs) == 2 and len(set(epcs)) == 2
    assert all(e["ilmd"] == {"cbvmda:lotNumber": "\ufffd("} for e in document["epcisBody"]["eventList"])
