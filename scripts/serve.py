"""`ape run serve`: the same click command as `supplytrace serve` (one implementation)."""

from supplytrace.cli import serve as cli

__all__ = ["cli"]
