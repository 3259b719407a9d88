"""The devnet's stand-in for a block explorer: ``/tx/{hash}`` and ``/address/{address}`` (on
public networks the pages link to the network's explorer instead: ``core.explorers``)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from supplytrace.chain.rpc import hex_int
from supplytrace.core.events import Logged, decode_log
from supplytrace.core.hashing import checksum, is_address
from supplytrace.core.records import REGISTRAR_ROLE
from supplytrace.core.story import addresses
from supplytrace.core.text import Msg
from supplytrace.web.deps import Page, PageDep
from supplytrace.web.errors import PageError
from supplytrace.web.i18n import gettext as _
from supplytrace.web.views.address import address_view
from supplytrace.web.views.common import short_address
from supplytrace.web.views.tx import TxView, parties, tx_view

router = APIRouter()


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


@router.api_route("/tx/{tx_hash}", methods=["GET", "HEAD"], include_in_schema=False)
async def tx(tx_hash: str, page: PageDep) -> HTMLResponse:
    text = tx_hash.strip().lower()
    if len(text) != 66 or not text.startswith("0x") or not _is_hex(text[2:]):
        raise PageError(
            400,
            Msg("This is not a transaction hash"),
            Msg("A transaction hash is 0x followed by 64 hexadecimal digits."),
        )
    async with page.deadline() as deadline:
        view = await _tx_view(page, text, deadline)
    return page.templates.html("tx.html", v=view, title=_("Transaction %(hash)s", hash=short_address(text)))


async def _tx_view(page: Page, text: str, deadline: float) -> TxView:
    head, found, receipt = await page.rpc.batch(
        [
            ("eth_blockNumber", []),
            ("eth_getTransactionByHash", [text]),
            ("eth_getTransactionReceipt", [text]),
        ]
    )
    if found is None:
        raise PageError(
            404,
            Msg("No such transaction"),
            Msg(
                "The %(network)s has no transaction %(hash)s. It may belong to another network.",
                network=page.config.network_label,
                hash=text,
            ),
        )
    timestamp = None
    if receipt:
        block = await page.rpc.request("eth_getBlockByNumber", [hex(hex_int(receipt["blockNumber"])), False])
        timestamp = hex_int(block["timestamp"]) if block else None
    registry = page.context.registry.address.lower()
    events: list[Logged] = []
    for log in (receipt or {}).get("logs", []):
        logged = decode_log(log) if str(log.get("address", "")).lower() == registry else None
        if logged is not None:
            events.append(logged if logged.timestamp is not None else logged.stamped(timestamp or 0))
    sender, to = parties(found)
    return tx_view(
        page.context,
        tx_hash=text,
        tx=found,
        receipt=receipt,
        timestamp=timestamp,
        events=events,
        names=await page.names(addresses(e.event for e in events) | {sender, to}, deadline),
        head=hex_int(head),
    )


@router.api_route("/address/{address}", methods=["GET", "HEAD"], include_in_schema=False)
async def address(address: str, page: PageDep) -> HTMLResponse:
    if not is_address(address):
        raise PageError(
            400, Msg("This is not an address"), Msg("An address is 0x followed by 40 hexadecimal digits.")
        )
    checked = checksum(address)
    reads = page.reads
    async with page.deadline() as deadline:
        code, registrar, head = await reads.run(reads.account_read(checked, REGISTRAR_ROLE))
        names = await page.names({checked}, deadline)
    view = address_view(
        page.context,
        address=checked,
        code=code,
        is_registrar=registrar,
        names=names,
        deployment=page.config.deployment,
        head=head,
    )
    return page.templates.html(
        "address.html", v=view, title=_("Address %(address)s", address=short_address(checked))
    )
