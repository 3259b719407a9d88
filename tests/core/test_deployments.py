"""supplytrace.core.deployments: the per-network deployment record."""

from __future__ import annotations

import json
from dataclasses import asdict, replace

import pytest

from supplytrace.core.deployments import (
    EXACT_MATCH,
    Deployment,
    DeploymentError,
    SourceCheck,
    load,
    record_path,
    save,
    with_source_check,
)

RECORD = Deployment(
    ecosystem="ethereum",
    network="local",
    chain_id=1337,
    address="0x5FbDB2315678afecb367f032d93F642f64180aa3",
    tx_hash="0x" + "ab" * 32,
    block=1,
    deployer="0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    admin="0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    compiler="solc 0.8.37 (evm prague, optimizer runs 1000000)",
    runtime_bytecode_keccak="0x" + "cd" * 32,
    deployed_at="2026-01-01T00:00:00Z",
)


def test_record_path__ecosystem_and_network__one_json_per_network(tmp_path):
    assert record_path(tmp_path, "ethereum", "sepolia") == tmp_path / "ethereum-sepolia.json"
    assert RECORD.key == "ethereum-local"


def test_save_then_load__fresh_folder__round_trips(tmp_path):
    folder = tmp_path / "not" / "yet" / "there"
    path = save(folder, RECORD)
    assert path == folder / "ethereum-local.json"
    assert load(folder, "ethereum", "local") == RECORD
    assert json.loads(path.read_text()) == asdict(RECORD)
    assert path.read_text().endswith("\n")
    assert sorted(p.name for p in folder.iterdir()) == ["ethereum-local.json"]  # no temporary file left


def test_save__record_exists_without_force__refuses_and_keeps_old(tmp_path):
    save(tmp_path, RECORD)
    newer = replace(RECORD, address="0x" + "11" * 20, block=99)
    with pytest.raises(DeploymentError, match="already recorded for ethereum:local") as info:
        save(tmp_path, newer)
    assert "--force" in str(info.value)
    assert load(tmp_path, "ethereum", "local") == RECORD


def test_save__record_exists_with_force__replaces(tmp_path):
    save(tmp_path, RECORD)
    newer = replace(RECORD, address="0x" + "11" * 20, block=99)
    save(tmp_path, newer, force=True)
    assert load(tmp_path, "ethereum", "local") == newer


def test_save__other_network__does_not_conflict(tmp_path):
    save(tmp_path, RECORD)
    sepolia = replace(RECORD, network="sepolia", chain_id=11155111)
    save(tmp_path, sepolia)
    assert load(tmp_path, "ethereum", "sepolia") == sepolia
    assert load(tmp_path, "ethereum", "local") == RECORD


def test_load__missing_file__raises_saying_deploy_first(tmp_path):
    with pytest.raises(DeploymentError, match="no deployment is recorded for ethereum:local") as info:
        load(tmp_path, "ethereum", "local")
    message = str(info.value)
    assert str(tmp_path / "ethereum-local.json") in message
    assert "supplytrace deploy --network ethereum:local" in message


def test_load__corrupt_json__raises_naming_the_file(tmp_path):
    (tmp_path / "ethereum-local.json").write_text('{"address": "0x5Fb', encoding="utf-8")
    with pytest.raises(DeploymentError, match="is not valid JSON") as info:
        load(tmp_path, "ethereum", "local")
    assert str(tmp_path / "ethereum-local.json") in str(info.value)


@pytest.mark.parametrize(
    "content",
    [
        "[]",
        "{}",
        '{"address": "0x5FbDB2315678afecb367f032d93F642f64180aa3"}',
        json.dumps(asdict(RECORD) | {"x": 1}),
    ],
    ids=["list", "empty-object", "missing-fields", "unknown-field"],
)
def test_load__valid_json_wrong_fields__raises_deployment_error(tmp_path, content):
    # A hand-edited or truncated-to-'{}' record must give the one-sentence DeploymentError, not a TypeError.
    (tmp_path / "ethereum-local.json").write_text(content, encoding="utf-8")
    with pytest.raises(DeploymentError):
        load(tmp_path, "ethereum", "local")


def test_with_source_check__record_saved__loads_back_and_older_records_still_load(tmp_path):
    path = save(tmp_path, RECORD)
    older = json.loads(path.read_text())
    assert older.pop("source_check") is None
    path.write_text(json.dumps(older))  # a record written before verify-deployment existed
    assert load(tmp_path, "ethereum", "local") == RECORD
    check = SourceCheck(EXACT_MATCH, EXACT_MATCH, "2026-12-01T08:00:00Z", "ab" * 20, "0.8.37+commit.f401782d")
    updated = with_source_check(tmp_path, RECORD, check)
    assert load(tmp_path, "ethereum", "local") == updated == replace(RECORD, source_check=check)
    assert updated.source_check is not None and updated.source_check.verified
