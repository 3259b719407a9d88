"""Hidden-code claims and scan history on the item page: the thresholds (all of them here), the
book that counts (a port: ``supplytrace.indexer.scans.PageBook`` in the index database), the
brand's tree documents, and the account that relays claims.

Rate limits. A claim attempt is counted *before* its code is looked at, in every window at once
(:data:`ITEM_LIMITS` per item, :data:`CLIENT_LIMITS` per client), by one atomic upsert per
counter: page processes sharing one database share one limit. Over any limit the item is locked
and the answer is the same bytes whatever the code, right or wrong (the page is no validity
oracle); the code is not even read. An attempt whose code turns out right or malformed is taken
back, so only wrong codes use the allowance. A wrong code sends nothing.

Privacy. The page stores no IP address and no user agent. Scans are a count per item per UTC
day. A client is ``HMAC-SHA256(day secret, IP)`` truncated to :data:`CLIENT_KEY_BYTES`, where the
day secret is derived from the page's secret (held in memory, given by the operator in
``SUPPLYTRACE_PAGE_SECRET`` or drawn at random when ``serve`` starts) and the day number: the
hashes of two days cannot be linked without that secret, which never goes into the database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Protocol

from supplytrace.chain.send import Sender
from supplytrace.core.codes import TREES_DIR, CodeTree, code_word, leaf, tree_from_document, tree_path
from supplytrace.web.i18n import N_

#: Wrong codes allowed per item: (window in seconds, most in one window). Beyond the day's the
#: item is locked until the next UTC day.
ITEM_LIMITS = ((3600, 5), (86400, 20))
#: Wrong codes allowed per client (keyed hash of its IP), whatever the items.
CLIENT_LIMITS = ((3600, 10),)
#: Bytes of a client's keyed hash kept (64 bits: enough to tell clients apart in a window).
CLIENT_KEY_BYTES = 8
#: Windows older than this are forgotten (the longest window, and a day to spare).
KEEP_ATTEMPTS = 2 * 86400

#: The clone warning of an unclaimed item: checked on :data:`CLONE_DAYS` different days or more,
#: :data:`BUSY_DAY` times or more on each (a buyer checks a jar a few times; a copied label on
#: many shelves is checked by many).
BUSY_DAY = 3
CLONE_DAYS = 7

#: Tree documents kept parsed in memory (a 10,000-item tree is about a megabyte).
TREES_CACHED = 16
#: Seconds the page waits for a claim to be mined before it says it could not tell.
CLAIM_TIMEOUT = 120.0

#: What the page says about hidden codes.
CLAIM_INVITATION = N_("Genuine. When you open it, enter the code inside the lid to make it yours.")
WRONG_CODE = N_("That code does not match this item. Check it against the code inside the lid and try again.")
NOT_A_CODE = N_(
    "That is not a code from inside a lid: it has 12 letters and digits, like 7KQM-2XHD-9PRW. "
    "Check it and try again."
)
NO_RELAYER = N_("Codes cannot be entered on this server.")
LOCKED_TITLE = N_("Too many tries")
LOCKED_MESSAGE = N_(
    "Too many codes were tried for this item, or from your connection. Nothing was checked. "
    "Try again later; if your jar was sealed, the code inside its lid stays valid."
)


class Book(Protocol):
    """Scans and claim attempts (``supplytrace.indexer.scans.PageBook``)."""

    def scanned(
        self, item_id: bytes, day: int | None, *, busy: int, after_day: int | None
    ) -> tuple[int, int | None, int, int]: ...

    def try_scanned(
        self, item_id: bytes, day: int | None, *, busy: int, after_day: int | None
    ) -> tuple[int, int | None, int, int] | None: ...

    def attempt(self, counters: Sequence[tuple[str, bytes, int]]) -> list[int]: ...

    def refund(self, counters: Sequence[tuple[str, bytes, int]]) -> None: ...

    def prune(self, before: int) -> int: ...


Counter = tuple[str, bytes, int]


def day_of(now: float) -> int:
    """The UTC day number (days since 1970-01-01) of unix time ``now``."""
    return int(now // 86400)


class ClientKeys:
    """Keyed hashes of client addresses, with a key per UTC day derived from ``secret``."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the page's secret must have at least 16 bytes.")
        self._secret = secret

    def key(self, address: str, now: float) -> bytes:
        day = day_of(now).to_bytes(8, "big")
        day_key = hmac.new(self._secret, b"supplytrace client day " + day, hashlib.sha256).digest()
        return hmac.new(day_key, address.encode(), hashlib.sha256).digest()[:CLIENT_KEY_BYTES]


