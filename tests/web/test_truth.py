"""Truth over convenience: the status comes from the chain on every request, whatever the index
or the metadata folder say, and the page says when they lag or disagree."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from supplytrace.core.metadata import metadata_hash
from supplytrace.demo import CASES, LOT_METADATA
from supplytrace.web.i18n import fmt_date
from supplytrace.web.views.common import short_address
from tests.web.conftest import (
    BASE,
    BrokenIndex,
    FailingSource,
    MalformedIndex,
    StaleIndex,
    TamperedIndex,
    TestClient,
    World,
    banner_of,
    free_port,
    text_of,
)


def _path(world: World, case: str) -> str:
    return world.key(case).digital_link(BASE)[len(BASE) :]


def _sale_block(world: World) -> int:
    """The block of the demo's sale (the history's last event of the sold jar)."""
    return max(e.block_number for e in world.history().item_history(world.key("sold").id))


def test_open_sold_item__index_stopped_before_the_sale__still_sold_and_says_the_index_lags(
    make_client: Callable[..., TestClient], world: World, chain
) -> None:
    mark = _sale_block(world) - 1
    client = make_client(StaleIndex(world.history(), mark))
    response = client.get(_path(world, "sold"))
    status, banner = banner_of(response.text)
    assert status == "sold"  # read live: the stale index knows nothing of the sale
    assert "Already sold" in banner
    page = text_of(response.text)
    lag = int(chain.blocks.head.number) - mark
    assert f"The history index is {lag} blocks behind the chain (indexed to block {mark}" in page
    assert "The history below is behind the chain: it does not show every step yet." in page
    assert "sold it to a customer" not in page
    api = client.get(f"/api/items/{world.key('sold').id_hex}").json()
    assert api["status"] == "sold"
    assert api["index"] == {
        "source": "index",
        "head_block": int(chain.blocks.head.number),
        "indexed_block": mark,
        "lag_blocks": lag,
        "notes": api["index"]["notes"],
    }


def test_open_recalled_item__index_stopped_before_the_recall__still_recalled_without_reason(
    make_client: Callable[..., TestClient], world: World
) -> None:
    recall_block = max(e.block_number for e in world.history().item_history(world.key("recalled").id))
    client = make_client(StaleIndex(world.history(), recall_block - 1))
    status, banner = banner_of(client.get(_path(world, "recalled")).text)
    assert status == "recalled"
    assert "Recalled: do not use" in banner and "Reason:" not in banner


def test_open_genuine_item__index_claims_it_was_sold__still_genuine_and_warns(
    make_client: Callable[..., TestClient], world: World
) -> None:
    client = make_client(TamperedIndex(world.history()))
    response = client.get(_path(world, "genuine"))
    assert banner_of(response.text)[0] == "genuine"
    assert "The history below disagrees with the chain's current record" in text_of(response.text)


def test_open_item__index_fails__live_status_without_history_and_a_note(
    make_client: Callable[..., TestClient], world: World
) -> None:
    client = make_client(BrokenIndex(world.history()))
    response = client.get(_path(world, "sold"))
    assert response.status_code == 200
    status, banner = banner_of(response.text)
    assert status == "sold"  # the status never depends on the index
    # Nor does the answer to its buyer: who sold it and when are in the live record (the names,
    # read from the index, are not: the seller is named by its address).
    record = world.registry.getItem(world.key("sold").id)
    seller, day = short_address(record.custodian), fmt_date(record.updatedAt)
    assert f"If you bought it from the seller {seller} on {day}, this is your item" in banner
    page = text_of(response.text)
    assert "The history cannot be read right now (the index is unavailable)" in page
    assert "secret" not in response.text and "Traceback" not in response.text
    lot = client.get(f"/lot/{world.story.recalled_lot_id}")
    assert lot.status_code == 200 and banner_of(lot.text)[0] == "recalled"
    assert "The history cannot be read right now" in text_of(lot.text)


def test_open_every_page__history_source_raises_whatever_it_is_asked__live_status_and_a_note(
    make_client: Callable[..., TestClient], world: World
) -> None:
    client = make_client(FailingSource(world.history()))
    answers = []
    for case in CASES:
        response = client.get(_path(world, case))
        assert response.status_code == (404 if case == "unknown" else 200), case
        assert banner_of(response.text)[0] == case
        api = client.get(f"/api/items/{world.key(case).id_hex}")
        assert api.json()["status"] == case and api.json()["timeline"] == []
        assert api.json()["warnings"] == [
            "The history cannot be read right now (the index is unavailable), so it is not shown. The "
            "status at the top is read live from the chain and is up to date."
        ]
        answers += [response, api]
    assert "Already sold" in banner_of(client.get(_path(world, "sold")).text)[1]
    lot = client.get(f"/lot/{world.story.recalled_lot_id}")
    assert lot.status_code == 200 and banner_of(lot.text)[0] == "recalled"
    assert "The history cannot be read right now" in text_of(lot.text)
    assert client.get(f"/api/lots/{world.story.recalled_lot_id}").json()["recalled"] is True
    sale = world.history().item_history(world.key("sold").id)[-1].tx_hash
    tx = client.get(f"/tx/{sale}")
    assert tx.status_code == 200 and "Result succeeded" in text_of(tx.text)
    address = client.get(f"/address/{world.registry.address}")
    assert address.status_code == 200 and "Registry contract" in text_of(address.text)
    for response in [*answers, lot, tx, address]:
        assert "secret" not in response.text and "Traceback" not in response.text


def test_open_item__index_returns_malformed_rows__500_human_page_without_internals(
    make_client: Callable[..., TestClient], world: World
) -> None:
    client = make_client(MalformedIndex(world.history()))
    response = client.get(_path(world, "genuine"))
    assert response.status_code == 500
    status, banner = banner_of(response.text)
    assert status == "error-500"
    assert "Something went wrong on our side" in banner
    assert "Traceback" not in response.text and "KeyError" not in response.text
    api = client.get(f"/api/items/{world.key('genuine').id_hex}")
    assert api.status_code == 500 and api.json()["error"] == "Something went wrong on our side"
    romanian = client.get(_path(world, "genuine"), headers={"Accept-Language": "ro-RO,ro;q=0.9"})
    assert romanian.status_code == 500 and '<html lang="ro">' in romanian.text
    assert "Ceva nu a mers bine la noi" in banner_of(romanian.text)[1]  # the crash page in Romanian too
    assert romanian.headers["Content-Language"] == "ro"


def test_open_item__node_unreachable__503_cannot_check_never_genuine(
    make_client: Callable[..., TestClient], world: World
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    client = make_client(rpc_url=dead)
    for path in (_path(world, "genuine"), f"/item/{world.key('genuine').id_hex}", "/lot/1"):
        response = client.get(path)
        assert response.status_code == 503, path
        status, banner = banner_of(response.text)
        assert status == "error-503"
        assert "Cannot check right now" in banner
        assert "cannot tell whether this product is genuine" in banner
        assert "Genuine and in the supply chain" not in response.text
    assert client.get(f"/api/items/{world.key('genuine').id_hex}").status_code == 503


def test_open_item__metadata_file_altered__facts_hidden_with_a_warning(
    make_client: Callable[..., TestClient], world: World, tmp_path: Path
) -> None:
    folder = tmp_path / "metadata"
    shutil.copytree(world.home / "metadata", folder)
    stored = folder / f"0x{metadata_hash(LOT_METADATA).hex()}.json"
    stored.write_text(stored.read_text().replace("2026-07-14", "2026-08-01"))
    client = make_client(metadata_folder=folder)
    response = client.get(_path(world, "genuine"))
    assert banner_of(response.text)[0] == "genuine"
    page = text_of(response.text)
    assert "do not match the fingerprint on the chain, so they are not shown" in page
    assert "2026-08-01" not in page and "Acacia honey" not in page
    assert client.get(f"/api/items/{world.key('genuine').id_hex}").json()["lot"]["state"] == "mismatch"


def test_open_item__metadata_file_absent__says_only_the_fingerprint_is_on_chain(
    make_client: Callable[..., TestClient], world: World, tmp_path: Path
) -> None:
    client = make_client(metadata_folder=tmp_path / "empty")
    response = client.get(_path(world, "genuine"))
    assert banner_of(response.text)[0] == "genuine"
    page = text_of(response.text)
    assert "The brand's lot details are not available on this page" in page
    assert f"0x{metadata_hash(LOT_METADATA).hex()}" in page


def test_open_item__metadata_replaced_while_serving__rechecked(
    make_client: Callable[..., TestClient], world: World, tmp_path: Path
) -> None:
    folder = tmp_path / "metadata"
    shutil.copytree(world.home / "metadata", folder)
    client = make_client(metadata_folder=folder)
    assert "Acacia honey" in text_of(client.get(_path(world, "genuine")).text)
    stored = folder / f"0x{metadata_hash(LOT_METADATA).hex()}.json"
    stored.write_bytes(stored.read_bytes().replace(b"Acacia", b"Linden"))
    page = text_of(client.get(_path(world, "genuine")).text)
    assert "Linden" not in page and "do not match the fingerprint" in page
