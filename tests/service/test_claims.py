"""service/claims.py: claiming an item with its hidden code, the proof found in the brand's tree
documents and checked against the chain before anything is sent."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest

from supplytrace.core.codes import CodeTree, leaf, new_code, normalize, printed, tree_document, tree_path
from supplytrace.core.errors import EXIT_NOT_FOUND
from supplytrace.core.ids import item_id
from supplytrace.core.records import ItemStatus
from supplytrace.service.claims import ClaimError, trees_dir
from tests.conftest import HONEY_GTIN, LOT_CODE
from tests.service.conftest import nonce


@pytest.fixture
def batch(as_, brand, tmp_path) -> tuple[list[bytes], dict[bytes, str]]:
    """Three items registered by the brand with hidden codes (register-batch --hidden-codes):
    (ids, the printed code of each id, from the printer's codes file)."""
    source = tmp_path / "items.csv"
    serials = ["JAR-1", "JAR-2", "JAR-3"]
    source.write_text("gtin,serial,lot\n" + "".join(f"{HONEY_GTIN},{s},{LOT_CODE}\n" for s in serials))
    result = as_(brand).register_csv(source, hidden_codes=True)
    assert result.codes_path is not None
    with result.codes_path.open(newline="") as handle:
        codes = {bytes.fromhex(r["item_id"][2:]): r["code"] for r in csv.DictReader(handle)}
    return [item_id(HONEY_GTIN, s) for s in serials], codes


def test_claim__code_from_the_codes_file__item_claimed_on_chain(as_, stranger, batch):
    ids, codes = batch
    claimed = as_(stranger).claim(ids[1], codes[ids[1]].lower().replace("-", " "))
    assert claimed.sent.success and claimed.item_id == ids[1]
    assert as_(stranger).item(ids[1]).status is ItemStatus.CLAIMED
    assert as_(stranger).item(ids[0]).status is ItemStatus.ACTIVE


def test_claim__wrong_code__says_so_and_sends_nothing(as_, stranger, batch, rpc):
    ids, _codes = batch
    before = nonce(rpc, stranger)
    with pytest.raises(ClaimError, match=r"is not the hidden code of item .*nothing was sent"):
        as_(stranger).claim(ids[0], printed(new_code()))
    assert nonce(rpc, stranger) == before
    assert as_(stranger).item(ids[0]).status is ItemStatus.ACTIVE


def test_claim__code_of_another_item__refused_nothing_sent(as_, stranger, batch, rpc):
    ids, codes = batch
    before = nonce(rpc, stranger)
    with pytest.raises(ClaimError, match="is not the hidden code of item"):
        as_(stranger).claim(ids[0], codes[ids[1]])
    assert nonce(rpc, stranger) == before


def test_claim__twice__already_claimed_and_when(as_, stranger, batch, rpc):
    ids, codes = batch
    claimed = as_(stranger).claim(ids[2], codes[ids[2]])
    when = as_(stranger).item(ids[2]).updated_at
    before = nonce(rpc, stranger)
    with pytest.raises(ClaimError, match="was already claimed on") as caught:
        as_(stranger).claim(ids[2], codes[ids[2]])
    assert time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(when)) in str(caught.value)
    assert nonce(rpc, stranger) == before and claimed.sent.success


@pytest.mark.parametrize("text", ["", "7KQM-2XHD", "7KQM-2XHD-9PRW-X", "IIII-LLLL-OOOO", "=1+2" * 3])
def test_claim__not_a_code__one_sentence_nothing_read(as_, stranger, text):
    with pytest.raises(ClaimError, match="is not a hidden code: a code has 12 characters"):
        as_(stranger).claim(item_id(HONEY_GTIN, "JAR-1"), text)


def test_claim__item_without_hidden_codes_here__says_no_codes_known(as_, stranger, register):
    (item,) = register("PLAIN-1")
    with pytest.raises(ClaimError, match=r"no hidden codes of item .* are known here"):
        as_(stranger).claim(item, printed(new_code()))


def test_claim__unregistered_item__not_found(as_, stranger):
    with pytest.raises(ClaimError, match="is not registered") as caught:
        as_(stranger).claim(item_id(HONEY_GTIN, "NOPE-1"), printed(new_code()))
    assert caught.value.exit_code == EXIT_NOT_FOUND


def test_claim__tree_document_not_committed_on_chain__refused_nothing_sent(
    as_, stranger, register, settings, deployment, lot_id, rpc
):
    """A tree someone dropped in the folder, whose root the chain never took for the lot."""
    (item,) = register("FORGED-1")
    code = new_code()
    tree = CodeTree.of([leaf(item, code), leaf(item_id(HONEY_GTIN, "X"), new_code())])
    target = Path(tree_path(settings.home, deployment.chain_id, deployment.address, tree.root))
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(tree_document(tree, lot_id)))
    before = nonce(rpc, stranger)
    with pytest.raises(ClaimError, match="is not committed on chain for lot"):
        as_(stranger).claim(item, code)
    assert nonce(rpc, stranger) == before


def test_claim__malformed_documents_beside_the_trees__skipped(as_, stranger, batch, settings, deployment):
    ids, codes = batch
    folder = trees_dir(settings.home, deployment.chain_id, deployment.address)
    (folder / "junk.json").write_text("{not json")
    (folder / "list.json").write_text("[1, 2]")
    (folder / "bad.json").write_text(json.dumps({"root": "0x00", "lot_id": 1, "leaves": ["zz"]}))
    assert normalize(codes[ids[0]])
    assert as_(stranger).claim(ids[0], codes[ids[0]]).sent.success


def test_claim__no_account__says_give_account(reader, batch):
    ids, codes = batch
    with pytest.raises(ClaimError, match="give --account"):
        reader.claim(ids[0], codes[ids[0]])
