"""Errors of the indexer; each message is one sentence that says what to do."""

from __future__ import annotations

from supplytrace.core.errors import SupplytraceError


class IndexerError(SupplytraceError):
    """The index cannot be built, read or trusted as asked; the message says what to do."""


class ReorgTooDeepError(IndexerError):
    """The chain replaced blocks older than the window of block hashes the index keeps."""


class IndexMismatchError(IndexerError):
    """The index was built for another registry, chain or schema version."""
