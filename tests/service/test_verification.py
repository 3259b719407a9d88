"""supplytrace.service.verification: publishing the sources to Sourcify and to an Etherscan-family
explorer, against a tiny local HTTP server standing in for them (the real ones are not reachable
from the test machine). What the matcher itself finds is tested in tests/cli/test_verifying.py."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from supplytrace.core.deployments import Deployment
from supplytrace.service.verification import PublishError, publish_to_sourcify, sourcify_files
from tests.conftest import ROOT
from tests.web.conftest import free_port

RECORD = Deployment(
    ecosystem="ethereum",
    network="sepolia",
    chain_id=11155111,
    address="0x5FbDB2315678afecb367f032d93F642f64180aa3",
    tx_hash="0x" + "ab" * 32,
    block=1,
    deployer="0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    admin="0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    compiler="solc 0.8.37",
    runtime_bytecode_keccak="0x" + "cd" * 32,
    deployed_at="2026-01-01T00:00:00Z",
)
METADATA = {"compiler": {"version": "0.8.37+commit.f401782d"}, "sources": {"contracts/A.sol": {}}}
INPUT = {
    "language": "Solidity",
    "sources": {"contracts/A.sol": {"content": "contract A {}"}, "contracts/Unused.sol": {"content": ""}},
    "settings": {"optimizer": {"enabled": True, "runs": 1000000}, "evmVersion": "prague"},
}


@dataclass
class Verifier:
    """A local HTTP server answering every POST with ``answer`` (and ``status``), keeping the requests."""

    url: str
    answer: dict[str, Any]
    status: int = 200
    requests: list[tuple[str, str, bytes]] = field(default_factory=list)


@pytest.fixture
def verifier() -> Iterator[Verifier]:
    state = Verifier(url="", answer={})

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append((self.path, self.headers.get("Content-Type", ""), body))
            out = json.dumps(state.answer).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def test_publish_to_sourcify__server_answers__posts_metadata_and_the_sources_it_names(
    verifier: Verifier,
) -> None:
    verifier.answer = {"result": [{"address": RECORD.address, "chainId": "11155111", "status": "perfect"}]}
    said = publish_to_sourcify(verifier.url + "/server/", RECORD, METADATA, INPUT)
    assert said == f"Sourcify at {verifier.url}/server answered: perfect"
    ((path, content_type, body),) = verifier.requests
    assert (path, content_type) == ("/server/verify", "application/json")
    assert json.loads(body) == {
        "address": RECORD.address,
        "chain": "11155111",
        "files": {
            "metadata.json": json.dumps(METADATA, separators=(",", ":")),
            "contracts/A.sol": "contract A {}",
        },
        "creatorTxHash": RECORD.tx_hash,
    }
    assert sourcify_files(METADATA, INPUT).keys() == {"metadata.json", "contracts/A.sol"}


def test_publish_to_sourcify__server_unreachable__one_sentence_with_the_way_out() -> None:
    server = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(PublishError) as caught:
        publish_to_sourcify(server, RECORD, METADATA, INPUT, timeout=5)
    message = str(caught.value)
    assert message.startswith(f"could not reach Sourcify at {server} (")
    assert message.endswith("); run `supplytrace verify-deployment --publish` later.")
    assert "\n" not in message


def test_publish_to_sourcify__server_refuses__says_what_it_said(verifier: Verifier) -> None:
    verifier.status, verifier.answer = 400, {"error": "Chain 11155111 is not supported"}
    with pytest.raises(PublishError, match=r"refused the sources \(HTTP 400: .*not supported"):
        publish_to_sourcify(verifier.url, RECORD, METADATA, INPUT, timeout=5)


#: ape-etherscan needs a connected ape network: the test runs it in a child process on ape's
#: in-memory test network, so that it does not touch this session's anvil.
ETHERSCAN = """
import json, sys
from supplytrace.core.deployments import Deployment
from supplytrace.service.verification import PublishError, publish_to_etherscan
record, standard_input, api = Deployment(**json.loads(sys.argv[1])), json.loads(sys.argv[2]), sys.argv[3]
try:
    print(publish_to_etherscan("ethereum:local:test", record, standard_input, "00ff", api_uri=api))
except PublishError as exc:
    print("PublishError:", exc)
"""


def _etherscan(api: str) -> str:
    from dataclasses import asdict

    record = asdict(RECORD)
    record.pop("source_check")
    done = subprocess.run(
        [sys.executable, "-c", ETHERSCAN, json.dumps(record), json.dumps(INPUT), api],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def test_publish_to_etherscan__explorer_answers__standard_json_form_with_constructor_arguments(
    verifier: Verifier,
) -> None:
    verifier.answer = {"status": "1", "message": "OK", "result": "receipt-guid"}
    assert _etherscan(verifier.url + "/api") == (
        "the explorer accepted the sources for checking (receipt receipt-guid)"
    )
    ((path, content_type, body),) = verifier.requests
    assert (path, content_type) == ("/api", "application/x-www-form-urlencoded")
    form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
    assert json.loads(form.pop("sourceCode")) == INPUT
    assert form == {
        "module": "contract",
        "action": "verifysourcecode",
        "codeformat": "solidity-standard-json-input",
        "compilerversion": "v0.8.37+commit.f401782d",
        "contractaddress": RECORD.address,
        "contractname": "contracts/ProvenanceRegistry.sol:ProvenanceRegistry",
        "constructorArguements": "00ff",
        "evmversion": "prague",
        "optimizationUsed": "1",
        "runs": "1000000",
    }


def test_publish_to_etherscan__explorer_unreachable__one_sentence_with_the_way_out() -> None:
    said = _etherscan(f"http://127.0.0.1:{free_port()}/api")
    assert said.startswith("PublishError: could not publish to the explorer of ethereum:local:test")
    assert said.endswith("set ETHERSCAN_API_KEY and run `supplytrace verify-deployment --publish` later.")
