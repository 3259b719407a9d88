"""`ape run index`: the same click command as `supplytrace index` (one implementation)."""

from supplytrace.cli import index as cli

__all__ = ["cli"]
