"""Reorg safety: checking that what was fetched and what is stored still form one chain.

Three checks, all by block hash:

- :func:`verify_chunk` — before a chunk is stored: its first header's parent is the checkpoint,
  its headers link to each other, and every log's block hash is its header's hash. A failure
  means the chain changed while the chunk was being fetched (:class:`ChainMovedError`): nothing is
  stored and the poll starts again from the checkpoint.
- :func:`find_common_ancestor` — on every poll the node's block at the checkpoint height must
  have the checkpoint's hash (the parent-hash check). If it has not, the stored hashes of the
  last indexed blocks (the window) are compared with the node's, newest first; the newest match
  is the common ancestor, to which the store rolls back (:meth:`IndexStore.rollback`) before
  indexing the new branch. No match inside the window is a :class:`ReorgTooDeepError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from supplytrace.indexer.errors import ReorgTooDeepError
from supplytrace.indexer.fetch import Chunk
from supplytrace.indexer.rows import Col
from supplytrace.indexer.store import Checkpoint, Header


class ChainMovedError(Exception):
    """The node's answers for a chunk do not form one chain with the checkpoint."""


def verify_chunk(chunk: Chunk, checkpoint: Checkpoint) -> None:
    headers = chunk.headers
    first = headers.get(chunk.start)
    if (
        first is not None
        and chunk.start == checkpoint.block_number + 1
        and first.parent_hash != checkpoint.block_hash
    ):
        raise ChainMovedError(
            f"block {chunk.start} does not follow the checkpoint block {checkpoint.block_number}"
        )
    for number, header in headers.items():
        before = headers.get(number - 1)
        if before is not None and header.parent_hash != before.hash:
            raise ChainMovedError(f"block {number} does not follow block {number - 1}")
    expected = {number: header.hash for number, header in headers.items()}
    for row in chunk.rows:
        block_hash = expected.get(row[Col.BLOCK])
        if block_hash is not None and row[Col.BLOCK_HASH] != block_hash:
            raise ChainMovedError(f"a log of block {row[Col.BLOCK]} belongs to another branch")


def find_common_ancestor(
    stored: Sequence[Header], node_headers: Callable[[list[int]], Mapping[int, Header | None]], window: int
) -> Header:
    """The newest stored block the node still has (same hash); ``stored`` is newest first."""
    numbers = [h.number for h in stored]
    current = node_headers(numbers)
    for header in stored:
        seen = current.get(header.number)
        if seen is not None and seen.hash == header.hash:
            return header
    oldest = stored[-1].number if stored else None
    raise ReorgTooDeepError(
        f"the chain replaced every block the index keeps a hash of (the last {window} indexed blocks, "
        f"down to block {oldest}): a reorganisation deeper than the window, or a chain that was reset; "
        "rebuild the index with `supplytrace index --reset`."
    )
