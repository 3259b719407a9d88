"""`ape run claim`: the same click command as `supplytrace claim` (one implementation)."""

from supplytrace.cli import claim as cli

__all__ = ["cli"]
