"""The index's tables (SQLAlchemy Core; the same schema on SQLite and PostgreSQL).

``events`` holds every registry event once, keyed by (chain id, block number, log index), with
its transaction and block hashes, block time and the log itself (indexed topics after topic 0,
and data), decoded on reading by :func:`supplytrace.core.events.decode`, the decoder that reads
``eth_getLogs``. Item events are found by ``item_key``, the item id's first 8 bytes as a signed
64-bit integer (a small index; the full id is the first topic), lot events by ``lot_id``
(registrations carry their lot too, outside that index, for the statement that derives new
items). Everything else is derived from it in the same transaction that inserts the events:

- ``items``: each item's current state (custodian, open offer, status, custody nonce, ...);
- ``custody``: the custody timeline after registration: one row per transfer (the first holder,
  the lot's registrar, and when it got the item are in ``items``);
- ``lots``: each lot (GTIN, lot code, registrar, recall, closing, item count, declared quantity
  and stock);
- ``lot_inputs``: the lots each blend consumed, and how much of each;
- ``containers``: each container (SSCC, holder, open offer, the container it is packed in);
- ``packings``: every packing of an item or container into a container (an item's history
  includes its containers' custody steps);
- ``participants``: verified brand names, self-descriptions, registrar and admin roles;
- ``assignments``: GTIN and GS1 company prefix ownership;
- ``blocks``: number, hash and parent hash of the last indexed blocks (the reorg window);
- ``checkpoint``: the registry indexed and the last indexed block (number + hash).

Two tables are the verification page's own, not derived from events (a reset or rebuild of the
index leaves them; ``supplytrace.indexer.scans`` reads and writes them):

- ``scans``: how many times each item's page was viewed, per UTC day (no IP, no user agent,
  nothing about who looked: a count per item per day);
- ``claim_attempts``: hidden-code claims tried per item and per client in a time window, for the
  page's rate limit. A client is a keyed hash (HMAC, a secret the page holds in memory and
  rotates daily, never stored) of its IP address, truncated to 8 bytes: no IP is stored.

Every table starts with ``chain_id``, so one PostgreSQL database can hold several networks.
Hashes and ids are raw bytes; addresses are checksummed text. Everything else the chain holds is
kept as the chain holds it, never as text: serials and lot codes as their 32-byte words,
verified names, descriptions and recall reasons as their raw bytes (any bytes: a NUL, invalid
UTF-8; :class:`~supplytrace.core.text.ChainText` renders them on reading).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
)

#: Bumped when the tables change; an index of another version is rebuilt (``index --reset``).
#: 3: codes, names, descriptions and recall reasons as raw bytes (2: as text).
#: 4: containers, what was packed into them, measured lots' quantities and blends' inputs (#14).
SCHEMA_VERSION = 4

metadata = MetaData()

Hash = LargeBinary(32)
Word = LargeBinary(32)  # a bytes32 code (serial, lot code) as the contract stores it
Raw = LargeBinary  # an ABI string's bytes


def item_key(item_id: bytes) -> int:
    """The events index key of an item: its id's first 8 bytes as a signed 64-bit integer."""
    return int.from_bytes(item_id[:8], "big", signed=True)


Address = String(42)

