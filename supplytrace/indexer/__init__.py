"""The event indexer: a fast, resumable, reorg-safe index of the registry's events.

``supplytrace index`` catches up from the deployment block recorded in
``deployments/<ecosystem>-<network>.json`` (never from block 0); ``--follow`` then tails new
blocks until Ctrl-C / SIGTERM. The index lives in SQLite (``SUPPLYTRACE_HOME/index.db``, WAL) by
default, or in PostgreSQL (``--db postgresql://USER@HOST/DB`` or ``$SUPPLYTRACE_INDEX_DB``).

Modules, in the order data flows:

- :mod:`.rpc` — JSON-RPC over HTTP(S): keep-alive connection per thread, batches, orjson, and
  answers decoded straight into typed structs (msgspec) for ``eth_getLogs``.
- :mod:`.fetch` — block ranges fetched in chunks by ``concurrency`` threads ahead of storage;
  spans adapt to the node (grow when sparse, shrink to what a node accepted after "too many
  results", a block-range cap, a response-size error or a timeout), every chunk complete or an
  error (``supplytrace.events.fetch_logs``: halving, retries with backoff). :mod:`.rows` splits
  logs into the events table's rows with ``supplytrace.events``' layouts (no decoding of item
  events: their arguments are read where needed).
- :mod:`.reorg` — the parent-hash checks: each chunk must chain onto the checkpoint, each poll
  first checks the checkpoint's hash; a mismatch rolls back to the common ancestor (found in the
  hashes of the last ``reorg_window`` blocks) and indexes the new branch; deeper is refused.
- :mod:`.store` — one transaction per chunk (or per run of chunks already fetched): events
  (unique on chain id, block number, log index; a replayed range inserts nothing), derived rows
  (new items by one INSERT ... SELECT from the events just stored, other item events folded
  into :class:`~.model.ItemChange` values and applied by one UPDATE ... FROM and one INSERT ...
  SELECT), block hashes and the checkpoint together.
  ``kill -9`` at any point leaves the index at a chunk boundary; a replayed range changes nothing.
- :mod:`.model` — the reducer: how each event changes items (:class:`~.model.ItemChange`), lots,
  participants and GTIN assignments (used for chunks, for rollbacks and for the chain after the
  checkpoint).
- :mod:`.schema` — the tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.
- :mod:`.run` — :class:`~.run.Indexer`: ``catch_up()``, ``follow(stop)``, ``poll()``; the
  confirmation depth (0 on local chains, 12 on Ethereum networks, see ``DEFAULT_CONFIRMATIONS``).
- :mod:`.query` — the read API for the CLI and the verification page
  (:class:`~.query.IndexReader`, :class:`~.query.LiveView`); :mod:`.history_source` adapts it
  to the page's ``HistorySource``.
- :mod:`.epcis` — the GS1 EPCIS 2.0 JSON-LD export; :mod:`.command` — what the CLI commands do.
"""
