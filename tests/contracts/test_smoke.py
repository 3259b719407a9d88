from tests.conftest import HONEY_GTIN

from supplytrace.ids import encode_code, item_id


def test_register_item__by_brand__brand_is_custodian(registry, register, brand, distributor, chain, sign_handoff):
    (iid,) = register("JAR-0001")
    rec = registry.getItem(iid)
    assert rec.custodian == brand
    assert registry.itemIdOf(int(HONEY_GTIN), encode_code("JAR-0001")) == iid == item_id(HONEY_GTIN, "JAR-0001")
    deadline = chain.pending_timestamp + 3600
    sig = sign_handoff(distributor, [iid], brand, distributor, deadline)
    tx = registry.handoff(iid, distributor, deadline, sig, sender=brand)
    print("handoff gas", tx.gas_used)
    assert registry.getItem(iid).custodian == distributor