events = Table(
    "events",
    metadata,
    Column("chain_id", BigInteger, nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Column("log_index", Integer, nullable=False),
    Column("block_hash", Hash, nullable=False),
    Column("tx_hash", Hash, nullable=False),
    Column("block_timestamp", BigInteger, nullable=False),
    Column("name", String(32), nullable=False),
    Column("item_key", BigInteger),  # item events: item_key(item id)
    Column("lot_id", BigInteger),  # lot events, and the registrations of items (which name their lot)
    Column("account", Address),  # other events: the participant (names, roles) or the registrar (GTINs)
    Column("topics", LargeBinary, nullable=False),  # topics[1:], 32 bytes each
    Column("data", LargeBinary, nullable=False),
    Index(
        "events_by_item",
        "chain_id",
        "item_key",
        "block_number",
        "log_index",
        sqlite_where=Column("item_key").isnot(None),
        postgresql_where=Column("item_key").isnot(None),
    ),
    Index(
        "events_by_lot",
        "chain_id",
        "lot_id",
        "block_number",
        "log_index",
        sqlite_where=Column("lot_id").isnot(None) & Column("item_key").is_(None),  # lot events only
        postgresql_where=Column("lot_id").isnot(None) & Column("item_key").is_(None),
    ),
    # Block first: rows are appended in order, and SQLite's planner (which has no statistics)
    # never prefers a walk of the primary key by chain id over the item and lot indexes.
    PrimaryKeyConstraint("block_number", "log_index", "chain_id"),
    sqlite_with_rowid=False,
)

# Keyed by (chain id, item id) with a unique index, not a primary key: rows are appended (SQLite's
# rowid) and only the narrow key index takes random inserts; a table clustered on the random item
# ids would rewrite most of its pages in every chunk's commit (~25% slower catch-up).
items = Table(
    "items",
    metadata,
    Column("chain_id", BigInteger, nullable=False),
    Column("item_id", Hash, nullable=False),
    Column("lot_id", BigInteger, nullable=False),
    Column("serial", Word, nullable=False),
    Column("custodian", Address, nullable=False),
    Column("pending_receiver", Address),
    Column("status", Integer, nullable=False),  # supplytrace.core.records.ItemStatus: 1 active, 2 sold
    Column("custody_nonce", Integer, nullable=False),
    Column("updated_at", BigInteger, nullable=False),  # block time of registration or last change
    Column("registered_block", BigInteger, nullable=False),
    Column("registered_log_index", Integer, nullable=False),
    Column("container", Hash),  # the container it is packed in (its custodian: the outermost's)
    UniqueConstraint("chain_id", "item_id", name="items_key"),
    Index("items_by_lot", "chain_id", "lot_id", "registered_block", "registered_log_index"),
)

custody = Table(
    "custody",
    metadata,
    Column("chain_id", BigInteger, primary_key=True, autoincrement=False),
    Column("item_id", Hash, primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),  # custody nonce it began with (1, 2, ...)
    Column("holder", Address, nullable=False),
    Column("previous", Address, nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Column("log_index", Integer, nullable=False),
    Column("tx_hash", Hash, nullable=False),
    Column("since", BigInteger, nullable=False),  # block time
    sqlite_with_rowid=False,
)

lots = Table(
    "lots",
    metadata,
    Column("chain_id", BigInteger, primary_key=True, autoincrement=False),
    Column("lot_id", BigInteger, primary_key=True, autoincrement=False),
    Column("gtin", BigInteger, nullable=False),
    Column("lot_code", Word, nullable=False),
    Column("registrar", Address, nullable=False),
    Column("metadata_hash", Hash, nullable=False),
    Column("recalled_at", BigInteger, nullable=False),  # 0 unless recalled
    Column("recall_reason", Raw),
    Column("recalled_by", Address),
    Column("closed", Boolean, nullable=False),
    Column("item_count", BigInteger, nullable=False),
    Column("registered_block", BigInteger, nullable=False),
    Column("registered_tx", Hash, nullable=False),
    Column("registered_at", BigInteger, nullable=False),
    Column("last_block", BigInteger, nullable=False),
    Column("last_log_index", Integer, nullable=False),
    Column("unit", Integer, nullable=False),  # core.records.QuantityUnit (0: no declared quantity)
    Column("quantity", BigInteger, nullable=False),  # declared
    Column("stock", BigInteger, nullable=False),  # left: quantity - items' - blends'
    Column("item_quantity", BigInteger, nullable=False),
    Index("lots_by_registrar", "chain_id", "registrar"),
)

lot_inputs = Table(
    "lot_inputs",
    metadata,
    Column("chain_id", BigInteger, primary_key=True, autoincrement=False),
    Column("output_lot_id", BigInteger, primary_key=True, autoincrement=False),
    Column("position", Integer, primary_key=True, autoincrement=False),  # in the blend's list
    Column("input_lot_id", BigInteger, nullable=False),
    Column("quantity", BigInteger, nullable=False),  # consumed, in the output lot's unit
    Index("lot_inputs_by_input", "chain_id", "input_lot_id"),
)

containers = Table(
    "containers",
    metadata,
    Column("chain_id", BigInteger, primary_key=True, autoincrement=False),
    Column("container_id", Hash, primary_key=True),
    Column("sscc", BigInteger, nullable=False),  # GS1 AI 00: up to 18 digits (fits a signed 64-bit)
    Column("custodian", Address, nullable=False),  # its own holder (while packed: the outermost's counts)
    Column("pending_receiver", Address),
    Column("parent", Hash),  # the container it is packed in
    Column("custody_nonce", Integer, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("level", Integer, nullable=False),
    Column("created_block", BigInteger, nullable=False),
    Column("created_log_index", Integer, nullable=False),
)

#: Every packing of an item or container into a container (``member``): how an item's history
#: finds its containers' events (their custody steps carry the container's id, not the item's).
packings = Table(
    "packings",
    metadata,
    Column("chain_id", BigInteger, primary_key=True, autoincrement=False),
    Column("member", Hash, primary_key=True),
    Column("container_id", Hash, primary_key=True),
    Column("block_number", BigInteger, primary_key=True, autoincrement=False),
    Column("log_index", Integer, primary_key=True, autoincrement=False),
    Index("packings_by_container", "chain_id", "container_id"),
)

participants = Table(
    "participants",
    metadata,
    Column("chain_id", BigInteger, primary_key=True, autoincrement=False),
    Column("address", Address, primary_key=True),
    Column("verified_name", Raw),  # published by the admin (None: never; empty: withdrawn)
    Column("description", Raw),  # the participant's own words (unverified)
    Column("registrar", Boolean, nullable=False),  # holds REGISTRAR_ROLE
    Column("admin", Boolean, nullable=False),  # holds DEFAULT_ADMIN_ROLE
    Column("last_block", BigInteger, nullable=False),
    Column("last_log_index", Integer, nullable=False),
)

assignments = Table(
    "assignments",
    metadata,
    Column("chain_id", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(6), primary_key=True),  # "gtin" or "prefix"
    Column("value", BigInteger, primary_key=True, autoincrement=False),
    Column("length", Integer, primary_key=True, autoincrement=False),  # digits (14 for a GTIN)
    Column("registrar", Address, nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Column("log_index", Integer, nullable=False),
    Index("assignments_by_registrar", "chain_id", "registrar"),
)

blocks = Table(
    "blocks",
    metadata,
    Column("chain_id", BigInteger, primary_key=True, autoincrement=False),
    Column("number", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", Hash, nullable=False),
    Column("parent_hash", Hash, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
)

checkpoint = Table(
    "checkpoint",
    metadata,
    Column("chain_id", BigInteger, primary_key=True, autoincrement=False),
    Column("registry", Address, nullable=False),
    Column("deployment_block", BigInteger, nullable=False),
    Column("block_number", BigInteger, nullable=False),  # last block indexed completely
    Column("block_hash", Hash, nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("updated_at", BigInteger, nullable=False),  # wall clock, seconds
)

scans = Table(
    "scans",
    metadata,
    Column("chain_id", BigInteger, primary_key=True, autoincrement=False),
    Column("item_id", Hash, primary_key=True),
    Column("day", Integer, primary_key=True, autoincrement=False),  # days since 1970-01-01, UTC
    Column("count", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

claim_attempts = Table(
    "claim_attempts",
    metadata,
    Column("chain_id", BigInteger, primary_key=True, autoincrement=False),
    Column("scope", String(16), primary_key=True),  # what is counted: "item:3600", "client:3600", ...
    Column("key", LargeBinary(32), primary_key=True),  # the item id, or the client's keyed hash
    Column("window_start", BigInteger, primary_key=True, autoincrement=False),  # unix seconds
    Column("count", Integer, nullable=False),
    sqlite_with_rowid=False,
)

# Staging tables of one connection: a chunk's item changes (core.reducer.ItemChange) are written
# here, then applied to ``items`` and ``custody`` by two set-based statements (bulk.apply_changes).
staging = MetaData()

item_changes = Table(
    "item_changes",
    staging,
    Column("item_id", Hash, primary_key=True),
    Column("custodian", Address),
    Column("pending_set", Integer, nullable=False),
    Column("pending", Address),
    Column("steps", Integer, nullable=False),  # how far the chunk advances the item's nonce
    Column("status", Integer, nullable=False),  # the new status (sold, claimed), or 0
    Column("updated_at", BigInteger),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DELETE ROWS",
)

transfer_changes = Table(
    "transfer_changes",
    staging,
    Column("item_id", Hash, primary_key=True),
    Column("k", Integer, primary_key=True, autoincrement=False),  # nonce after it, less the chunk's start
    Column("holder", Address, nullable=False),
    Column("previous", Address, nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Column("log_index", Integer, nullable=False),
    Column("tx_hash", Hash, nullable=False),
    Column("since", BigInteger, nullable=False),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DELETE ROWS",
)

#: Derived tables, rebuilt from ``events`` by a reorg rollback or ``rebuild``.
DERIVED = (items, custody, lots, participants, assignments, lot_inputs, containers, packings)
ALL = (events, *DERIVED, blocks, checkpoint)
#: The page's own tables (not derived from events: a reset or rebuild keeps them).
PAGE = (scans, claim_attempts)
