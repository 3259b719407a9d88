"""The verification page's hidden-code claims and scan history, put together for ``supplytrace
serve``: the book (the index database's ``scans`` and ``claim_attempts`` tables, or this process's
memory without an index database), the brand's tree documents, and the relayer account that
sends the claims (``supplytrace.web.claims``).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from supplytrace.chain.rpc import Rpc
from supplytrace.chain.send import Sender
from supplytrace.core.codes import TREES_DIR
from supplytrace.core.config import Settings
from supplytrace.indexer.database import display_url, exists, first_line, resolve_url
from supplytrace.indexer.errors import IndexerError
from supplytrace.indexer.scans import PageBook
from supplytrace.service.connect import signer_for
from supplytrace.service.registry import lock_dir
from supplytrace.web.claims import CLAIM_TIMEOUT, Claims, ClientKeys, CodeTrees


def open_book(settings: Settings, chain_id: int, db: str | None) -> tuple[PageBook, str]:
    """The book in the index database at ``db`` (as ``open_history`` finds it), else in memory;
    and where it is."""
    url = resolve_url(db, settings.home)
    if not exists(url):
        return PageBook.in_memory(chain_id), "this process's memory (no index database)"
    try:
        return PageBook.open(url, chain_id), f"the index database {display_url(url)}"
    except (SQLAlchemyError, IndexerError) as exc:
        reason = f"the index database cannot be written: {first_line(exc)}"
        return PageBook.in_memory(chain_id), f"this process's memory ({reason})"


def open_claims(
    settings: Settings,
    network: str,
    rpc_url: str,
    chain_id: int,
    *,
    db: str | None = None,
    codes_dir: Path | None = None,
    relayer: str | None = None,
    secret: bytes,
) -> tuple[Claims, str]:
    """What the page needs for claims and checks, and one line saying where they are."""
    book, where = open_book(settings, chain_id, db)
    folder = codes_dir or settings.home / TREES_DIR
    sender = None
    if relayer:
        signer = signer_for(network, relayer)
        signer.unlock()  # a missing passphrase stops the start, not a buyer's claim
        rpc = Rpc(rpc_url, timeout=settings.rpc_timeout)
        sender = Sender(
            rpc, signer, chain_id=chain_id, lock_dir=lock_dir(settings), mining_timeout=CLAIM_TIMEOUT
        )
    relaying = f"relayed by {sender.address}" if sender else "not taken (no --relayer)"
    line = f"checks and claim attempts: {where}; codes from {folder}, {relaying}"
    return Claims(book, CodeTrees(folder), sender, ClientKeys(secret)), line
