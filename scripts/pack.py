"""`ape run pack`: the same click command as `supplytrace pack` (one implementation)."""

from supplytrace.cli import pack as cli

__all__ = ["cli"]
