"""The event indexer: a fast, resumable, reorg-safe index of the registry's events.

``supplytrace index`` catches up from the deployment block recorded in
``deployments/<ecosystem>-<network>.json`` (never from block 0); ``--follow`` then tails new
blocks until stopped. The index lives in SQLite (``SUPPLYTRACE_HOME/index.db``, WAL) by default,
or in PostgreSQL (``--db postgresql://USER@HOST/DB`` or ``$SUPPLYTRACE_INDEX_DB``). It reads the
node only through :mod:`supplytrace.chain` and knows the registry's events only through
:mod:`supplytrace.core` (the one decoder, the reducer); no module here names an event.

Modules, in the order data flows:

- :mod:`.fetch` — block ranges fetched in chunks by ``concurrency`` threads ahead of storage;
  spans adapt to the node (grow when sparse, shrink to what a node accepted after "too many
  results", a block-range cap, a response-size error or a timeout), every chunk complete or an
  error (``chain.logs.fetch_logs``: halving, retries with backoff, and logs of another contract
  or outside the range refused and counted). :mod:`.rows` splits logs into the events table's
  rows with ``core.events.split_log`` (item and lot events are not decoded: their arguments are
  read where needed).
- :mod:`.reorg` — the parent-hash checks: each chunk must chain onto the checkpoint, each poll
  first checks the checkpoint's hash; a mismatch rolls back to the common ancestor (found in the
  hashes of the last ``reorg_window`` blocks) and indexes the new branch; deeper is refused.
- :mod:`.store` — one transaction per chunk (or per run of chunks already fetched): events
  (unique on chain id, block number, log index; a replayed range inserts nothing), derived rows
  (lot, participant and assignment events through ``core.reducer.State``; registrations and
  item changes set-based, :mod:`.bulk`), block hashes and the checkpoint together. ``kill -9``
  at any point leaves the index at a chunk boundary; a replayed range changes nothing.
- :mod:`.schema` — the tables (SQLAlchemy Core), the same on SQLite and PostgreSQL, every string
  of the chain kept as its raw bytes; :mod:`.database` — engines, bulk inserts, the writer lock.
- :mod:`.run` — :class:`~.run.Indexer`: ``catch_up()``, ``follow(stop)``, ``poll()``;
  :mod:`.job` — :func:`~.job.run_index`, the whole job with callbacks (what the CLI runs).
- :mod:`.reader` — the read API (:class:`~.reader.IndexReader`, rows as ``core.records``);
  :mod:`.history` — :class:`~.history.IndexHistory`, the history port answered from the index
  plus the chain after its checkpoint (``service.history.open_history`` decides when).
"""
