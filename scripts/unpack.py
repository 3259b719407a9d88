"""`ape run unpack`: the same click command as `supplytrace unpack` (one implementation)."""

from supplytrace.cli import unpack as cli

__all__ = ["cli"]