def counters(item_id: bytes, client: bytes, now: float) -> list[Counter]:
    """The counters one attempt adds to: the item's windows and the client's."""
    found = []
    for scope, key, limits in (("item", bytes(item_id), ITEM_LIMITS), ("client", client, CLIENT_LIMITS)):
        for seconds, _most in limits:
            found.append((f"{scope}:{seconds}", key, int(now // seconds) * seconds))
    return found


def over_limit(counts: Sequence[int]) -> bool:
    """Whether the counts :func:`counters` returned (in its order) pass any limit."""
    limits = [most for _seconds, most in ITEM_LIMITS + CLIENT_LIMITS]
    return any(count > most for count, most in zip(counts, limits, strict=True))


def locked_until(item_counts: Sequence[int], now: float) -> int:
    """When the first window over its limit ends (unix seconds)."""
    ends = [
        (int(now // seconds) + 1) * seconds
        for count, (seconds, most) in zip(item_counts, ITEM_LIMITS + CLIENT_LIMITS, strict=True)
        if count > most
    ]
    return max(ends) if ends else int(now)


def page_secret() -> bytes:
    """The page's secret for client keys: ``SUPPLYTRACE_PAGE_SECRET`` (page processes on other
    machines sharing one database set the same) or, without it, a random one."""
    given = os.environ.get(SECRET_ENV, "")
    return given.encode() if len(given) >= 16 else os.urandom(32)


SECRET_ENV = "SUPPLYTRACE_PAGE_SECRET"


class CodeTrees:
    """The brand's tree documents the page server holds in ``folder`` (``SUPPLYTRACE_HOME/codes``
    by default: ``<folder>/<chain id>/<registry>/<root>.json``, as ``core.codes.tree_path``
    places them), parsed on first use and kept (:data:`TREES_CACHED`, by file time and size)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._cache: OrderedDict[Path, tuple[tuple[int, int], int, CodeTree]] = OrderedDict()
        self._lock = threading.Lock()

    def path(self, chain_id: int, registry: str, root: bytes) -> Path:
        return self.folder / Path(tree_path(PurePath(), chain_id, registry, root)).relative_to(TREES_DIR)

    def has_any(self, chain_id: int, registry: str, roots: Sequence[bytes]) -> bool:
        return any(self.path(chain_id, registry, r).is_file() for r in roots)

    def roots_of_lot(self, chain_id: int, registry: str, lot_id: int) -> list[bytes]:
        """Roots of the documents held for ``lot_id`` (when the history cannot tell): every
        document of the registry is read, once (then cached)."""
        folder = self.path(chain_id, registry, b"\0" * 32).parent
        found = []
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            loaded = self._load(path)
            if loaded is not None and loaded[0] == lot_id:
                found.append(loaded[1].root)
        return found

    def proof(
        self, chain_id: int, registry: str, lot_id: int, roots: Sequence[bytes], item_id: bytes, code: str
    ) -> list[bytes] | None:
        """The proof of ``code`` for ``item_id`` in the lot's trees, or None (a wrong code)."""
        wanted = leaf(item_id, code)
        for root in roots:
            loaded = self._load(self.path(chain_id, registry, root))
            if loaded is None or loaded[0] != lot_id or loaded[1].root != bytes(root):
                continue
            found = loaded[1].proof(wanted)
            if found is not None:
                return found
        return None

    def _load(self, path: Path) -> tuple[int, CodeTree] | None:
        try:
            stat = path.stat()
        except OSError:
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._cache.get(path)
            if cached is not None and cached[0] == stamp:
                self._cache.move_to_end(path)
                return cached[1], cached[2]
        try:
            lot_id, tree = tree_from_document(json.loads(path.read_bytes()))
        except (OSError, ValueError):
            return None
        with self._lock:
            self._cache[path] = (stamp, lot_id, tree)
            while len(self._cache) > TREES_CACHED:
                self._cache.popitem(last=False)
        return lot_id, tree


@dataclass
class Claims:
    """What a page needs for hidden codes and scan history; shared by the pages of one app (a
    page that follows a new deployment keeps it)."""

    book: Book | None
    trees: CodeTrees | None
    relayer: Sender | None
    keys: ClientKeys
    _pruned: float = 0.0

    def prune_due(self, now: float) -> bool:
        """Whether to forget ended windows now: once an hour per process."""
        if now - self._pruned < 3600:
            return False
        self._pruned = now
        return True

    def relay(self, registry: str, item_id: bytes, code: str, proof: list[bytes]) -> str:
        """Send ``claim(item, code, proof)`` to ``registry`` from the relayer; its hash once mined."""
        if self.relayer is None:
            raise RuntimeError("no relayer")
        sender = self.relayer
        data = sender.calldata("claim", bytes(item_id), code_word(code), [bytes(p) for p in proof])
        return sender.transact(data, to=registry).tx_hash
